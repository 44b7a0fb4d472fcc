"""tools/fixing_study.py end to end at a toy budget (pipeline check, not a result).

Two twins of a 1-block transformer trained for a few iterations, a handful of
cells of 10 samples and 2 seeds, 200 real images; then a rerun that must reuse
everything, and a rerun with one more seed that must compute only that seed.
"""
import json

import pytest

from bigfix_mm.evaluation.classifier import CifarClassifier, save_classifier
from ...conftest import REPO, load_tool, requires_cifar


@pytest.mark.slow
@requires_cifar
def test_toy_study_trains_samples_scores_and_resumes(tmp_path):
    classifier = tmp_path / 'classifier.pth'
    save_classifier(str(classifier), CifarClassifier(width=4), dict(test_acc=10.0, epochs=0))
    results = tmp_path / 'docs' / 'results.md'
    argv = [str(REPO / 'configs' / 'bigfix_cifar10_quick.py'), '--work-dir', str(tmp_path / 'wd'),
            '--iters', '4', '--batch-size', '8', '--width', '32', '--depth', '1', '--heads', '2',
            '--val-points', '2', '--samples', '10', '--seeds', '0', '1', '--steps', '2', '4',
            '--samplers', 'maskgit', 'halton', 'fix_low', '--cfg-candidates', '0.5', '1',
            '--pilot-samples', '10', '--pilot-steps', '2', '--sweep-steps', '4',
            '--fix-ratios', '0.2', '--fix-windows', '0.5,1', '--bootstrap', '20',
            '--gen-batch-size', '5', '--fd-image-size', '32', '--real-limit', '200',
            '--classifier', str(classifier), '--results', str(results),
            '--images', str(tmp_path / 'docs' / 'images')]
    tool = load_tool('fixing_study')
    out = tool.main(argv)
    assert out['pending'] == []
    # 3 samplers x 2 steps x 2 CFG + 2 sweep cells, for both twins
    assert len(out['cells']) == 2 * (12 + 2)
    assert out['pilot']['best'] in (0.5, 1.0)
    questions = {c['question'] for c in out['comparisons']}
    assert questions == {'fixing', 'steps', 'sweep', 'injection'}
    page = results.read_text()
    assert 'python tools/fixing_study.py' in page and '--samples 10' in page
    assert '![FD against steps](images/fixing_study_fd_vs_steps.png)' in page
    for png in ('fd_vs_steps', 'curves', 'grid_p0.2', 'grid_p0'):
        assert (tmp_path / 'docs' / 'images' / f'fixing_study_{png}.png').stat().st_size > 5000
    curves = {t: [s for s, _, _ in v['curve']] for t, v in out['val'].items()}
    assert curves == {'p=0.2': [2, 4], 'p=0': [2, 4]}

    # hand-written context survives regeneration
    page = page.replace('(No hand-written context yet.)', 'Written by hand.')
    results.write_text(page)
    samples = sorted((tmp_path / 'wd' / 'cache' / 'samples').glob('*.npz'))
    mtimes = [p.stat().st_mtime for p in samples]
    again = tool.main(argv)
    assert [p.stat().st_mtime for p in samples] == mtimes  # nothing resampled
    assert json.dumps(again['cells'], sort_keys=True) == json.dumps(out['cells'], sort_keys=True)
    assert 'Written by hand.' in results.read_text()

    # a third seed: only its samples are computed
    more = tool.main(argv[:argv.index('--seeds') + 3] + ['2'] + argv[argv.index('--seeds') + 3:])
    new = sorted((tmp_path / 'wd' / 'cache' / 'samples').glob('*.npz'))
    assert len(new) == len(samples) + 2 * (12 + 2)
    assert [p.stat().st_mtime for p in samples] == mtimes
    assert more['pending'] == []
