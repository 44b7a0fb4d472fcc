"""Checkpoint files: safe reading, the weights inside, prefixes, atomic writing.

torch >= 2.6 loads with ``weights_only=True``; MMEngine 0.10.7's own checkpoints
hold a few extra types (``HistoryBuffer`` in the message hub, numpy scalars in
``meta``) and then fail to resume. Instead of turning safety off,
:func:`load_checkpoint_file` keeps ``weights_only=True`` and allow-lists exactly those
types, so no checkpoint (a run's own or a downloaded one) can execute code on load.
:func:`save_checkpoint_file` writes through a temporary file renamed over the target
(:func:`~bigfix_mm.core.files.atomic_path`), so a crash never leaves half a file.
MMEngine's loader and file backend are wired to these in :mod:`bigfix_mm.engine.checkpoint`.

A checkpoint path that is a directory (a work dir) means its newest complete checkpoint
(:func:`resolve_checkpoint`, the one resolver of every tool). :func:`check_loadable` is
the one strict comparison of a checkpoint's weights with a model (``init_model`` and the
runners' ``StrictLoadHook``): every missing, unexpected and mis-shaped key is named, a
partial load only where ``partial_load`` patterns allow it.
"""
import fnmatch
import logging
import pickle
import zipfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Dict, Iterator, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmengine.logging import HistoryBuffer, print_log

from bigfix_mm.core.files import atomic_path
from bigfix_mm.errors import InputError


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


PARTIAL_LOAD_KEY = 'partial_load'  # top-level config key: model keys a load_from may leave


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
    except (RuntimeError, EOFError, IndexError, zipfile.BadZipFile, OSError) as err:
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


def mmengine_state_dict(ckpt: Mapping[str, Any], use_ema: bool = True
                        ) -> Optional[Dict[str, torch.Tensor]]:
    """Weights of an MMEngine checkpoint; None when ``ckpt`` is not one.

    MMEngine's ``EMAHook`` saves the EMA weights as the checkpoint's
    ``state_dict`` and swaps the raw ones into ``ema_state_dict`` (``module.*``
    keys). So ``use_ema=True`` returns ``state_dict`` and ``use_ema=False`` the raw
    weights (``state_dict`` when the run had no EMA).
    """
    state = ckpt.get('state_dict')
    if not isinstance(state, Mapping):
        return None
    raw = ckpt.get('ema_state_dict')
    if not use_ema and isinstance(raw, Mapping):
        unwrapped = {k[len('module.'):]: v for k, v in raw.items() if k.startswith('module.')}
        if unwrapped:
            return unwrapped
    return dict(state)


def layout_mismatches(state: Mapping[str, Any], expected: Mapping[str, Sequence[int]],
                      found: str = 'file', wanted: str = 'model', shown: int = 5) -> List[str]:
    """How ``state`` (key -> tensor) differs from ``expected`` (key -> shape).

    Returns:
        one line each for shape mismatches, missing keys and unexpected keys (the
        first ``shown`` of each), e.g. ``shape mismatches (1): head.bias: file (7,)
        vs model (16,)``; empty when every key and shape fits.
    """
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    shapes = [f'{k}: {found} {tuple(state[k].shape)} vs {wanted} {tuple(expected[k])}'
              for k in expected if k in state and tuple(state[k].shape) != tuple(expected[k])]
    lines = []
    for title, items, sep in (('shape mismatches', shapes, '; '), ('missing keys', missing, ', '),
                              ('unexpected keys', unexpected, ', ')):
        if items:
            lines.append(f'  {title} ({len(items)}): ' + sep.join(items[:shown]))
    return lines


def strip_prefixes(state: Mapping[str, Any],
                   prefixes: Sequence[str] = ('module.', '_orig_mod.')) -> Dict[str, Any]:
    """``state`` with the wrapper ``prefixes`` (DDP's ``module.``, torch.compile's
    ``_orig_mod.``; any nesting) removed from every key."""
    out = {}
    for key, value in state.items():
        stripped = True
        while stripped:
            stripped = False
            for prefix in prefixes:
                if key.startswith(prefix):
                    key, stripped = key[len(prefix):], True
        out[key] = value
    return out


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


def save_checkpoint_file(obj: Any, path: Union[str, Path],
                         metadata: Optional[Dict[str, str]] = None) -> None:
    """Write ``obj`` atomically: ``torch.save``, or for a ``.safetensors`` path a dict of
    tensors with string ``metadata``."""
    with atomic_path(path) as tmp:
        if Path(path).suffix == '.safetensors':
            from safetensors.torch import save_file
            save_file(obj, str(tmp), metadata=metadata or {})
        else:
            torch.save(obj, tmp)
