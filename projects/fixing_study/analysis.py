"""Numbers of the study: per-set metrics with their jackknife leave-out values, and the paired
comparisons that the page states in words.

Metrics of a set of images (a cell's samples, or a step of the ladder):

- ``fd_tok``: Fréchet distance to the token round trip of the reference half of
  the test split, the distribution a perfect token model reproduces (primary);
- ``fd_real``: Fréchet distance to the real images of the same half;
- ``precision`` / ``recall``: improved k-NN precision and recall against the
  round trip (fidelity and diversity apart);
- ``acc``: share (%) the CIFAR-10 classifier assigns to the conditioned class.
"""
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from bigfix_mm.evaluation.frechet import feature_statistics
from bigfix_mm.evaluation.precision_recall import ManifoldCoverage, manifold_coverage

from .cells import Cell
from .stats import (FrechetToReference, direction, jackknife_groups, jackknife_interval,
                    paired_jackknife, t_interval)

# metric -> (its name on the page, lower is better)
METRICS = {'fd_tok': ('FD to the round trip', True), 'precision': ('precision', False),
           'recall': ('recall', False), 'acc': ('accuracy', False)}


@dataclass
class SetStats:
    """Pooled metrics of one set of images over every seed (samples laid out seed after seed)."""

    fd_tok: float
    fd_tok_leave_out: List[float]
    fd_tok_seeds: List[float]
    fd_real: float
    fd_real_seeds: List[float]
    coverage: ManifoldCoverage
    correct: np.ndarray  # (N,) bool
    seconds: float = 0.0

    @property
    def precision(self) -> float:
        return self.coverage.precision()

    @property
    def recall(self) -> float:
        return self.coverage.recall()

    @property
    def acc(self) -> float:
        return float(100.0 * self.correct.mean())

    def value(self, metric: str) -> float:
        return float(getattr(self, metric))

    def leave_out(self, metric: str, groups: Sequence[np.ndarray]) -> np.ndarray:
        """(G,) values of ``metric`` on the kept indices of every jackknife group."""
        if metric == 'fd_tok':
            return np.asarray(self.fd_tok_leave_out, np.float64)
        if metric == 'precision':
            return np.array([self.coverage.precision(idx) for idx in groups])
        if metric == 'recall':
            return np.array([self.coverage.recall(idx) for idx in groups])
        if metric == 'acc':
            return np.array([100.0 * self.correct[idx].mean() for idx in groups])
        raise KeyError(metric)

    def interval(self, metric: str, groups: Sequence[np.ndarray]) -> Tuple[float, float]:
        iv = jackknife_interval(self.value(metric), self.leave_out(metric, groups))
        return iv['lo'], iv['hi']


class Scorer:
    """The references of one token space and the metrics of any image set against them.

    Args:
        ref: the output of :func:`.reference.reference_sets`.
        pr_size: size of the round-trip subset that precision / recall compare
            with (a cell's sample size: both sides the same size).
        k: neighbours of the k-NN balls.
        target: what the primary metric (``fd_tok`` and its jackknife) and precision /
            recall compare with: ``'round_trip'`` (generated tokens) or ``'real'``
            (images that keep real pixels, such as an edit's composite).
    """

    TARGETS = {'round_trip': 'ref_rt_features', 'real': 'ref_real_features'}

    def __init__(self, ref: Dict[str, np.ndarray], pr_size: int, k: int = 3,
                 target: str = 'round_trip'):
        if target not in self.TARGETS:
            raise ValueError(f'target={target!r} is not one of {sorted(self.TARGETS)}')
        primary = ref[self.TARGETS[target]]
        self.target = target
        self.tok = FrechetToReference(*feature_statistics(primary))
        self.real = FrechetToReference(*feature_statistics(ref['ref_real_features']))
        self.pr_reference = np.asarray(primary[:pr_size], np.float64)
        self.k = int(k)

    def stats(self, parts: Sequence[Dict[str, np.ndarray]], groups: Sequence[np.ndarray],
              leave_out: Optional[List[float]] = None) -> SetStats:
        """Pool per-seed parts (``features`` (n, D), ``logits`` (n, C), ``labels`` (n,)).

        ``leave_out``: cached ``fd_tok`` jackknife values (computed if None).
        """
        feats = np.concatenate([p['features'] for p in parts])
        prepared = self.tok.prepare(feats)
        if leave_out is None:
            leave_out = self.tok.replicates(prepared, groups)
        correct = np.concatenate([p['logits'].argmax(1) == p['labels'] for p in parts])
        seconds = float(sum(p['seconds'].sum() for p in parts if 'seconds' in p))
        return SetStats(
            fd_tok=self.tok.distance(prepared), fd_tok_leave_out=list(map(float, leave_out)),
            fd_tok_seeds=[self.tok.distance(self.tok.prepare(p['features'])) for p in parts],
            fd_real=self.real.distance(self.real.prepare(feats)),
            fd_real_seeds=[self.real.distance(self.real.prepare(p['features'])) for p in parts],
            coverage=manifold_coverage(feats, self.pr_reference, self.k),
            correct=correct, seconds=seconds)


@dataclass
class Comparison:
    """Paired differences ``a - b`` of every metric (FD in points, accuracy in points)."""

    question: str  # 'fixing', 'policy', 'sweep', 'steps', 'injection', 'double'
    twin: str
    label: str
    diffs: Dict[str, Dict[str, float]]
    fd_seeds: Optional[Dict[str, float]] = None
    fd_real: Optional[float] = None
    extra: dict = field(default_factory=dict)

    @property
    def fd(self) -> Dict[str, float]:
        return self.diffs['fd_tok']

    @property
    def sign(self) -> int:
        """Direction of the primary metric (FD to the round trip)."""
        return direction(self.fd)

    def signs(self) -> Dict[str, int]:
        return {m: direction(d) for m, d in self.diffs.items()}


def compare(a: SetStats, b: SetStats, groups: Sequence[np.ndarray], question: str, twin: str,
            label: str) -> Comparison:
    """Paired differences ``a - b`` on the same jackknife groups, for every metric."""
    diffs = {m: paired_jackknife(a.value(m), b.value(m), a.leave_out(m, groups),
                                 b.leave_out(m, groups)) for m in METRICS}
    seeds = (t_interval(np.subtract(a.fd_tok_seeds, b.fd_tok_seeds))
             if len(a.fd_tok_seeds) > 1 else None)
    return Comparison(question, twin, label, diffs, seeds, a.fd_real - b.fd_real)


def gain_difference(fix_lo: SetStats, plain_lo: SetStats, fix_hi: SetStats, plain_hi: SetStats,
                    twin: str, label: str) -> Comparison:
    """``(FD fix - FD plain) at few steps  -  the same at many steps``, paired.

    Negative: fixing lowers FD more at the smaller number of steps.
    """
    def dd(x1, y1, x2, y2):
        return (np.asarray(x1) - np.asarray(y1)) - (np.asarray(x2) - np.asarray(y2))
    point = float(dd(fix_lo.fd_tok, plain_lo.fd_tok, fix_hi.fd_tok, plain_hi.fd_tok))
    leave = dd(fix_lo.fd_tok_leave_out, plain_lo.fd_tok_leave_out, fix_hi.fd_tok_leave_out,
               plain_hi.fd_tok_leave_out)
    seeds = dd(fix_lo.fd_tok_seeds, plain_lo.fd_tok_seeds, fix_hi.fd_tok_seeds,
               plain_hi.fd_tok_seeds)
    return Comparison('steps', twin, label, {'fd_tok': jackknife_interval(point, leave)},
                      fd_seeds=t_interval(seeds) if len(seeds) > 1 else None)


def comparisons(stats: Dict[Tuple[str, str], SetStats], cells: Sequence[Cell],
                twins: Sequence[str], groups: Sequence[np.ndarray], steps: Sequence[int],
                cfg_scales: Sequence[float], sweep: Sequence[Cell]) -> List[Comparison]:
    """Every comparison the page states in words, for the cells that are finished."""
    out = []
    names = {c.name for c in cells}

    def get(twin, cell):
        return stats.get((twin, cell.name)) if cell.name in names else None

    fixers = [s for s in ('fix_low', 'fix_all') if any(c.sampler == s for c in cells)]
    for twin in twins:
        for w in cfg_scales:
            for t in steps:
                for fixer in fixers:
                    fix, plain = get(twin, Cell(fixer, t, w)), get(twin, Cell('halton', t, w))
                    if fix and plain:
                        out.append(compare(fix, plain, groups, 'fixing', twin,
                                           f'{Cell(fixer, t, w).title} − Halton, {t} steps, '
                                           f'CFG {w:g}'))
                    double = get(twin, Cell('halton', 2 * t, w))
                    if fix and double:
                        out.append(compare(fix, double, groups, 'double', twin,
                                           f'{Cell(fixer, t, w).title} at {t} steps − Halton '
                                           f'at {2 * t}, CFG {w:g}'))
                low, full = get(twin, Cell('fix_low', t, w)), get(twin, Cell('fix_all', t, w))
                if low and full:
                    out.append(compare(low, full, groups, 'policy', twin,
                                       f'`low_confidence` − `all`, {t} steps, CFG {w:g}'))
            few, many = min(steps), max(steps)
            for fixer in fixers:
                parts = [get(twin, Cell(fixer, few, w)), get(twin, Cell('halton', few, w)),
                         get(twin, Cell(fixer, many, w)), get(twin, Cell('halton', many, w))]
                if few != many and all(parts):
                    out.append(gain_difference(*parts, twin,
                                               f'{Cell(fixer, few, w).title}: (fix − Halton) at '
                                               f'{few} steps − the same at {many}, CFG {w:g}'))
        for cell in sweep:
            plain = get(twin, Cell('halton', cell.steps, cell.cfg_scale))
            default = get(twin, Cell(cell.sampler, cell.steps, cell.cfg_scale))
            mine = get(twin, cell)
            if mine and plain:
                out.append(compare(mine, plain, groups, 'sweep', twin,
                                   f'{cell.title} − Halton, {cell.steps} steps, '
                                   f'CFG {cell.cfg_scale:g}'))
            if mine and default:
                out.append(compare(mine, default, groups, 'sweep', twin,
                                   f'{cell.title} − {Cell(cell.sampler, 1, 0).title} '
                                   f'(the preset), {cell.steps} steps, CFG {cell.cfg_scale:g}'))
    if len(twins) == 2:
        a, b = twins
        for plain_name in ('halton', 'maskgit'):
            for w in cfg_scales:
                for t in steps:
                    x, y = get(a, Cell(plain_name, t, w)), get(b, Cell(plain_name, t, w))
                    if x and y:
                        out.append(compare(x, y, groups, 'injection', f'{a} − {b}',
                                           f'{Cell(plain_name, t, w).title}, {t} steps, '
                                           f'CFG {w:g}: {a} − {b}'))
    return out


def make_groups(seed_sizes: Sequence[int], groups: int) -> List[np.ndarray]:
    """The one set of jackknife groups shared by every set of these seed sizes: ``groups``
    in all, dealt evenly over the seeds."""
    return jackknife_groups(list(seed_sizes), max(1, groups // len(seed_sizes)))
