"""Tokenizer quality on a held-out split: PSNR, codebook usage and code perplexity."""
import math
from typing import Sequence

import torch
from mmengine.evaluator import BaseMetric

from bigfix_mm.registry import METRICS


@METRICS.register_module()
class VQReconstructionMetric(BaseMetric):
    """Consumes the per-image dicts of ``VQGANTrainer.val_step``.

    Each dict holds ``psnr`` (dB, computed on 8-bit rounded images), ``ids``
    ((h, w) code ids) and ``codebook_size``. Reports ``psnr`` (mean over images),
    ``codebook_usage`` (share of the K codes used at least once on the split)
    and ``perplexity`` (exp of the entropy of the code histogram; K at best).
    """

    default_prefix = 'recon'

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            k = int(sample['codebook_size'])
            ids = torch.as_tensor(sample['ids']).flatten().long().cpu()
            self.results.append(dict(psnr=float(sample['psnr']), codebook_size=k,
                                     counts=torch.bincount(ids, minlength=k)))

    def compute_metrics(self, results: list) -> dict:
        if not results:
            return dict(psnr=math.nan, codebook_usage=math.nan, perplexity=math.nan)
        counts = torch.stack([r['counts'] for r in results]).sum(0).double()  # (K,)
        probs = counts / counts.sum()
        entropy = -(probs[probs > 0] * probs[probs > 0].log()).sum()
        return dict(psnr=sum(r['psnr'] for r in results) / len(results),
                    codebook_usage=float((counts > 0).double().mean()),
                    perplexity=float(entropy.exp()))
