import json

import pytest

from projects.fixing_study.curves import plot_training_curves, read_scalars


def write_log(path, records):
    path.parent.mkdir(parents=True)
    path.write_text('\n'.join(json.dumps(r) for r in records) + '\n')


def test_read_scalars_merges_resumed_runs_and_splits_val(tmp_path):
    write_log(tmp_path / '20260101_000000' / 'vis_data' / 'scalars.json',
              [dict(loss=3.0, step=1), dict(loss=2.5, step=2), {'token/fix_acc': 0.1, 'step': 2}])
    write_log(tmp_path / '20260102_000000' / 'vis_data' / 'scalars.json',
              [dict(loss=2.4, step=2), dict(loss=2.0, step=3), {'token/injected_acc': 0.3,
                                                                  'step': 4}])
    train, val = read_scalars(str(tmp_path))
    assert [(r['step'], r['loss']) for r in train] == [(1, 3.0), (2, 2.4), (3, 2.0)]
    # runs logged before the metric was renamed read under its new name
    assert [r['token/injected_acc'] for r in val] == [0.1, 0.3]
    assert not any('token/fix_acc' in r for r in val)
    with pytest.raises(FileNotFoundError, match='scalars.json'):
        read_scalars(str(tmp_path / 'nothing'))


def test_plot_writes_a_png(tmp_path):
    for name in ('a', 'b'):
        write_log(tmp_path / name / 't' / 'vis_data' / 'scalars.json',
                  [dict(loss=3.0, masked_acc=0.1, fix_acc=0.2, step=1),
                   {'token/fix_acc': 0.3, 'step': 1}])
    out = plot_training_curves({'a': str(tmp_path / 'a'), 'b': str(tmp_path / 'b')},
                               str(tmp_path / 'img' / 'curves.png'), skip={'b': ['token/injected_acc']})
    assert open(out, 'rb').read(8) == b'\x89PNG\r\n\x1a\n'
