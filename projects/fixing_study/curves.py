"""Training curves from MMEngine's json scalar logs, plotted to PNG."""
import json
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

from .plots import save_figure

# (log key, panel title, which lines: 'train' or 'val')
PANELS: Sequence[Tuple[str, str, str]] = (
    ('loss', 'training loss (cross-entropy, all positions)', 'train'),
    ('token/loss', 'held-out loss (p=0.2 shuffle injection, both twins)', 'val'),
    ('token/masked_acc', 'held-out accuracy on masked tokens', 'val'),
    ('token/injected_acc', 'held-out accuracy on injected tokens (restored)', 'val'),
)


def read_scalars(work_dir: str) -> Tuple[List[dict], List[dict]]:
    """Training and validation records of a run's ``*/vis_data/scalars.json`` files.

    Several files (a resumed run) are merged: training records in step order
    (a later record of the same step wins), validation records in log order.
    Validation steps are iterations when the logger hook has
    ``log_metric_by_epoch=False`` (``configs/_base_/default_runtime.py``).

    Returns:
        ``(train, val)``: lists of dicts with ``step`` and the logged scalars.
    """
    train: Dict[int, dict] = {}
    val: List[dict] = []
    files = sorted(Path(work_dir).glob('*/vis_data/scalars.json'))
    if not files:
        raise FileNotFoundError(f'no */vis_data/scalars.json under {work_dir!r}: is it the '
                                'work_dir of a finished tools/train.py run?')
    for path in files:
        for line in path.read_text().splitlines():
            if not line.strip():
                continue
            rec = json.loads(line)
            if 'token/fix_acc' in rec:  # the metric's name in runs logged before the rename
                rec['token/injected_acc'] = rec.pop('token/fix_acc')
            step = int(rec.get('step', rec.get('iter', 0)))
            if any(k.startswith('token/') for k in rec):
                val.append(dict(rec, step=step))
            else:
                train[step] = dict(rec, step=step)
    return [train[k] for k in sorted(train)], val


def plot_training_curves(runs: Dict[str, str], out_png: str,
                         skip: Dict[str, Sequence[str]] = None) -> str:
    """One PNG with the :data:`PANELS` of every run (legend: the run names).

    Args:
        runs: run name -> work_dir.
        out_png: output file (written atomically).
        skip: run name -> keys not to draw for it (e.g. the training fix
            accuracy of a run trained without injection, which is undefined).

    Returns:
        ``out_png``.
    """
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    logs = {name: read_scalars(wd) for name, wd in runs.items()}
    fig, axes = plt.subplots(2, 2, figsize=(11, 7.5))
    for ax, (key, title, kind) in zip(axes.flat, PANELS):
        for name, (train, val) in logs.items():
            if key in (skip or {}).get(name, ()):
                continue
            recs = train if kind == 'train' else val
            pts = [(r['step'], r[key]) for r in recs if key in r]
            if pts:
                xs, ys = zip(*pts)
                ax.plot(xs, ys, marker='o' if kind == 'val' else None, ms=3, label=name)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel('iteration')
        ax.grid(alpha=0.3)
        if ax.lines:
            ax.legend(fontsize=8)
    fig.tight_layout()
    return save_figure(fig, out_png, dpi=110)
