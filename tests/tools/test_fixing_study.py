"""tools/fixing_study.py end to end at a toy budget (pipeline check, not a result).

Two twins of a 1-block transformer trained for a few iterations, two cells of
16 samples, a randomly initialised Inception stand-in for FID / IS.
"""
import json

import pytest

from bigfix_mm.evaluation.classifier import CifarClassifier, save_classifier
from bigfix_mm.evaluation.curves import read_scalars
from ..evaluation.random_inception import write_random_inception
from ..conftest import REPO, load_tool, requires_cifar


@pytest.mark.slow
@requires_cifar
def test_toy_study_trains_twins_scores_cells_and_writes_the_report(tmp_path):
    classifier = tmp_path / 'classifier.pth'
    save_classifier(str(classifier), CifarClassifier(width=4), dict(test_acc=10.0))
    inception = write_random_inception(str(tmp_path / 'inception.pt'), arch='tiny')
    argv = [str(REPO / 'configs' / 'bigfix_cifar10_quick.py'), '--work-dir', str(tmp_path / 'wd'),
            '--iters', '4', '--batch-size', '8', '--width', '32', '--depth', '1', '--heads', '2',
            '--workers', '0', '--val-points', '1', '--samples', '16', '--steps', '4',
            '--samplers', 'halton', 'fix_low', '--cfg-scales', '0', '--gen-batch-size', '8',
            '--real-nums', '32', '--fd-image-size', '64', '--classifier', str(classifier), '--inception', inception,
            '--results', str(tmp_path / 'docs' / 'results.md'),
            '--images', str(tmp_path / 'docs' / 'images'), '--threads', '2']
    tool = load_tool('fixing_study')
    out = tool.main(argv)
    for setting in ('p=0.2', 'p=0'):
        assert set(out['cells'][setting]) == {'halton_s4_cfg0', 'fix_low_s4_cfg0'}
        for cell in out['cells'][setting].values():
            for key in ('FD/fd', 'cls/acc', 'FID/fid', 'IS/is'):
                assert key in cell and cell[key] == cell[key], key  # present, not NaN
    report = (tmp_path / 'docs' / 'results.md').read_text()
    assert 'python tools/fixing_study.py' in report and '--samples 16' in report
    assert report.count('| Fixing `low_confidence` | 4 | 0 |') == 1
    assert '![training curves](images/fixing_study_curves.png)' in report
    assert (tmp_path / 'docs' / 'images' / 'fixing_study_curves.png').stat().st_size > 10_000
    stored = json.loads((tmp_path / 'wd' / 'results.json').read_text())
    assert stored['meta']['real_nums'] == 32
    # The twins really differ: p=0 sees no injected tokens, so its loss is another curve.
    losses = {s: [r['loss'] for r in read_scalars(str(tmp_path / 'wd' / f'train_{s}'))[0]]
              for s in ('p0.2', 'p0')}
    assert len(losses['p0']) == 4 and losses['p0'] != losses['p0.2']

    # Run again: training and cells are reused, the numbers are identical.
    ckpt = tmp_path / 'wd' / 'train_p0.2' / 'iter_4.pth'
    mtime = ckpt.stat().st_mtime
    again = tool.main(argv)
    assert ckpt.stat().st_mtime == mtime
    assert again['cells'] == out['cells']
