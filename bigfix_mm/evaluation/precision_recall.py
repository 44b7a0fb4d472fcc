"""Improved precision and recall (Kynkäänniemi et al., 2019): fidelity and diversity apart.

Each set of features spans a *manifold*: the union of balls around its points,
each ball reaching the point's k-th nearest neighbour within the same set.
Precision is the share of samples inside the reference manifold (fidelity);
recall is the share of reference points inside the samples' manifold
(diversity). Identical sets score 1 / 1; sets far apart score 0 / 0.

:class:`ManifoldCoverage` keeps the per-point indicators, so a bootstrap over
samples costs no new distances: precision averages the resampled samples'
indicators; recall asks, for every reference point, whether any *resampled*
sample covers it (each sample keeps the ball radius of the full set, so repeated
draws do not shrink balls to zero).
"""
from dataclasses import dataclass
from typing import Optional, Tuple

import numpy as np
import torch


def pairwise_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(N, D), (M, D) features -> (N, M) float64 Euclidean distances."""
    return torch.cdist(torch.as_tensor(a, dtype=torch.float64),
                       torch.as_tensor(b, dtype=torch.float64)).numpy()


def knn_radii(feats: np.ndarray, k: int = 3) -> np.ndarray:
    """(N, D) features -> (N,) distance of each point to its k-th nearest other point."""
    n = len(feats)
    if not 1 <= k < n:
        raise ValueError(f'k={k} needs more than k points, got {n}')
    dist = pairwise_distances(feats, feats)
    # column 0 of the sorted rows is the point itself (distance 0)
    return np.partition(dist, k, axis=1)[:, k]


@dataclass
class ManifoldCoverage:
    """Per-point coverage between a sample set (N) and a reference set (R).

    Attributes:
        inside_reference: (N,) bool, sample i lies in some reference ball.
        covered_by: (R, N) bool, reference point j lies in sample i's ball.
    """

    inside_reference: np.ndarray
    covered_by: np.ndarray

    def precision(self, index: Optional[np.ndarray] = None) -> float:
        """Share of samples (the rows ``index`` of the samples, repeats allowed) inside the
        reference manifold."""
        hits = self.inside_reference if index is None else self.inside_reference[index]
        return float(hits.mean())

    def recall(self, index: Optional[np.ndarray] = None) -> float:
        """Share of reference points inside the manifold of the samples ``index``."""
        cover = self.covered_by if index is None else self.covered_by[:, np.unique(index)]
        return float(cover.any(axis=1).mean())


def manifold_coverage(samples: np.ndarray, reference: np.ndarray,
                      k: int = 3) -> ManifoldCoverage:
    """Coverage indicators of (N, D) ``samples`` against (R, D) ``reference`` features."""
    samples = np.asarray(samples, np.float64)
    reference = np.asarray(reference, np.float64)
    dist = pairwise_distances(samples, reference)  # (N, R)
    inside = (dist <= knn_radii(reference, k)[None, :]).any(axis=1)
    covered = (dist <= knn_radii(samples, k)[:, None]).T  # (R, N)
    return ManifoldCoverage(inside, covered)


def precision_recall(samples: np.ndarray, reference: np.ndarray,
                     k: int = 3) -> Tuple[float, float]:
    """Improved (precision, recall) of ``samples`` against ``reference``, with k-NN balls."""
    cov = manifold_coverage(samples, reference, k)
    return cov.precision(), cov.recall()
