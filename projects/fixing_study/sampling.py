"""Sample one cell of one twin and score every image: EfficientNet-Lite0 features and
classifier predictions, kept per sample so that cells can be compared paired."""
import time
from typing import Dict, Optional

import numpy as np
import torch

from bigfix_mm.evaluation.classifier import CifarClassifier
from bigfix_mm.evaluation.efficientnet import EfficientNetLite0Features


def batch_seed(seed: int, index: int) -> int:
    """Seed of batch ``index`` of sampling seed ``seed``: every sampler starts
    batch ``index`` from the same random stream (and the same labels)."""
    return int(seed) * 1_000_003 + int(index)


def balanced_labels(num: int, num_classes: int) -> torch.Tensor:
    """(num,) int64: classes in turn (the same for every cell)."""
    return torch.arange(num) % num_classes


@torch.no_grad()
def to_bgr255(images_rgb01: torch.Tensor) -> torch.Tensor:
    """(B, 3, H, W) RGB in [0, 1] -> whole 8-bit levels, BGR, float (MMagic's image contract)."""
    return (images_rgb01 * 255.0).round_().clamp_(0, 255).flip(1)


@torch.no_grad()
def decode_ids(model, ids: torch.Tensor, batch_size: int = 500) -> torch.Tensor:
    """(N, L) int64 ids -> (N, 3, H, W) float RGB in [0, 1] on the CPU, decoded in chunks."""
    return torch.cat([model.decode(chunk.view(-1, *model.grid).to(model.device)).float().cpu()
                      for chunk in ids.split(batch_size)])


@torch.no_grad()
def score_images(images_bgr: torch.Tensor, features: EfficientNetLite0Features,
                 classifier: Optional[CifarClassifier],
                 batch_size: int = 100) -> Dict[str, np.ndarray]:
    """Features (N, 1280) float32 and classifier logits (N, C) float32 of BGR images."""
    feats, logits = [], []
    for chunk in images_bgr.split(batch_size):
        feats.append(features(chunk))
        if classifier is not None:
            logits.append(classifier.classify_bgr(chunk))
    out = dict(features=torch.cat(feats).float().numpy())
    if classifier is not None:
        out['logits'] = torch.cat(logits).float().numpy()
    return out


@torch.no_grad()
def sample_cell(model, sampler_cfg: dict, seed: int, num: int,
                features: EfficientNetLite0Features, classifier: Optional[CifarClassifier],
                batch_size: int = 100) -> Dict[str, np.ndarray]:
    """``num`` class-balanced samples of one sampler, scored.

    Returns:
        ``tokens`` (N, L) int16, ``labels`` (N,) int64, ``features`` (N, 1280)
        float32, ``logits`` (N, C) float32 (with a classifier) and
        ``seconds`` (sampling, scoring) float64.
    """
    from bigfix_mm.registry import MODELS
    sampler = MODELS.build(dict(sampler_cfg))
    labels = balanced_labels(num, model.num_classes)
    tokens, images = [], []
    start = time.time()
    for b, chunk in enumerate(labels.split(batch_size)):
        gen = torch.Generator(device=model.device).manual_seed(batch_seed(seed, b))
        ids = model.sample(chunk.to(model.device), sampler=sampler, generator=gen)
        tokens.append(ids.flatten(1).cpu())
        images.append(to_bgr255(model.decode(ids).float().cpu()))
    t_sample = time.time() - start
    scored = score_images(torch.cat(images), features, classifier, batch_size)
    return dict(tokens=torch.cat(tokens).to(torch.int16).numpy(), labels=labels.numpy(),
                seconds=np.array([t_sample, time.time() - start - t_sample]), **scored)
