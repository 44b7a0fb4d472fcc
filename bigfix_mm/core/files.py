"""Atomic file writes: a temporary file beside the target, then ``os.replace``.

The new file gets the mode a plain ``open(path, 'w')`` would give it (the replaced
file's, or 0666 minus the umask), not ``mkstemp``'s 0600. A write that runs out of
space is told apart (:func:`is_disk_full`) and described with the free space left
(:func:`disk_full_message`).
"""
import errno
import os
import shutil
import stat
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Union


@contextmanager
def atomic_path(path: Union[str, Path]) -> Iterator[Path]:
    """Yield a temporary path beside ``path`` (same suffix, so writers that go by the
    extension work); it replaces ``path`` when the block succeeds and is removed when
    it fails, so readers see the old file or the whole new one, never a part.

    As ``open(path, 'wb')`` would, the write goes through a symlink at ``path`` (the
    link stays, its target is replaced) and leaves the mode a plain write gives
    (:func:`plain_write_mode`). The new file is flushed to disk (``fsync``) before
    the rename, so a crash cannot leave a renamed but empty file.
    """
    path = Path(os.path.realpath(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f'.{path.name}.', suffix=f'.tmp{path.suffix}')
    os.fchmod(fd, plain_write_mode(path))
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        with open(tmp, 'rb+') as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_text_atomic(path: Union[str, Path], text: str) -> None:
    """Write ``text`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def plain_write_mode(path: Union[str, Path]) -> int:
    """The permission bits ``open(path, 'wb')`` would leave: the existing file's, or
    0666 minus the process umask for a new file."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        return 0o666 & ~_umask()


def _umask() -> int:
    try:  # Linux: read it without changing it (os.umask would, briefly, for every thread)
        with open('/proc/self/status') as f:
            for line in f:
                if line.startswith('Umask:'):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


DISK_FULL_ERRNOS = (errno.ENOSPC, errno.EDQUOT)


def is_disk_full(err: BaseException) -> bool:
    """True for an ``OSError`` saying the disk (or the quota) is full."""
    return isinstance(err, OSError) and err.errno in DISK_FULL_ERRNOS


def free_space(path: Union[str, Path]) -> str:
    """Free space of the file system holding ``path`` (or its nearest existing parent),
    e.g. ``'1.5 MiB'``."""
    path = Path(path)
    while not path.exists() and path != path.parent:
        path = path.parent
    size = float(shutil.disk_usage(path).free)
    for unit in ('B', 'KiB', 'MiB', 'GiB', 'TiB'):
        if size < 1024 or unit == 'TiB':
            return f'{size:.0f} {unit}' if unit == 'B' else f'{size:.1f} {unit}'
        size /= 1024
    return f'{size:.1f} TiB'


def disk_full_message(path: Union[str, Path]) -> str:
    """What a write of ``path`` that ran out of space says (the partial file is gone)."""
    return (f'no space left on device while writing {path} ({free_space(Path(path).parent)} '
            'free there); the partial file was removed.')
