"""The output-head interface the transformer, BIGFix and every sampler call.

A head decides how a token is represented at the input (``input_embedding``)
and predicted at the output. The transformer returns ``head.output(x, owner)``
from its final hidden states ``x`` (B, L, D); everything downstream (losses,
accuracies, sampling, fixing) goes through the head, never through a (K + 1)-way
logit tensor directly, so a sampler runs unchanged on any head.
"""
from typing import Optional

import torch
from torch import nn


class TokenDistribution:
    """Per-position distributions over the K ids, as prepared for one sampler step."""

    def sample(self, generator: Optional[torch.Generator] = None) -> torch.Tensor:
        """One draw per position: (B, N) int64 ids in [0, K)."""
        raise NotImplementedError

    def log_prob(self, ids: torch.Tensor) -> torch.Tensor:
        """(B, N) int64 ids in [0, K) -> (B, N) float32 log-probabilities."""
        raise NotImplementedError


class TokenHead(nn.Module):
    """Base class of output heads over a codebook of K ids (input mask id K).

    Args:
        codebook_size: K.
        width: the transformer width D.
    """

    #: True when the head reuses the transformer's (K + 1, D) input table
    #: (the transformer then also owns a (K + 1,) ``head_bias``).
    tied: bool = False

    def __init__(self, codebook_size: int, width: int):
        super().__init__()
        self.codebook_size = int(codebook_size)
        self.mask_id = self.codebook_size
        self.width = int(width)

    def input_embedding(self) -> nn.Module:
        """A new module mapping (B, L) ids in [0, K] to (B, L, D) embeddings."""
        raise NotImplementedError

    def output(self, x: torch.Tensor, owner: nn.Module) -> torch.Tensor:
        """Final hidden states (B, L, D) -> this head's output (what the transformer returns)."""
        raise NotImplementedError

    def loss(self, out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Training loss per position: out from :meth:`output`, target (B, L) -> (B, L) float."""
        raise NotImplementedError

    def nll(self, out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Exact negative log-likelihood (nats) of the target per position: (B, L) float."""
        raise NotImplementedError

    def greedy(self, out: torch.Tensor) -> torch.Tensor:
        """Most likely id per position (deterministic): (B, L) int64."""
        raise NotImplementedError

    def distribution(self,
                     out: torch.Tensor,
                     uncond: Optional[torch.Tensor] = None,
                     cfg_weight: float = 0.0,
                     temperature: float = 1.0,
                     top_k: Optional[int] = None,
                     top_p: Optional[float] = None) -> TokenDistribution:
        """The sampling distribution of one step.

        Args:
            out: conditional output (B, N, ...) of :meth:`output`.
            uncond: unconditional output for classifier-free guidance, or None.
            cfg_weight: guidance w: the head combines ``(1 + w) cond - w uncond``
                on its own logits.
            temperature: divides the logits (<= 1e-6 acts as 1e-6).
            top_k, top_p: filters of the K-way distribution (heads that have one).
        """
        raise NotImplementedError

    def reset_parameters(self) -> None:
        """Head-specific initialisation, run after the transformer's generic one."""

    def cost(self) -> dict:
        """Analytic size and per-token cost: ``params`` (input embedding + output),
        ``train_flops`` (one training evaluation of the output per token) and
        ``sample_flops`` (one draw per token), multiply-add = 2 FLOPs."""
        raise NotImplementedError
