"""Resumability: a killed study continues without recomputing finished units."""
import json
import os

import pytest

from projects.fixing_study.cache import Store, files_digest, key_hash, run_all, write_json


class Killed(Exception):
    pass


def test_a_killed_run_continues_without_recomputing_finished_cells(tmp_path):
    calls = []

    def cell(i, kill_at=None):
        def compute():
            if i == kill_at:
                raise Killed(i)
            calls.append(i)
            return dict(fd=float(i) * 1.5)
        return compute

    store = Store(str(tmp_path))
    units = [(dict(sampler='halton', steps=s), cell(s, kill_at=3)) for s in range(5)]
    with pytest.raises(Killed):
        run_all(store, 'cells', units, log=lambda msg: None)
    assert calls == [0, 1, 2]  # cell 3 died; 0-2 are on disk
    units = [(dict(sampler='halton', steps=s), cell(s)) for s in range(5)]
    out = run_all(store, 'cells', units, log=lambda msg: None)
    assert calls == [0, 1, 2, 3, 4]  # only the missing cells ran
    assert out == [dict(fd=i * 1.5) for i in range(5)]
    run_all(store, 'cells', units, log=lambda msg: None)
    assert calls == [0, 1, 2, 3, 4]  # nothing left to do


def test_a_changed_setting_is_a_new_unit_and_a_tampered_file_is_not_reused(tmp_path):
    store = Store(str(tmp_path))
    key = dict(sampler='fix_low', code='abc')
    store.put('cells', key, 1)
    assert store.get('cells', dict(key, code='abd')) is None  # new code version: recompute
    assert store.get('cells', {'code': 'abc', 'sampler': 'fix_low'}) == 1  # key order irrelevant
    path = store.path('cells', key)
    data = json.load(open(path))
    data['key']['sampler'] = 'halton'
    write_json(path, data)
    assert store.get('cells', key) is None


def test_writes_are_atomic_and_leave_no_temporary_files(tmp_path):
    write_json(str(tmp_path / 'a' / 'r.json'), dict(x=1))
    assert os.listdir(tmp_path / 'a') == ['r.json']
    assert key_hash(dict(a=1, b=2)) == key_hash(dict(b=2, a=1)) != key_hash(dict(a=1, b=3))
    (tmp_path / 'f.py').write_text('x = 1\n')
    before = files_digest([str(tmp_path / 'f.py')])
    (tmp_path / 'f.py').write_text('x = 2\n')
    assert files_digest([str(tmp_path / 'f.py')]) != before


def test_a_second_study_refuses_to_train_into_a_run_that_is_alive(tmp_path):
    import subprocess
    import sys

    from projects.fixing_study.training import check_not_running
    work_dir = str(tmp_path / 'train_p0.2')
    check_not_running(work_dir)  # no pid file: fine
    proc = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(30)'])
    try:
        (tmp_path / 'train_p0.2.pid').write_text(str(proc.pid))
        with pytest.raises(RuntimeError, match=f'process {proc.pid}'):
            check_not_running(work_dir)
    finally:
        proc.kill()
        proc.wait()
    check_not_running(work_dir)  # the process is gone: resuming is allowed
