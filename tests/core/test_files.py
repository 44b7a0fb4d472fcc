"""Atomic writes keep the mode a plain write gives (not mkstemp's 0600)."""
import os
import stat

from bigfix_mm.core.files import write_text_atomic


def test_new_file_gets_the_umask_mode_and_a_replaced_file_keeps_its_own(tmp_path):
    old = os.umask(0o027)
    try:
        path = tmp_path / 'meta.json'
        write_text_atomic(path, '{}')
        assert stat.S_IMODE(path.stat().st_mode) == 0o640
        os.chmod(path, 0o604)
        write_text_atomic(path, '{"a": 1}')
        assert stat.S_IMODE(path.stat().st_mode) == 0o604 and path.read_text() == '{"a": 1}'
    finally:
        os.umask(old)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith('.')]  # no temp file left
