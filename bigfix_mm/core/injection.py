"""Random-token injection: the one implementation of BIGFix's training corruption.

Used per sample by the ``RandomTokenInjection`` transform (CPU, data loader) and
batched on the device by :class:`BIGFix` when its inputs carry clean tokens only.
"""
from typing import NamedTuple, Optional, Sequence

import torch

from bigfix_mm.core.tokens import check_token_range
from bigfix_mm.core.schedules import as_grid3d, sample_mask_ratio

INJECTION_MODES = ('shuffle', 'uniform', 'frequency', 'neighbour', 'bit_flip')


class CorruptedTokens(NamedTuple):
    """One corrupted batch; every field is (B, L)."""
    input_ids: torch.Tensor  # int64, mask id at masked positions, injected ids elsewhere
    masked: torch.Tensor  # bool, position was replaced by the mask token
    injected: torch.Tensor  # bool, visible position whose id was changed
    target: torch.Tensor  # int64 clean ids


class TokenInjector:
    """Mask tokens (shifted arccos schedule) and inject random tokens into the rest.

    Args:
        codebook_size: K; ids are in [0, K) and the mask id is K.
        injection_prob: probability p that a *visible* token is replaced (paper: 0.2).
        mode: where replacement ids come from: ``shuffle`` (a random permutation of
            the same sample, the paper's choice), ``uniform`` (codebook),
            ``frequency`` (unigram, given or from the batch), ``neighbour`` (a
            random 4-neighbour in the (H, W) grid of the same frame), ``bit_flip``
            (the token's own id with a random non-empty subset of its log2 K bits
            flipped: k ~ U{1..b} bits; needs K = 2^b).
        unigram: optional (K,) frequencies for ``frequency`` mode.
        mask_ratio: fixed mask ratio instead of the schedule (e.g. for evaluation).
    """

    def __init__(self,
                 codebook_size: int,
                 injection_prob: float = 0.2,
                 mode: str = 'shuffle',
                 unigram: Optional[Sequence[float]] = None,
                 mask_ratio: Optional[float] = None) -> None:
        if mode not in INJECTION_MODES:
            raise ValueError(f'injection mode={mode!r} is not one of {INJECTION_MODES}')
        if not 0.0 <= injection_prob <= 1.0:
            raise ValueError(f'injection_prob={injection_prob} must be in [0, 1]')
        if codebook_size < 2:
            raise ValueError(f'codebook_size={codebook_size} must be >= 2')
        self.codebook_size = int(codebook_size)
        self.mask_id = int(codebook_size)
        self.injection_prob = float(injection_prob)
        self.mode = mode
        self.mask_ratio = mask_ratio
        self.bits = None
        if mode == 'bit_flip':
            from bigfix_mm.core.bits import bits_for_codebook
            self.bits = bits_for_codebook(codebook_size)
        self.unigram = None
        if unigram is not None:
            self.unigram = torch.as_tensor(unigram, dtype=torch.float64)
            if self.unigram.shape != (codebook_size, ):
                raise ValueError(f'unigram has shape {tuple(self.unigram.shape)}, '
                                 f'expected (codebook_size={codebook_size},)')

    def __call__(self,
                 tokens: torch.Tensor,
                 grid: Optional[Sequence[int]] = None,
                 generator: Optional[torch.Generator] = None,
                 context_mask: Optional[torch.Tensor] = None,
                 validate: bool = True) -> CorruptedTokens:
        """Corrupt a batch of clean token grids.

        Args:
            tokens: (B, L) or (B, *grid) int64 clean ids in [0, K).
            grid: token grid (H, W) or (T, H, W); required for ``neighbour``
                and inferred from ``tokens`` when it has more than 2 dims.
            generator: RNG on ``tokens.device`` for reproducible corruption.
            context_mask: optional (B, L) bool, True at given positions (context
                frames in video): never masked nor injected.
            validate: check the id range (one host sync; off on hot GPU paths
                whose data were validated when the dataset was built).

        Returns:
            :class:`CorruptedTokens` with (B, L) fields.
        """
        if tokens.dim() > 2:
            grid = tuple(tokens.shape[1:])
            tokens = tokens.reshape(tokens.shape[0], -1)
        tokens = tokens.long()
        bsz, length = tokens.shape
        dev = tokens.device
        if validate:
            check_token_range(tokens, self.codebook_size)

        if self.mask_ratio is None:
            ratio = sample_mask_ratio(bsz, length, generator=generator, device=dev)
        else:
            ratio = torch.full((bsz, ), float(self.mask_ratio), device=dev)
        masked = torch.rand(bsz, length, generator=generator, device=dev) < ratio[:, None]
        inject = torch.rand(bsz, length, generator=generator, device=dev) < self.injection_prob
        if context_mask is not None:
            masked &= ~context_mask
            inject &= ~context_mask
        inject &= ~masked

        replacement = self._replacement_ids(tokens, grid, generator)
        injected = inject & (replacement != tokens)
        input_ids = torch.where(injected, replacement, tokens)
        input_ids = input_ids.masked_fill(masked, self.mask_id)
        return CorruptedTokens(input_ids, masked, injected, tokens)

    def _replacement_ids(self, tokens: torch.Tensor, grid: Optional[Sequence[int]],
                         generator: Optional[torch.Generator]) -> torch.Tensor:
        """(B, L) candidate ids, one per position, drawn by ``self.mode``."""
        bsz, length = tokens.shape
        dev = tokens.device
        if self.mode == 'shuffle':
            perm = torch.rand(bsz, length, generator=generator, device=dev).argsort(dim=1)
            return tokens.gather(1, perm)
        if self.mode == 'uniform':
            return torch.randint(0, self.codebook_size, (bsz, length), generator=generator,
                                 device=dev)
        if self.mode == 'frequency':
            probs = self.unigram.to(dev) if self.unigram is not None else torch.bincount(
                tokens.flatten(), minlength=self.codebook_size).double()
            draws = torch.multinomial(probs.float(), bsz * length, replacement=True,
                                      generator=generator)
            return draws.view(bsz, length)
        if self.mode == 'bit_flip':
            b = self.bits
            n_flip = torch.randint(1, b + 1, (bsz, length, 1), generator=generator, device=dev)
            scores = torch.rand(bsz, length, b, generator=generator, device=dev)
            rank = scores.argsort(-1).argsort(-1)  # a random permutation of the bits
            flips = ((rank < n_flip).long() << torch.arange(b, device=dev)).sum(-1)  # (B, L)
            return tokens ^ flips
        # neighbour
        if grid is None:
            raise ValueError("injection mode='neighbour' needs the token grid (H, W) "
                             'or (T, H, W); pass `grid`.')
        t_size, h_size, w_size = as_grid3d(grid)
        pos = torch.arange(length, device=dev)
        h = (pos // w_size) % h_size
        w = pos % w_size
        direction = torch.randint(0, 4, (bsz, length), generator=generator, device=dev)
        dh = torch.tensor([-1, 1, 0, 0], device=dev)[direction]
        dw = torch.tensor([0, 0, -1, 1], device=dev)[direction]
        nh, nw = h + dh, w + dw
        # reflect at the borders
        nh = torch.where((nh < 0) | (nh >= h_size), h - dh, nh).clamp(0, h_size - 1)
        nw = torch.where((nw < 0) | (nw >= w_size), w - dw, nw).clamp(0, w_size - 1)
        neighbour = pos - h * w_size - w + nh * w_size + nw
        return tokens.gather(1, neighbour)
