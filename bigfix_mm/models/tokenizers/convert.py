"""Reading published VQGAN checkpoints into the native (LlamaGen) layout.

* LlamaGen (``vq_ds16_c2i.pt``): ``{'model' | 'ema' | 'state_dict': state}``,
  keys already native.
* taming-transformers (``vqgan_imagenet_f16_1024/last.ckpt``, PyTorch Lightning):
  ``{'state_dict': state, ...}`` with ``encoder.down.{l}.block.{i}``,
  ``mid.block_1`` ..., ``decoder.up.{l}`` indexed by level, and the training
  losses under ``loss.*`` (dropped).
* bigfix_mm's own MMEngine checkpoints of ``VQGANTrainer``: ``state_dict`` with
  an ``autoencoder.`` prefix (discriminator and perceptual net dropped).

Published ``.ckpt`` files may pickle objects other than tensors (Lightning
callbacks, argparse namespaces) that ``weights_only`` refuses; the converter
tools read them with :func:`load_tensors_only`, which never runs code from the
file: every class or function outside torch's weights-only allow-list is
replaced by an inert placeholder.
"""
import pickle
import re
import types
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Tuple

import torch

from bigfix_mm.core.checkpoint import (CheckpointError, layout_mismatches, load_checkpoint_file,
                                       mmengine_state_dict, save_checkpoint_file)

StateDict = Dict[str, torch.Tensor]

_TRAINER_PREFIX = 'autoencoder.'
_WRAPPER_KEYS = ('ema', 'model', 'state_dict', 'module')


# ----------------------------------------------------------------- unwrapping
def extract_state_dict(obj: Any, source: str = 'checkpoint', use_ema: bool = True) -> StateDict:
    """Find the autoencoder's tensors inside a loaded checkpoint object.

    Accepts a plain state dict, an MMEngine checkpoint (EMA weights as
    :func:`~bigfix_mm.core.checkpoint.mmengine_state_dict` finds them) or a
    dict holding one under ``ema`` (preferred when ``use_ema``), ``model``,
    ``state_dict``; strips ``module.`` (DDP) and ``autoencoder.``
    (VQGANTrainer) prefixes and drops training-only parts (``loss.*``,
    ``discriminator.*``, ``perceptual.*``).
    """
    if not isinstance(obj, Mapping):
        raise CheckpointError(f'{source}: expected a dict of tensors, got {type(obj).__name__}')
    state = mmengine_state_dict(obj, use_ema) if 'ema_state_dict' in obj else None
    if state is None:
        order = _WRAPPER_KEYS if use_ema else _WRAPPER_KEYS[1:]
        for key in order:
            if isinstance(obj.get(key), Mapping) and _has_tensors(obj[key]):
                state = dict(obj[key])
                break
    if state is None:
        if not _has_tensors(obj):
            raise CheckpointError(
                f'{source}: no tensors found; expected a state dict or a dict with one of '
                f"{list(_WRAPPER_KEYS) + ['ema_state_dict']} (keys present: {sorted(obj)[:10]})")
        state = dict(obj)
    state = {k: v for k, v in state.items() if isinstance(v, torch.Tensor)}
    for prefix in ('module.', _TRAINER_PREFIX):
        if state and all(k.startswith(prefix) or _is_training_only(k) for k in state):
            state = {k[len(prefix):] if k.startswith(prefix) else k: v for k, v in state.items()}
    return {k: v for k, v in state.items() if not _is_training_only(k)}


def _has_tensors(obj: Mapping) -> bool:
    return any(isinstance(v, torch.Tensor) for v in obj.values())


def _is_training_only(key: str) -> bool:
    return key.startswith(('loss.', 'discriminator.', 'perceptual.'))


# ------------------------------------------------------------ taming <-> native
_TAMING_MID = {'block_1': '0', 'attn_1': '1', 'block_2': '2'}
_NATIVE_MID = {v: k for k, v in _TAMING_MID.items()}


def is_taming_layout(state: Mapping[str, Any]) -> bool:
    """True when the keys use taming-transformers' names (``encoder.down.*``)."""
    return any(k.startswith(('encoder.down.', 'decoder.up.', 'encoder.mid.block_1'))
               for k in state)


def _num_levels(state: Mapping[str, Any], pattern: str) -> int:
    levels = [int(m.group(1)) for k in state for m in [re.match(pattern, k)] if m]
    if not levels:
        raise CheckpointError(f'no keys match {pattern!r}: not a VQGAN encoder/decoder state dict')
    return max(levels) + 1


def taming_to_native(state: Mapping[str, torch.Tensor]) -> StateDict:
    """Rename a taming-transformers VQGAN state dict to the native layout.

    ``loss.*`` keys (discriminator and LPIPS of training) are dropped; a
    remapped codebook (``quantize.used``) is refused.
    """
    if 'quantize.used' in state:
        raise CheckpointError('this taming checkpoint uses a remapped codebook (quantize.used); '
                              'remapped ids are not supported: use a model trained without remap.')
    levels = _num_levels(state, r'decoder\.up\.(\d+)\.')
    out: StateDict = {}
    for key, value in state.items():
        if key.startswith('loss.'):
            continue
        new = re.sub(r'^encoder\.down\.(\d+)\.block\.', r'encoder.conv_blocks.\1.res.', key)
        new = re.sub(r'^encoder\.down\.(\d+)\.', r'encoder.conv_blocks.\1.', new)
        match = re.match(r'^decoder\.up\.(\d+)\.(block|attn|upsample)(.*)$', new)
        if match:
            stage = levels - 1 - int(match.group(1))  # native stores lowest resolution first
            part = 'res' if match.group(2) == 'block' else match.group(2)
            new = f'decoder.conv_blocks.{stage}.{part}{match.group(3)}'
        new = re.sub(r'^(encoder|decoder)\.mid\.(block_1|attn_1|block_2)\.',
                     lambda m: f'{m.group(1)}.mid.{_TAMING_MID[m.group(2)]}.', new)
        out[new] = value
    return out


def native_to_taming(state: Mapping[str, torch.Tensor]) -> StateDict:
    """Inverse of :func:`taming_to_native` (without the dropped ``loss.*`` keys)."""
    levels = _num_levels(state, r'decoder\.conv_blocks\.(\d+)\.')
    out: StateDict = {}
    for key, value in state.items():
        if key == 'quantize.codebook_used':
            continue
        new = re.sub(r'^encoder\.conv_blocks\.(\d+)\.res\.', r'encoder.down.\1.block.', key)
        new = re.sub(r'^encoder\.conv_blocks\.(\d+)\.', r'encoder.down.\1.', new)
        match = re.match(r'^decoder\.conv_blocks\.(\d+)\.(res|attn|upsample)(.*)$', new)
        if match:
            level = levels - 1 - int(match.group(1))
            part = 'block' if match.group(2) == 'res' else match.group(2)
            new = f'decoder.up.{level}.{part}{match.group(3)}'
        new = re.sub(r'^(encoder|decoder)\.mid\.([012])\.',
                     lambda m: f'{m.group(1)}.mid.{_NATIVE_MID[m.group(2)]}.', new)
        out[new] = value
    return out


def to_native(obj: Any, source: str = 'checkpoint', use_ema: bool = True) -> StateDict:
    """Any supported checkpoint object -> native state dict (layout detected from the keys)."""
    state = extract_state_dict(obj, source, use_ema)
    return taming_to_native(state) if is_taming_layout(state) else state


# ------------------------------------------------------------ checking a load
def check_state_dict(model: torch.nn.Module, state: Mapping[str, torch.Tensor],
                     source: str = 'checkpoint') -> None:
    """Raise a ValueError listing missing / unexpected keys and shape mismatches."""
    expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    lines = layout_mismatches(state, expected)
    if lines:
        lines.insert(0, f'{source} does not match the tokenizer architecture:')
        lines.append('  Choose the matching `arch` (e.g. llamagen-vq16, taming-f16-1024) or the '
                     'architecture kwargs the checkpoint was trained with.')
        raise ValueError('\n'.join(lines))


# ------------------------------------------------- reading without running code
class _Inert:
    """Placeholder for a class or function a checkpoint refers to but may not run."""

    def __init__(self, *args, **kwargs):
        self.args, self.kwargs = args, kwargs

    def __setstate__(self, state):
        self.state = state

    def __call__(self, *args, **kwargs):
        return _Inert(*args, **kwargs)


def _inert_pickle_module(replaced: List[str]) -> types.ModuleType:
    allowed = torch._weights_only_unpickler._get_allowed_globals()

    class Unpickler(pickle.Unpickler):

        def find_class(self, module: str, name: str) -> Any:
            qualified = f'{module}.{name}'
            if qualified in allowed:
                return allowed[qualified]
            replaced.append(qualified)
            return type(name, (_Inert, ), {'__module__': f'inert.{module}'})

    module = types.ModuleType('bigfix_inert_pickle')
    module.Unpickler = Unpickler
    module.load = lambda f, **kw: Unpickler(f, **kw).load()
    module.__name__ = 'bigfix_inert_pickle'
    return module


def load_tensors_only(path: str | Path) -> Tuple[Any, List[str]]:
    """Load a checkpoint, replacing every non-allow-listed global by an inert object.

    Returns the loaded object and the sorted names that were replaced. Tensors
    are rebuilt by torch's weights-only allow-list only, so nothing from the file
    executes.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f'checkpoint file not found: {path}')
    try:
        return load_checkpoint_file(path), []
    except CheckpointError as err:
        if 'allow-list' not in str(err):
            raise
    replaced: List[str] = []
    obj = torch.load(path, map_location='cpu', weights_only=False,
                     pickle_module=_inert_pickle_module(replaced))
    return obj, sorted(set(replaced))


def load_native(path: str | Path, use_ema: bool = True,
                allow_inert: bool = False) -> StateDict:
    """Read a checkpoint file (``.pth`` / ``.pt`` / ``.ckpt`` / ``.safetensors``) as a native state dict.

    Args:
        path: the file.
        use_ema: prefer EMA weights when the file has them.
        allow_inert: read files holding non-tensor objects with
            :func:`load_tensors_only` (the converter tools do); otherwise such
            files raise with a pointer to the converters.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f'VQ tokenizer checkpoint {path} does not exist: check the `checkpoint` path of the '
            'tokenizer config (or --checkpoint). Train one with tools/train.py '
            'configs/vqgan/vqgan_cifar10.py, or convert a published one with tools/model_converters/convert_llamagen.py '
            '/ tools/model_converters/convert_taming.py.')
    if allow_inert:
        obj, _ = load_tensors_only(path)
    else:
        try:
            obj = load_checkpoint_file(path)
        except CheckpointError as err:
            raise CheckpointError(
                f'{err}\nConvert it once with tools/model_converters/convert_llamagen.py or tools/model_converters/convert_taming.py, '
                'which read the tensors without running code from the file.') from err
    return to_native(obj, source=str(path), use_ema=use_ema)


def save_native(state: Mapping[str, torch.Tensor], path: str | Path,
                metadata: Optional[Dict[str, str]] = None) -> None:
    """Write a state dict atomically as ``.safetensors`` (with string metadata) or a plain
    ``.pth`` (:func:`~bigfix_mm.core.checkpoint.save_checkpoint_file`)."""
    tensors = {k: v.detach().contiguous().cpu() for k, v in state.items()}
    save_checkpoint_file(tensors, path, metadata)


# ------------------------------------------------------------- file conversion
def convert_checkpoint(src: str | Path, dst: str | Path, arch: Optional[str], use_ema: bool = True,
                       **arch_kwargs) -> Dict[str, Any]:
    """Read a published checkpoint without running its code, check it, write the native layout.

    The state dict is loaded strictly into ``VQAutoencoder(arch)`` before it is
    written, so a wrong ``arch`` fails here with the mismatching keys. Returns a
    report with the replaced (inert) globals, the dropped keys and the counts.
    """
    from bigfix_mm.models.editors.vqgan.vq_autoencoder import VQAutoencoder, resolve_arch
    obj, replaced = load_tensors_only(src)
    raw = extract_state_dict(obj, source=str(src), use_ema=use_ema) if isinstance(obj, Mapping) else {}
    state = to_native(obj, source=str(src), use_ema=use_ema)
    model = VQAutoencoder(**resolve_arch(arch, **arch_kwargs))
    check_state_dict(model, state, source=f'{src} (arch={arch!r})')
    model.load_state_dict(state, strict=True)
    full = obj.get('state_dict', obj) if isinstance(obj, Mapping) else {}
    dropped = sorted(k for k, v in full.items() if isinstance(v, torch.Tensor) and _is_training_only(k))
    save_native(state, dst, metadata=dict(arch=str(arch), source=Path(src).name,
                                          layout='bigfix_mm native (LlamaGen names)'))
    return dict(replaced_globals=replaced, dropped_keys=dropped, tensors=len(state),
                parameters=sum(v.numel() for v in state.values()),
                taming_layout=is_taming_layout(raw))


def convert_cli(argv=None, default_arch: str = 'llamagen-vq16', what: str = 'LlamaGen') -> int:
    """Command line of tools/model_converters/convert_llamagen.py and tools/model_converters/convert_taming.py."""
    import argparse

    from mmengine.config import DictAction
    p = argparse.ArgumentParser(description=f'Convert a {what} VQ checkpoint for VQGANTokenizer')
    p.add_argument('src', help='published checkpoint (.pt / .ckpt / .pth / .safetensors)')
    p.add_argument('dst', help='output file (.safetensors recommended, or .pth)')
    p.add_argument('--arch', default=default_arch, help=f'VQ_ARCHS name (default {default_arch})')
    p.add_argument('--arch-options', nargs='+', action=DictAction, default={},
                   help='overrides of the named arch, e.g. codebook_size=4096')
    p.add_argument('--no-ema', action='store_true', help='take the raw weights, not the EMA ones')
    args = p.parse_args(argv)
    report = convert_checkpoint(args.src, args.dst, args.arch, use_ema=not args.no_ema,
                                **args.arch_options)
    if report['replaced_globals']:
        print('read without running code; non-tensor objects left inert: ' +
              ', '.join(report['replaced_globals']))
    if report['dropped_keys']:
        print(f"dropped {len(report['dropped_keys'])} training-only tensors "
              f"(e.g. {report['dropped_keys'][0]})")
    print(f"wrote {args.dst}: {report['tensors']} tensors, {report['parameters']:,} values, "
          f"arch={args.arch}{' (renamed from the taming layout)' if report['taming_layout'] else ''}")
    extra = ''.join(f', {k}={v!r}' for k, v in args.arch_options.items())
    print(f"use: dict(type='VQGANTokenizer', arch='{args.arch}'{extra}, checkpoint='{args.dst}')")
    return 0

