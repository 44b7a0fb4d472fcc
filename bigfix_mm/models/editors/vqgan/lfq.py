"""Lookup-free (binary) quantisation: each latent channel's sign is one bit.

A latent z (b channels) is quantised to ``sign(z)`` in {-1, +1}^b; the token id
is ``sum_i [z_i > 0] 2^i`` (bit i = channel i, LSB first, as
:mod:`bigfix_mm.core.bits`), so the codebook has K = 2^b entries and is
never stored. Losses (the LFQ literature, MAGVIT-v2):

- commitment: ``beta * ||z - sg(sign z)||^2``;
- entropy: ``E_z[H(q(c | z))] - gamma * H(E_z[q(c | z)])`` with the soft code
  assignment ``q(c | z) = softmax_c(-||z - c||^2 / tau)``. Because codes are
  sign vectors, ``q`` factorises into independent bits with
  ``q(bit_i = 1 | z) = sigmoid(4 z_i / tau)``, so the per-sample entropy is a
  sum of b binary entropies (exact for any b). The codebook entropy is exact
  over the 2^b codes when b <= ``entropy_group_bits``, else summed over groups
  of at most that many bits (an upper bound of the joint entropy; memory stays
  (N, 2^group)).
"""
import math
from typing import Dict, List, Tuple

import torch
import torch.nn.functional as F
from torch import nn

from bigfix_mm.registry import MODELS
from bigfix_mm.core.bits import bit_table, check_bits, ids_from_bit_table


def _binary_entropy(p: torch.Tensor) -> torch.Tensor:
    p = p.clamp(1e-6, 1 - 1e-6)
    return -(p * p.log() + (1 - p) * (1 - p).log())


def bit_groups(bits: int, max_group: int) -> List[Tuple[int, int]]:
    """Split [0, bits) into near-equal (start, end) groups of at most ``max_group`` bits."""
    n = math.ceil(bits / max_group)
    edges = [round(bits * i / n) for i in range(n + 1)]
    return list(zip(edges[:-1], edges[1:]))


@MODELS.register_module()
class LookupFreeQuantizer(nn.Module):
    """Binary quantiser with K = 2^bits implicit codes and no codebook parameters.

    Args:
        bits: b, the latent channels (``code_dim``) and bits per token (1..32).
        beta: commitment weight.
        entropy_weight: weight of the entropy loss.
        diversity_weight: gamma, weight of the codebook-entropy term.
        temperature: tau of the soft assignment in the entropy loss.
        entropy_group_bits: largest bit group whose 2^g codes are enumerated.
        usage_history: ids kept to measure codebook usage (0 disables).

    Same interface as :class:`VectorQuantizer`: ``forward`` (B, b, h, w) ->
    (z_q, ids (B, h, w) int64, losses), ``lookup`` ids -> latents, ``usage``.
    """

    def __init__(self,
                 bits: int,
                 beta: float = 0.25,
                 entropy_weight: float = 0.1,
                 diversity_weight: float = 1.0,
                 temperature: float = 0.1,
                 entropy_group_bits: int = 10,
                 usage_history: int = 8192):
        super().__init__()
        self.bits = check_bits(int(bits))
        self.codebook_size = 1 << self.bits
        self.code_dim = self.bits
        self.beta, self.entropy_weight = float(beta), float(entropy_weight)
        self.diversity_weight, self.temperature = float(diversity_weight), float(temperature)
        self.groups = bit_groups(self.bits, int(entropy_group_bits))
        self.usage_history = int(usage_history)
        self.register_buffer('_recent', torch.full((self.usage_history, ), -1, dtype=torch.long),
                             persistent=False)

    def ids_from_signs(self, z: torch.Tensor) -> torch.Tensor:
        """(..., b) latents -> (...) int64 ids of their signs (z > 0 is bit 1)."""
        return ids_from_bit_table(z > 0)

    def lookup(self, ids: torch.Tensor) -> torch.Tensor:
        """(B, h, w) int64 ids -> (B, b, h, w) float latents in {-1, +1}."""
        return (bit_table(ids, self.bits).float() * 2 - 1).permute(0, 3, 1, 2).contiguous()

    def entropy_terms(self, flat: torch.Tensor) -> Dict[str, torch.Tensor]:
        """(N, b) latents -> mean per-sample entropy and codebook entropy (nats)."""
        p1 = torch.sigmoid(4 * flat / self.temperature)  # q(bit_i = 1 | z), (N, b)
        per_sample = _binary_entropy(p1).sum(-1).mean()
        logp1, logp0 = F.logsigmoid(4 * flat / self.temperature), F.logsigmoid(
            -4 * flat / self.temperature)
        codebook = flat.new_zeros(())
        for lo, hi in self.groups:
            g = hi - lo
            codes = bit_table(torch.arange(1 << g, device=flat.device), g).float()  # (2^g, g)
            logq = logp1[:, lo:hi] @ codes.t() + logp0[:, lo:hi] @ (1 - codes).t()  # (N, 2^g)
            avg = logq.exp().mean(0)
            codebook = codebook - (avg * avg.clamp_min(1e-12).log()).sum()
        return dict(per_sample=per_sample, codebook=codebook)

    def forward(self, z: torch.Tensor):
        """(B, b, h, w) latents -> z_q (straight-through), ids (B, h, w), losses (training)."""
        if z.dim() != 4 or z.shape[1] != self.bits:
            raise ValueError(f'LFQ expects (B, {self.bits}, h, w) latents, got {tuple(z.shape)}')
        b, _, h, w = z.shape
        z = z.permute(0, 2, 3, 1).float()  # (B, h, w, b)
        z_q = torch.where(z > 0, 1.0, -1.0)
        ids = self.ids_from_signs(z)  # (B, h, w)
        losses: Dict[str, torch.Tensor] = {}
        if self.training:
            terms = self.entropy_terms(z.reshape(-1, self.bits))
            losses['commit'] = self.beta * F.mse_loss(z, z_q)
            losses['entropy'] = self.entropy_weight * (
                terms['per_sample'] - self.diversity_weight * terms['codebook'])
            self._track(ids.detach().flatten())
        z_q = z + (z_q - z).detach()
        return z_q.permute(0, 3, 1, 2).contiguous(), ids, losses

    @torch.no_grad()
    def _track(self, ids: torch.Tensor) -> None:
        n = min(ids.numel(), self.usage_history)
        if n:
            self._recent.copy_(torch.cat([self._recent[n:], ids[-n:]]))

    def usage(self) -> float:
        """Share of the K codes among the recent training ids (bounded by the history)."""
        seen = self._recent[self._recent >= 0]
        return torch.unique(seen).numel() / self.codebook_size if seen.numel() else 0.0
