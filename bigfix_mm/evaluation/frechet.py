"""Fréchet distance between Gaussian fits of feature sets, and cached statistics.

Pure numpy / torch (no MMagic import), shared by the feature-distance metrics.
"""
import json
from typing import Dict, Optional, Tuple, Union

import numpy as np
import torch

from bigfix_mm.core.files import atomic_path

ArrayLike = Union[np.ndarray, torch.Tensor]


def feature_statistics(features: ArrayLike) -> Tuple[np.ndarray, np.ndarray]:
    """Mean and covariance of a feature set.

    Args:
        features: (N, D) features, N >= 2.

    Returns:
        ``(mean (D,), cov (D, D))`` float64 (unbiased covariance).
    """
    feats = features.detach().cpu().double().numpy() if isinstance(features, torch.Tensor) \
        else np.asarray(features, dtype=np.float64)
    if feats.ndim != 2 or feats.shape[0] < 2:
        raise ValueError(f'features must be (N, D) with N >= 2, got shape {feats.shape}')
    return feats.mean(0), np.cov(feats, rowvar=False)


def _psd_sqrt(cov: np.ndarray) -> np.ndarray:
    """Symmetric square root of a positive semi-definite matrix (eigh, clipped)."""
    vals, vecs = np.linalg.eigh((cov + cov.T) / 2)
    return (vecs * np.sqrt(np.clip(vals, 0.0, None))) @ vecs.T


def frechet_distance(mu1: np.ndarray, cov1: np.ndarray, mu2: np.ndarray,
                     cov2: np.ndarray) -> Dict[str, float]:
    """Fréchet distance ``|mu1 - mu2|^2 + Tr(C1 + C2 - 2 (C1 C2)^(1/2))``.

    ``Tr((C1 C2)^(1/2))`` is computed as the sum of square roots of the
    eigenvalues of the symmetric PSD matrix ``C1^(1/2) C2 C1^(1/2)`` (two
    ``eigh`` calls: seconds for D = 2048 instead of a minute for ``sqrtm``).

    Args:
        mu1, mu2: (D,) means.
        cov1, cov2: (D, D) covariances.

    Returns:
        ``dict(fd=..., mean=..., cov=...)``: the distance and its mean and
        covariance terms (``fd = mean + cov``).
    """
    mu1, mu2 = np.asarray(mu1, np.float64), np.asarray(mu2, np.float64)
    cov1, cov2 = np.asarray(cov1, np.float64), np.asarray(cov2, np.float64)
    if mu1.shape != mu2.shape or cov1.shape != cov2.shape or cov1.shape != mu1.shape * 2:
        raise ValueError(f'statistics do not match: mean {mu1.shape} vs {mu2.shape}, '
                         f'cov {cov1.shape} vs {cov2.shape}')
    diff = mu1 - mu2
    mean_term = float(diff @ diff)
    sqrt1 = _psd_sqrt(cov1)
    middle = sqrt1 @ cov2 @ sqrt1
    eig = np.linalg.eigvalsh((middle + middle.T) / 2)
    tr_sqrt = float(np.sqrt(np.clip(eig, 0.0, None)).sum())
    cov_term = float(np.trace(cov1) + np.trace(cov2) - 2.0 * tr_sqrt)
    return dict(fd=mean_term + cov_term, mean=mean_term, cov=cov_term)


def save_statistics(path: str, mean: np.ndarray, cov: np.ndarray, meta: dict) -> None:
    """Write ``mean``, ``cov`` and a JSON ``meta`` dict to an ``.npz`` (atomic)."""
    with atomic_path(path) as tmp, open(tmp, 'wb') as f:  # a file object: no suffix added
        np.savez(f, mean=mean, cov=cov, meta=np.array(json.dumps(meta, sort_keys=True)))


def load_statistics(path: str, expect_meta: Optional[dict] = None,
                    option: str = 'real_stats') -> Tuple[np.ndarray, np.ndarray, dict]:
    """Read statistics written by :func:`save_statistics` (no pickle).

    Args:
        path: the ``.npz`` file.
        expect_meta: entries the file's meta must match (feature network,
            image size, data, ...); a mismatch raises ``ValueError``.
        option: the config option that names ``path`` (for error messages).

    Returns:
        ``(mean (D,), cov (D, D), meta)``.
    """
    with np.load(path, allow_pickle=False) as npz:
        mean, cov, meta = npz['mean'], npz['cov'], json.loads(str(npz['meta']))
    for key, value in (expect_meta or {}).items():
        if meta.get(key) != value:
            raise ValueError(
                f'{option}={path!r} holds statistics made with {key}={meta.get(key)!r}, but this '
                f'evaluation uses {key}={value!r}. Delete the file to recompute it, or point '
                f'`{option}` to another path.')
    return mean, cov, meta
