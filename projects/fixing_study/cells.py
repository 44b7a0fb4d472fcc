"""What the study runs: the configs of the twin trainings and the sampling cells.

A *twin* is one trained model (injection probability p); a *cell* is one way
of sampling it (a preset of :mod:`bigfix_mm.models.editors.bigfix.sampler.presets`, steps,
guidance, and optionally a fixing ratio or window).
"""
import copy
from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

from mmengine.config import Config, ConfigDict

from bigfix_mm.models.editors.bigfix.sampler.presets import (FIXING_TWINS, SAMPLER_PRESETS,
                                                             sampler_config)

TITLES = {'maskgit': 'MaskGIT', 'halton': 'Halton', 'fix_all': 'Fixing `all`',
          'fix_low': 'Fixing `low_confidence`',
          'maskgit_fix_low': 'MaskGIT + fixing `low_confidence`'}


@dataclass(frozen=True)
class Cell:
    """One sampling setting: a sampler preset, a number of steps, a guidance scale,
    and optional fixing overrides (None: the preset's)."""

    sampler: str
    steps: int
    cfg_scale: float
    fix_ratio: Optional[float] = None
    fix_window: Optional[Tuple[float, float]] = None

    @property
    def name(self) -> str:
        name = f'{self.sampler}_s{self.steps}_cfg{self.cfg_scale:g}'
        if self.fix_ratio is not None:
            name += f'_r{self.fix_ratio:g}'
        if self.fix_window is not None:
            name += f'_w{self.fix_window[0]:g}-{self.fix_window[1]:g}'
        return name

    @property
    def title(self) -> str:
        title = TITLES.get(self.sampler, self.sampler)
        if self.fix_ratio is not None:
            title += f', ratio {self.fix_ratio:g}'
        if self.fix_window is not None:
            title += f', window [{self.fix_window[0]:g}, {self.fix_window[1]:g})'
        return title

    @property
    def plain(self) -> Optional[str]:
        """The no-fixing preset with the same reveal order (None for a plain sampler)."""
        return FIXING_TWINS.get(self.sampler)

    def sampler_cfg(self) -> dict:
        return sampler_config(self.sampler, steps=self.steps, cfg_scale=self.cfg_scale,
                              fix_ratio=self.fix_ratio, fix_window=self.fix_window)


def make_cells(samplers: Sequence[str], steps: Sequence[int],
               cfg_scales: Sequence[float]) -> List[Cell]:
    """Every combination, in table order (steps, then guidance, then sampler)."""
    unknown = [s for s in samplers if s not in SAMPLER_PRESETS]
    if unknown:
        raise ValueError(f'unknown sampler preset(s) {unknown}; choose from '
                         f'{sorted(SAMPLER_PRESETS)}')
    return [Cell(s, int(t), float(w)) for t in steps for w in cfg_scales for s in samplers]


def sweep_cells(steps: int, cfg_scale: float, ratios: Sequence[float],
                windows: Sequence[Tuple[float, float]], sampler: str = 'fix_low') -> List[Cell]:
    """``sampler`` at one (steps, guidance) with other fixing ratios and windows."""
    default = SAMPLER_PRESETS[sampler].get('fix_ratio')
    cells = [Cell(sampler, steps, cfg_scale, fix_ratio=float(r)) for r in ratios
             if default is None or float(r) != default]
    cells += [Cell(sampler, steps, cfg_scale, fix_window=(float(a), float(b)))
              for a, b in windows]
    return cells


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


def set_injection(cfg: Config, injection_prob: float, mode: str = 'shuffle',
                  held_out: Optional[dict] = None) -> None:
    """Set the twin's training corruption (``model.injection``, the run's one owner;
    pipeline transforms read it) and the held-out corruption (top-level
    ``eval_injection``), which is the same for both twins: p=0.2 shuffle."""
    if cfg.model.get('injection') is None:
        cfg.model.injection = ConfigDict()
    cfg.model.injection.update(injection_prob=injection_prob, mode=mode)
    cfg.eval_injection = ConfigDict(held_out or dict(injection_prob=0.2, mode='shuffle'))


def training_config(base: Config, work_dir: str, injection_prob: float, iters: int, seed: int,
                    batch_size: Optional[int] = None, size: Optional[str] = None,
                    width: Optional[int] = None, depth: Optional[int] = None,
                    heads: Optional[int] = None, num_workers: Optional[int] = None,
                    val_points: int = 5, checkpoints: int = 12) -> Config:
    """The config of one twin: ``base`` with p, budget, seed and model size set.

    The learning-rate schedule is rescaled to ``iters``; validation (teacher
    forced, with the held-out split's own injection, the same for both twins)
    runs ``val_points`` times, and a checkpoint is written ``checkpoints`` times
    (the last two kept) so an interrupted training resumes (``--resume``). The
    config's sampling hook is dropped: training does not depend on any sampler.
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
    cfg.default_hooks.checkpoint.update(interval=max(1, int(iters) // max(1, checkpoints)),
                                        max_keep_ckpts=2, save_last=True)
    cfg.default_hooks.logger.update(interval=max(1, int(iters) // 100), log_metric_by_epoch=False)
    cfg.custom_hooks = [h for h in cfg.get('custom_hooks', []) or []
                        if h.get('type') != 'FixingSamplerHook']
    return cfg
