"""Video generation API: sampling with given frames, and context clips from a config."""
from typing import Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmengine.config import Config

from bigfix_mm.registry import DATASETS, MODELS


@torch.no_grad()
def generate_video(model: torch.nn.Module,
                   labels: Union[Sequence[int], torch.Tensor],
                   sampler: Optional[dict] = None,
                   seed: int = 0,
                   batch_size: int = 16,
                   context: Optional[torch.Tensor] = None,
                   context_frames: Optional[int] = None,
                   return_tokens: bool = False,
                   **sampler_kwargs):
    """Generate clips for ``labels``, optionally continuing given frames.

    Args:
        model: a :class:`BIGFix` over a (T, H, W) grid with a video tokenizer
            (``PerFrameTokenizer`` or a 3D tokenizer).
        context: (B, T, H, W) or (B, k, H, W) int64 token ids of given frames.
        context_frames: k, the number of given frames (default: ``context``'s
            frame count when it holds fewer than T frames).

    Returns:
        (B, T, 3, H, W) float RGB in [0, 1] on the CPU, and with
        ``return_tokens`` also the (B, T, h, w) token ids. The same seed,
        labels, context and batch size give the same clips.
    """
    labels = torch.as_tensor(labels, dtype=torch.long)
    if context is not None and context.shape[0] != labels.shape[0]:
        raise ValueError(f'context holds {context.shape[0]} clips for {labels.shape[0]} labels')
    built = MODELS.build(sampler) if isinstance(sampler, dict) else sampler
    gen = torch.Generator(device=model.device).manual_seed(seed)
    clips, tokens = [], []
    for start in range(0, len(labels), batch_size):
        chunk = labels[start:start + batch_size].to(model.device)
        extra = dict(sampler_kwargs)
        if context is not None:
            extra.update(context=context[start:start + batch_size].to(model.device),
                         context_frames=context_frames)
        ids = model.sample(chunk, sampler=built, generator=gen, **extra)
        tokens.append(ids.cpu())
        clips.append(model.decode(ids).cpu())
    out = torch.cat(clips)
    if out.dim() != 5:
        raise ValueError(f'the model decodes to {tuple(out.shape)}, not clips: set '
                         "model.tokenizer=dict(type='PerFrameTokenizer', tokenizer=...).")
    return (out, torch.cat(tokens)) if return_tokens else out


@torch.no_grad()
def encode_clips(model: torch.nn.Module, frames, batch_size: int = 16) -> torch.Tensor:
    """Tokenize real clips with the model's tokenizer.

    Args:
        frames: (N, T, H, W, 3) uint8 RGB (numpy or tensor).

    Returns:
        (N, t, h, w) int64 token ids on the CPU.
    """
    if model.tokenizer is None or not getattr(model.tokenizer, 'is_video', False):
        raise ValueError('encoding clips needs a video tokenizer: set model.tokenizer='
                         "dict(type='PerFrameTokenizer', tokenizer=...).")
    frames = torch.as_tensor(frames)
    out = []
    for start in range(0, len(frames), batch_size):
        clip = frames[start:start + batch_size].to(model.device).permute(0, 1, 4, 2, 3)
        out.append(model.tokenizer.encode(clip.float() / 255.0).long().cpu())  # (B, t, h, w)
    return torch.cat(out)


@torch.no_grad()
def reconstruct_clips(model: torch.nn.Module, frames, batch_size: int = 16) -> np.ndarray:
    """Real clips encoded and decoded by the model's tokenizer (the tokenizer's floor).

    (N, T, H, W, 3) uint8 RGB -> (N, T, H, W, 3) uint8 RGB.
    """
    from bigfix_mm.utils.video import clips_to_uint8
    tokens = encode_clips(model, frames, batch_size)
    return np.concatenate([
        clips_to_uint8(model.decode(tokens[i:i + batch_size].to(model.device)).cpu())
        for i in range(0, len(tokens), batch_size)])


def context_clips(cfg: Config, split: str = 'val', num: int = 16,
                  start: int = 0) -> Tuple[torch.Tensor, torch.Tensor]:
    """Token volumes and labels of ``num`` clips of a config's dataset.

    Builds ``cfg.<split>_dataloader.dataset`` with its pipeline (which must
    produce ``tokens``: ``TokenizeVideo`` or pre-extracted ``TokenDataset``) and
    returns ``(tokens (num, T, h, w) int64, labels (num,) int64)``.
    """
    key = f'{split}_dataloader'
    if key not in cfg:
        raise KeyError(f'config has no {key}: choose --context-split among '
                       f"{[k[:-len('_dataloader')] for k in cfg if k.endswith('_dataloader')]}")
    dataset = DATASETS.build(cfg[key].dataset)
    if len(dataset) < start + num:
        raise ValueError(f'{key}.dataset holds {len(dataset)} clips; asked for {num} from {start}')
    tokens, labels = [], []
    for i in range(start, start + num):
        item = dataset[i]
        inputs = item['inputs'] if 'inputs' in item else item
        ids = inputs.get('tokens', inputs.get('target'))
        if ids is None:
            raise KeyError(f'{key}.dataset items carry no `tokens`: add TokenizeVideo (or use '
                           'pre-extracted tokens) in its pipeline.')
        tokens.append(torch.as_tensor(ids).long())
        labels.append(int(inputs.get('labels', item.get('gt_label', 0))))
    return torch.stack(tokens), torch.tensor(labels, dtype=torch.long)
