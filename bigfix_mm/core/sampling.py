"""Sampling primitives shared by the output heads and the sampler: classifier-free
guidance, top-k / top-p filtering, Gumbel noise and draws, per-row top-k masks, and
class-balanced labels."""
from typing import Optional

import torch


def guided_logits(cond: torch.Tensor, uncond: Optional[torch.Tensor],
                  weight: float) -> torch.Tensor:
    """Classifier-free guidance ``(1 + w) cond - w uncond`` in float32: (..., K) -> (..., K).

    One half at a time is copied to float32 and scaled in place, so the peak is two
    float tensors of ``cond``'s shape next to the model output. Without ``uncond``:
    ``cond`` in float32.
    """
    if uncond is None:
        return cond.float()
    out = cond.to(torch.float32, copy=True).mul_(1 + weight)
    out -= uncond.to(torch.float32, copy=True).mul_(weight)
    return out


def filter_logits(logits: torch.Tensor, top_k: Optional[int], top_p: Optional[float]) -> torch.Tensor:
    """Top-k then top-p filtering over the last dim; filtered entries become -inf."""
    if top_k is not None and 0 < top_k < logits.shape[-1]:
        kth = torch.topk(logits, top_k, dim=-1).values[..., -1:]
        logits = logits.masked_fill(logits < kth, float('-inf'))
    if top_p is not None and 0.0 < top_p < 1.0:
        sorted_logits, idx = torch.sort(logits, dim=-1, descending=True)
        cum = torch.softmax(sorted_logits, dim=-1).cumsum(-1)
        drop_sorted = cum - torch.softmax(sorted_logits, dim=-1) > top_p  # keep the first above p
        drop = torch.zeros_like(drop_sorted).scatter(-1, idx, drop_sorted)
        logits = logits.masked_fill(drop, float('-inf'))
    return logits


def gumbel_noise(shape, generator: Optional[torch.Generator], device) -> torch.Tensor:
    """Standard Gumbel noise of ``shape``, computed in place in one buffer."""
    u = torch.rand(shape, generator=generator, device=device).clamp_(1e-10, 1 - 1e-7)
    return u.log_().neg_().log_().neg_()


def gumbel_argmax(logits: torch.Tensor, generator: Optional[torch.Generator]) -> torch.Tensor:
    """One categorical draw per position: argmax(logits + Gumbel). (B, N, K) -> (B, N)."""
    return gumbel_noise(logits.shape, generator, logits.device).add_(logits).argmax(-1)


def balanced_labels(num: int, num_classes: int, start: int = 0,
                    device: Optional[torch.device] = None) -> torch.Tensor:
    """(num,) int64 classes in turn from ``start`` (``start, start + 1, ...`` modulo
    ``num_classes``): every class the same share when ``num`` is a multiple."""
    return torch.arange(start, start + num, device=device) % num_classes


def topk_mask(scores: torch.Tensor, k: int) -> torch.Tensor:
    """(B, N) bool, True at the k highest scores of each row (k the same for all rows)."""
    mask = torch.zeros_like(scores, dtype=torch.bool)
    if k > 0:
        mask.scatter_(1, scores.topk(k, dim=1).indices, True)
    return mask
