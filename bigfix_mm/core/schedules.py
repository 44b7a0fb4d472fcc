"""Mask-ratio schedules, reveal counts and Halton reveal orders.

Everything here is a pure function of its arguments; tensors are created on the
requested device so that samplers can precompute them once, outside their loops.
"""
import math
from typing import Optional, Sequence, Tuple

import torch

from bigfix_mm.errors import InputValueError


def resolution_shift(num_tokens: int, reference_tokens: int = 256) -> float:
    """Shift ``a = sqrt(reference / N)`` that keeps the mask schedule comparable
    across grid sizes (``a = 1`` at 16x16)."""
    return math.sqrt(reference_tokens / num_tokens)


def sample_mask_ratio(batch_size: int,
                      num_tokens: int,
                      generator: Optional[torch.Generator] = None,
                      device: torch.device | str = 'cpu') -> torch.Tensor:
    """Draw one mask ratio per sample with the shifted arccos schedule.

    ``r ~ U(0, 1)``, ``r' = a r / (1 + (a - 1) r)``, ``ratio = arccos(r') / (pi / 2)``.

    Returns:
        (B,) float32 mask probabilities in [0, 1].
    """
    r = torch.rand(batch_size, generator=generator, device=device)
    a = resolution_shift(num_tokens)
    r = a * r / (1 + (a - 1) * r)
    return torch.arccos(r.clamp(0, 1)) / (math.pi / 2)


def halton_reveal_counts(num_tokens: int, num_steps: int) -> torch.Tensor:
    """Cumulative number of revealed tokens after each step (Halton-MaskGIT).

    ``n_t = min(N, max(t + 1, floor((1 - arccos((t + 1) / T) / (pi / 2)) N)))``
    for steps t = 0 .. T-1; the last entry is always ``N``. Evaluated with Python
    doubles in the authors' operation order, so a product that lands on an
    integer in exact arithmetic (e.g. N / 3 at 24x24, t + 1 = T / 2) floors the
    same way as theirs.

    Returns:
        (T,) int64, non-decreasing, ending at N.
    """
    _check_steps(num_tokens, num_steps)
    counts = []
    for t in range(num_steps):
        frac = 1 - math.acos((t + 1) / num_steps) / (math.pi * 0.5)
        counts.append(min(num_tokens, max(t + 1, int(frac * num_tokens))))
    counts[-1] = num_tokens
    return torch.tensor(counts, dtype=torch.int64)


def cosine_reveal_counts(num_tokens: int, num_steps: int) -> torch.Tensor:
    """Cumulative revealed tokens for MaskGIT's cosine schedule.

    The masked fraction after step t is ``cos(pi/2 * (t+1)/T)``; each step reveals
    at least one token so that T steps always finish.

    Returns:
        (T,) int64, strictly increasing when T <= N, ending at N.
    """
    _check_steps(num_tokens, num_steps)
    t = torch.arange(1, num_steps + 1, dtype=torch.float64)
    masked = torch.floor(torch.cos(math.pi / 2 * t / num_steps) * num_tokens).long()
    n = num_tokens - masked
    n = torch.maximum(n, torch.arange(1, num_steps + 1)).clamp(max=num_tokens)
    n = torch.cummax(n, dim=0).values
    n[-1] = num_tokens
    return n


def _check_steps(num_tokens: int, num_steps: int) -> None:
    if not 1 <= num_steps <= num_tokens:
        raise InputValueError(
            f'sampling steps={num_steps} must be in [1, {num_tokens}] (the tokens to generate; '
            'a sampler places at least one per step). Fix: set the sampler\'s `steps` '
            '(tools: --steps) in that range.')


def _radical_inverse(index: torch.Tensor, base: int) -> torch.Tensor:
    """Van der Corput radical inverse of integer ``index`` in ``base``, float64.

    Computed as one division ``n / base**k`` of exact integers (k the number of
    digits), so the value is the correctly rounded rational, the same double the
    authors' generator produces; floors at cell edges then agree bit for bit.
    """
    num = torch.zeros_like(index)
    den = torch.ones_like(index)
    i = index.clone()
    while bool((i > 0).any()):
        active = i > 0
        num = torch.where(active, num * base + i % base, num)
        den = torch.where(active, den * base, den)
        i = i // base
    return num.double() / den.double()


_HALTON_BASES = (2, 3, 5)
HALTON_START = 1  # first index of the sequence: point 0 would be the corner (0, 0)


def halton_order(grid: Sequence[int]) -> torch.Tensor:
    """Reveal order of every position of a (T, H, W) grid along a Halton sequence.

    Images (T = 1) use bases 2 and 3 over (H, W); volumes use bases 2, 3, 5 over
    (H, W, T). The sequence starts at index :data:`HALTON_START` = 1, as the
    authors' generator does (its first point is (1/2, 1/3), not the corner).
    Points are generated until every cell is hit; each cell keeps its first hit,
    so every position appears exactly once.

    Args:
        grid: token grid (T, H, W) or (H, W).

    Returns:
        (N,) int64 permutation of ``range(T * H * W)``, flat index t*H*W + h*W + w.
    """
    grid = tuple(int(g) for g in grid)
    if len(grid) == 2:
        grid = (1, ) + grid
    t_size, h_size, w_size = grid
    dims = [h_size, w_size] + ([t_size] if t_size > 1 else [])
    n_cells = t_size * h_size * w_size
    order: list[int] = []
    seen = torch.zeros(n_cells, dtype=torch.bool)
    start, chunk = HALTON_START, max(64, 4 * n_cells)
    while len(order) < n_cells:
        idx = torch.arange(start, start + chunk, dtype=torch.int64)
        coords = [torch.floor(_radical_inverse(idx, b) * d).long().clamp(max=d - 1)
                  for b, d in zip(_HALTON_BASES, dims)]
        h, w = coords[0], coords[1]
        t = coords[2] if t_size > 1 else torch.zeros_like(h)
        flat = t * h_size * w_size + h * w_size + w
        for f in flat.tolist():  # one-off precomputation, not on a hot path
            if not seen[f]:
                seen[f] = True
                order.append(f)
        start += chunk
    return torch.tensor(order, dtype=torch.int64)


def as_grid3d(grid: Sequence[int]) -> Tuple[int, int, int]:
    """(H, W) or (T, H, W) -> (T, H, W)."""
    grid = tuple(int(g) for g in grid)
    if len(grid) == 2:
        return (1, ) + grid
    if len(grid) != 3:
        raise ValueError(f'token grid must be (H, W) or (T, H, W), got {grid}')
    return grid
