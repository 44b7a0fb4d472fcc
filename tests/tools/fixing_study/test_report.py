"""The page while the twins train, and the hand-written context it keeps."""
import argparse
import json

from fixing_study.report import CONTEXT_END, CONTEXT_START, tally, write_status_page
from fixing_study.analysis import Comparison


def test_status_page_reports_progress_pending_cells_and_keeps_the_context(tmp_path):
    results = tmp_path / 'results.md'
    results.write_text(f'old page\n{CONTEXT_START}\nWritten by hand.\n{CONTEXT_END}\nold tail\n')
    logs = tmp_path / 'train_p0.2' / '20260101_000000' / 'vis_data'
    logs.mkdir(parents=True)
    (logs / 'scalars.json').write_text('\n'.join(json.dumps(r) for r in [
        dict(loss=3.0, step=36), {'token/masked_acc': 0.25, 'token/fix_acc': 0.05, 'step': 600},
        dict(loss=2.0, step=612)]) + '\n')
    args = argparse.Namespace(results=str(results), iters=3600)
    write_status_page(args, 'python tools/fixing_study.py cfg.py --iters 3600', ['- every cell'],
                      {'p=0.2': str(tmp_path / 'train_p0.2'), 'p=0': str(tmp_path / 'train_p0')})
    page = results.read_text()
    assert 'python tools/fixing_study.py cfg.py --iters 3600' in page
    assert '- p=0.2: iteration 612 of 3600; held-out masked / fix accuracy at 600: 0.250 / 0.050.' \
        in page
    assert '- p=0: not started.' in page
    assert f'{CONTEXT_START}\nWritten by hand.\n{CONTEXT_END}' in page
    assert 'old page' not in page and 'old tail' not in page
    assert '- every cell' in page


def test_tally_counts_directions_only_where_intervals_exclude_zero():
    comps = [Comparison('fixing', 'p=0.2', str(i), dict(diff=d, lo=lo, hi=hi))
             for i, (d, lo, hi) in enumerate([(-2, -3, -1), (1, 0.5, 2), (0.1, -1, 1)])]
    assert tally(comps) == ('lower FD (better) in 1, higher FD (worse) in 1, no difference '
                            'detected in 1 (of 3)')
