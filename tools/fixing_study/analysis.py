"""Numbers of the study: per-cell FD and accuracy with bootstrap replicates, and the
paired comparisons that the page states in words."""
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from .cells import Cell
from .stats import (FrechetToReference, bootstrap_draws, direction, paired_interval,
                    percentile_interval, t_interval)


@dataclass
class CellStats:
    """Pooled statistics of one (twin, cell) over every seed."""

    fd: float
    fd_reps: List[float]
    fd_seeds: List[float]
    correct: np.ndarray  # (N,) bool, pooled over seeds
    seconds: float  # sampling + scoring, all seeds

    @property
    def acc(self) -> float:
        return float(100.0 * self.correct.mean())

    def fd_interval(self, level: float = 0.95) -> Tuple[float, float]:
        return percentile_interval(self.fd_reps, level)


@dataclass
class Comparison:
    """A paired difference ``a - b`` (FD, and classifier accuracy in points)."""

    question: str  # 'fixing', 'policy', 'sweep', 'steps', 'injection'
    twin: str
    label: str
    fd: Dict[str, float]
    acc: Optional[Dict[str, float]] = None
    fd_seeds: Optional[Dict[str, float]] = None
    extra: dict = field(default_factory=dict)

    @property
    def sign(self) -> int:
        return direction(self.fd)


def cell_stats(parts: Sequence[Dict[str, np.ndarray]], frechet: FrechetToReference,
               draws: np.ndarray, reps: Optional[List[float]] = None) -> CellStats:
    """Pool the per-seed sample files of one cell (seed order) and compute its numbers.

    ``reps``: cached bootstrap replicates of this cell (computed if None).
    """
    feats = np.concatenate([p['features'] for p in parts])
    prepared = frechet.prepare(feats)
    correct = np.concatenate([p['logits'].argmax(1) == p['labels'] for p in parts])
    seeds = [frechet.distance(frechet.prepare(p['features'])) for p in parts]
    if reps is None:
        reps = frechet.replicates(prepared, draws)
    return CellStats(fd=frechet.distance(prepared), fd_reps=list(map(float, reps)),
                     fd_seeds=seeds, correct=correct,
                     seconds=float(sum(p['seconds'].sum() for p in parts)))


def compare(a: CellStats, b: CellStats, draws: np.ndarray, question: str, twin: str,
            label: str) -> Comparison:
    """Paired FD and accuracy differences ``a - b`` (the same bootstrap draws)."""
    fd = paired_interval(a.fd, b.fd, a.fd_reps, b.fd_reps)
    acc_reps = [100.0 * (a.correct[idx].mean() - b.correct[idx].mean()) for idx in draws]
    lo, hi = percentile_interval(acc_reps)
    acc = dict(diff=a.acc - b.acc, lo=lo, hi=hi, level=0.95)
    seeds = t_interval(np.subtract(a.fd_seeds, b.fd_seeds)) if len(a.fd_seeds) > 1 else None
    return Comparison(question, twin, label, fd, acc, seeds)


def gain_difference(fix_lo: CellStats, plain_lo: CellStats, fix_hi: CellStats,
                    plain_hi: CellStats, twin: str, label: str) -> Comparison:
    """``(FD fix - FD plain) at few steps  -  the same at many steps``, paired.

    Negative: fixing lowers FD more at the smaller number of steps.
    """
    def dd(x1, y1, x2, y2):
        return (np.asarray(x1) - np.asarray(y1)) - (np.asarray(x2) - np.asarray(y2))
    point = float(dd(fix_lo.fd, plain_lo.fd, fix_hi.fd, plain_hi.fd))
    reps = dd(fix_lo.fd_reps, plain_lo.fd_reps, fix_hi.fd_reps, plain_hi.fd_reps)
    lo, hi = percentile_interval(reps)
    seeds = dd(fix_lo.fd_seeds, plain_lo.fd_seeds, fix_hi.fd_seeds, plain_hi.fd_seeds)
    return Comparison('steps', twin, label, dict(diff=point, lo=lo, hi=hi, level=0.95),
                      fd_seeds=t_interval(seeds) if len(seeds) > 1 else None)


def comparisons(stats: Dict[Tuple[str, str], CellStats], cells: Sequence[Cell],
                twins: Sequence[str], draws: np.ndarray, steps: Sequence[int],
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
                        out.append(compare(fix, plain, draws, 'fixing', twin,
                                           f'{Cell(fixer, t, w).title} − Halton, {t} steps, '
                                           f'CFG {w:g}'))
                low, full = get(twin, Cell('fix_low', t, w)), get(twin, Cell('fix_all', t, w))
                if low and full:
                    out.append(compare(low, full, draws, 'policy', twin,
                                       f'`low_confidence` − `all`, {t} steps, CFG {w:g}'))
            few, many = min(steps), max(steps)
            for fixer in fixers:
                parts = [get(twin, Cell(fixer, few, w)), get(twin, Cell('halton', few, w)),
                         get(twin, Cell(fixer, many, w)), get(twin, Cell('halton', many, w))]
                if all(parts):
                    out.append(gain_difference(*parts, twin,
                                               f'{Cell(fixer, few, w).title}: (fix − Halton) at '
                                               f'{few} steps − the same at {many}, CFG {w:g}'))
        for cell in sweep:
            plain = get(twin, Cell('halton', cell.steps, cell.cfg_scale))
            default = get(twin, Cell(cell.sampler, cell.steps, cell.cfg_scale))
            mine = get(twin, cell)
            if mine and plain:
                out.append(compare(mine, plain, draws, 'sweep', twin,
                                   f'{cell.title} − Halton, {cell.steps} steps, '
                                   f'CFG {cell.cfg_scale:g}'))
            if mine and default:
                out.append(compare(mine, default, draws, 'sweep', twin,
                                   f'{cell.title} − {Cell(cell.sampler, 1, 0).title} '
                                   f'(ratio 0.1, whole run), {cell.steps} steps, '
                                   f'CFG {cell.cfg_scale:g}'))
    if len(twins) == 2:
        a, b = twins
        for plain_name in ('halton', 'maskgit'):
            for w in cfg_scales:
                for t in steps:
                    x, y = get(a, Cell(plain_name, t, w)), get(b, Cell(plain_name, t, w))
                    if x and y:
                        out.append(compare(x, y, draws, 'injection', f'{a} − {b}',
                                           f'{Cell(plain_name, t, w).title}, {t} steps, '
                                           f'CFG {w:g}: {a} − {b}'))
    return out


def make_draws(num_seeds: int, per_seed: int, replicates: int) -> np.ndarray:
    """The one set of bootstrap index draws shared by every cell (seed 0)."""
    return bootstrap_draws([per_seed] * num_seeds, replicates, seed=0)
