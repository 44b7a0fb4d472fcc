"""Nearest-neighbour vector quantisation with l2-normalised or EMA codebooks."""
from typing import Dict, Optional, Tuple

import torch
import torch.nn.functional as F
from mmengine import dist
from torch import nn

# rows of the (N, K) distance matrix computed at once; bounds memory for K = 16384
_SEARCH_ROWS = 4096


class VectorQuantizer(nn.Module):
    """Maps (B, D, h, w) latents to the nearest of K codes.

    Parameter names follow the published VQGAN checkpoints: the codebook is
    ``embedding.weight`` (K, D); with ``usage_history > 0`` a ``codebook_used``
    buffer (a ring of the most recent code ids, LlamaGen's layout) measures
    codebook usage during training.

    Args:
        codebook_size: K.
        code_dim: D.
        beta: commitment weight (0.25).
        l2_norm: search and decode with l2-normalised latents and codes
            (cosine similarity; LlamaGen). Keeps codes on the sphere and
            usage high.
        usage_history: length of the ``codebook_used`` ring; 0 disables it.
        ema_decay: if set, codes are exponential moving averages of their
            assigned latents (no codebook gradient) with this decay, e.g. 0.99.
        restart_interval: every this many training steps, codes whose
            running usage fell below ``dead_threshold`` are re-seeded from
            latents of the current batch; 0 disables restarts.
        dead_threshold: running assignments per step under which a code is dead.
        usage_decay: decay of the running per-code assignment counts (an unused
            code falls below ``dead_threshold`` after about
            ``log(dead_threshold) / log(usage_decay)`` steps).
    """

    def __init__(self,
                 codebook_size: int,
                 code_dim: int,
                 beta: float = 0.25,
                 l2_norm: bool = False,
                 usage_history: int = 0,
                 ema_decay: Optional[float] = None,
                 restart_interval: int = 0,
                 dead_threshold: float = 0.03,
                 usage_decay: float = 0.99):
        super().__init__()
        if codebook_size < 2 or code_dim < 1:
            raise ValueError(f'codebook_size={codebook_size} must be >= 2 and code_dim={code_dim} >= 1')
        if ema_decay is not None and not 0.0 < ema_decay < 1.0:
            raise ValueError(f'ema_decay={ema_decay} must be in (0, 1) or None')
        self.codebook_size = int(codebook_size)
        self.code_dim = int(code_dim)
        self.beta = float(beta)
        self.l2_norm = bool(l2_norm)
        self.ema_decay = ema_decay
        self.restart_interval = int(restart_interval)
        self.dead_threshold = float(dead_threshold)
        self.usage_decay = float(usage_decay)

        self.embedding = nn.Embedding(self.codebook_size, self.code_dim)
        with torch.no_grad():
            self.embedding.weight.uniform_(-1.0 / self.codebook_size, 1.0 / self.codebook_size)
            if self.l2_norm:
                self.embedding.weight.copy_(F.normalize(self.embedding.weight, dim=-1))
        if usage_history > 0:
            self.register_buffer('codebook_used', torch.zeros(int(usage_history)))
            self.register_buffer('_history_filled', torch.zeros((), dtype=torch.long),
                                 persistent=False)
        if ema_decay is not None:
            self.embedding.weight.requires_grad_(False)
            self.register_buffer('ema_count', torch.ones(self.codebook_size))
            self.register_buffer('ema_sum', self.embedding.weight.detach().clone())
        # starts at 0: the first restart re-seeds every code the data never picked
        self.register_buffer('_running_usage', torch.zeros(self.codebook_size), persistent=False)
        self.register_buffer('_steps', torch.zeros((), dtype=torch.long), persistent=False)

    # ------------------------------------------------------------------ lookup
    def codebook(self) -> torch.Tensor:
        """(K, D) codes as used for search and decoding."""
        weight = self.embedding.weight
        return F.normalize(weight, dim=-1) if self.l2_norm else weight

    def lookup(self, ids: torch.Tensor) -> torch.Tensor:
        """(B, h, w) int64 ids -> (B, D, h, w) quantised latents."""
        return self.codebook()[ids].permute(0, 3, 1, 2).contiguous()

    def nearest(self, flat: torch.Tensor) -> torch.Tensor:
        """(N, D) latents (already normalised if ``l2_norm``) -> (N,) int64 nearest code ids."""
        codes = self.codebook().to(flat.dtype)
        sq_codes = codes.pow(2).sum(-1)  # (K,)
        ids = []
        for rows in flat.split(_SEARCH_ROWS):
            # ||z - e||^2 up to the per-row constant ||z||^2
            dist_ = sq_codes[None] - 2.0 * rows @ codes.t()  # (n, K)
            ids.append(dist_.argmin(-1))
        return torch.cat(ids) if ids else flat.new_zeros(0, dtype=torch.long)

    # ----------------------------------------------------------------- forward
    def forward(self, z: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor, Dict[str, torch.Tensor]]:
        """Quantise with a straight-through gradient.

        Args:
            z: (B, D, h, w) encoder latents.

        Returns:
            z_q: (B, D, h, w) quantised latents (gradients flow to ``z``).
            ids: (B, h, w) int64 code ids.
            losses: in training, ``codebook`` (0 with EMA codes) and ``commit``
                (beta-weighted) losses; empty in eval mode.
        """
        if z.dim() != 4 or z.shape[1] != self.code_dim:
            raise ValueError(f'quantizer expects (B, {self.code_dim}, h, w) latents, got {tuple(z.shape)}')
        b, _, h, w = z.shape
        z = z.permute(0, 2, 3, 1).float()  # (B, h, w, D)
        if self.l2_norm:
            z = F.normalize(z, dim=-1)
        flat = z.reshape(-1, self.code_dim)  # (N, D)
        if self.training:
            self._steps += 1
            # restart before the codes enter the graph: in-place edits after the lookup would
            # invalidate tensors autograd saved for the backward pass
            if self.restart_interval and int(self._steps) % self.restart_interval == 0:
                self._restart_dead_codes(flat.detach())
        with torch.no_grad():
            ids = self.nearest(flat.detach())  # (N,)
        losses: Dict[str, torch.Tensor] = {}
        if self.training:
            self._track_usage(ids)
            if self.ema_decay is not None:
                self._ema_update(flat.detach(), ids)
        z_q = self.codebook()[ids].view_as(z)  # (B, h, w, D)
        if self.training:
            losses['commit'] = self.beta * F.mse_loss(z, z_q.detach())
            losses['codebook'] = (F.mse_loss(z_q, z.detach()) if self.ema_decay is None else
                                  z.new_zeros(()))
        z_q = z + (z_q - z).detach()
        return z_q.permute(0, 3, 1, 2).contiguous(), ids.view(b, h, w), losses

    # ---------------------------------------------------------------- training
    @torch.no_grad()
    def _track_usage(self, ids: torch.Tensor) -> None:
        counts = torch.bincount(ids, minlength=self.codebook_size).float()
        dist.all_reduce(counts)
        self._running_usage.mul_(self.usage_decay).add_(counts, alpha=1 - self.usage_decay)
        if hasattr(self, 'codebook_used'):
            n = min(ids.numel(), self.codebook_used.numel())
            self.codebook_used.copy_(torch.cat([self.codebook_used[n:], ids[-n:].float()]))
            self._history_filled.add_(n).clamp_(max=self.codebook_used.numel())

    @torch.no_grad()
    def _ema_update(self, flat: torch.Tensor, ids: torch.Tensor) -> None:
        onehot = F.one_hot(ids, self.codebook_size).type_as(flat)  # (N, K)
        counts, sums = onehot.sum(0), onehot.t() @ flat  # (K,), (K, D)
        dist.all_reduce(counts)
        dist.all_reduce(sums)
        d = self.ema_decay
        self.ema_count.mul_(d).add_(counts, alpha=1 - d)
        self.ema_sum.mul_(d).add_(sums, alpha=1 - d)
        total = self.ema_count.sum()
        smoothed = (self.ema_count + 1e-5) / (total + self.codebook_size * 1e-5) * total
        self.embedding.weight.copy_(self.ema_sum / smoothed[:, None])

    @torch.no_grad()
    def _restart_dead_codes(self, flat: torch.Tensor) -> int:
        """Re-seed dead codes with random latents of the batch; returns how many."""
        dead = (self._running_usage < self.dead_threshold).nonzero().flatten()
        if dead.numel() == 0 or flat.shape[0] == 0:
            return 0
        pick = torch.randint(0, flat.shape[0], (dead.numel(), ), device=flat.device)
        new = flat[pick] + 1e-3 * torch.randn_like(flat[pick])
        if self.l2_norm:
            new = F.normalize(new, dim=-1)
        dist.broadcast(new, src=0)  # every rank restarts to the same codes
        self.embedding.weight[dead] = new.to(self.embedding.weight.dtype)
        if self.ema_decay is not None:
            self.ema_sum[dead] = new
            self.ema_count[dead] = 1.0
        self._running_usage[dead] = 1.0  # give the new codes time to be picked
        return int(dead.numel())

    def usage(self) -> float:
        """Share of the K codes seen in the ``codebook_used`` ring (or running counts)."""
        if hasattr(self, 'codebook_used') and int(self._history_filled) > 0:
            recent = self.codebook_used[-int(self._history_filled):]
            return torch.unique(recent.long()).numel() / self.codebook_size
        return float((self._running_usage >= self.dead_threshold).float().mean())
