"""The authors' Halton-MaskGIT / BIGFix transformer checkpoints <-> bigfix_mm.

Their files hold ``{'iter', 'global_epoch', 'model_state_dict',
'optimizer_state_dict'}`` (keys possibly prefixed by ``module.`` from DDP or
``_orig_mod.`` from ``torch.compile``); a bare state dict is accepted too. One
table, :data:`KEY_TABLE`, maps their names to ours; both directions read it.

Their architecture is ours with other names: separate ``wq`` / ``wk`` / ``wv``
(ours: one fused ``qkv``), ``pos_emb`` an ``nn.Embedding`` (ours: a parameter),
and a head tied to ``tok_emb`` (their state dict repeats it as ``head.weight``;
ours keeps only the bias, ``head_bias``).

Shapes give width, depth, grid, codebook size, class count and registers; the
number of heads is not in any shape (the attention width ``heads * (width //
heads)`` fits several head counts), so it is read from the published size table
(:data:`~bigfix_mm.models.editors.bigfix.transformer.TRANSFORMER_SIZES`, by width and depth),
or given explicitly.
"""
import math
import re
from pathlib import Path
from typing import Any, Dict, Mapping, Optional, Tuple, Union

import torch

from bigfix_mm.core.checkpoint import (CheckpointError, layout_mismatches, load_checkpoint_file,
                                       save_checkpoint_file, strip_prefixes)
from bigfix_mm.models.editors.bigfix.transformer import TRANSFORMER_SIZES

StateDict = Dict[str, torch.Tensor]

# theirs -> ours; ``{i}`` is a block index. ``attn.qkv`` (ours) is the three
# rows ``attn.wq`` / ``wk`` / ``wv`` (theirs) stacked on dim 0, see FUSED.
KEY_TABLE: Tuple[Tuple[str, str], ...] = (
    ('cls_emb.weight', 'cls_emb.weight'),
    ('tok_emb.weight', 'tok_emb.weight'),
    ('pos_emb.weight', 'pos_emb'),
    ('reg_tokens.weight', 'registers'),
    ('transformer.layers.{i}.mlp.1.weight', 'blocks.{i}.ada.1.weight'),
    ('transformer.layers.{i}.mlp.1.bias', 'blocks.{i}.ada.1.bias'),
    ('transformer.layers.{i}.ln1.weight', 'blocks.{i}.norm1.weight'),
    ('transformer.layers.{i}.attn.wo.weight', 'blocks.{i}.attn.proj.weight'),
    ('transformer.layers.{i}.ln2.weight', 'blocks.{i}.norm2.weight'),
    ('transformer.layers.{i}.ff.w1.weight', 'blocks.{i}.mlp.w_gate.weight'),
    ('transformer.layers.{i}.ff.w3.weight', 'blocks.{i}.mlp.w_up.weight'),
    ('transformer.layers.{i}.ff.w2.weight', 'blocks.{i}.mlp.w_down.weight'),
    ('last_norm.norm_final.weight', 'final_norm.weight'),
    ('last_norm.norm_final.bias', 'final_norm.bias'),
    ('last_norm.mlp.1.weight', 'final_ada.1.weight'),
    ('last_norm.mlp.1.bias', 'final_ada.1.bias'),
    ('head.bias', 'head_bias'),
)
FUSED = (('transformer.layers.{i}.attn.wq.weight', 'transformer.layers.{i}.attn.wk.weight',
          'transformer.layers.{i}.attn.wv.weight'), 'blocks.{i}.attn.qkv.weight')
TIED_HEAD = 'head.weight'  # theirs; equal to tok_emb.weight
THEIR_STATE_KEY = 'model_state_dict'


class ConversionError(ValueError):
    """A state dict does not fit the other layout; the message names the key."""


# --------------------------------------------------------------------- reading
def extract_their_state(obj: Any, source: str = 'checkpoint') -> StateDict:
    """Their checkpoint dict (or a bare state dict) -> prefix-free state dict."""
    if not isinstance(obj, Mapping):
        raise ConversionError(f'{source}: expected a dict, got {type(obj).__name__}')
    if isinstance(obj.get(THEIR_STATE_KEY), Mapping):
        obj = obj[THEIR_STATE_KEY]
    elif not any(isinstance(v, torch.Tensor) for v in obj.values()):
        raise ConversionError(
            f"{source}: no '{THEIR_STATE_KEY}' and no tensors at the top level (keys: "
            f'{sorted(obj)[:8]}); expected the authors\' checkpoint or a bare state dict')
    return {k: v for k, v in strip_prefixes(obj).items() if isinstance(v, torch.Tensor)}


def load_their_checkpoint(path: Union[str, Path]) -> StateDict:
    """Read their file with ``weights_only=True`` (nothing in it runs) -> state dict."""
    obj = load_checkpoint_file(path, map_location='cpu')
    return extract_their_state(obj, source=str(path))


# ------------------------------------------------------------------ arch guess
def _depth(state: Mapping[str, Any], pattern: str) -> int:
    idx = [int(m.group(1)) for k in state for m in [re.match(pattern, k)] if m]
    return max(idx) + 1 if idx else 0


def _shape(state: Mapping[str, Any], key: str, source: str) -> Tuple[int, ...]:
    if key not in state:
        raise ConversionError(f'{source}: missing key {key!r}: not a Halton-MaskGIT transformer')
    return tuple(state[key].shape)


def infer_arch(state: Mapping[str, Any], heads: Optional[int] = None,
               size: Optional[str] = None, source: str = 'checkpoint') -> Dict[str, Any]:
    """Transformer kwargs of a state dict in their layout, from the shapes.

    Args:
        state: their (prefix-free) state dict; only shapes are read, so meta
            tensors or a ``{key: shape}`` layout wrapped in tensors work.
        heads: number of heads; None reads it from the size table.
        size: a name of :data:`TRANSFORMER_SIZES` to check against (None: find
            it by width and depth).

    Returns:
        ``dict(type='BidirectionalTransformer', ...)``: ``size`` when the width,
        depth and heads are a named size, else explicit ``width/depth/heads``.
    """
    codebook_plus_mask, width = _shape(state, 'tok_emb.weight', source)
    num_classes = _shape(state, 'cls_emb.weight', source)[0] - 1
    positions = _shape(state, 'pos_emb.weight', source)[0]
    side = math.isqrt(positions)
    if side * side != positions:
        raise ConversionError(f'{source}: pos_emb.weight has {positions} rows, not a square grid')
    depth = _depth(state, r'transformer\.layers\.(\d+)\.')
    inner = _shape(state, 'transformer.layers.0.attn.wq.weight', source)[0]
    registers = _shape(state, 'reg_tokens.weight', source)[0] if 'reg_tokens.weight' in state else 0
    named = {n: s for n, s in TRANSFORMER_SIZES.items() if s[:2] == (width, depth)}
    if size is not None:
        if size not in TRANSFORMER_SIZES:
            raise ConversionError(f'arch={size!r} is not one of {sorted(TRANSFORMER_SIZES)} or auto')
        if TRANSFORMER_SIZES[size][:2] != (width, depth):
            raise ConversionError(
                f'{source}: arch={size!r} is width/depth {TRANSFORMER_SIZES[size][:2]} but the '
                f'weights are {(width, depth)} (tok_emb.weight, transformer.layers.*)')
        named = {size: TRANSFORMER_SIZES[size]}
    if heads is None:
        if len(named) != 1:
            raise ConversionError(
                f'{source}: width {width} / depth {depth} is not a published size '
                f'({", ".join(f"{n}={s}" for n, s in TRANSFORMER_SIZES.items())}); the head count '
                'is not in the shapes: give it (--heads N).')
        heads = next(iter(named.values()))[2]
    if heads * (width // heads) != inner:
        raise ConversionError(
            f'{source}: heads={heads} gives an attention width {heads * (width // heads)} but '
            f'transformer.layers.0.attn.wq.weight has {inner} rows: give the right --heads')
    cfg = dict(type='BidirectionalTransformer', codebook_size=codebook_plus_mask - 1,
               grid=(side, side), num_classes=num_classes, num_registers=registers)
    name = next((n for n, s in named.items() if s == (width, depth, heads)), None)
    if name is not None:
        cfg.update(size=name)
    else:
        cfg.update(size=None, width=width, depth=depth, heads=heads)
    return cfg


# ----------------------------------------------------------------- the mapping
def _expand(depth: int) -> Tuple[Dict[str, str], Dict[str, Tuple[str, ...]]]:
    """(their key -> our key, our fused key -> their three keys) for ``depth`` blocks."""
    plain, fused = {}, {}
    for theirs, ours in KEY_TABLE:
        for i in (range(depth) if '{i}' in theirs else [None]):
            plain[theirs.format(i=i)] = ours.format(i=i)
    for i in range(depth):
        fused[FUSED[1].format(i=i)] = tuple(k.format(i=i) for k in FUSED[0])
    return plain, fused


def _check(state: Mapping[str, Any], expected: Mapping[str, Tuple[int, ...]], source: str,
           layout: str) -> None:
    lines = layout_mismatches(state, expected, found='file', wanted=layout)
    if lines:
        raise ConversionError('\n'.join([f'{source} does not fit the {layout} layout:'] + lines))


def their_layout(ours: Mapping[str, Tuple[int, ...]]) -> Dict[str, Tuple[int, ...]]:
    """Key -> shape of their state dict for a transformer with our ``{key: shape}``."""
    depth = _depth(ours, r'blocks\.(\d+)\.')
    plain, fused = _expand(depth)
    out = {theirs: tuple(ours[o]) for theirs, o in plain.items() if o in ours}
    for o, parts in fused.items():
        rows, cols = ours[o]
        out.update({p: (rows // 3, cols) for p in parts})
    out[TIED_HEAD] = tuple(ours['tok_emb.weight'])
    return out


def to_ours(state: Mapping[str, torch.Tensor], expected: Mapping[str, Tuple[int, ...]],
            source: str = 'checkpoint') -> StateDict:
    """Their state dict -> ours, checked against our ``{key: shape}`` (or state dict) ``expected``.

    Every key of theirs must be used and every key of ours filled with the right
    shape; otherwise :class:`ConversionError` names the key.
    """
    expected = {k: tuple(v.shape) if isinstance(v, torch.Tensor) else tuple(v)
                for k, v in expected.items()}  # a state dict works too
    state = strip_prefixes(state)
    _check(state, their_layout(expected), source, 'Halton-MaskGIT')
    head, emb = state[TIED_HEAD], state['tok_emb.weight']
    if not (head.is_meta or emb.is_meta or torch.equal(head, emb)):
        raise ConversionError(f'{source}: {TIED_HEAD} differs from tok_emb.weight; the head is '
                              'tied to the token embedding in both codes')
    depth = _depth(expected, r'blocks\.(\d+)\.')
    plain, fused = _expand(depth)
    out = {ours: state[theirs] for theirs, ours in plain.items() if theirs in state}
    for ours, parts in fused.items():
        out[ours] = torch.cat([state[p] for p in parts], dim=0)
    _check(out, expected, source, 'bigfix_mm')
    return out


def to_theirs(state: Mapping[str, torch.Tensor]) -> StateDict:
    """Our transformer state dict -> theirs (same tensors; ``head.weight`` is
    ``tok_emb.weight``, as tying makes it in their ``state_dict()``)."""
    depth = _depth(state, r'blocks\.(\d+)\.')
    plain, fused = _expand(depth)
    known = set(plain.values()) | set(fused)
    unexpected = [k for k in state if k not in known]
    if unexpected:
        raise ConversionError('the authors\' transformer has no counterpart for '
                              f'{unexpected[:6]} (e.g. a video model\'s time_emb)')
    out = {theirs: state[ours] for theirs, ours in plain.items() if ours in state}
    for ours, parts in fused.items():
        if ours not in state:
            raise ConversionError(f'missing key {ours!r} in the bigfix_mm state dict')
        out.update(zip(parts, state[ours].chunk(3, dim=0)))
    out[TIED_HEAD] = state['tok_emb.weight']
    return out


# ------------------------------------------------------------------ the files
MODEL_PREFIX = 'transformer.'  # where BIGFix keeps the transformer


def config_hint(cfg: Dict[str, Any]) -> str:
    """The config lines for a converted transformer ``cfg`` (what the tool prints).

    The codebook size is not among them: in a config with a ``model.tokenizer`` it is
    the tokenizer's (stating it twice is refused), so the hint says which codebook the
    tokenizer must have, and where to put it when there is no tokenizer.
    """
    k = cfg.get('codebook_size')
    shown = {key: v for key, v in cfg.items() if key != 'codebook_size'}
    args = ', '.join(f'{key}={v!r}' for key, v in shown.items())
    return (f'model = dict(transformer=dict({args}))\n'
            f'# codebook: {k} codes. model.tokenizer must have {k} codes; with pre-extracted '
            f'tokens (no model.tokenizer) add codebook_size={k} to the transformer.')


def convert_to_ours(src: Union[str, Path], dst: Union[str, Path], arch: str = 'auto',
                    heads: Optional[int] = None) -> Dict[str, Any]:
    """Their checkpoint file -> an MMEngine checkpoint of :class:`BIGFix` weights.

    The output holds ``state_dict`` (``transformer.*`` keys, no optimizer) and
    ``meta`` (the transformer config and the source); ``init_model``,
    ``tools/sample.py``, ``tools/test.py`` and ``load_from`` read it. Returns
    the transformer config.
    """
    from bigfix_mm.models.editors.bigfix.transformer import BidirectionalTransformer
    state = load_their_checkpoint(src)
    cfg = infer_arch(state, heads=heads, size=None if arch == 'auto' else arch, source=str(src))
    kwargs = {k: v for k, v in cfg.items() if k != 'type'}
    with torch.device('meta'):
        expected = {k: tuple(v.shape) for k, v in BidirectionalTransformer(**kwargs).state_dict().items()}
    ours = to_ours(state, expected, source=str(src))
    ckpt = dict(meta=dict(transformer=cfg, source=Path(src).name,
                          converted_from='Halton-MaskGIT checkpoint'),
                state_dict={MODEL_PREFIX + k: v.contiguous() for k, v in ours.items()})
    save_checkpoint_file(ckpt, dst)
    return cfg


def convert_to_theirs(src: Union[str, Path], dst: Union[str, Path]) -> int:
    """A bigfix_mm checkpoint (``state_dict`` with ``transformer.*``) -> their format
    (``optimizer_state_dict`` None). Returns the number of tensors written."""
    obj = load_checkpoint_file(src, map_location='cpu')
    state = obj.get('state_dict', obj) if isinstance(obj, Mapping) else None
    if not isinstance(state, Mapping):
        raise ConversionError(f'{src}: expected a checkpoint dict with a state_dict')
    ours = {k[len(MODEL_PREFIX):]: v for k, v in state.items() if k.startswith(MODEL_PREFIX)}
    if not ours:
        raise ConversionError(f'{src}: no {MODEL_PREFIX!r} keys: not a BIGFix checkpoint')
    theirs = to_theirs(ours)
    meta = obj.get('meta', {}) if isinstance(obj, Mapping) else {}
    save_checkpoint_file(dict(iter=int(meta.get('iter', 0) or 0),
                            global_epoch=int(meta.get('epoch', 0) or 0),
                            model_state_dict=theirs, optimizer_state_dict=None), dst)
    return len(theirs)
