"""A small Python API in the OpenMMLab style: ``init_model`` and ``generate``."""
from typing import Optional, Sequence, Union

import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from bigfix_mm.registry import MODELS
from bigfix_mm.core.checkpoint import (CheckpointError, check_loadable, load_checkpoint_file,
                                       mmengine_state_dict)


def init_model(config: Union[str, Config],
               checkpoint: Optional[str] = None,
               device: str = 'cpu',
               use_ema: bool = True) -> torch.nn.Module:
    """Build the config's model and load a checkpoint (EMA weights when present).

    MMEngine's ``EMAHook`` saves the EMA weights as the checkpoint's
    ``state_dict`` and the raw weights under ``ema_state_dict`` (``module.*``),
    so ``use_ema=True`` loads ``state_dict`` and ``use_ema=False`` the raw ones.
    Loading never executes code (``weights_only`` with MMEngine's types allowed) and is
    strict (:func:`~bigfix_mm.core.checkpoint.check_loadable`); ``checkpoint`` may be
    a work dir (its newest checkpoint). Every key of ``cfg.model`` must be read by the
    component it configures (:func:`~bigfix_mm.engine.config_keys.model_key_problems`).
    """
    from bigfix_mm.engine.config_files import load_config
    cfg = load_config(config) if isinstance(config, str) else config
    init_default_scope(cfg.get('default_scope', 'mmagic'))
    import bigfix_mm  # noqa: F401  (register components)
    from bigfix_mm.engine.config_checks import ConfigError, resolve_config
    from bigfix_mm.engine.config_keys import model_key_problems
    problems = model_key_problems(cfg)  # a typo'd model key, before anything is built
    if problems:
        raise ConfigError.listing(problems)
    resolve_config(cfg)  # the data side of model.cfg reads the model's facts
    model = MODELS.build(cfg.model)
    if checkpoint is not None:
        ckpt = load_checkpoint_file(checkpoint, map_location='cpu')
        state = mmengine_state_dict(ckpt, use_ema) if isinstance(ckpt, dict) else None
        if state is None:
            raise CheckpointError(f'{checkpoint} is not an MMEngine checkpoint (no state_dict): '
                                  'convert it first (tools/model_converters/convert_*.py).')
        state = {k[len('module.'):] if k.startswith('module.') else k: v
                 for k, v in state.items()}
        load_model_state(model, state, source=str(checkpoint))
    model.cfg = cfg
    return model.to(device).eval()


def load_model_state(model: torch.nn.Module, state: dict, source: str = 'checkpoint') -> None:
    """Load ``state`` strictly (:func:`~bigfix_mm.core.checkpoint.check_loadable`: a
    frozen tokenizer which loaded its own weights file may be absent, as in checkpoints
    converted from other codes by tools/model_converters/convert_halton_maskgit.py)."""
    check_loadable(model, state, source)
    model.load_state_dict(state, strict=False)


@torch.no_grad()
def generate(model: torch.nn.Module,
             labels: Union[Sequence[int], torch.Tensor],
             sampler: Optional[dict] = None,
             seed: int = 0,
             batch_size: int = 64,
             progress: bool = False,
             context: Optional[torch.Tensor] = None,
             context_frames: Optional[int] = None,
             context_mask: Optional[torch.Tensor] = None,
             return_tokens: bool = False,
             **sampler_kwargs):
    """Generate images (or clips) for ``labels``, optionally continuing given frames.

    Args:
        model: a :class:`BIGFix` with a tokenizer.
        labels: (B,) class ids.
        sampler: a sampler config or object; default the model's.
        seed: seeds one generator for the whole call.
        batch_size: samples per forward batch.
        progress: show a progress bar.
        context: video: (B, T, H, W) or (B, k, H, W) int64 token ids of given frames.
        context_frames: k, the number of given frames (default: ``context``'s frame
            count when it holds fewer than T frames).
        context_mask: instead of ``context_frames``, (B, N) or (B, *grid) bool, True
            at the given positions (the same count in every row), or one (N,) /
            grid-shaped mask for every row.
        return_tokens: also return the (B, *grid) token ids.
        **sampler_kwargs: overrides forwarded to the sampler (steps, cfg_scale, ...).

    Returns:
        (B, 3, H, W) float RGB in [0, 1] on the CPU (images), or (B, T, 3, H, W)
        with a video tokenizer; with ``return_tokens`` a pair ``(pixels, tokens)``.
        The same seed, labels, context and batch size give the same output.
    """
    labels = torch.as_tensor(labels, dtype=torch.long)
    if context is not None and context.shape[0] != labels.shape[0]:
        raise ValueError(f'context holds {context.shape[0]} clips for {labels.shape[0]} labels')
    built = MODELS.build(sampler) if isinstance(sampler, dict) else sampler
    gen = torch.Generator(device=model.device).manual_seed(seed)
    starts = range(0, len(labels), batch_size)
    if progress:
        from tqdm import tqdm
        starts = tqdm(starts, desc='sampling', unit='batch')
    pixels, tokens = [], []
    for start in starts:
        rows = slice(start, start + batch_size)
        extra = dict(sampler_kwargs, context_frames=context_frames)
        if context is not None:
            extra['context'] = context[rows].to(model.device)
        if context_mask is not None:  # one mask of N positions holds for every row
            shared = context_mask.numel() == model.transformer.num_tokens
            extra['context_mask'] = context_mask if shared else context_mask[rows]
        ids = model.sample(labels[rows].to(model.device), sampler=built,
                           generator=gen, **extra)
        tokens.append(ids.cpu())
        pixels.append(model.decode(ids).cpu())
    out = torch.cat(pixels)
    if context is not None and out.dim() != 5:
        raise ValueError(f'the model decodes to {tuple(out.shape)}, not clips: set '
                         "model.tokenizer=dict(type='PerFrameTokenizer', tokenizer=...).")
    return (out, torch.cat(tokens)) if return_tokens else out
