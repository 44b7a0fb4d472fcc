"""projects.editing_study: masks, intervals, the Fréchet replicates and the page."""
import numpy as np
import pytest
import torch
from mmengine.config import Config

from bigfix_mm.apis import init_model
from bigfix_mm.evaluation.frechet import feature_statistics, frechet_distance
from projects.editing_study import intervals, study
from tests.conftest import CIFAR_QUICK, requires_cifar


def test_mask_sets():
    box = study.make_masks('box', 3, seed=0)
    assert box.shape == (3, 1, 32, 32) and int(box[0].sum()) == 256
    assert bool(box[0, 0, 8, 8]) and not bool(box[0, 0, 7, 8])
    ring = study.make_masks('outpaint', 3, seed=0)
    assert int(ring[0].sum()) == 32 * 32 - 24 * 24 and not bool(ring[0, 0, 4:28, 4:28].any())
    ff = study.make_masks('free-form', 4, seed=1)
    assert ff.dtype == torch.bool and all(bool(m.any()) and not bool(m.all()) for m in ff)
    assert torch.equal(ff, study.make_masks('free-form', 4, seed=1))  # seeded per image
    assert not torch.equal(ff[0], ff[1])


def test_interval_words_only_where_zero_is_excluded():
    iv = intervals.paired_interval(1.0, 2.0, [0.9, 1.0, 1.1], [2.0, 2.1, 1.9])
    assert iv['diff'] == -1.0 and iv['hi'] < 0
    assert intervals.verdict(iv, 'a', 'b', lower_is_better=True) == 'a better than b'
    assert intervals.verdict(iv, 'a', 'b', lower_is_better=False) == 'a worse than b'
    flat = intervals.paired_interval(0.0, 0.0, [-1.0, 1.0], [0.0, 0.0])
    assert intervals.verdict(flat, 'a', 'b', True) == intervals.NO_DIFFERENCE
    draws = intervals.bootstrap_draws(10, 4, seed=0)
    assert draws.shape == (4, 10) and draws.max() < 10
    assert np.array_equal(draws, intervals.bootstrap_draws(10, 4, seed=0))


def test_frechet_replicates_match_the_plain_distance():
    rng = np.random.default_rng(0)
    ref, feats = rng.normal(size=(200, 6)), rng.normal(0.3, 1.2, size=(50, 6))
    fr = intervals.FrechetToReference(*feature_statistics(ref))
    plain = frechet_distance(*feature_statistics(feats), *feature_statistics(ref))['fd']
    assert abs(fr.distance(feats) - plain) < 1e-8
    idx = rng.integers(0, 50, 50)
    subset = frechet_distance(*feature_statistics(feats[idx]), *feature_statistics(ref))['fd']
    assert abs(fr.distance(feats, idx) - subset) < 1e-8


@pytest.mark.slow  # 18 cells and EfficientNet: about a minute on 2 busy cores
@requires_cifar
def test_study_writes_its_page_and_grid(tmp_path):
    cfg = Config.fromfile(str(CIFAR_QUICK))
    cfg.model.transformer.update(size=None, width=32, depth=1, heads=2)
    cfg.model.sampler = dict(type='TokenFixingSampler', steps=4, cfg_scale=1.0)
    config = tmp_path / 'tiny.py'
    cfg.dump(str(config))
    ckpt = tmp_path / 'tiny.pth'
    torch.save(dict(state_dict=init_model(str(config)).state_dict(), meta=dict()), ckpt)
    out, grid = tmp_path / 'docs' / 'editing.md', tmp_path / 'docs' / 'images' / 'grid.png'
    argv = [str(config), str(ckpt), '--num', '6', '--ref-num', '8', '--replicates', '5',
            '--grid-rows', '2', '--work-dir', str(tmp_path / 'cells'), '--out', str(out),
            '--grid', str(grid)]
    study.main(argv)
    page = out.read_text()
    assert grid.is_file() and '](images/grid.png)' in page
    for kind in study.MASKS:
        assert f'## {kind}' in page
    assert page.count('| fix_low seam 1 - fix_low |') == 3 * len(study.METRICS)
    assert 'python -m projects.editing_study' in page and 'Does seam fixing help?' in page
    cached = sorted((tmp_path / 'cells').glob('*.npz'))
    assert len(cached) == 3 * len(study.CELLS)
    study.main(argv)  # a second run reads every cell back from the cache
    assert out.read_text() == page
