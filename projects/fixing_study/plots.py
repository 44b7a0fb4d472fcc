"""The study's figures: FD against steps with error bars, and image grids."""
from typing import Dict, Optional, Sequence, Tuple

import numpy as np

from bigfix_mm.core.files import atomic_path

from .cells import Cell


def save_figure(fig, out_png: str, dpi: int = 100) -> str:
    """Write ``fig`` to ``out_png`` atomically and close it."""
    import matplotlib.pyplot as plt
    with atomic_path(out_png) as tmp:  # keeps the .png suffix: matplotlib picks the format
        fig.savefig(tmp, dpi=dpi)
    plt.close(fig)
    return out_png


def plot_fd_vs_steps(points: Dict[Tuple[str, str], Tuple[float, float, float]],
                     samplers: Sequence[str], twins: Sequence[str], steps: Sequence[int],
                     cfg_scales: Sequence[float], out_png: str,
                     floor: Optional[float] = None,
                     ylabel: str = 'FD (EfficientNet-Lite0)') -> str:
    """One panel per (CFG, twin); one line per sampler with its cells' 95% jackknife
    intervals as bars.

    Args:
        points: (twin, cell name) -> (FD, low, high).
        floor: the token round trip's FD at the same sample size (dashed line).
    """
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(len(cfg_scales), len(twins), figsize=(5.2 * len(twins),
                                                                   3.6 * len(cfg_scales)),
                             squeeze=False, sharey=True)
    for row, w in enumerate(cfg_scales):
        for col, twin in enumerate(twins):
            ax = axes[row][col]
            for k, sampler in enumerate(samplers):
                xs, ys, errs = [], [], [[], []]
                for t in steps:
                    got = points.get((twin, Cell(sampler, t, w).name))
                    if got is None:
                        continue
                    fd, lo, hi = got
                    xs.append(t * (1 + 0.03 * (k - len(samplers) / 2)))  # dodge
                    ys.append(fd)
                    errs[0].append(fd - lo)
                    errs[1].append(hi - fd)
                if xs:
                    line, = ax.plot(xs, ys, marker='o', ms=4,
                                    label=Cell(sampler, 1, 0).title.replace('`', ''))
                    ax.vlines(xs, [y - e for y, e in zip(ys, errs[0])],
                              [y + e for y, e in zip(ys, errs[1])], color=line.get_color(),
                              lw=1.5)
            if floor is not None:
                ax.axhline(floor, color='gray', ls='--', lw=1, label='noise floor (round trip)')
            ax.set_xscale('log', base=2)
            ax.set_xticks(list(steps), [str(t) for t in steps])
            ax.set_title(f'{twin}, CFG {w:g}', fontsize=10)
            ax.set_xlabel('steps (forward passes)')
            if col == 0:
                ax.set_ylabel(f'{ylabel}, lower is better')
            ax.grid(alpha=0.3)
            if ax.lines:
                ax.legend(fontsize=7)
    fig.tight_layout()
    return save_figure(fig, out_png)


def plot_grid(rows: Dict[str, np.ndarray], out_png: str, title: str = '', scale: int = 2) -> str:
    """Rows of images with a label each.

    Args:
        rows: label -> (N, 3, H, W) float RGB in [0, 1] (the same N everywhere).
    """
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    labels = list(rows)
    n = max(len(v) for v in rows.values())
    h, w = next(iter(rows.values())).shape[-2:]
    fig, axes = plt.subplots(len(labels), 1, figsize=(n * w * scale / 100 + 1.8,
                                                      len(labels) * (h * scale / 100 + 0.25)),
                             squeeze=False)
    for ax, label in zip(axes[:, 0], labels):
        imgs = np.clip(rows[label], 0, 1)
        strip = np.concatenate([np.pad(im.transpose(1, 2, 0), ((1, 1), (1, 1), (0, 0)),
                                       constant_values=1) for im in imgs], axis=1)
        ax.imshow(strip, interpolation='nearest')
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_ylabel(label, rotation=0, ha='right', va='center', fontsize=8)
    if title:
        axes[0, 0].set_title(title, fontsize=9)
    fig.tight_layout()
    return save_figure(fig, out_png)


def plot_ladder(ladder: dict, out_png: str, space: str) -> str:
    """FD-tok of the corrupted round trip against the share of tokens replaced, one line per
    corruption mode with 95% jackknife intervals (the output of
    :func:`.report.ladder_summary`)."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    xs = [100 * r for r in ladder['rates']]
    for mode, v in ladder['modes'].items():
        ys = [s['fd_tok'] for s in v['steps']]
        line, = ax.plot(xs, ys, marker='o', ms=4, label=f'{mode}')
        ax.vlines(xs, [s['fd_tok_ci'][0] for s in v['steps']],
                  [s['fd_tok_ci'][1] for s in v['steps']], color=line.get_color(), lw=1.5)
    ax.set_xlabel('tokens of the round trip replaced (%)')
    ax.set_ylabel('FD to the round trip')
    ax.set_title(f'{space}: corruption ladder at {ladder["size"]} images', fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return save_figure(fig, out_png)
