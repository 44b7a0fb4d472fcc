"""A config (or _base_ file) with a syntax error, or missing, is named by every tool:
file, line and text, one block, exit status 2."""
import pytest

from tests.conftest import SMALL_CONFIG, input_error_block, tool_exit_status

BROKEN = "model = dict(\n    transformer=dict(size='small')\n"  # '(' never closed


def _argv(tool: str, config, tmp_path) -> list:
    return {'train': [str(config), '--work-dir', str(tmp_path / 'work')],
            'test': [str(config), str(tmp_path / 'x.pth'), '--work-dir', str(tmp_path / 'work')],
            'sample': [str(config), str(tmp_path / 'x.pth'), '--num', '1', '--device', 'cpu',
                       '--out', str(tmp_path / 'out')]}[tool]


@pytest.mark.parametrize('tool', ['train', 'test', 'sample'])
@pytest.mark.parametrize('where', ['config', 'base'])
def test_a_syntax_error_names_the_file_the_line_and_the_text(tool, where, tmp_path, capsys):
    base = tmp_path / 'base.py'
    child = tmp_path / 'child.py'
    if where == 'base':
        base.write_text(f"_base_ = ['{SMALL_CONFIG}']\n" + BROKEN)
        child.write_text("_base_ = ['./base.py']\ntrain_cfg = dict(max_iters=5)\n")
    else:
        child.write_text(f"_base_ = ['{SMALL_CONFIG}']\n" + BROKEN)
    assert tool_exit_status(tool, _argv(tool, child, tmp_path)) == 2
    block = input_error_block(capsys.readouterr().err)
    broken = base if where == 'base' else child
    assert f'syntax error in config file {broken}, line 2: ' in block
    assert "was never closed" in block and 'model = dict(' in block
    assert (f'(inherited by {child})' in block) == (where == 'base')
    assert not (tmp_path / 'work').exists() and not (tmp_path / 'out').exists()


def test_a_missing_base_file_is_named(tmp_path, capsys):
    child = tmp_path / 'child.py'
    child.write_text("_base_ = ['./no_such_base.py']\n")
    assert tool_exit_status('train', _argv('train', child, tmp_path)) == 2
    block = input_error_block(capsys.readouterr().err)
    assert f'config file {tmp_path / "no_such_base.py"} (a _base_ of {child}) does not exist' \
        in block
