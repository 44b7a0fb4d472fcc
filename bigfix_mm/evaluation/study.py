"""The token-fixing study: configs of the twin runs and of every sampling cell, and its table.

A *setting* is one trained model (injection probability p); a *cell* is one
way of sampling it (sampler, steps, guidance). ``tools/fixing_study.py`` drives
these pieces with MMEngine's Runner and MMagic's loops.
"""
import copy
import math
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmengine.config import Config, ConfigDict

# Sampler presets of the study (each a registered sampler config).
SAMPLERS: Dict[str, dict] = {
    'maskgit': dict(type='MaskGITSampler'),
    'halton': dict(type='HaltonSampler'),
    'fix_all': dict(type='TokenFixingSampler', reveal='halton', fix='all'),
    'fix_low': dict(type='TokenFixingSampler', reveal='halton', fix='low_confidence'),
    'maskgit_fix_low': dict(type='TokenFixingSampler', reveal='confidence', fix='low_confidence'),
}
SAMPLER_TITLES = {'maskgit': 'MaskGIT', 'halton': 'Halton', 'fix_all': 'Fixing `all`',
                  'fix_low': 'Fixing `low_confidence`',
                  'maskgit_fix_low': 'MaskGIT + fixing `low_confidence`'}
# Each fixing preset and its no-fixing twin (the same reveal order).
FIXING_TWINS = {'fix_all': 'halton', 'fix_low': 'halton', 'maskgit_fix_low': 'maskgit'}


@dataclass(frozen=True)
class Cell:
    """One sampling setting: a sampler preset, a number of steps, a guidance scale."""

    sampler: str
    steps: int
    cfg_scale: float
    fix_ratio: float = 0.1

    @property
    def name(self) -> str:
        return f'{self.sampler}_s{self.steps}_cfg{self.cfg_scale:g}'

    def sampler_cfg(self) -> dict:
        cfg = dict(SAMPLERS[self.sampler], steps=self.steps, cfg_scale=self.cfg_scale)
        if SAMPLERS[self.sampler].get('fix') == 'low_confidence':
            cfg['fix_ratio'] = self.fix_ratio
        return cfg

    def sample_kwargs(self, seed: int) -> dict:
        """What BIGFix's generation request receives (balanced classes, fixed seed)."""
        return dict(seed=seed, labels='balanced', sampler=self.sampler_cfg())


def make_cells(samplers: Sequence[str], steps: Sequence[int], cfg_scales: Sequence[float],
               fix_ratio: float = 0.1) -> List[Cell]:
    """Every combination, in table order (steps, then guidance, then sampler)."""
    unknown = [s for s in samplers if s not in SAMPLERS]
    if unknown:
        raise ValueError(f'unknown sampler preset(s) {unknown}; choose from {sorted(SAMPLERS)}')
    return [Cell(s, int(t), float(w), fix_ratio)
            for t in steps for w in cfg_scales for s in samplers]


def _scale_schedulers(schedulers, old_iters: int, new_iters: int) -> list:
    """Rescale iteration-based ``begin`` / ``end`` / ``T_max`` to a new length."""
    out = []
    for sched in copy.deepcopy(list(schedulers or [])):
        for key in ('begin', 'end', 'T_max'):
            if isinstance(sched.get(key), int):
                sched[key] = max(1 if key != 'begin' else 0,
                                 int(round(sched[key] * new_iters / old_iters)))
        out.append(sched)
    return out


def set_injection(cfg: Config, injection_prob: float, mode: str = 'shuffle') -> int:
    """Set p (and mode) of the run's injection, ``model.injection`` (the pipeline's
    ``RandomTokenInjection`` transforms read it). Returns how many pipeline
    transforms it reaches in training."""
    changed = sum(t.get('type') == 'RandomTokenInjection'
                  for t in cfg.train_dataloader.dataset.get('pipeline', []) or [])
    if cfg.model.get('injection') is None:
        cfg.model.injection = ConfigDict()
    cfg.model.injection.update(injection_prob=injection_prob, mode=mode)
    return changed


def training_config(base: Config, work_dir: str, injection_prob: float, iters: int, seed: int,
                    batch_size: Optional[int] = None, size: Optional[str] = None,
                    width: Optional[int] = None, depth: Optional[int] = None,
                    heads: Optional[int] = None, num_workers: Optional[int] = None,
                    val_points: int = 5) -> Config:
    """The config of one twin: ``base`` with p, budget, seed and model size set.

    The learning-rate schedule is rescaled to ``iters``; validation (teacher
    forced, with the held-out split's own injection, the same for both twins)
    runs ``val_points`` times; one checkpoint is kept at the end.
    """
    cfg = copy.deepcopy(base)
    cfg.work_dir = work_dir
    old = int(cfg.train_cfg.max_iters)
    cfg.train_cfg.max_iters = int(iters)
    cfg.train_cfg.val_interval = max(1, int(iters) // max(1, val_points))
    cfg.param_scheduler = _scale_schedulers(cfg.get('param_scheduler'), old, int(iters))
    cfg.setdefault('randomness', ConfigDict())
    cfg.randomness.seed = int(seed)
    set_injection(cfg, float(injection_prob))
    if batch_size:
        cfg.train_dataloader.batch_size = int(batch_size)
    if num_workers is not None:
        for key in ('train_dataloader', 'val_dataloader'):
            cfg[key].num_workers = int(num_workers)
            cfg[key].persistent_workers = bool(num_workers)
    if size:
        cfg.model.transformer.update(size=size, width=None, depth=None, heads=None)
    elif width or depth or heads:
        if not (width and depth and heads):
            raise ValueError('give all of --width, --depth and --heads (or --size)')
        cfg.model.transformer.update(size=None, width=width, depth=depth, heads=heads)
    cfg.default_hooks.checkpoint.update(interval=int(iters), max_keep_ckpts=1, save_last=True)
    cfg.default_hooks.logger.update(interval=max(1, int(iters) // 100), log_metric_by_epoch=False)
    for hook in cfg.get('custom_hooks', []) or []:
        if hook.get('type') == 'FixingSamplerHook':
            hook['interval'] = int(iters)  # one side-by-side grid, at the end
    return cfg


def evaluation_config(train_cfg: Config, gen_base: Config, work_dir: str, checkpoint: str,
                      cell: Cell, fake_nums: int, seed: int, classifier_path: Optional[str],
                      batch_size: int = 100, real_indices: Optional[List[int]] = None,
                      fd_image_size: int = 224, inception_path: Optional[str] = None) -> Config:
    """The config that evaluates one cell of one trained model with MMagic's test loop.

    All metrics share one sampler (same ``sample_model``), so every metric sees
    the same ``fake_nums`` images. ``real_indices`` restricts the real split
    (use :func:`evenly_spread`: the CIFAR-10 files are sorted by class).
    """
    cfg = copy.deepcopy(train_cfg)
    cfg.work_dir = work_dir
    cfg.load_from = checkpoint
    cfg.resume = False
    cfg.experiment_name = cell.name
    cfg.custom_hooks = []
    cfg.test_cfg = ConfigDict(type='MultiTestLoop')
    loader = copy.deepcopy(gen_base.gen_dataloader).to_dict()
    loader.pop('_delete_', None)
    loader['batch_size'] = int(min(batch_size, fake_nums))
    if real_indices is not None:
        loader['dataset']['indices'] = list(real_indices)
    cfg.test_dataloader = ConfigDict(loader)
    kwargs = cell.sample_kwargs(seed)
    metrics = [dict(type='EfficientNetFrechetDistance', prefix='FD', fake_nums=fake_nums,
                    real_nums=-1, image_size=fd_image_size, sample_kwargs=kwargs)]
    if classifier_path:
        metrics.append(dict(type='ClassifierAccuracy', prefix='cls', fake_nums=fake_nums,
                            classifier_path=classifier_path, sample_kwargs=kwargs))
    if inception_path:
        metrics += [
            dict(type='LocalFrechetInceptionDistance', prefix='FID', fake_nums=fake_nums,
                 real_nums=-1, inception_path=inception_path, sample_kwargs=kwargs),
            dict(type='LocalInceptionScore', prefix='IS', fake_nums=fake_nums,
                 splits=min(10, fake_nums // 2), inception_path=inception_path,
                 sample_kwargs=kwargs),
        ]
    cfg.test_evaluator = ConfigDict(type='Evaluator', metrics=metrics)
    return cfg


def evenly_spread(length: int, num: int) -> List[int]:
    """``num`` indices spread evenly over ``range(length)``."""
    return np.linspace(0, length - 1, min(num, length)).round().astype(int).tolist()


# ------------------------------------------------------------------ reporting
COLUMNS = [('FD/fd', 'FD', '{:.2f}', 'lower'), ('cls/acc', 'acc %', '{:.1f}', 'higher'),
           ('FID/fid', 'FID*', '{:.2f}', 'lower'), ('IS/is', 'IS*', '{:.2f}', 'higher')]


def _fmt(value, pattern: str) -> str:
    return '–' if value is None or (isinstance(value, float) and math.isnan(value)) \
        else pattern.format(value)


def results_table(results: Dict[str, Dict[str, dict]], settings: Sequence[str],
                  cells: Sequence[Cell]) -> str:
    """Markdown table: one row per cell, each metric once per setting.

    The best value of each (steps, guidance) group and setting is in bold.
    """
    present = [c for c in COLUMNS
               if any(c[0] in results.get(s, {}).get(cell.name, {}) for s in settings
                      for cell in cells)]
    head = ['sampler', 'steps', 'CFG'] + [f'{title} {s}' for _, title, _, _ in present
                                         for s in settings] + ['s / cell']
    lines = ['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
    best = {}
    for key, _, _, better in present:
        for s in settings:
            for cell in cells:
                group = (key, s, cell.steps, cell.cfg_scale)
                v = results.get(s, {}).get(cell.name, {}).get(key)
                if v is None or math.isnan(v):
                    continue
                if group not in best or (v < best[group] if better == 'lower' else v > best[group]):
                    best[group] = v
    for cell in cells:
        row = [SAMPLER_TITLES.get(cell.sampler, cell.sampler), str(cell.steps),
               f'{cell.cfg_scale:g}']
        for key, _, pattern, _ in present:
            for s in settings:
                v = results.get(s, {}).get(cell.name, {}).get(key)
                text = _fmt(v, pattern)
                if v is not None and best.get((key, s, cell.steps, cell.cfg_scale)) == v:
                    text = f'**{text}**'
                row.append(text)
        secs = [results.get(s, {}).get(cell.name, {}).get('seconds') for s in settings]
        row.append(' / '.join(_fmt(x, '{:.0f}') for x in secs))
        lines.append('| ' + ' | '.join(row) + ' |')
    return '\n'.join(lines)


def fixing_summary(results: Dict[str, Dict[str, dict]], settings: Sequence[str],
                   cells: Sequence[Cell], key: str = 'FD/fd') -> List[str]:
    """Plain counts: in how many (steps, guidance) groups a fixing sampler beats
    its no-fixing twin (same reveal order, ``FIXING_TWINS``) on ``key`` (lower is better)."""
    lines = []
    groups = sorted({(c.steps, c.cfg_scale) for c in cells})
    for s in settings:
        table = results.get(s, {})
        for fixer, twin in FIXING_TWINS.items():
            wins, total, deltas = 0, 0, []
            for steps, w in groups:
                base = table.get(Cell(twin, steps, w).name, {}).get(key)
                fix = table.get(Cell(fixer, steps, w).name, {}).get(key)
                if base is None or fix is None:
                    continue
                total += 1
                wins += fix < base
                deltas.append(fix - base)
            if total:
                lines.append(f'- {s}: {SAMPLER_TITLES[fixer]} has a lower {key} than '
                             f'{SAMPLER_TITLES[twin]} in '
                             f'{wins} of {total} (steps, CFG) groups (mean change '
                             f'{np.mean(deltas):+.2f}).')
    return lines
