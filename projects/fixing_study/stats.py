"""Paired intervals for the study's comparisons, and the rule that turns them into words.

Every cell of the study draws sample ``i`` of seed ``s`` with the same class
label and the same random stream, so two cells are compared *paired*: the
intervals are delete-a-group jackknife t-intervals whose groups (sample indices,
dealt within each seed) are the same for every cell. A Fréchet distance costs one
eigen-decomposition per group (a bootstrap would need one per replicate, tens of
times more on a CPU); it is computed from the Gram matrix of features
pre-multiplied by the square root of the reference covariance
(:class:`FrechetToReference`).
"""
import math
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch

LEVEL = 0.95
NO_DIFFERENCE = 'no difference detected at this size'


# ------------------------------------------------------------------ resampling
def jackknife_groups(group_sizes: Sequence[int], per_group: int) -> List[np.ndarray]:
    """Leave-one-group-out index sets for a delete-a-group jackknife.

    The samples of every sampling seed (laid out seed after seed) are dealt into
    ``per_group`` groups in turn (sample i to group i mod ``per_group``), so every
    group holds every class; the same groups serve every cell: that is the pairing.

    Returns:
        ``len(group_sizes) * per_group`` int64 arrays: the indices *kept* when one
        group is left out.
    """
    labels, start = [], 0
    for g, size in enumerate(group_sizes):
        labels.append(g * per_group + np.arange(size) % per_group)
        start += size
    labels = np.concatenate(labels)
    return [np.flatnonzero(labels != g) for g in range(len(group_sizes) * per_group)]


def jackknife_interval(point: float, leave_out: Sequence[float],
                       level: float = LEVEL) -> Dict[str, float]:
    """``point`` with the t-interval of its delete-a-group jackknife standard error.

    ``leave_out[g]``: the statistic without group g (G values);
    ``se^2 = (G - 1) / G * sum_g (x_g - mean)^2``, ``G - 1`` degrees of freedom.
    """
    from scipy import stats
    values = np.asarray(leave_out, dtype=np.float64)
    g = values.size
    if g < 2:
        raise ValueError(f'need at least 2 jackknife groups, got {g}')
    se = math.sqrt((g - 1) / g * float(((values - values.mean()) ** 2).sum()))
    half = float(stats.t.ppf(0.5 + level / 2, g - 1)) * se
    return dict(diff=float(point), lo=float(point) - half, hi=float(point) + half,
                level=level, se=se)


def paired_jackknife(point_a: float, point_b: float, leave_a: Sequence[float],
                     leave_b: Sequence[float], level: float = LEVEL) -> Dict[str, float]:
    """Difference ``a - b`` with the jackknife interval of the paired leave-out
    differences (both computed without the same group)."""
    leave_a, leave_b = np.asarray(leave_a, np.float64), np.asarray(leave_b, np.float64)
    if leave_a.shape != leave_b.shape:
        raise ValueError(f'paired leave-out values differ in number: {leave_a.shape} vs '
                         f'{leave_b.shape}')
    return jackknife_interval(point_a - point_b, leave_a - leave_b, level)


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
class PreparedSet:
    """One feature set ready for repeated Fréchet distances to a fixed reference.

    Holds (N, D) features, their row norms, and the (N, N) Gram matrix of the
    features multiplied by the reference's covariance square root, so that any
    index set (a jackknife group's kept samples, a seed) needs only an (m, m) centring and
    one symmetric eigen-decomposition. float64, torch (faster than numpy's BLAS here).
    """

    def __init__(self, feats: np.ndarray, sqrt_cov: torch.Tensor):
        self.feats = torch.as_tensor(np.asarray(feats), dtype=torch.float64)
        proj = self.feats @ sqrt_cov  # (N, D)
        proj = proj - proj.mean(0)  # any offset cancels in H G H; this one keeps precision
        self.gram = proj @ proj.T  # (N, N)
        self.sq_norms = (self.feats ** 2).sum(1)  # (N,)

    def __len__(self) -> int:
        return self.feats.shape[0]


class FrechetToReference:
    """Fréchet distance of feature subsets to one fixed reference Gaussian.

    ``FD = |mu - mu_r|^2 + Tr(C) + Tr(C_r) - 2 Tr((S C S)^(1/2))`` with
    ``S = C_r^(1/2)``. :meth:`prepare` multiplies a set by ``S`` and forms its Gram
    matrix once; the eigenvalues of the centred Gram matrix of any index set are
    those of ``S C S`` (times m - 1), so a subset costs one eigen-decomposition of
    size m.

    Args:
        mean: (D,) reference mean.
        cov: (D, D) reference covariance.
    """

    def __init__(self, mean: np.ndarray, cov: np.ndarray):
        self.mean = torch.as_tensor(np.asarray(mean), dtype=torch.float64)
        cov = torch.as_tensor(np.asarray(cov), dtype=torch.float64)
        vals, vecs = torch.linalg.eigh((cov + cov.T) / 2)
        self.sqrt_cov = (vecs * vals.clamp(min=0.0).sqrt()) @ vecs.T
        self.trace = float(torch.trace(cov))

    def prepare(self, feats: np.ndarray) -> PreparedSet:
        """(N, D) features -> a :class:`PreparedSet`."""
        return PreparedSet(feats, self.sqrt_cov)

    def distance(self, prepared: PreparedSet, index: Optional[np.ndarray] = None) -> float:
        """FD of the rows ``index`` (all rows if None; repeats allowed)."""
        idx = (torch.arange(len(prepared)) if index is None else
               torch.as_tensor(np.asarray(index), dtype=torch.long))
        m = int(idx.numel())
        if m < 2:
            raise ValueError(f'need at least 2 samples for a covariance, got {m}')
        feats = prepared.feats[idx]
        mu = feats.mean(0)
        mean_term = float(((mu - self.mean) ** 2).sum())
        trace_c = float((prepared.sq_norms[idx].sum() - m * (mu ** 2).sum()) / (m - 1))
        g = prepared.gram[idx][:, idx]
        row = g.mean(1, keepdim=True)
        centred = g - row - row.T + g.mean()  # H G H, H the centring matrix
        eig = torch.linalg.eigvalsh(centred / (m - 1))
        # the centred Gram matrix has rank <= min(m - 1, D): its other eigenvalues are
        # rounding noise, whose square roots would add up; they are zero
        eig = torch.where(eig > 1e-12 * eig.max().clamp(min=0.0), eig, torch.zeros_like(eig))
        tr_sqrt = float(eig.sqrt().sum())
        return mean_term + trace_c + self.trace - 2.0 * tr_sqrt

    def replicates(self, prepared: PreparedSet, draws: np.ndarray) -> List[float]:
        """FD of every index set in ``draws`` (e.g. the kept indices of every jackknife group)."""
        return [self.distance(prepared, idx) for idx in draws]
