"""The study end to end at a toy budget (pipeline check, not a result).

Two twins of a 1-block transformer trained for a few iterations, the corruption
ladder, a handful of cells of 10 samples and 2 seeds; then a rerun that must reuse
everything, and a rerun with one more seed that must compute only that seed's samples.
"""
import json

import pytest

from bigfix_mm.evaluation.classifier import CifarClassifier, save_classifier
from projects.fixing_study.main import main
from tests.conftest import REPO, requires_cifar


@pytest.mark.slow
@requires_cifar
def test_toy_study_validates_samples_scores_and_resumes(tmp_path):
    classifier = tmp_path / 'classifier.pth'
    save_classifier(str(classifier), CifarClassifier(width=4), dict(test_acc=10.0, epochs=0))
    docs = tmp_path / 'docs'
    config = REPO / 'configs' / 'bigfix' / 'bigfix_cifar10_quick.py'
    argv = [str(config), '--work-dir', str(tmp_path / 'wd'),
            '--iters', '4', '--batch-size', '8', '--width', '32', '--depth', '1', '--heads', '2',
            '--val-points', '2', '--samples', '10', '--seeds', '0', '1', '--steps', '2', '4',
            '--samplers', 'maskgit', 'halton', 'fix_low', '--cfg-candidates', '0.5', '1',
            '--pilot-samples', '10', '--pilot-steps', '2', '--sweep-steps', '4',
            '--fix-ratios', '0.2', '--fix-windows', '0.5,1', '--jackknife-groups', '4',
            '--gen-batch-size', '5', '--fd-image-size', '32', '--ref-size', '200',
            '--ladder-rates', '0.1', '0.4', '--classifier', str(classifier),
            '--results-dir', str(docs / 'results'), '--index', str(docs / 'results.md'),
            '--images', str(docs / 'images')]
    out = main(argv)
    assert out['space'] == 'rgb216' and out['pending'] == []
    # 3 samplers x 2 steps x 2 CFG + Halton at 8 steps x 2 CFG, both twins
    assert len(out['cells']) == 2 * (12 + 2) + 2  # the sweep on p=0.2 only
    assert out['pilot']['best'] in (0.5, 1.0)
    assert set(out['ladder']['modes']) == {'uniform', 'shuffle'}
    assert out['ladder']['rates'] == [0.0, 0.1, 0.4]
    assert {c['question'] for c in out['comparisons']} >= {'fixing', 'steps', 'sweep',
                                                         'injection', 'double'}
    page = (docs / 'results' / 'rgb216.md').read_text()
    assert 'python -m projects.fixing_study' in page and '--samples 10' in page
    assert '## Is the metric valid here? The corruption ladder' in page
    index = (docs / 'results.md').read_text()
    assert '[Full page](results/rgb216.md)' in index and out['validity'] in index
    for png in ('ladder', 'fd_vs_steps', 'curves', 'samples'):
        assert (docs / 'images' / f'results_rgb216_{png}.png').stat().st_size > 5000
    saved = json.loads((docs / 'results' / 'rgb216.json').read_text())
    assert saved['metric_names']['fd_tok'].startswith('FD to the token round trip')

    samples = sorted((tmp_path / 'wd' / 'cache' / 'samples').glob('*.npz'))
    mtimes = [p.stat().st_mtime for p in samples]
    again = main(argv)
    assert [p.stat().st_mtime for p in samples] == mtimes  # nothing resampled
    assert json.dumps(again['cells'], sort_keys=True) == json.dumps(out['cells'], sort_keys=True)

    # a third seed: only its samples are computed
    seeds = argv.index('--seeds')
    more = main(argv[:seeds + 3] + ['2'] + argv[seeds + 3:])
    new = sorted((tmp_path / 'wd' / 'cache' / 'samples').glob('*.npz'))
    assert len(new) == len(samples) + 2 * (12 + 2) + 2
    assert [p.stat().st_mtime for p in samples] == mtimes
    assert more['pending'] == []
