"""The real side of every distance: the 10,000 CIFAR-10 test images, and the same images
passed through the tokenizer and back (the floor a perfect token model reaches)."""
import os.path as osp
from typing import Dict, Optional

import numpy as np
import torch

from bigfix_mm.evaluation.frechet import feature_statistics, frechet_distance
from .cache import key_hash, read_npz, write_npz
from .classifier_training import load_cifar10_arrays
from .sampling import score_images, to_bgr255


def reference_features(cache_dir: str, tokenizer, tokenizer_cfg: dict, features, classifier,
                       classifier_digest: Optional[str], data_root: Optional[str] = None,
                       limit: Optional[int] = None, batch_size: int = 100) -> Dict[str, np.ndarray]:
    """Features and classifier logits of the real test split and of its token round trip.

    Cached in ``cache_dir/reference_<hash>.npz`` (keyed by the feature network,
    its input size, the tokenizer config and the classifier). ``limit``: an
    evenly spread subset (toy runs); None: all 10,000.

    Returns:
        ``real_features`` / ``token_features`` (N, 1280) float32,
        ``real_logits`` / ``token_logits`` (N, C), ``labels`` (N,).
    """
    key = dict(network='efficientnet-lite0', weights=features.weights_digest,
               image_size=features.image_size, tokenizer=tokenizer_cfg,
               classifier=classifier_digest, split='test', data_root=data_root, limit=limit)
    path = osp.join(cache_dir, f'reference_{key_hash(key)}.npz')
    if osp.isfile(path):
        return read_npz(path)
    print(f'[study] embedding the real test split and its token round trip -> {path}',
          flush=True)
    images, labels = load_cifar10_arrays('test', data_root, limit)  # (N, 3, 32, 32) uint8 RGB
    real_bgr = images.flip(1).float()
    tok_bgr = []
    with torch.no_grad():
        for chunk in images.split(500):
            rgb01 = chunk.float() / 255.0
            tok_bgr.append(to_bgr255(tokenizer.decode(tokenizer.encode(rgb01))))
    real = score_images(real_bgr, features, classifier, batch_size)
    tok = score_images(torch.cat(tok_bgr), features, classifier, batch_size)
    out = dict(real_features=real['features'], token_features=tok['features'],
               labels=labels.numpy())
    if classifier is not None:
        out.update(real_logits=real['logits'], token_logits=tok['logits'])
    write_npz(path, **out)
    return out


def floor_distances(ref: Dict[str, np.ndarray], subset: int) -> Dict[str, float]:
    """FD of the token round trip to the real statistics: all images, and the mean
    and spread over disjoint subsets of ``subset`` images (a cell's sample size)."""
    mu, cov = feature_statistics(ref['real_features'])
    out = dict(full=frechet_distance(*feature_statistics(ref['token_features']), mu, cov)['fd'])
    n = len(ref['token_features'])
    subset = min(int(subset), n // 2)  # at least two disjoint subsets
    perm = np.random.default_rng(0).permutation(n)
    values = [frechet_distance(*feature_statistics(ref['token_features'][perm[i:i + subset]]),
                               mu, cov)['fd'] for i in range(0, n - subset + 1, subset)]
    real_values = [frechet_distance(*feature_statistics(ref['real_features'][perm[i:i + subset]]),
                                    mu, cov)['fd'] for i in range(0, n - subset + 1, subset)]
    out.update(subset=subset, subset_mean=float(np.mean(values)), subset_sd=float(np.std(values)),
               subsets=len(values), real_subset_mean=float(np.mean(real_values)))
    return out
