"""The study's twins and cells (projects/fixing_study/cells.py)."""
import pytest
from mmengine.config import Config

from bigfix_mm.engine.config_checks import resolve_config
from projects.fixing_study.cells import Cell, make_cells, set_injection, sweep_cells, training_config
from tests.conftest import REPO

QUICK = REPO / 'configs' / 'bigfix' / 'bigfix_cifar10_quick.py'


def test_cells_cover_the_grid_with_preset_configs():
    from bigfix_mm.registry import MODELS
    cells = make_cells(['maskgit', 'halton', 'fix_all', 'fix_low'], [4, 8], [1.5, 0])
    assert len(cells) == 16 and len({c.name for c in cells}) == 16
    assert Cell('fix_low', 8, 1.5).sampler_cfg() == dict(
        type='TokenFixingSampler', reveal='halton', fix='low_confidence', steps=8,
        cfg_scale=1.5, fix_ratio=0.1)
    assert Cell('maskgit', 4, 0).sampler_cfg() == dict(type='MaskGITSampler', steps=4,
                                                       cfg_scale=0)
    for cell in cells:
        sampler = MODELS.build(cell.sampler_cfg())
        assert sampler.steps == cell.steps and sampler.cfg_scale == cell.cfg_scale
    assert Cell('fix_all', 4, 0).plain == 'halton' and Cell('halton', 4, 0).plain is None
    with pytest.raises(ValueError, match='unknown sampler'):
        make_cells(['greedy'], [4], [0])


def test_sweep_varies_ratio_and_window_and_skips_the_default_ratio():
    sweep = sweep_cells(8, 2.0, [0.05, 0.1, 0.2], [(0.0, 0.5), (0.5, 1.0)])
    assert [c.name for c in sweep] == ['fix_low_s8_cfg2_r0.05', 'fix_low_s8_cfg2_r0.2',
                                       'fix_low_s8_cfg2_w0-0.5', 'fix_low_s8_cfg2_w0.5-1']
    assert sweep[0].sampler_cfg()['fix_ratio'] == 0.05
    assert sweep[3].sampler_cfg()['fix_window'] == [0.5, 1.0]
    assert sweep[3].sampler_cfg()['fix_ratio'] == 0.1


def test_twins_differ_only_in_injection_and_resume_from_each_validation():
    base = Config.fromfile(str(QUICK))
    a = training_config(base, '/w/a', 0.2, 3600, 7, batch_size=16, width=64, depth=2, heads=2,
                        val_points=6)
    b = training_config(base, '/w/b', 0.0, 3600, 7, batch_size=16, width=64, depth=2, heads=2,
                        val_points=6)
    resolve_config(a)
    resolve_config(b)  # what tools/train.py does: the transforms read the owners
    inj = [t for t in b.train_dataloader.dataset.pipeline if t.type == 'RandomTokenInjection']
    assert [t.injection_prob for t in inj] == [0.0] and b.model.injection.injection_prob == 0.0
    assert base.model.injection.injection_prob == 0.2 and 'eval_injection' not in base
    for twin in (a, b):  # held-out corruption is the same for both twins
        val = [t for t in twin.val_dataloader.dataset.pipeline if t.type == 'RandomTokenInjection']
        assert val[0].injection_prob == 0.2 and val[0].mode == 'shuffle'
    assert a.train_cfg.max_iters == 3600 and a.randomness.seed == 7
    assert a.train_cfg.val_interval == 600 and a.default_hooks.checkpoint.interval == 300
    assert a.param_scheduler[0].end == 360 and a.param_scheduler[1].T_max == 3240
    assert a.model.transformer.width == 64 and a.model.transformer.size is None
    assert all(h.type != 'FixingSamplerHook' for h in a.custom_hooks)
    a = training_config(base, '/w/a', 0.2, 3600, 7, batch_size=16, width=64, depth=2, heads=2,
                        val_points=6)
    b = training_config(base, '/w/b', 0.0, 3600, 7, batch_size=16, width=64, depth=2, heads=2,
                        val_points=6)
    a.work_dir = b.work_dir = None
    a.model.injection = b.model.injection = None
    for cfg in (a, b):
        set_injection(cfg, 0.5)
    assert a.pretty_text == b.pretty_text


def test_the_page_command_leaves_out_what_only_limits_one_invocation():
    from projects.fixing_study.main import reproduce_command
    argv = ['cfg.py', '--only', 'maskgit', 'halton', '--samples', '340', '--time-budget', '30',
            '--no-page', '--work-dir', '/scratch/me/study', '--seeds', '0', '1']
    assert reproduce_command(argv) == \
        'python -m projects.fixing_study cfg.py --samples 340 --seeds 0 1'
