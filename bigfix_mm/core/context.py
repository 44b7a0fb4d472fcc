"""Given ("context") frames of token volumes: context masks for training and sampling.

The first ``k`` frames of a (T, H, W) token volume can be given: masking,
injection and fixing never change them. Training draws ``k`` per sample from a
configured range (:func:`sample_context_frames`); samplers take the given ids
and a frame count or an explicit ``context_mask`` (:func:`resolve_context`).
A context mask is bool, True at given positions.
Flat position ``i`` of a volume lies in frame ``i // (H * W)``.
"""
import math
from typing import Optional, Sequence, Tuple

import torch

from bigfix_mm.core.tokens import check_token_range
from bigfix_mm.core.schedules import as_grid3d


def frame_context_mask(grid: Sequence[int], num_frames: torch.Tensor | int,
                       device: torch.device | str = 'cpu') -> torch.Tensor:
    """The context mask of the first ``num_frames`` frames (True = given).

    Args:
        grid: token grid (T, H, W) or (H, W).
        num_frames: an int k, or (B,) int64 per-sample counts.

    Returns:
        (N,) bool for an int, (B, N) bool for a tensor; N = T * H * W.
    """
    t_size, h_size, w_size = as_grid3d(grid)
    frame = torch.arange(t_size * h_size * w_size, device=device) // (h_size * w_size)  # (N,)
    if isinstance(num_frames, torch.Tensor):
        return frame.unsqueeze(0) < num_frames.to(device).reshape(-1, 1)  # (B, N)
    return frame < int(num_frames)


def check_frame_range(frame_range: Sequence[int], num_frames: int,
                      name: str = 'context_frames') -> Tuple[int, int]:
    """Validate an inclusive (min, max) range of given frames for T = ``num_frames``."""
    if len(frame_range) != 2:
        raise ValueError(f'{name}={tuple(frame_range)} must be a (min, max) pair of frame counts')
    low, high = int(frame_range[0]), int(frame_range[1])
    if not 0 <= low <= high < num_frames:
        raise ValueError(
            f'{name}=({low}, {high}) must satisfy 0 <= min <= max < T={num_frames}: at least '
            'one frame has to be generated. Lower the range or use more frames.')
    return low, high


def sample_context_frames(batch_size: int, frame_range: Sequence[int],
                          generator: Optional[torch.Generator] = None,
                          device: torch.device | str = 'cpu') -> torch.Tensor:
    """Draw k uniformly from the inclusive ``frame_range`` per sample: (B,) int64."""
    low, high = int(frame_range[0]), int(frame_range[1])
    return torch.randint(low, high + 1, (batch_size, ), generator=generator, device=device)


def resolve_context(grid: Sequence[int],
                    batch_size: int,
                    codebook_size: int,
                    context: Optional[torch.Tensor] = None,
                    context_frames: Optional[int] = None,
                    context_mask: Optional[torch.Tensor] = None,
                    device: torch.device | str = 'cpu'
                    ) -> Tuple[Optional[torch.Tensor], Optional[torch.Tensor]]:
    """Normalise a sampler's context arguments.

    Args:
        grid: the transformer's (T, H, W) grid.
        context: given ids, (B, T, H, W) / (B, N), or only the given frames
            (B, k, H, W) with k < T (then ``context_frames`` defaults to k).
        context_frames: k, the first k frames are given.
        context_mask: explicit given positions, bool (N,), (B, N), (T, H, W) or
            (B, T, H, W), True = given; every row must give the same number.

    Returns:
        ``(context_mask (B, N) bool, context (B, N) int64 ids)``, the ids valid
        where the mask is True, or ``(None, None)`` without context.
    """
    t_size, h_size, w_size = grid = as_grid3d(grid)
    num_tokens = t_size * h_size * w_size
    if context is None:
        if context_mask is not None or context_frames is not None:
            raise ValueError('`context_frames` / `context_mask` need the given token ids: pass '
                             '`context` (B, T, H, W) int64.')
        return None, None
    context = context.to(device).long()
    if context.shape[0] != batch_size:
        raise ValueError(f'context has batch size {context.shape[0]}, labels {batch_size}')
    per_sample = tuple(context.shape[1:])
    if per_sample not in ((num_tokens, ), grid):
        if len(per_sample) == 3 and per_sample[1:] == (h_size, w_size) and per_sample[0] < t_size:
            num_given = per_sample[0]
            if context_frames is None and context_mask is None:
                context_frames = num_given
            pad = torch.full((batch_size, t_size - num_given, h_size, w_size), codebook_size,
                             dtype=torch.long, device=device)
            context = torch.cat([context, pad], dim=1)
        else:
            raise ValueError(f'context has per-sample shape {per_sample}; expected {grid}, '
                             f'({num_tokens},) or (k, {h_size}, {w_size}) with k < {t_size}')
    context = context.reshape(batch_size, num_tokens)
    if context_mask is None:
        if context_frames is None:
            raise ValueError('`context` is a full volume: say which part is given with '
                             '`context_frames` (first k frames) or `context_mask` (bool mask).')
        k = int(context_frames)
        if not 0 <= k < t_size:
            raise ValueError(f'context_frames={k} must be in [0, T={t_size}): at least one frame '
                             'has to be generated.')
        context_mask = frame_context_mask(grid, k, device).unsqueeze(0).expand(batch_size, -1)
    else:
        context_mask = mask_rows(context_mask, 'context_mask', grid, batch_size, device)
        frames = None if context_frames is None else frame_context_mask(
            grid, int(context_frames), device).expand_as(context_mask)
        if frames is not None and not torch.equal(context_mask, frames):
            raise ValueError('give either `context_frames` or `context_mask`, not two that '
                             'disagree')
    check_same_count(context_mask, 'context_mask')
    per_row = context_mask.sum(1)
    if int(per_row[0]) >= num_tokens:
        raise ValueError('context_mask covers every position: nothing is left to generate')
    check_token_range(context[context_mask], codebook_size, 'context ids at given positions',
                      'Give context made by the model\'s tokenizer.')
    return context_mask, context


def mask_rows(mask: torch.Tensor, name: str, grid: Sequence[int], batch_size: int,
              device: torch.device | str = 'cpu') -> torch.Tensor:
    """A per-position bool mask, (N,) / grid-shaped (one for every row) or (B, N) /
    (B, *grid), as (B, N)."""
    num_tokens = math.prod(grid)
    mask = mask.to(device).bool()
    if mask.numel() == num_tokens:
        return mask.reshape(1, num_tokens).expand(batch_size, -1)
    if mask.numel() == batch_size * num_tokens:
        return mask.reshape(batch_size, num_tokens)
    raise ValueError(f'{name} has shape {tuple(mask.shape)}; expected (N,), (B, N), '
                     f'{tuple(grid)} or (B, *{tuple(grid)}) with N={num_tokens}, B={batch_size}')


def check_same_count(mask: torch.Tensor, name: str) -> None:
    """Every row of the (B, N) ``mask`` must mark the same number of positions."""
    per_row = mask.sum(1)
    if bool((per_row != per_row[0]).any()):
        raise ValueError(f'{name} marks {per_row.tolist()} positions per sample; every sample '
                         'of a batch must mark the same number (sample such batches '
                         'separately).')


def resolve_fixable(fixable_mask: Optional[torch.Tensor], context_mask: Optional[torch.Tensor],
                    grid: Sequence[int], batch_size: int,
                    device: torch.device | str = 'cpu') -> torch.Tensor:
    """The given positions a fixing policy may re-sample: (B, N) bool.

    Args:
        fixable_mask: None (no given position may change), or (N,) / (B, N) /
            (B, *grid) bool, True where a given token may be re-sampled; every
            True position must be given (``context_mask``) and every row must
            hold the same number.
        context_mask: (B, N) bool given positions from :func:`resolve_context`, or None.

    Returns:
        (B, N) bool, all False for ``fixable_mask=None``.
    """
    grid = as_grid3d(grid)
    if fixable_mask is None:
        return torch.zeros(batch_size, math.prod(grid), dtype=torch.bool, device=device)
    if context_mask is None:
        raise ValueError('`fixable_mask` marks given tokens that may be re-sampled: pass the '
                         'given tokens too (`context`, `context_mask`).')
    fixable = mask_rows(fixable_mask, 'fixable_mask', grid, batch_size, device)
    if bool((fixable & ~context_mask).any()):
        raise ValueError('fixable_mask marks positions that are not given (context_mask False): '
                         'only given tokens can be made fixable; generated ones always are.')
    check_same_count(fixable, 'fixable_mask')
    return fixable
