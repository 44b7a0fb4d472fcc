"""Paired bootstrap intervals over samples, and the rule that turns them into words.

Every cell edits the same images with the same masks, labels and seed, so two cells
are compared *paired*: a replicate resamples image indices once and evaluates both
cells on them. A direction is stated only where the interval excludes zero.
"""
from typing import Dict, Sequence

import numpy as np

LEVEL = 0.95
NO_DIFFERENCE = 'no difference detected at this size'


def bootstrap_draws(num_samples: int, replicates: int, seed: int = 0) -> np.ndarray:
    """(replicates, num_samples) int64 index sets, with replacement (shared by all cells)."""
    return np.random.default_rng(seed).integers(0, num_samples, (replicates, num_samples))


def paired_interval(point_a: float, point_b: float, reps_a: Sequence[float],
                    reps_b: Sequence[float], level: float = LEVEL) -> Dict[str, float]:
    """``a - b`` with the percentile interval of paired replicates (same draws)."""
    diffs = np.asarray(reps_a, np.float64) - np.asarray(reps_b, np.float64)
    tail = 100 * (1 - level) / 2
    lo, hi = np.percentile(diffs, [tail, 100 - tail])
    return dict(diff=float(point_a - point_b), lo=float(lo), hi=float(hi), level=level)


def direction(interval: Dict[str, float]) -> int:
    """-1 if the whole interval is below zero, +1 if above, 0 if it contains zero."""
    return -1 if interval['hi'] < 0 else (1 if interval['lo'] > 0 else 0)


def verdict(interval: Dict[str, float], name_a: str, name_b: str, lower_is_better: bool) -> str:
    """``name_a better / worse than name_b`` where the interval excludes zero."""
    sign = direction(interval)
    if sign == 0:
        return NO_DIFFERENCE
    return f'{name_a} {"better" if (sign < 0) == lower_is_better else "worse"} than {name_b}'


def format_interval(interval: Dict[str, float], pattern: str = '{:+.3f}') -> str:
    """``+1.234 [-0.400, +2.900]``."""
    return (f'{pattern.format(interval["diff"])} [{pattern.format(interval["lo"])}, '
            f'{pattern.format(interval["hi"])}]')


class FrechetToReference:
    """Fréchet distance of feature subsets (bootstrap replicates) to one fixed reference
    Gaussian: ``|mu - mu_r|^2 + Tr(C) + Tr(C_r) - 2 Tr((S C S)^(1/2))``, ``S = C_r^(1/2)``,
    with one Gram matrix of the m rows per replicate."""

    def __init__(self, mean: np.ndarray, cov: np.ndarray):
        self.mean = np.asarray(mean, np.float64)
        vals, vecs = np.linalg.eigh((cov + cov.T) / 2)
        self.sqrt_cov = (vecs * np.sqrt(np.clip(vals, 0.0, None))) @ vecs.T
        self.trace = float(np.trace(cov))

    def distance(self, feats: np.ndarray, index=None) -> float:
        """FD of ``feats`` (N, D) rows ``index`` (all if None; repeats allowed)."""
        feats = np.asarray(feats, np.float64) if index is None else np.asarray(feats)[index]
        m = feats.shape[0]
        mu = feats.mean(0)
        centred = feats - mu
        proj = centred @ self.sqrt_cov
        gram = proj @ proj.T if m <= proj.shape[1] else proj.T @ proj
        tr_sqrt = float(np.sqrt(np.clip(np.linalg.eigvalsh(gram / (m - 1)), 0.0, None)).sum())
        return (float(((mu - self.mean)**2).sum()) + float((centred**2).sum() / (m - 1))
                + self.trace - 2.0 * tr_sqrt)
