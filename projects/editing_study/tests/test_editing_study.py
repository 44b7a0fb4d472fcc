"""projects.editing_study: masks, its command line, its comparisons, and the study end to end
on a toy fixing study."""
import numpy as np
import pytest
import torch

from projects.editing_study import study
from projects.editing_study.measures import MASKS, make_masks, pixel_measures
from projects.editing_study.page import FRECHET, METRICS, NOT_VALID, comparisons_of
from tests.conftest import REPO, requires_cifar


def test_mask_sets():
    box = make_masks('box', 3, seed=0)
    assert box.shape == (3, 1, 32, 32) and int(box[0].sum()) == 256
    assert bool(box[0, 0, 8, 8]) and not bool(box[0, 0, 7, 8])
    ring = make_masks('outpaint', 3, seed=0)
    assert int(ring[0].sum()) == 32 * 32 - 24 * 24 and not bool(ring[0, 0, 4:28, 4:28].any())
    ff = make_masks('free-form', 4, seed=1)
    assert ff.dtype == torch.bool and all(bool(m.any()) and not bool(m.all()) for m in ff)
    assert torch.equal(ff, make_masks('free-form', 4, seed=1))  # seeded per image
    assert not torch.equal(ff[0], ff[1])
    with pytest.raises(ValueError, match='mask set'):
        make_masks('circle', 1, 0)


def test_pixel_measures_of_a_perfect_and_a_broken_edit():
    gen = torch.Generator().manual_seed(0)
    images = torch.rand(3, 3, 32, 32, generator=gen)
    masks = make_masks('box', 3, 0)
    same = pixel_measures(images, images, masks, masks)
    assert np.allclose(same['mae'], 0) and np.allclose(same['seam'], 0)
    assert np.allclose(same['outside'], 0)
    broken = torch.where(masks, 1 - images, images)
    worse = pixel_measures(images, broken, masks, masks)
    assert (worse['mae'] > 0.1).all() and (worse['psnr'] < same['psnr']).all()
    assert (worse['ssim'] < same['ssim']).all()


def test_command_line_needs_the_fixing_study_after_a_separator():
    with pytest.raises(SystemExit, match='after'):
        study.split_argv(['--mask-sets', 'box'])
    edit_argv, study_argv = study.split_argv(['--mask-sets', 'box', '--', 'cfg.py', '--iters',
                                              '4'])
    assert edit_argv == ['--mask-sets', 'box'] and study_argv == ['cfg.py', '--iters', '4']
    command = study.reproduce_command(edit_argv, study_argv + ['--work-dir', 'x'])
    assert command == 'python -m projects.editing_study --mask-sets box -- cfg.py --iters 4'


def test_plan_and_comparisons():
    args = study.parse_args([])
    pairs = study.plan(args)
    assert pairs[:6] == [('p=0.2', c) for c in study.CELLS]
    assert [(t, c.name) for t, c in pairs[6:]] == [('p=0', 'halton'), ('p=0', 'fix_low')]
    questions = {q for q, _, _ in comparisons_of(args)}
    assert questions == {'fixing', 'seam', 'control', 'system'}
    for _, a, b in comparisons_of(args):  # every comparison is between planned pairs
        assert a in {(t, c.name) for t, c in pairs} and b in {(t, c.name) for t, c in pairs}
    one = study.parse_args(['--twins', 'p=0.2'])
    assert {q for q, _, _ in comparisons_of(one)} == {'fixing', 'seam'}


@pytest.mark.slow  # a toy fixing study (two 4-iteration twins) and 24 edits of 20 images
@requires_cifar
def test_study_validates_edits_and_writes_its_page(tmp_path):
    from bigfix_mm.evaluation.classifier import CifarClassifier, save_classifier
    classifier = tmp_path / 'classifier.pth'
    save_classifier(str(classifier), CifarClassifier(width=4), dict(test_acc=10.0, epochs=0))
    config = REPO / 'configs' / 'bigfix' / 'bigfix_cifar10_quick.py'
    fixing = [str(config), '--work-dir', str(tmp_path / 'wd'), '--iters', '4',
              '--batch-size', '8', '--width', '32', '--depth', '1', '--heads', '2',
              '--val-points', '2', '--samples', '10', '--seeds', '0', '1',
              '--cfg-scale', '1', '--sweep-steps', '4', '--jackknife-groups', '4',
              '--gen-batch-size', '10', '--fd-image-size', '32', '--ref-size', '200',
              '--ladder-rates', '0.2', '0.6', '--ladder-modes', 'uniform', '--ladder-draws', '2',
              '--classifier', str(classifier)]
    out, grid = tmp_path / 'docs' / 'editing.md', tmp_path / 'docs' / 'images' / 'grid.png'
    argv = ['--grid-rows', '2', '--hole-rates', '0.2', '0.6', '--out', str(out), '--grid',
            str(grid), '--'] + fixing
    result = study.main(argv)
    page = out.read_text()
    assert grid.is_file() and '](images/grid.png)' in page
    for kind in MASKS:
        assert f'## {kind}' in page
        res = result['results'][kind]
        assert len(res['cells']) == 8
        ladder = res['ladder']['decoded']
        assert ladder['rates'] == [0.0, 0.2, 0.6] and ladder['size'] == 20
        # the ladder changes the hole only, by the share it says (up to rounding per image)
        steps = ladder['modes']['uniform']['steps']
        changed = [s['changed'] for s in steps]
        assert changed[0] == 0.0 and abs(changed[2] - 0.6) < 0.1
        assert [s['draws'] for s in steps] == [1, 2, 2]  # the fixing study's --ladder-draws
        for r in res['comparisons']:
            if r['metric'] in FRECHET and not res['valid'][FRECHET[r['metric']][3]]:
                assert r['verdict'] == NOT_VALID
    rows = [line for line in page.splitlines() if line.startswith('| fix_low seam 1 (p=0.2) −')]
    assert len(rows) == 3 * len(METRICS)
    assert 'python -m projects.editing_study --grid-rows 2' in page
    assert 'Does seam fixing help?' in page
    edits = sorted((tmp_path / 'wd' / 'cache' / 'edits').glob('*.npz'))
    assert len(edits) == 3 * 8
    mtimes = [p.stat().st_mtime for p in edits]
    again = study.main(argv)  # everything read back from the cache
    assert [p.stat().st_mtime for p in edits] == mtimes
    assert again['results']['box']['comparisons'] == result['results']['box']['comparisons']
