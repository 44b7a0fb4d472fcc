"""The tied K-way softmax head of MaskGIT / BIGFix (the default)."""
from typing import Optional

import torch
import torch.nn.functional as F
from torch import nn

from bigfix_mm.core.sampling import filter_logits, guided_logits, gumbel_argmax
from bigfix_mm.registry import MODELS
from bigfix_mm.models.editors.bigfix.heads.base import TokenDistribution, TokenHead


class CategoricalDistribution(TokenDistribution):
    """Holds (B, N, K) float32 logits; log-softmax is computed once, on first use."""

    def __init__(self, logits: torch.Tensor):
        self.logits = logits
        self._logp = None

    def sample(self, generator: Optional[torch.Generator] = None) -> torch.Tensor:
        return gumbel_argmax(self.logits, generator)

    def log_prob(self, ids: torch.Tensor) -> torch.Tensor:
        if self._logp is None:
            self._logp = torch.log_softmax(self.logits, dim=-1)
        return self._logp.gather(-1, ids.unsqueeze(-1)).squeeze(-1)


@MODELS.register_module()
class SoftmaxHead(TokenHead):
    """Logits ``x @ E^T + bias`` over the K + 1 input ids, E the (K + 1, D) input
    table (weights tied). Holds no parameters itself: the table (``tok_emb``) and
    ``head_bias`` live on the transformer, under the names its checkpoints use.

    ``output`` is (B, L, K + 1) logits; the loss is cross-entropy over K + 1.
    """

    tied = True

    def input_embedding(self) -> nn.Module:
        return nn.Embedding(self.codebook_size + 1, self.width)

    def output(self, x: torch.Tensor, owner: nn.Module) -> torch.Tensor:
        return F.linear(x, owner.tok_emb.weight, owner.head_bias)  # (B, L, K + 1)

    def loss(self, out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(out.float().flatten(0, 1), target.flatten(),
                               reduction='none').view_as(target)

    nll = loss

    def greedy(self, out: torch.Tensor) -> torch.Tensor:
        return out[..., :self.codebook_size].argmax(-1)

    def distribution(self, out, uncond=None, cfg_weight=0.0, temperature=1.0, top_k=None,
                     top_p=None) -> CategoricalDistribution:
        k = self.codebook_size
        logits = guided_logits(out[..., :k], None if uncond is None else uncond[..., :k],
                               cfg_weight)  # (B, N, K) float32
        if temperature != 1.0:
            logits = logits / max(temperature, 1e-6)
        return CategoricalDistribution(filter_logits(logits, top_k, top_p))

    def cost(self) -> dict:
        rows, d = self.codebook_size + 1, self.width
        flops = 2 * d * rows  # one (K + 1)-way projection per token
        return dict(params=rows * d + rows, train_flops=flops, sample_flops=flops)
