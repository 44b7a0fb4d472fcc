"""Real-image features for the generative metrics: a deterministic subset, one pass, cached.

Shared by the metrics that compare generated images with a real split (the
EfficientNet Fréchet distance, and cache naming for the Inception metrics).
"""
import hashlib
import json
import os.path as osp
from typing import Callable, List, Optional

import numpy as np
import torch
from mmengine.dataset import pseudo_collate
from mmengine.dist import all_gather, get_dist_info
from torch.utils.data import DataLoader, Dataset

DEFAULT_CACHE_DIR = osp.join(osp.expanduser('~'), '.cache', 'bigfix_mm')


def cache_dir(path: Optional[str] = None) -> str:
    """``path``, else ``$BIGFIX_CACHE``, else ``~/.cache/bigfix_mm``."""
    import os
    return path or os.environ.get('BIGFIX_CACHE') or DEFAULT_CACHE_DIR


def _simple(value):
    if isinstance(value, (bool, int, float, str, type(None))):
        return value
    if isinstance(value, (tuple, list)) and all(
            isinstance(v, (bool, int, float, str)) for v in value):
        return list(value)
    return None


def describe_dataset(dataset: Dataset) -> dict:
    """A JSON-able, address-free description of a dataset and its pipeline.

    Used as a cache key: MMagic's default key hashes ``repr(pipeline)``, which
    holds object addresses for transforms without ``__repr__`` and so changes
    every run.
    """
    pipeline = []
    for t in getattr(getattr(dataset, 'pipeline', None), 'transforms', []) or []:
        attrs = {k: _simple(v) for k, v in sorted(vars(t).items()) if not k.startswith('_')}
        pipeline.append([type(t).__name__, {k: v for k, v in attrs.items() if v is not None}])
    desc = dict(type=type(dataset).__name__, length=len(dataset),
                data_root=str(getattr(dataset, 'data_root', '') or ''),
                split=str(getattr(dataset, 'split', '') or ''), pipeline=pipeline,
                indices=_simple(getattr(dataset, '_indices', None)))  # a BaseDataset subset
    return json.loads(json.dumps(desc, sort_keys=True))


def meta_hash(meta: dict, length: int = 12) -> str:
    """Short sha256 of a JSON-able dict (stable across runs)."""
    return hashlib.sha256(json.dumps(meta, sort_keys=True).encode()).hexdigest()[:length]


def subset_indices(length: int, real_nums: int, seed: int = 0) -> List[int]:
    """Indices of the real images to use: all (``real_nums=-1``) or a seeded random subset.

    A random subset, not the first ``real_nums`` items: class-sorted data sets
    (the CIFAR-10 copy) would otherwise give a one-class reference.
    """
    if real_nums == -1 or real_nums >= length:
        return list(range(length))
    if real_nums < 2:
        raise ValueError(f'real_nums={real_nums} must be -1 (all) or >= 2')
    rng = np.random.default_rng(seed)
    return sorted(rng.choice(length, size=real_nums, replace=False).tolist())


@torch.no_grad()
def extract_real_features(dataloader: DataLoader,
                          data_preprocessor: torch.nn.Module,
                          extract: Callable[[torch.Tensor], torch.Tensor],
                          indices: List[int],
                          real_key: str = 'gt_img') -> torch.Tensor:
    """Features of ``dataloader.dataset[indices]`` (all ranks gathered).

    The images come from the data preprocessor as MMagic's metrics read them:
    ``getattr(data_samples, real_key)`` (B, 3, H, W) float BGR in [0, 255].

    Returns:
        (len(indices), D) float32 features on the CPU (order may differ
        across world sizes; only statistics are taken from them).
    """
    rank, world = get_dist_info()
    loader = DataLoader(dataloader.dataset, batch_size=dataloader.batch_size or 1,
                        sampler=indices[rank::world], collate_fn=pseudo_collate,
                        shuffle=False, drop_last=False, num_workers=0)
    feats = []
    for data in loader:
        data_samples = data_preprocessor(data, False)['data_samples']
        img = getattr(data_samples, real_key, None)
        if img is None:
            raise KeyError(
                f'the real images carry no `{real_key}`: pack them with '
                "dict(type='PackTokenInputs', keys=(), gt_img=True) in the evaluation "
                'dataloader pipeline (configs/_base_/evaluation/generative_cifar10.py).')
        feats.append(extract(img).float().cpu())
    local = torch.cat(feats) if feats else torch.zeros(0)
    return torch.cat(all_gather(local))[:len(indices)]
