"""The words of the page follow from intervals, and the index sums up every space."""
import json

from projects.fixing_study.analysis import Comparison
from projects.fixing_study.report import tally, trade_words, write_index


def diff(d, lo, hi):
    return dict(diff=d, lo=lo, hi=hi, level=0.95)


def comp(fd, precision=(0, -1, 1), recall=(0, -1, 1), acc=(0, -1, 1)):
    return Comparison('fixing', 'p=0.2', 'x', dict(fd_tok=diff(*fd), precision=diff(*precision),
                                                   recall=diff(*recall), acc=diff(*acc)))


def test_tally_counts_directions_only_where_intervals_exclude_zero():
    comps = [comp(x) for x in [(-2, -3, -1), (1, 0.5, 2), (0.1, -1, 1)]]
    assert tally(comps) == ('lower FD-tok (better) in 1, higher (worse) in 1, no difference '
                            'detected in 1 (of 3)')


def test_fidelity_against_diversity_words():
    up, down, none = (1, 0.5, 2), (-1, -2, -0.5), (0, -1, 1)
    assert trade_words(comp(none, precision=up, recall=down)) == 'trades diversity for fidelity'
    assert trade_words(comp(none, acc=up, recall=down)) == 'trades diversity for fidelity'
    assert trade_words(comp(none, precision=up, recall=up)) == 'gains fidelity and diversity'
    assert trade_words(comp(none, recall=down)) == ('loses diversity, no change in fidelity '
                                                    'detected')
    assert trade_words(comp(none)) == 'no change in fidelity or diversity detected'


def test_index_lists_each_space_with_its_validity_and_headline(tmp_path):
    results = tmp_path / 'results'
    results.mkdir()
    for name, valid in (('vq1024', 'The FD to the round trip is valid in the vq1024 space.'),
                        ('rgb216', '**The metric is not valid in the rgb216 space**.')):
        (results / f'{name}.json').write_text(json.dumps(dict(
            space=name, date='2026-12-06', validity=valid, pending=[],
            headline=[f'- {name} headline'] if 'not' not in valid else [])))
    index = tmp_path / 'results.md'
    write_index(str(results), str(index))
    page = index.read_text()
    assert page.index('## rgb216') < page.index('## vq1024')
    assert '[Full page](results/vq1024.md)' in page and '- vq1024 headline' in page
    assert 'not valid in the rgb216 space' in page and '- rgb216 headline' not in page


def test_cell_table_has_a_row_per_planned_pair_only():
    from projects.fixing_study.cells import Cell
    from projects.fixing_study.report import cell_table
    sweep, halton = Cell('fix_low', 8, 0.5, fix_ratio=0.2), Cell('halton', 8, 0.5)
    planned = [('p=0.2', halton), ('p=0', halton), ('p=0.2', sweep)]
    rows = cell_table({}, planned, ['p=0.2', 'p=0'], groups=[])[2:]
    assert len(rows) == 3 and all('pending' in r for r in rows)
    assert [r.split(' | ')[0] for r in rows] == ['| p=0.2', '| p=0.2', '| p=0']
    assert not any(r.startswith('| p=0 |') and 'ratio' in r for r in rows)
