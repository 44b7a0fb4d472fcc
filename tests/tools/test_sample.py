"""tools/sample.py and the FixingSamplerHook, on a checkpoint of a real short run."""
import subprocess
import sys

import numpy as np
import pytest
from mmengine.runner import Runner
from PIL import Image

from tests.conftest import REPO, SMALL_CONFIG, load_tool, small_cfg, tool_exit_status

CAPTION_MAX = 60  # pixels of caption above the hook's grids


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    work = tmp_path_factory.mktemp('quick')
    cfg = small_cfg(work, max_iters=4)
    cfg.custom_hooks[0].update(interval=2, num_samples=6)
    Runner.from_cfg(cfg).train()
    return work


def test_hook_writes_side_by_side_grids_and_statistics(trained):
    grids = sorted((trained / 'samples').glob('*.png'))
    assert [g.name for g in grids] == ['iter_2.png', 'iter_4.png', 'val_iter_2.png',
                                       'val_iter_4.png']
    image = np.asarray(Image.open(grids[0]).convert('RGB'))
    height, width = image.shape[:2]
    assert width > 2 * (height - CAPTION_MAX)  # two grids side by side
    # a caption above the grids: dark text on white in the top band, grids below it
    caption_rows = np.nonzero((image == 255).all(axis=(1, 2)) == False)[0]  # noqa: E712
    assert caption_rows[0] < 8 and image[:caption_rows[0] + 1].min() < 100
    assert list(trained.glob('*/vis_data/vis_image/fixing_vs_baseline_*.png'))
    scalars = next(trained.glob('*/vis_data/scalars.json')).read_text()
    assert 'fixing/changed_per_step' in scalars and 'fixing/fixed_share' in scalars


@pytest.mark.slow  # a real tool process, over 10 s
def test_sample_tool_writes_n_images_and_is_seeded(trained, tmp_path):
    config = trained / SMALL_CONFIG.name  # the Runner's dump
    ckpt = trained / 'iter_4.pth'

    def sample(out, seed, *extra):
        cmd = [sys.executable, str(REPO / 'tools' / 'sample.py'), str(config), str(ckpt),
               '--num', '5', '--steps', '4', '--cfg', '1.0', '--seed', str(seed), '--batch-size',
               '2', '--device', 'cpu', '--out', str(out), *extra]
        subprocess.run(cmd, check=True, cwd=REPO, capture_output=True)
        return sorted(p for p in out.glob('0*.png'))

    a = sample(tmp_path / 'a', 0, '--sampler', 'fix_all')
    b = sample(tmp_path / 'b', 0, '--sampler', 'fix_all')
    assert len(a) == 5 and (tmp_path / 'a' / 'grid.png').is_file()
    assert [p.read_bytes() for p in a] == [p.read_bytes() for p in b]
    c = sample(tmp_path / 'c', 0, '--sampler', 'halton', '--labels', '1', '2')
    assert [p.name.split('_class')[1] for p in c] == ['1.png', '2.png', '1.png', '2.png', '1.png']


def test_sample_tool_samples_the_named_preset_with_its_overrides(trained, tmp_path):
    """--sampler PRESET --fix-ratio: the images of that preset built by the preset table;
    --steps / --cfg left out take the config's sampler values (8 steps, w = 1)."""
    from bigfix_mm.apis import generate, init_model
    from bigfix_mm.models.editors.bigfix.sampler import sampler_config
    from bigfix_mm.visualization.images import to_uint8
    config, ckpt = trained / SMALL_CONFIG.name, trained / 'iter_4.pth'
    tool = load_tool('sample')

    def sample(out, *extra):
        tool.main([str(config), str(ckpt), '--num', '3', '--labels', '1', '2', '--seed', '3',
                   '--device', 'cpu', '--out', str(out), *extra])
        return np.stack([np.asarray(Image.open(p)) for p in sorted(out.glob('0*.png'))])

    low = sample(tmp_path / 'low', '--sampler', 'fix_low', '--fix-ratio', '0.5')
    model = init_model(str(config), str(ckpt))
    assert (model.sampler_cfg['steps'], model.sampler_cfg['cfg_scale']) == (8, 1.0)
    expected = generate(model, [1, 2, 1], seed=3, sampler=sampler_config(
        'fix_low', steps=8, cfg_scale=1.0, fix_ratio=0.5))
    assert np.array_equal(low, to_uint8(expected))
    plain = sample(tmp_path / 'plain', '--sampler', 'halton')  # its twin: same order, no fixing
    assert not np.array_equal(low, plain)


def test_sample_tool_refuses_an_unknown_preset_and_lists_the_names(tmp_path, capsys):
    tool = load_tool('sample')
    for bad in (['--sampler', 'TokenFixingSampler'], ['--fix-ratio', '0.2'],
                ['--sampler', 'halton', '--fix-ratio', '0.2']):
        with pytest.raises(SystemExit) as err:  # refused before any file is read
            tool.main(['missing.py', 'missing.pth', '--out', str(tmp_path / 'out'), *bad])
        assert err.value.code == 2
    stderr = capsys.readouterr().err
    assert "argument --sampler: invalid choice: 'TokenFixingSampler' (choose from 'maskgit', " \
        "'halton', 'fix_all', 'fix_low', 'maskgit_fix_low')" in stderr
    assert '--fix-ratio / --fix-window override a preset: name one with --sampler' in stderr
    assert "fix_ratio=0.2 given for preset 'halton', which never fixes" in stderr
    assert not (tmp_path / 'out').exists()


def test_hook_caption_names_each_half_with_steps_and_cfg():
    from bigfix_mm.engine.hooks import FixingSamplerHook
    hook = FixingSamplerHook(
        sampler=dict(type='TokenFixingSampler', steps=8, fix='low_confidence', fix_ratio=0.1,
                     cfg_scale=1.0),
        baseline=dict(type='HaltonSampler', steps=8, cfg_scale=1.0))
    assert hook.caption(hook.sampler, {}) == \
        'TokenFixingSampler (fix=low_confidence 0.1), 8 steps, CFG 1'
    assert hook.caption(hook.baseline, dict(steps=4, cfg_scale=2.5)) == \
        'HaltonSampler, 4 steps, CFG 2.5'


@pytest.mark.parametrize('steps', [0, 1000])
def test_sample_tool_refuses_steps_outside_one_to_the_token_count(trained, tmp_path, steps,
                                                                   capsys):
    """The tool's command line (in this process, as its __main__ runs it): exit status 2,
    one message naming the field and its range, no traceback, nothing written."""
    argv = [str(trained / SMALL_CONFIG.name), str(trained / 'iter_4.pth'), '--num', '2',
            '--steps', str(steps), '--device', 'cpu', '--out', str(tmp_path / 'out')]
    assert tool_exit_status('sample', argv) == 2
    err = capsys.readouterr().err
    assert f'sampling steps={steps} must be in [1, 64]' in err
    assert 'Traceback' not in err
    assert not list((tmp_path / 'out').glob('*.png'))
