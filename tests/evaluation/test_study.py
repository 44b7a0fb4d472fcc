import pytest
from mmengine.config import Config

from bigfix_mm.evaluation.study import (Cell, evaluation_config, evenly_spread, fixing_summary,
                                        make_cells, results_table, set_injection,
                                        training_config)
from ..conftest import REPO

QUICK = REPO / 'configs' / 'bigfix_cifar10_quick.py'
GEN = REPO / 'configs' / '_base_' / 'evaluation' / 'generative_cifar10.py'


def test_cells_cover_the_grid_with_registered_sampler_configs():
    from bigfix_mm.registry import MODELS
    cells = make_cells(['maskgit', 'halton', 'fix_all', 'fix_low'], [4, 8], [0, 1.5], 0.2)
    assert len(cells) == 16 and len({c.name for c in cells}) == 16
    low = Cell('fix_low', 8, 1.5, 0.2)
    assert low.sampler_cfg() == dict(type='TokenFixingSampler', reveal='halton',
                                     fix='low_confidence', steps=8, cfg_scale=1.5, fix_ratio=0.2)
    assert Cell('maskgit', 4, 0).sampler_cfg() == dict(type='MaskGITSampler', steps=4, cfg_scale=0)
    for cell in cells:
        sampler = MODELS.build(cell.sampler_cfg())
        assert sampler.steps == cell.steps and sampler.cfg_scale == cell.cfg_scale
    assert low.sample_kwargs(3)['labels'] == 'balanced' and low.sample_kwargs(3)['seed'] == 3
    with pytest.raises(ValueError, match='unknown sampler'):
        make_cells(['greedy'], [4], [0])


def test_twins_differ_only_in_injection_and_budget_is_rescaled():
    base = Config.fromfile(str(QUICK))
    a = training_config(base, '/w/a', 0.2, 100, 7, batch_size=16, width=64, depth=2, heads=2)
    b = training_config(base, '/w/b', 0.0, 100, 7, batch_size=16, width=64, depth=2, heads=2)
    assert b.model.injection.injection_prob == 0.0  # the run's one injection setting
    assert base.model.injection.injection_prob == 0.2  # base untouched
    assert a.train_cfg.max_iters == 100 and a.randomness.seed == 7
    assert a.param_scheduler[0].end == 10 and a.param_scheduler[1].T_max == 90  # 40/400, 360/400
    assert a.model.transformer.width == 64 and a.model.transformer.size is None
    assert a.default_hooks.logger.log_metric_by_epoch is False
    a.work_dir = b.work_dir = None
    a.model.injection = b.model.injection = None
    for cfg in (a, b):
        set_injection(cfg, 0.5)
    assert a.pretty_text == b.pretty_text


def test_evaluation_config_shares_one_sampler_and_subsets_the_reals():
    train = training_config(Config.fromfile(str(QUICK)), '/w', 0.2, 10, 0)
    cell = Cell('fix_all', 8, 1.0)
    cfg = evaluation_config(train, Config.fromfile(str(GEN)), '/w/eval', '/w/iter_10.pth', cell,
                            fake_nums=50, seed=1, classifier_path='/c.pth', batch_size=100,
                            real_indices=evenly_spread(10000, 5), inception_path='/inc.pt')
    assert cfg.test_cfg.type == 'MultiTestLoop' and cfg.load_from == '/w/iter_10.pth'
    assert cfg.test_dataloader.batch_size == 50
    assert cfg.test_dataloader.dataset.indices == [0, 2500, 5000, 7499, 9999]
    types = [m.type for m in cfg.test_evaluator.metrics]
    assert types == ['EfficientNetFrechetDistance', 'ClassifierAccuracy',
                     'LocalFrechetInceptionDistance', 'LocalInceptionScore']
    assert all(m.sample_kwargs == cell.sample_kwargs(1) for m in cfg.test_evaluator.metrics)
    assert all(m.fake_nums == 50 for m in cfg.test_evaluator.metrics)
    assert cfg.custom_hooks == []


def test_table_and_summary_report_every_cell_honestly():
    cells = make_cells(['halton', 'fix_low'], [4, 8], [0])
    res = {'p=0.2': {Cell('halton', 4, 0).name: {'FD/fd': 10.0, 'seconds': 3.0},
                     Cell('fix_low', 4, 0).name: {'FD/fd': 8.0, 'seconds': 4.0},
                     Cell('halton', 8, 0).name: {'FD/fd': 5.0},
                     Cell('fix_low', 8, 0).name: {'FD/fd': 6.0}}}
    table = results_table(res, ['p=0.2', 'p=0'], cells)
    assert table.count('\n') == 2 + len(cells) - 1
    assert '| Fixing `low_confidence` | 4 | 0 | **8.00** | – | 3 / –' not in table
    assert '| Fixing `low_confidence` | 4 | 0 | **8.00** | – | 4 / – |' in table
    assert '| Halton | 8 | 0 | **5.00** | – | – / – |' in table
    assert 'acc' not in table  # no classifier numbers: no column
    summary = fixing_summary(res, ['p=0.2', 'p=0'], cells)
    assert summary == ['- p=0.2: Fixing `low_confidence` has a lower FD/fd than Halton in 1 of 2 '
                       '(steps, CFG) groups (mean change -0.50).']


def test_confidence_fixing_is_compared_with_maskgit():
    cells = make_cells(['maskgit', 'maskgit_fix_low'], [4], [0], fix_ratio=0.2)
    assert cells[1].sampler_cfg() == dict(type='TokenFixingSampler', reveal='confidence',
                                          fix='low_confidence', steps=4, cfg_scale=0.0,
                                          fix_ratio=0.2)
    res = {'p=0.2': {cells[0].name: {'FD/fd': 10.0}, cells[1].name: {'FD/fd': 7.0}}}
    assert fixing_summary(res, ['p=0.2'], cells) == [
        '- p=0.2: MaskGIT + fixing `low_confidence` has a lower FD/fd than MaskGIT in 1 of 1 '
        '(steps, CFG) groups (mean change -3.00).']
