"""MMEngine's checkpoint loading and writing, routed through :mod:`bigfix_mm.core.checkpoint`.

Scope: :func:`load_checkpoint_file`, and MMEngine's local checkpoint loader while
:func:`safe_loading` is active (the runners built by
:func:`bigfix_mm.engine.launch.build_runner`, i.e. ``tools/train.py`` /
``tools/test.py``, and ``init_model``). Other code in the same process that loads
checkpoints through MMEngine (another OpenMMLab library, its pretrained weights) gets
MMEngine's own loader, behaving as without bigfix_mm; the allow-listed load is
only tried first, so MMEngine's own checkpoints also load there.

Writes go to a temporary file that is renamed over the target, so a crash during
a save never leaves a half-written checkpoint. The file gets the mode a plain
write would give (the umask default, or the mode of the file it replaces), and a
symlinked target is written through the link, as ``open(path, 'wb')`` would.
"""
import contextvars
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Union

from mmengine.fileio import LocalBackend, register_backend
from mmengine.runner.checkpoint import CheckpointLoader, load_from_local

from bigfix_mm.core.checkpoint import CheckpointError, find_resume_checkpoint, load_checkpoint_file
from bigfix_mm.core.files import atomic_path

__all__ = ['safe_loading', 'scope_to_runner', 'AtomicLocalBackend', 'install',
           'CheckpointError', 'find_resume_checkpoint', 'load_checkpoint_file']


_SAFE_SCOPE: contextvars.ContextVar = contextvars.ContextVar('bigfix_safe_loading',
                                                            default=False)


@contextmanager
def safe_loading() -> Iterator[None]:
    """Within this context MMEngine's local checkpoint loader is bigfix_mm's
    :func:`load_checkpoint_file`: anything outside the allow-list is refused."""
    token = _SAFE_SCOPE.set(True)
    try:
        yield
    finally:
        _SAFE_SCOPE.reset(token)


def scope_to_runner(runner: Any) -> Any:
    """Load ``runner``'s own checkpoints (``load_from`` / ``resume``) with
    :func:`safe_loading`; weights that its models load while being built are not affected."""
    for name in ('load_checkpoint', 'resume'):
        method = getattr(runner, name)

        def scoped(*args, _method=method, **kwargs):
            with safe_loading():
                return _method(*args, **kwargs)

        setattr(runner, name, scoped)
    return runner


def _mmengine_local_loader(filename: str, map_location: Any = None) -> Any:
    """MMEngine's local scheme: strict inside :func:`safe_loading`; elsewhere the
    allow-listed load, falling back to MMEngine's own loader (whose result or error
    is then exactly what it would be without bigfix_mm)."""
    if _SAFE_SCOPE.get():
        return load_checkpoint_file(os.path.expanduser(filename), map_location)
    try:
        return load_checkpoint_file(os.path.expanduser(filename), map_location)
    except CheckpointError:
        return load_from_local(filename, map_location)


class AtomicLocalBackend(LocalBackend):
    """MMEngine's local file backend whose ``put`` writes atomically (:func:`atomic_path`)."""

    def put(self, obj: bytes, filepath: Union[str, Path]) -> None:
        with atomic_path(filepath) as tmp:
            tmp.write_bytes(obj)

    def put_text(self, obj: str, filepath: Union[str, Path], encoding: str = 'utf-8') -> None:
        self.put(obj.encode(encoding), filepath)


def install() -> None:
    """Register the (scoped) safe loader and the atomic writer with MMEngine (idempotent)."""
    CheckpointLoader.register_scheme(prefixes='', loader=_mmengine_local_loader, force=True)
    register_backend('local', AtomicLocalBackend, force=True, prefixes='')
    from mmengine.fileio import io as mmengine_io
    for key, backend in list(mmengine_io.backend_instances.items()):
        if type(backend) is LocalBackend:  # drop cached non-atomic instances
            del mmengine_io.backend_instances[key]
