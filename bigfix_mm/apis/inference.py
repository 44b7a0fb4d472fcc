"""A small Python API in the OpenMMLab style: ``init_model`` and ``generate``."""
from typing import Optional, Sequence, Union

import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from bigfix_mm.engine.checkpoint import load_checkpoint_file
from bigfix_mm.registry import MODELS


def init_model(config: Union[str, Config],
               checkpoint: Optional[str] = None,
               device: str = 'cpu',
               use_ema: bool = True) -> torch.nn.Module:
    """Build the config's model and load a checkpoint (EMA weights when present).

    MMEngine's ``EMAHook`` saves the EMA weights as the checkpoint's
    ``state_dict`` and the raw weights under ``ema_state_dict`` (``module.*``),
    so ``use_ema=True`` loads ``state_dict`` and ``use_ema=False`` the raw ones.
    Loading never executes code (``weights_only`` with MMEngine's types allowed).
    """
    cfg = Config.fromfile(config) if isinstance(config, str) else config
    init_default_scope(cfg.get('default_scope', 'mmagic'))
    import bigfix_mm  # noqa: F401  (register components)
    model = MODELS.build(cfg.model)
    if checkpoint is not None:
        ckpt = load_checkpoint_file(checkpoint, map_location='cpu')
        raw = ckpt.get('ema_state_dict') if isinstance(ckpt, dict) else None
        if not use_ema and raw:  # EMAHook swapped the raw weights into ema_state_dict
            state = {k[len('module.'):]: v for k, v in raw.items() if k.startswith('module.')}
        else:
            state = ckpt.get('state_dict', ckpt) if isinstance(ckpt, dict) else ckpt
            state = {k[len('module.'):] if k.startswith('module.') else k: v
                     for k, v in state.items()}
        load_model_state(model, state, source=str(checkpoint))
    model.cfg = cfg
    return model.to(device).eval()


def load_model_state(model: torch.nn.Module, state: dict, source: str = 'checkpoint') -> None:
    """Load ``state`` strictly, except that a frozen tokenizer which loaded its own
    weights file (``tokenizer.checkpoint`` in the config) may be absent from it,
    as in checkpoints converted from other codes (tools/convert_halton_maskgit.py)."""
    missing, unexpected = model.load_state_dict(state, strict=False)
    tokenizer = getattr(model, 'tokenizer', None)
    if getattr(tokenizer, 'checkpoint', None) is not None:
        missing = [k for k in missing if not k.startswith('tokenizer.')]
    if missing or unexpected:
        raise ValueError(
            f'{source} does not match the config\'s model: missing keys ({len(missing)}) '
            f'{missing[:5]}, unexpected keys ({len(unexpected)}) {unexpected[:5]}. Use the config '
            'the checkpoint was trained (or converted) for.')


@torch.no_grad()
def generate(model: torch.nn.Module,
             labels: Union[Sequence[int], torch.Tensor],
             sampler: Optional[dict] = None,
             seed: int = 0,
             batch_size: int = 64,
             progress: bool = False,
             **sampler_kwargs) -> torch.Tensor:
    """Generate images for ``labels``.

    Returns:
        (B, 3, H, W) float RGB in [0, 1] on the CPU. The same seed, labels and
        batch size give the same images.
    """
    labels = torch.as_tensor(labels, dtype=torch.long)
    built = MODELS.build(sampler) if isinstance(sampler, dict) else sampler
    gen = torch.Generator(device=model.device).manual_seed(seed)
    chunks = labels.split(batch_size)
    if progress:
        from tqdm import tqdm
        chunks = tqdm(chunks, desc='sampling', unit='batch')
    images = []
    for chunk in chunks:
        tokens = model.sample(chunk.to(model.device), sampler=built, generator=gen, **sampler_kwargs)
        images.append(model.decode(tokens).cpu())
    return torch.cat(images)
