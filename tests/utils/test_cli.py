"""Tool entry: input errors as one block with exit status 2, --debug tracebacks, quiet start."""
import subprocess
import sys

import pytest

from bigfix_mm.errors import DataNotFoundError, InputError
from bigfix_mm.utils import cli
from tests.conftest import REPO
from tests.tools.test_dist_train import subprocess_env


def _raise(err):
    def main():
        raise err
    return main


def test_input_error_is_one_block_and_exit_status_2(monkeypatch, capsys):
    monkeypatch.setattr(sys, 'argv', ['tool.py'])
    monkeypatch.delenv('BIGFIX_DEBUG', raising=False)
    err = DataNotFoundError('CIFAR-10 split not found. Tried:\n  - data/cifar10\nFix: download it.')
    with pytest.raises(SystemExit) as exit_:
        cli.run_tool(_raise(err))
    assert exit_.value.code == cli.EXIT_INPUT_ERROR == 2
    out = capsys.readouterr()
    assert out.out == ''
    assert out.err.splitlines() == [
        'error (DataNotFoundError):', '  CIFAR-10 split not found. Tried:', '    - data/cifar10',
        '  Fix: download it.', '(--debug or BIGFIX_DEBUG=1 shows the traceback)']


@pytest.mark.parametrize('how', ['flag', 'env'])
def test_debug_gives_the_traceback(monkeypatch, how):
    monkeypatch.setattr(sys, 'argv', ['tool.py', '--debug'] if how == 'flag' else ['tool.py'])
    if how == 'env':
        monkeypatch.setenv('BIGFIX_DEBUG', '1')
    seen = []

    def main():
        seen.append(list(sys.argv))
        raise InputError('bad')
    with pytest.raises(InputError, match='bad'):
        cli.run_tool(main)
    assert seen == [['tool.py']]  # --debug never reaches the tool's parser


def test_unexpected_errors_keep_their_traceback(monkeypatch):
    monkeypatch.setattr(sys, 'argv', ['tool.py'])
    with pytest.raises(ZeroDivisionError):
        cli.run_tool(_raise(ZeroDivisionError('bug')))
    assert cli.run_tool(lambda: 7) == 7


@pytest.mark.slow  # a real tool process, over 10 s
def test_a_tool_prints_a_bad_checkpoint_as_one_block(tmp_path):
    """A real tool start: no deprecation spam, the error in one block, exit status 2."""
    cmd = [sys.executable, str(REPO / 'tools' / 'sample.py'),
           str(REPO / 'configs' / 'bigfix' / 'bigfix_cifar10_quick.py'), str(tmp_path / 'missing.pth'),
           '--out', str(tmp_path / 'out'), '--device', 'cpu']
    env = subprocess_env()
    env.pop('BIGFIX_DEBUG', None)
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2, proc.stderr[-3000:]
    assert proc.stderr.splitlines() == [
        'error (CheckpointError):',
        f'  checkpoint file not found: {tmp_path / "missing.pth"}. Check `load_from` / `resume` '
        'or the path given on the command line.',
        '(--debug or BIGFIX_DEBUG=1 shows the traceback)']
    assert not (tmp_path / 'out').exists()
