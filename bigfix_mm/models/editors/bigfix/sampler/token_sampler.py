"""The one parallel-decoding loop shared by every sampler.

A sampler starts from an all-mask grid and, for ``steps`` steps, runs the
transformer once (twice the batch with classifier-free guidance), draws a token
at every position, *reveals* new positions (by a Halton order or by confidence)
and optionally *fixes* already placed positions by taking the fresh draw there.
Fixing costs no extra forward pass: the logits at placed positions come from the
same call. All schedules are precomputed; the loop has no per-sample Python code,
no host synchronisation and only static shapes (per-step counts are Python ints),
so a whole call can be captured in one CUDA graph (``tools/benchmark.py
--cuda-graphs``).
"""
import math
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
from torch import nn

from bigfix_mm.core.context import resolve_context, resolve_fixable
from bigfix_mm.core.sampling import gumbel_noise, topk_mask
from bigfix_mm.core.schedules import cosine_reveal_counts, halton_order, halton_reveal_counts
from bigfix_mm.errors import InputValueError

REVEAL_ORDERS = ('halton', 'confidence')
# the steps of each registered sampler without ``steps`` in its config
DEFAULT_STEPS: Dict[str, int] = dict(TokenSampler=8, MaskGITSampler=8, HaltonSampler=32,
                                     TokenFixingSampler=32)
FIX_POLICIES = ('none', 'all', 'low_confidence')


class TokenSampler:
    """Configurable MaskGIT / Halton / token-fixing sampler.

    Args:
        steps: number of forward passes T (1 <= T <= number of tokens).
        reveal: ``'halton'`` (fixed 2D/3D Halton order, Halton-MaskGIT schedule)
            or ``'confidence'`` (MaskGIT: most confident masked positions, cosine
            schedule, annealed Gumbel noise on the confidence).
        fix: ``'none'`` never changes a placed token; ``'all'`` re-samples every
            placed token each step (the authors' released behaviour);
            ``'low_confidence'`` re-samples the ``fix_ratio`` share of placed
            tokens whose current id the model now finds least likely.
        fix_ratio: share of placed tokens re-sampled per step (``low_confidence``).
        fix_window: (start, end) fractions of the steps during which fixing is on.
        cfg_scale: guidance w in ``(1 + w) l_c - w l_u``; 0 disables guidance.
        cfg_schedule: ``'constant'`` or ``'linear'`` (w ramps up to ``cfg_scale``).
        temperature: softmax temperature (it divides the logits), a float or
            (start, end) for a schedule over the steps.
        temperature_schedule: how (start, end) is interpolated: ``'linear'`` in
            the temperature, or ``'inverse_linear'`` in 1 / temperature, the
            authors' ``torch.linspace(sm_temp_min, sm_temp_max, steps)``: their
            ``sm_temp`` multiplies the logits, so ``temperature = (1 / sm_temp_min,
            1 / sm_temp_max)`` with ``'inverse_linear'`` is their warm-up exactly
            (their inverse temperature 1e4 is our temperature 1e-4).
        temperature_warmup_steps: the first k steps use twice the temperature
            (Halton-MaskGIT's ``temp_warmup``, which halves its inverse temperature).
        randomize: shift the Halton order of each sample by a random offset in
            [0, N) (a roll of the order; the authors' ``randomize``), drawn from
            ``generator``. ``reveal='halton'`` only.
        top_k: keep the k most likely ids per position (None: all).
        top_p: nucleus sampling mass (None: off).
        confidence_noise: scale of the annealed Gumbel noise on confidences
            (``reveal='confidence'`` only; MaskGIT's choice temperature).
    """

    def __init__(self,
                 steps: int = DEFAULT_STEPS['TokenSampler'],
                 reveal: str = 'halton',
                 fix: str = 'none',
                 fix_ratio: float = 0.1,
                 fix_window: Sequence[float] = (0.0, 1.0),
                 cfg_scale: float = 0.0,
                 cfg_schedule: str = 'constant',
                 temperature: Union[float, Sequence[float]] = 1.0,
                 top_k: Optional[int] = None,
                 top_p: Optional[float] = None,
                 confidence_noise: float = 4.5,
                 temperature_schedule: str = 'linear',
                 temperature_warmup_steps: int = 0,
                 randomize: bool = False):
        if reveal not in REVEAL_ORDERS:
            raise ValueError(f'reveal={reveal!r} is not one of {REVEAL_ORDERS}')
        if fix not in FIX_POLICIES:
            raise ValueError(f'fix={fix!r} is not one of {FIX_POLICIES}')
        if cfg_schedule not in ('constant', 'linear'):
            raise ValueError(f"cfg_schedule={cfg_schedule!r} must be 'constant' or 'linear'")
        if temperature_schedule not in ('linear', 'inverse_linear'):
            raise ValueError(f"temperature_schedule={temperature_schedule!r} must be 'linear' or "
                             "'inverse_linear' (the authors' linspace of the inverse temperature)")
        if randomize and reveal != 'halton':
            raise ValueError("randomize=True shifts the Halton order: it needs reveal='halton'")
        if not 0.0 <= fix_ratio <= 1.0:
            raise ValueError(f'fix_ratio={fix_ratio} must be in [0, 1]')
        if int(steps) < 1:
            raise InputValueError(f'sampler steps={steps} must be >= 1. Fix: set `steps` >= 1.')
        self.steps = int(steps)
        self.reveal = reveal
        self.fix = fix
        self.fix_ratio = float(fix_ratio)
        self.fix_window = tuple(float(f) for f in fix_window)
        self.cfg_scale = float(cfg_scale)
        self.cfg_schedule = cfg_schedule
        self.temperature = temperature
        self.top_k = top_k
        self.top_p = top_p
        self.confidence_noise = float(confidence_noise)
        self.temperature_schedule = temperature_schedule
        self.temperature_warmup_steps = int(temperature_warmup_steps)
        self.randomize = bool(randomize)
        self._order_cache: Dict[Tuple, torch.Tensor] = {}

    # --------------------------------------------------------------- schedules
    def reveal_counts(self, num_tokens: int, steps: int) -> List[int]:
        """Cumulative number of placed tokens after each step (python ints)."""
        fn = halton_reveal_counts if self.reveal == 'halton' else cosine_reveal_counts
        return fn(num_tokens, steps).tolist()

    def cfg_weights(self, steps: int, cfg_scale: float) -> List[float]:
        if self.cfg_schedule == 'linear':
            return [cfg_scale * (t + 1) / steps for t in range(steps)]
        return [cfg_scale] * steps

    def temperatures(self, steps: int) -> List[float]:
        """Per-step temperature (python floats), warm-up included."""
        temp = self.temperature
        start, end = (temp, temp) if isinstance(temp, (int, float)) else tuple(temp)
        if self.temperature_schedule == 'inverse_linear':
            inv = torch.linspace(1 / start, 1 / end, steps, dtype=torch.float64).tolist()
            temps = [1 / i for i in inv]
        elif steps == 1:
            temps = [float(end)]
        else:
            temps = [float(start + (end - start) * t / (steps - 1)) for t in range(steps)]
        return [2 * t if i < self.temperature_warmup_steps else t for i, t in enumerate(temps)]

    def fix_active(self, steps: int) -> List[bool]:
        start, end = self.fix_window
        return [self.fix != 'none' and start <= t / steps < end for t in range(steps)]

    def halton_free_step_table(self, grid: Tuple[int, int, int], counts: List[int],
                               context_mask: torch.Tensor,
                               shifts: Optional[torch.Tensor] = None) -> torch.Tensor:
        """(B, N) int64 reveal step of each free position along the Halton order
        restricted to the free positions (``context_mask`` (B, N) bool False); -1 at
        given positions.
        ``shifts`` (B,) int64 rolls each sample's order (``randomize``)."""
        key = (grid, 'order', str(context_mask.device))
        if key not in self._order_cache:
            self._order_cache[key] = halton_order(grid).to(context_mask.device)
        order = self._order_cache[key].expand_as(context_mask)  # (B, N)
        if shifts is not None:  # torch.roll(order, s): new[j] = order[(j - s) mod N]
            n = order.shape[1]
            idx = (torch.arange(n, device=context_mask.device) - shifts.unsqueeze(1)) % n
            order = order.gather(1, idx)
        free_in_order = (~context_mask).gather(1, order).long()  # (B, N) in reveal order
        rank_in_order = free_in_order.cumsum(1) - 1  # rank among the free positions
        rank = torch.empty_like(rank_in_order).scatter_(1, order, rank_in_order)
        step = torch.bucketize(rank, torch.tensor(counts, device=context_mask.device), right=True)
        return step.masked_fill(context_mask, -1)

    # -------------------------------------------------------------------- loop
    @torch.no_grad()
    def __call__(self,
                 transformer: nn.Module,
                 labels: torch.Tensor,
                 generator: Optional[torch.Generator] = None,
                 steps: Optional[int] = None,
                 cfg_scale: Optional[float] = None,
                 return_trace: bool = False,
                 context: Optional[torch.Tensor] = None,
                 context_frames: Optional[int] = None,
                 context_mask: Optional[torch.Tensor] = None,
                 fixable_mask: Optional[torch.Tensor] = None):
        """Generate token grids.

        Args:
            transformer: a :class:`BidirectionalTransformer` (eval mode).
            labels: (B,) int64 class ids.
            generator: RNG on the transformer's device.
            steps, cfg_scale: per-call overrides.
            return_trace: also return per-step ``placed`` / ``changed`` masks.
            context: given ids (B, T, H, W) int64, or only the first frames
                (B, k, H, W); the positions given by ``context_frames`` or
                ``context_mask`` start placed and are never revealed; they are
                neither fixed nor changed, except where ``fixable_mask`` allows.
            context_frames: k, the first k frames of ``context`` are given.
            context_mask: (B, N) / (N,) bool, True at given positions, instead of
                ``context_frames`` (the same count in every row). See
                :func:`bigfix_mm.core.context.resolve_context`.
            fixable_mask: (B, N) / (N,) bool, True at given positions that the
                fixing policy may re-sample like placed ones (seam fixing in
                editing, :func:`bigfix_mm.core.edit_masks.seam_band`); must lie
                inside the given positions, the same count in every row. None:
                given tokens never change.

        Returns:
            (B, T, H, W) int64 ids in [0, K); with ``return_trace`` a tuple
            ``(ids, trace)`` where trace holds (steps, B, N) bool tensors
            ``placed`` (revealed this step) and ``changed`` (placed earlier and
            altered by fixing this step), and (steps, B, N) int64 ``ids``, the
            grid after each step (``mask_id`` where nothing is placed yet).
        """
        steps = self.steps if steps is None else int(steps)  # 0 is an error, not 'unset'
        cfg_scale = self.cfg_scale if cfg_scale is None else float(cfg_scale)
        grid = tuple(transformer.grid)
        num_tokens = transformer.num_tokens
        k = transformer.codebook_size
        mask_id = transformer.mask_id
        device = labels.device
        bsz = labels.shape[0]

        context_mask, context = resolve_context(grid, bsz, k, context, context_frames,
                                                context_mask, device)  # (B, N) bool, (B, N) ids
        fixable = resolve_fixable(fixable_mask, context_mask, grid, bsz, device)  # (B, N)
        num_free = num_tokens - (int(context_mask[0].sum()) if context_mask is not None else 0)
        counts = self.reveal_counts(num_free, steps)
        weights = self.cfg_weights(steps, cfg_scale)
        temps = self.temperatures(steps)
        fixing = self.fix_active(steps)
        guided = any(w != 0.0 for w in weights)
        head = transformer.head  # draws and log-probabilities go through the output head
        step_of = None
        if self.reveal == 'halton':
            shifts = (torch.randint(0, num_tokens, (bsz, ), generator=generator, device=device)
                      if self.randomize else None)
            free = context_mask if context_mask is not None else torch.zeros(
                bsz, num_tokens, dtype=torch.bool, device=device)  # nothing given
            step_of = self.halton_free_step_table(grid, counts, free, shifts)

        ids = torch.full((bsz, num_tokens), mask_id, dtype=torch.long, device=device)
        placed = torch.zeros(bsz, num_tokens, dtype=torch.bool, device=device)
        if context_mask is not None:  # given tokens start placed and are never candidates to fix
            ids = torch.where(context_mask, context, ids)
            placed = context_mask.clone()
        else:
            context_mask = torch.zeros_like(placed)
        plan = SamplingPlan(steps, counts, fixing, step_of, context_mask, k, fixable)
        trace_placed, trace_changed, trace_ids = [], [], []
        labels = labels.long()
        null = torch.full_like(labels, transformer.num_classes)

        for t in range(steps):
            if guided:  # the head combines (1 + w) cond - w uncond on its own logits
                both = transformer(torch.cat([ids, ids]), torch.cat([labels, null]))
                dist = head.distribution(both[:bsz], both[bsz:], weights[t], temps[t],
                                         self.top_k, self.top_p)
                del both  # keep the peak at the head's guided tensors
            else:
                dist = head.distribution(transformer(ids, labels), None, 0.0, temps[t],
                                         self.top_k, self.top_p)
            new_ids, new, fix = self.step(dist, t, ids, placed, plan, generator)
            if return_trace:
                trace_placed.append(new)
                trace_changed.append(fix & (new_ids != ids))
                trace_ids.append(new_ids)
            ids = new_ids
            placed = placed | new

        ids = ids.view(bsz, *grid)
        if return_trace:
            return ids, dict(placed=torch.stack(trace_placed), changed=torch.stack(trace_changed),
                             ids=torch.stack(trace_ids))
        return ids

    def step(self, dist, t: int, ids: torch.Tensor, placed: torch.Tensor, plan: 'SamplingPlan',
             generator: Optional[torch.Generator] = None
             ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """One step's decision, given the step's distribution (no model call here).

        Args:
            dist: the head's :class:`TokenDistribution` over (B, N) positions.
            t: the step, 0 <= t < ``plan.steps``.
            ids: (B, N) int64 grid before the step (``mask_id`` where nothing is placed).
            placed: (B, N) bool, placed before the step (given context included).
            plan: the call's precomputed schedules (:class:`SamplingPlan`).

        Returns:
            ``(new_ids, new, fix)``: the (B, N) int64 grid after the step, the (B, N)
            bool positions revealed by this step and those re-sampled by fixing.
        """
        counts, k = plan.counts, plan.codebook_size
        draw = dist.sample(generator)  # (B, N)
        n_new = counts[t] - (counts[t - 1] if t else 0)
        if self.reveal == 'halton':
            new = plan.step_of == t  # (B, N)
        else:
            conf = dist.log_prob(draw)  # (B, N)
            noise = self.confidence_noise * (1 - (t + 1) / plan.steps)
            conf = conf + noise * gumbel_noise(conf.shape, generator, draw.device)
            conf = conf.masked_fill(placed, float('-inf'))
            new = topk_mask(conf, n_new)

        if plan.fixing[t] and self.fix == 'all':
            fix = placed & ~plan.frozen
        elif plan.fixing[t] and self.fix == 'low_confidence':
            n_fix = int(self.fix_ratio * ((counts[t - 1] if t else 0) + plan.num_fixable))
            current = dist.log_prob(ids.clamp(max=k - 1))  # (B, N)
            current = current.masked_fill(~placed | plan.frozen, float('inf'))
            fix = topk_mask(-current, n_fix)
        else:
            fix = torch.zeros_like(placed)
        return torch.where(new | fix, draw, ids), new, fix


@dataclass
class SamplingPlan:
    """What a sampling call fixes before its first step.

    ``counts``: cumulative placed free tokens after each step; ``fixing``: whether
    fixing is on at each step; ``step_of``: (B, N) int64 Halton reveal step of each
    position (-1 at given ones; None for confidence reveal); ``context_mask``: (B, N)
    bool given positions; ``codebook_size``: K; ``fixable``: (B, N) bool given
    positions that fixing may re-sample (seam fixing; None: none may change).
    """

    steps: int
    counts: List[int]
    fixing: List[bool]
    step_of: Optional[torch.Tensor]
    context_mask: torch.Tensor
    codebook_size: int
    fixable: Optional[torch.Tensor] = None

    def __post_init__(self):
        fixable = self.fixable
        self.frozen = self.context_mask if fixable is None else self.context_mask & ~fixable
        self.num_fixable = 0 if fixable is None else int(fixable[0].sum())
