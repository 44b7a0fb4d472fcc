"""Paired intervals for the study's comparisons, and the rule that turns them into words.

Every cell of the study draws sample ``i`` of seed ``s`` with the same class
label and the same random stream, so two cells are compared *paired*: a
bootstrap replicate resamples sample indices (within each seed) once and
evaluates both cells on the same indices. The Fréchet distance of a replicate
is computed cheaply from features pre-multiplied by the square root of the
reference covariance (:class:`FrechetToReference`).
"""
import math
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

LEVEL = 0.95
NO_DIFFERENCE = 'no difference detected at this size'


# ------------------------------------------------------------------ resampling
def bootstrap_draws(group_sizes: Sequence[int], num: int, seed: int = 0) -> np.ndarray:
    """Stratified bootstrap index sets: each replicate resamples, with replacement,
    within every group (a sampling seed) and keeps the group sizes.

    Args:
        group_sizes: samples per group; samples are laid out group after group.
        num: number of replicates.
        seed: RNG seed (the same draws for every cell: that is the pairing).

    Returns:
        (num, sum(group_sizes)) int64 indices.
    """
    rng = np.random.default_rng(seed)
    out = np.empty((int(num), int(sum(group_sizes))), dtype=np.int64)
    start = 0
    for size in group_sizes:
        out[:, start:start + size] = start + rng.integers(0, size, (int(num), size))
        start += size
    return out


def percentile_interval(values: Sequence[float], level: float = LEVEL) -> Tuple[float, float]:
    """The central ``level`` percentile interval of bootstrap replicates."""
    values = np.asarray(values, dtype=np.float64)
    if values.size < 2:
        raise ValueError(f'need at least 2 replicates, got {values.size}')
    tail = 100 * (1 - level) / 2
    lo, hi = np.percentile(values, [tail, 100 - tail])
    return float(lo), float(hi)


def paired_interval(point_a: float, point_b: float, reps_a: Sequence[float],
                    reps_b: Sequence[float], level: float = LEVEL) -> Dict[str, float]:
    """Difference ``a - b`` with the percentile interval of its paired replicates.

    ``reps_a[r]`` and ``reps_b[r]`` must come from the same resampled indices
    (see :func:`bootstrap_draws`); that is what makes the interval paired.
    """
    reps_a, reps_b = np.asarray(reps_a, np.float64), np.asarray(reps_b, np.float64)
    if reps_a.shape != reps_b.shape:
        raise ValueError(f'paired replicates differ in number: {reps_a.shape} vs {reps_b.shape}')
    lo, hi = percentile_interval(reps_a - reps_b, level)
    return dict(diff=float(point_a - point_b), lo=lo, hi=hi, level=level)


def t_interval(diffs: Sequence[float], level: float = LEVEL) -> Dict[str, float]:
    """Student-t interval of the mean of per-seed paired differences."""
    from scipy import stats
    diffs = np.asarray(diffs, dtype=np.float64)
    if diffs.size < 2:
        raise ValueError(f'need at least 2 seeds for a t-interval, got {diffs.size}')
    mean = float(diffs.mean())
    half = float(stats.t.ppf(0.5 + level / 2, diffs.size - 1) * diffs.std(ddof=1)
                 / math.sqrt(diffs.size))
    return dict(diff=mean, lo=mean - half, hi=mean + half, level=level)


# ------------------------------------------------------------------------ words
def direction(interval: Dict[str, float]) -> int:
    """-1 if the whole interval is below zero, +1 if above, 0 if it contains zero."""
    if interval['hi'] < 0:
        return -1
    if interval['lo'] > 0:
        return 1
    return 0


def verdict(interval: Dict[str, float], name_a: str, name_b: str, metric: str = 'FD',
            lower_is_better: bool = True) -> str:
    """Words for a paired difference ``a - b``: a direction only when the interval
    excludes zero, otherwise :data:`NO_DIFFERENCE`."""
    sign = direction(interval)
    if sign == 0:
        return NO_DIFFERENCE
    better = (sign < 0) == lower_is_better
    return (f'{name_a} {"better" if better else "worse"} than {name_b} '
            f'({metric} {"lower" if sign < 0 else "higher"})')


def format_interval(interval: Dict[str, float], pattern: str = '{:+.2f}') -> str:
    """``+1.23 [-0.40, +2.90]``."""
    return (f'{pattern.format(interval["diff"])} [{pattern.format(interval["lo"])}, '
            f'{pattern.format(interval["hi"])}]')


# -------------------------------------------------------------------- Fréchet
class FrechetToReference:
    """Fréchet distance of feature subsets to one fixed reference Gaussian.

    ``FD = |mu - mu_r|^2 + Tr(C) + Tr(C_r) - 2 Tr((S C S)^(1/2))`` with
    ``S = C_r^(1/2)``. Features are multiplied by ``S`` once per cell
    (:meth:`prepare`); a subset then needs one Gram matrix and one symmetric
    eigen-decomposition of size min(m, D).

    Args:
        mean: (D,) reference mean.
        cov: (D, D) reference covariance.
    """

    def __init__(self, mean: np.ndarray, cov: np.ndarray):
        self.mean = np.asarray(mean, np.float64)
        cov = np.asarray(cov, np.float64)
        vals, vecs = np.linalg.eigh((cov + cov.T) / 2)
        self.sqrt_cov = (vecs * np.sqrt(np.clip(vals, 0.0, None))) @ vecs.T
        self.trace = float(np.trace(cov))

    def prepare(self, feats: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """(N, D) features -> (features, features @ S), both float64."""
        feats = np.asarray(feats, np.float64)
        return feats, feats @ self.sqrt_cov

    def distance(self, prepared: Tuple[np.ndarray, np.ndarray],
                 index: Optional[np.ndarray] = None) -> float:
        """FD of the rows ``index`` (all rows if None; repeats allowed)."""
        feats, proj = prepared
        if index is not None:
            feats, proj = feats[index], proj[index]
        m = feats.shape[0]
        if m < 2:
            raise ValueError(f'need at least 2 samples for a covariance, got {m}')
        mu = feats.mean(0)
        mean_term = float(((mu - self.mean)**2).sum())
        trace_c = float(((feats - mu)**2).sum() / (m - 1))
        centred = proj - proj.mean(0)
        gram = centred @ centred.T if m <= centred.shape[1] else centred.T @ centred
        eig = np.linalg.eigvalsh(gram / (m - 1))
        tr_sqrt = float(np.sqrt(np.clip(eig, 0.0, None)).sum())
        return mean_term + trace_c + self.trace - 2.0 * tr_sqrt

    def replicates(self, prepared: Tuple[np.ndarray, np.ndarray],
                   draws: np.ndarray) -> List[float]:
        """FD of every bootstrap index set in ``draws`` (R, N)."""
        return [self.distance(prepared, idx) for idx in draws]
