"""The reference side of every metric: real test images and their token round trip.

The CIFAR-10 test split is cut once, by a fixed permutation, into a *reference*
half and a disjoint *probe* set:

- the reference half gives the distributions a cell is measured against: its
  real images (``ref_real``) and their round trip through the tokenizer
  (``ref_rt``, what a perfect token model reproduces);
- the probe set (a cell's sample size) gives what a perfect model would score:
  its round trip against ``ref_rt`` is the metric's noise floor, and its
  corrupted round trips are the ladder (:mod:`.ladder`); its real images give
  the real-image baseline.
"""
import os.path as osp
from typing import Dict, Optional

import numpy as np
import torch

from .cache import Store, key_hash, read_npz, write_npz
from projects.classifier_training.training import load_cifar10_arrays
from .sampling import score_images, to_bgr255

SPLIT_SEED = 0


def split_indices(total: int, ref_size: int, probe_size: int) -> Dict[str, np.ndarray]:
    """Disjoint ``ref`` and ``probe`` index sets of the test split (fixed permutation)."""
    if ref_size + probe_size > total:
        raise ValueError(f'--ref-size {ref_size} + a cell\'s {probe_size} samples exceed the '
                         f'{total} test images: lower --ref-size')
    perm = np.random.default_rng(SPLIT_SEED).permutation(total)
    return dict(ref=np.sort(perm[:ref_size]), probe=np.sort(perm[ref_size:ref_size + probe_size]))


def probe_images(ref_size: int, probe_size: int, data_root: Optional[str] = None):
    """The probe set's real test images and labels: ``((n, 3, 32, 32) uint8 RGB, (n,) int64)``,
    in the order of ``reference_sets``' ``probe_*`` arrays (disjoint from the reference half)."""
    images, labels = load_cifar10_arrays('test', data_root)
    idx = split_indices(len(images), ref_size, probe_size)['probe']
    return images[idx], labels[idx]


@torch.no_grad()
def round_trip(tokenizer, images: torch.Tensor, batch: int = 500):
    """(N, 3, H, W) uint8 RGB -> ((N, h, w) int64 ids, (N, 3, H, W) float BGR 0-255 decoded)."""
    ids, out = [], []
    for chunk in images.split(batch):
        tok = tokenizer.encode(chunk.float() / 255.0)
        ids.append(tok.long().cpu())
        out.append(to_bgr255(tokenizer.decode(tok).float().cpu()))
    return torch.cat(ids), torch.cat(out)


def reference_sets(store: Store, model, tokenizer_key: dict, features, classifier,
                   score_key: dict, ref_size: int, probe_size: int,
                   data_root: Optional[str] = None) -> Dict[str, np.ndarray]:
    """Features, classifier logits and ids of the reference and probe sets (cached).

    Returns:
        ``ref_real_features`` / ``ref_rt_features`` (R, 1280), ``ref_real_logits`` /
        ``ref_rt_logits`` (R, C), ``ref_labels`` (R,), ``probe_real_features`` (n, 1280),
        ``probe_real_logits`` (n, C), ``probe_tokens`` (n, L) int64 ids of the probe's
        round trip, ``probe_labels`` (n,).
    """
    key = dict(score=score_key, tokenizer=tokenizer_key, ref_size=int(ref_size),
               probe_size=int(probe_size), data_root=data_root, split_seed=SPLIT_SEED)
    path = store.path('reference', key, 'npz')
    if osp.isfile(path):
        return read_npz(path)
    print(f'[study] embedding the reference and probe test images -> {path}', flush=True)
    images, labels = load_cifar10_arrays('test', data_root)  # (N, 3, 32, 32) uint8 RGB
    idx = split_indices(len(images), ref_size, probe_size)
    ref_img, probe_img = images[idx['ref']], images[idx['probe']]
    _, ref_rt = round_trip(model.tokenizer, ref_img)
    probe_ids, _ = round_trip(model.tokenizer, probe_img)
    ref_real = score_images(ref_img.flip(1).float(), features, classifier)
    ref_rt_s = score_images(ref_rt, features, classifier)
    probe_real = score_images(probe_img.flip(1).float(), features, classifier)
    out = dict(ref_real_features=ref_real['features'], ref_real_logits=ref_real['logits'],
               ref_rt_features=ref_rt_s['features'], ref_rt_logits=ref_rt_s['logits'],
               ref_labels=labels[idx['ref']].numpy(),
               probe_real_features=probe_real['features'],
               probe_real_logits=probe_real['logits'],
               probe_tokens=probe_ids.flatten(1).numpy().astype(np.int64),
               probe_labels=labels[idx['probe']].numpy())
    write_npz(path, **out)
    return out


def full_test_split_features(cache_dir: str, tokenizer, tokenizer_cfg: dict, features,
                             classifier, classifier_digest: Optional[str],
                             data_root: Optional[str] = None, limit: Optional[int] = None,
                             batch_size: int = 100) -> Dict[str, np.ndarray]:
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
    real = score_images(images.flip(1).float(), features, classifier, batch_size)
    tok = score_images(round_trip(tokenizer, images)[1], features, classifier, batch_size)
    out = dict(real_features=real['features'], token_features=tok['features'],
               labels=labels.numpy())
    if classifier is not None:
        out.update(real_logits=real['logits'], token_logits=tok['logits'])
    write_npz(path, **out)
    return out

