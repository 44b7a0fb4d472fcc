"""MMEngine's checkpoint loading and writing, routed through :mod:`bigfix_mm.core.checkpoint`.

Scope: :func:`load_checkpoint_file`, and MMEngine's local checkpoint loader while
:func:`safe_loading` is active (the runners built by
:func:`bigfix_mm.engine.launch.build_runner`, i.e. ``tools/train.py`` /
``tools/test.py``, and ``init_model``). Other code in the same process that loads
checkpoints through MMEngine (another OpenMMLab library, its pretrained weights) gets
MMEngine's own loader, behaving as without bigfix_mm; the allow-listed load is
only tried first, so MMEngine's own checkpoints also load there.

Loads are strict: :class:`StrictLoadHook` (added by ``build_runner``) compares a
checkpoint's weights with the model before ``load_from`` or ``--resume`` loads
anything (:func:`~bigfix_mm.core.checkpoint.check_loadable`: every missing,
unexpected and mis-shaped key named with both shapes). A partial ``load_from`` is
asked for by name: ``partial_load = ['transformer.head*']`` (fnmatch patterns of
model keys that may stay at their initial values).

Writes go to a temporary file that is renamed over the target, so a crash during
a save never leaves a half-written checkpoint; a write that runs out of space is a
:class:`~bigfix_mm.errors.DiskFullError` naming the file and the free space. The
file gets the mode a plain write would give (the umask default, or the mode of the
file it replaces), and a symlinked target is written through the link, as
``open(path, 'wb')`` would.
"""
import contextvars
import logging
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Sequence, Union

from mmengine.fileio import LocalBackend, register_backend
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.runner.checkpoint import CheckpointLoader, load_from_local

from bigfix_mm.core.checkpoint import (PARTIAL_LOAD_KEY, CheckpointError, check_loadable,
                                       find_resume_checkpoint, load_checkpoint_file,
                                       strip_prefixes)
from bigfix_mm.core.files import atomic_path, disk_full_message, is_disk_full
from bigfix_mm.errors import DiskFullError

__all__ = ['safe_loading', 'scope_to_runner', 'AtomicLocalBackend', 'install',
           'CheckpointError', 'find_resume_checkpoint', 'load_checkpoint_file',
           'StrictLoadHook', 'strict_loading']


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
    """MMEngine's local file backend whose ``put`` writes atomically (:func:`atomic_path`);
    running out of space is a :class:`DiskFullError` naming the file and the free space."""

    def put(self, obj: bytes, filepath: Union[str, Path]) -> None:
        try:
            with atomic_path(filepath) as tmp:
                tmp.write_bytes(obj)
        except OSError as err:
            if is_disk_full(err) and not isinstance(err, DiskFullError):
                raise DiskFullError(disk_full_message(filepath)) from err
            raise

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


# ------------------------------------------------------------------ strict loading
class StrictLoadHook(Hook):
    """Makes a runner's ``load_from`` / ``resume`` strict (:func:`check_loadable`) before
    anything is loaded (``after_load_checkpoint`` runs between reading the file and
    loading the model; this hook is added first, so EMA and others see a checked file).

    Args:
        partial: ``partial_load`` patterns, for ``load_from`` only (a resume is exact).
        resume: the runner resumes (optimizer state included) rather than loads weights.
    """
    priority = 'HIGHEST'

    def __init__(self, partial: Union[None, str, Sequence[str]] = None,
                 resume: bool = False) -> None:
        self.partial = None if resume else partial
        self.resume = resume

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        from mmengine.model import is_model_wrapper
        state = checkpoint.get('state_dict') if isinstance(checkpoint, dict) else None
        source = f"{'--resume ' if self.resume else ''}checkpoint {runner._load_from}"
        if not isinstance(state, dict):
            raise CheckpointError(f'{source} holds no state_dict: convert it first '
                                  '(tools/model_converters/convert_*.py).')
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        revised = strip_prefixes(state, ('module.', ))  # MMEngine's default revise_keys
        left = check_loadable(model, revised, source, self.partial)
        if left or len(revised) != len(state) or list(revised) != list(state):
            checkpoint['state_dict'] = type(state)(revised)
        if left:
            print_log(f'{PARTIAL_LOAD_KEY}: {len(left)} model keys left at their initial values: '
                      f'{", ".join(left)}', logger='current', level=logging.WARNING)


def strict_loading(runner: Any, cfg: Any) -> Any:
    """Add :class:`StrictLoadHook` to ``runner`` (what ``build_runner`` does)."""
    runner.register_hook(StrictLoadHook(cfg.get(PARTIAL_LOAD_KEY), bool(cfg.get('resume'))),
                         priority='HIGHEST')
    return runner

