"""Safe checkpoint loading and atomic checkpoint writing for MMEngine runs.

torch >= 2.6 loads with ``weights_only=True``; MMEngine 0.10.7's own checkpoints
hold a few extra types (``HistoryBuffer`` in the message hub, numpy scalars in
``meta``) and then fail to resume. Instead of turning safety off, bigfix_mm's
loading keeps ``weights_only=True`` and allow-lists exactly those types, so no
checkpoint (a run's own or a downloaded one) can execute code on load.

Scope: :func:`load_checkpoint_file`, and MMEngine's local checkpoint loader while
:func:`safe_loading` is active (the runners built by
:func:`bigfix_mm.engine.launch.build_runner`, i.e. ``tools/train.py`` /
``tools/test.py``, and ``init_model``). Other code in the same process that loads
checkpoints through MMEngine (another OpenMMLab library, its pretrained weights) gets
MMEngine's own loader, behaving as without bigfix_mm; the allow-listed load is
only tried first, so MMEngine's own checkpoints also load there.

Loads are strict: :class:`StrictLoadHook` (added by ``build_runner``) compares a
checkpoint's weights with the model before ``load_from`` or ``--resume`` loads
anything, and :func:`check_loadable` (also ``init_model``'s) names every missing,
unexpected and mis-shaped key with both shapes. A partial ``load_from`` is asked
for by name: ``partial_load = ['transformer.head*']`` (fnmatch patterns of model
keys that may stay at their initial values).

A checkpoint path that is a directory (a work dir) means its newest complete
checkpoint (:func:`resolve_checkpoint`, the one resolver of every tool).

Writes go to a temporary file that is renamed over the target, so a crash during
a save never leaves a half-written checkpoint; a write that runs out of space is a
:class:`~bigfix_mm.errors.DiskFullError` naming the file and the free space. The
file gets the mode a plain write would give (the umask default, or the mode of the
file it replaces), and a symlinked target is written through the link, as
``open(path, 'wb')`` would.
"""
import contextvars
import fnmatch
import logging
import os
import pickle
import zipfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Dict, Iterator, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmengine.fileio import LocalBackend, register_backend
from mmengine.hooks import Hook
from mmengine.logging import HistoryBuffer, print_log
from mmengine.runner.checkpoint import CheckpointLoader, load_from_local

from bigfix_mm.errors import DiskFullError, InputError
from bigfix_mm.utils.files import atomic_path, disk_full_message, is_disk_full
from bigfix_mm.utils.state_dict import layout_mismatches

PARTIAL_LOAD_KEY = 'partial_load'  # top-level config key: model keys a load_from may leave


def _numpy_safe_globals() -> list:
    """Numpy types that MMEngine's checkpoint ``meta`` may pickle."""
    multiarray = np.core.multiarray
    types = [multiarray.scalar, multiarray._reconstruct, np.ndarray, np.dtype]
    types += [type(np.dtype(t)) for t in ('f2', 'f4', 'f8', 'i1', 'i2', 'i4', 'i8', 'u1', 'u2',
                                          'u4', 'u8', 'b1', 'U', 'O')]
    return types


def _history_buffer_getattr(obj: Any, name: str) -> Any:
    """Stands in for ``getattr`` while unpickling: HistoryBuffer pickles its bound
    statistics methods as ``getattr(buffer, 'mean')``; nothing else may use it."""
    is_buffer = obj is HistoryBuffer or isinstance(obj, HistoryBuffer)
    allowed = {'min', 'max', 'mean', 'current', *HistoryBuffer._statistics_methods}
    if is_buffer and name in allowed:
        return getattr(obj, name)
    raise pickle.UnpicklingError(f'getattr({obj!r:.40}, {name!r}) is not allowed')


SAFE_GLOBALS = [HistoryBuffer, (_history_buffer_getattr, 'builtins.getattr'),
                *_numpy_safe_globals()]


class CheckpointError(InputError, RuntimeError):
    """A checkpoint file is missing, truncated, corrupt or unsafe."""


def resolve_checkpoint(filename: Union[str, Path]) -> Path:
    """The checkpoint file ``filename`` names: itself, or for a directory (a work dir)
    its newest checkpoint that reads back completely (:func:`find_resume_checkpoint`).

    Raises:
        CheckpointError: nothing there, or a directory holding no checkpoint.
    """
    path = Path(filename)
    if path.is_dir():
        found = find_resume_checkpoint(path)
        if found is None:
            raise CheckpointError(f'{path} is a directory, not a checkpoint file, and holds no '
                                  'checkpoint (last_checkpoint, iter_*.pth or epoch_*.pth): pass '
                                  'a checkpoint file, e.g. WORK_DIR/iter_2000.pth.')
        print_log(f'{path} is a directory: using its newest checkpoint, {found}',
                  logger='current', level=logging.INFO)
        return Path(found)
    if not path.is_file():
        raise CheckpointError(f'checkpoint file not found: {path}. Check `load_from` / `resume` '
                              'or the path given on the command line.')
    return path


def load_checkpoint_file(filename: Union[str, Path], map_location: Any = 'cpu') -> Any:
    """``torch.load`` with ``weights_only=True`` (plus MMEngine's types) and clear errors;
    a directory means its newest checkpoint (:func:`resolve_checkpoint`)."""
    path = resolve_checkpoint(filename)
    if path.suffix == '.safetensors':
        from safetensors.torch import load_file
        return load_file(str(path), device=str(map_location) if map_location else 'cpu')
    try:
        with _allow_listed():
            return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        raise CheckpointError(
            f'{path} holds objects outside the allow-list of safe types and was not loaded '
            f'({err}). Convert it to a plain state_dict or safetensors.') from err
    except (RuntimeError, EOFError, zipfile.BadZipFile, OSError) as err:
        raise CheckpointError(f'checkpoint {path} is truncated or corrupt ({err}). Use an earlier '
                              'checkpoint of the run (work_dir/iter_*.pth).') from err


@contextmanager
def _allow_listed() -> Iterator[None]:
    """``torch.serialization.safe_globals(SAFE_GLOBALS)`` that leaves the process-wide
    list as it found it (torch's context removes on exit entries another library had
    added with ``add_safe_globals`` before)."""
    present = torch.serialization.get_safe_globals()
    with torch.serialization.safe_globals([g for g in SAFE_GLOBALS if g not in present]):
        yield


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


def checkpoint_problem(path: Union[str, Path]) -> Union[str, None]:
    """Why ``path`` cannot be loaded, or None when it reads back completely.

    A zip checkpoint (torch's format) is checked member by member against its
    CRCs without unpickling anything; another file is loaded once.
    """
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                bad = archive.testzip()
            return None if bad is None else f'member {bad} fails its CRC check'
        load_checkpoint_file(path)
        return None
    except (CheckpointError, zipfile.BadZipFile, OSError, EOFError, RuntimeError) as err:
        return str(err)


def find_resume_checkpoint(work_dir: Union[str, Path]) -> Union[str, None]:
    """The checkpoint ``--resume`` continues from, or None when there is none.

    The newest checkpoint that reads back completely: ``work_dir/last_checkpoint``
    (MMEngine writes that pointer non-atomically; a run killed at that moment can
    leave it empty, or pointing at a file ``max_keep_ckpts`` removed), then the
    ``iter_*.pth`` / ``epoch_*.pth`` of the work dir, newest first. A truncated
    or corrupt candidate is skipped with a warning naming it; when none loads,
    :class:`CheckpointError` lists them. Temporary files of an interrupted atomic
    save (``.iter_N.pth.*.tmp``) are ignored.
    """
    work_dir = Path(work_dir)
    candidates = []
    for path in work_dir.glob('*.pth'):
        stem = path.stem
        for prefix in ('iter_', 'epoch_'):
            if stem.startswith(prefix) and stem[len(prefix):].isdigit():
                candidates.append((prefix == 'iter_', int(stem[len(prefix):]), str(path)))
    ordered = [c[2] for c in sorted(candidates, reverse=True)]
    pointer = work_dir / 'last_checkpoint'
    if pointer.is_file():
        target = pointer.read_text().strip()
        if target and Path(target).is_file():
            ordered.insert(0, target)
    seen, skipped = set(), []
    for path in ordered:
        if Path(path).resolve() in seen:
            continue
        seen.add(Path(path).resolve())
        problem = checkpoint_problem(path)
        if problem is None:
            return path
        skipped.append(path)
        print_log(f'--resume: skipping {path}: it does not load ({problem}); trying the '
                  'previous checkpoint.', logger='current', level=logging.WARNING)
    if skipped:
        raise CheckpointError(f'--resume: no checkpoint of {work_dir} loads (tried '
                              f'{", ".join(skipped)}). Fix: resume from a copy of the run with '
                              '`--resume PATH`, or start again without --resume.')
    return None


# ------------------------------------------------------------------ strict loading
def _patterns(partial: Union[None, str, Sequence[str]]) -> Tuple[str, ...]:
    return (partial, ) if isinstance(partial, str) else tuple(partial or ())


def check_loadable(model: torch.nn.Module, state: Dict[str, Any], source: str,
                   partial: Union[None, str, Sequence[str]] = None) -> List[str]:
    """Refuse ``state`` unless it fits ``model`` key for key and shape for shape.

    A frozen tokenizer that loads its own weights file (``tokenizer.checkpoint``) may be
    absent from ``state`` (checkpoints converted from other codes hold the transformer
    only). Keys matching a ``partial`` pattern (fnmatch, e.g. ``'transformer.head*'``)
    may be missing, unexpected or of another shape: those of ``state`` are removed from
    it (in place) and the model keeps its initial values there.

    Returns:
        the model keys left at their initial values (sorted).
    Raises:
        CheckpointError: every other difference, each key named (shapes: both).
    """
    expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    tokenizer = getattr(model, 'tokenizer', None)
    if getattr(tokenizer, 'checkpoint', None) is not None:  # loads its own weights
        expected = {k: v for k, v in expected.items() if not k.startswith('tokenizer.')}
        state_view = {k: v for k, v in state.items() if not k.startswith('tokenizer.')}
    else:
        state_view = state
    patterns = _patterns(partial)

    def allowed(key: str) -> bool:
        return any(fnmatch.fnmatchcase(key, p) for p in patterns)

    differs = [k for k in set(expected) | set(state_view)
               if k not in state_view or k not in expected or
               tuple(getattr(state_view[k], 'shape', ())) != expected[k]]
    refused = [k for k in differs if not allowed(k)]
    if refused:
        lines = layout_mismatches({k: v for k, v in state_view.items()
                                   if k in refused or k not in differs},
                                  {k: v for k, v in expected.items()
                                   if k in refused or k not in differs}, shown=8)
        hint = (f' To start from part of it (load_from, not --resume), name the model keys '
                f"that may stay at their initial values: {PARTIAL_LOAD_KEY} = ['transformer."
                "head*'] in the config, or tools/train.py --partial-load PATTERN ...")
        raise CheckpointError(f'{source} does not fit the config\'s model; nothing was loaded:\n'
                              + '\n'.join(lines) + '\nUse the config the checkpoint was trained '
                              '(or converted) for.' + hint)
    for key in differs:
        state.pop(key, None)
    return sorted(k for k in differs if k in expected)


def _revised(state: Mapping[str, Any]) -> Dict[str, Any]:
    """MMEngine's default ``revise_keys``: a leading ``module.`` (DDP) removed."""
    return {k[len('module.'):] if k.startswith('module.') else k: v for k, v in state.items()}


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
        if not isinstance(state, Mapping):
            raise CheckpointError(f'{source} holds no state_dict: convert it first '
                                  '(tools/convert_*.py).')
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        revised = _revised(state)
        left = check_loadable(model, revised, source, self.partial)
        if left or len(revised) != len(state):
            checkpoint['state_dict'] = type(state)(revised)
        if left:
            print_log(f'{PARTIAL_LOAD_KEY}: {len(left)} model keys left at their initial values: '
                      f'{", ".join(left)}', logger='current', level=logging.WARNING)


def strict_loading(runner: Any, cfg: Any) -> Any:
    """Add :class:`StrictLoadHook` to ``runner`` (what ``build_runner`` does)."""
    runner.register_hook(StrictLoadHook(cfg.get(PARTIAL_LOAD_KEY), bool(cfg.get('resume'))),
                         priority='HIGHEST')
    return runner
