"""Periodic side-by-side samples of the fixing sampler and a baseline."""
from pathlib import Path
from typing import Dict, Optional, Sequence

import numpy as np
import torch
from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from bigfix_mm.core.sampling import balanced_labels
from bigfix_mm.models.editors.bigfix.sampler.presets import PREVIEW_BASELINE, PREVIEW_SAMPLER
from bigfix_mm.registry import HOOKS, MODELS
from bigfix_mm.visualization.images import make_grid_uint8, save_png
from bigfix_mm.visualization.sampling_figures import labelled_halves, sampler_label
from bigfix_mm.visualization.video import make_video_grid_uint8

# why the hook refuses FSDP (also reported by the config check, bigfix_mm.engine.fsdp)
SAMPLER_HOOK_REFUSED = (
    'does not work with FSDPStrategy: it samples on rank 0 only, while an FSDP forward needs '
    'every rank. Remove it from custom_hooks and sample from a saved checkpoint with '
    'tools/sample.py.')


@HOOKS.register_module()
class FixingSamplerHook(Hook):
    """Sample a fixed-seed batch with the fixing sampler and a baseline.

    Every ``interval`` training iterations and after each validation, writes
    ``work_dir/samples/{tag}.png`` (fixing sampler left, baseline right, under a
    caption naming each half's sampler, steps and CFG), sends
    the same grid to the runner's visualizer (TensorBoard when configured), and
    logs fixing statistics: ``fixing/changed_per_step`` (mean tokens changed by
    fixing per step and image) and ``fixing/fixed_share`` (share of final tokens
    fixed at least once).

    Args:
        interval: training iterations between samples (0 disables).
        num_samples: images per sampler; labels cycle over the classes.
        seed: generator seed (the same images every time for a given model).
        sampler / baseline: sampler configs.
        steps / cfg_scale: overrides for both samplers.
        out_dir: sub-folder of the work dir.

    With an ``EMAHook`` registered, samples come from the EMA weights.
    """

    priority = 'NORMAL'

    def __init__(self,
                 interval: int = 1000,
                 num_samples: int = 16,
                 seed: int = 0,
                 sampler: Optional[dict] = None,
                 baseline: Optional[dict] = None,
                 steps: Optional[int] = None,
                 cfg_scale: Optional[float] = None,
                 out_dir: str = 'samples'):
        self.interval = interval
        self.num_samples = num_samples
        self.seed = seed
        self.sampler = MODELS.build(dict(sampler or PREVIEW_SAMPLER))
        self.baseline = MODELS.build(dict(baseline or PREVIEW_BASELINE))
        self.overrides = dict(steps=steps, cfg_scale=cfg_scale)
        self.out_dir = out_dir

    def before_run(self, runner) -> None:
        from torch.distributed.fsdp import FullyShardedDataParallel
        if isinstance(runner.model, FullyShardedDataParallel):  # built without tools/train.py
            raise RuntimeError(f'FixingSamplerHook {SAMPLER_HOOK_REFUSED}')

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        if self.interval and self.every_n_train_iters(runner, self.interval):
            stats = self.sample_and_save(runner, f'iter_{runner.iter + 1}')
            for key, value in stats.items():
                runner.message_hub.update_scalar(f'train/{key}', value)

    def after_val_epoch(self, runner, metrics: Optional[Dict[str, float]] = None) -> None:
        self._in_val_epoch = True  # see sampling_model()
        try:
            stats = self.sample_and_save(runner, f'val_iter_{runner.iter}')
        finally:
            self._in_val_epoch = False
        # MMEngine's RuntimeInfoHook (VERY_HIGH priority) has already copied the metrics into
        # the message hub that the logger reads: the statistics go there too
        for key, value in stats.items():
            runner.message_hub.update_scalar(f'val/{key}', value)
        if metrics is not None:
            metrics.update(stats)

    @torch.no_grad()
    def sample_and_save(self, runner, tag: str) -> Dict[str, float]:
        if not is_main_process():
            return {}
        model = sampling_model(runner, self)
        labels = balanced_labels(self.num_samples, model.num_classes, device=model.device)
        kwargs = {k: v for k, v in self.overrides.items() if v is not None}
        runs = {}
        for name, sampler in (('fixing', self.sampler), ('baseline', self.baseline)):
            gen = torch.Generator(device=model.device).manual_seed(self.seed)
            runs[name] = model.sample(labels, sampler=sampler, generator=gen, return_trace=True,
                                      **kwargs)
        trace = runs['fixing'][1]
        stats = fixing_statistics(trace['changed'])
        if model.tokenizer is not None:
            grids = [sample_grid(model.decode(runs[n][0])) for n in ('fixing', 'baseline')]
            left, right = (self.caption(s, kwargs) for s in (self.sampler, self.baseline))
            image = labelled_halves(grids[0], grids[1], f'left: {left}', f'right: {right}',
                                    [f'{tag}: same labels, seed {self.seed}'])  # (H, W, 3) RGB
            out = Path(runner.work_dir) / self.out_dir
            out.mkdir(parents=True, exist_ok=True)
            save_png(image, out / f'{tag}.png')
            runner.visualizer.add_image('fixing_vs_baseline', image, step=runner.iter)
        return stats

    @staticmethod
    def caption(sampler, overrides: dict) -> str:
        """E.g. ``TokenFixingSampler (fix=low_confidence 0.1), 8 steps, CFG 1``."""
        steps = overrides.get('steps') or sampler.steps
        cfg = overrides.get('cfg_scale')
        cfg = sampler.cfg_scale if cfg is None else cfg
        return f'{sampler_label(sampler)}, {steps} steps, CFG {cfg:g}'


def sample_grid(images: torch.Tensor) -> np.ndarray:
    """(B, 3, H, W) images or (B, T, 3, H, W) clips (one row per clip) -> (H', W', 3) uint8."""
    return make_video_grid_uint8(images) if images.dim() == 5 else make_grid_uint8(images)


def fixing_statistics(changed: torch.Tensor) -> Dict[str, float]:
    """Summaries of a (steps, B, N) bool trace of tokens changed by fixing."""
    changed = changed.float()
    return {
        'fixing/changed_per_step': changed.sum(-1).mean().item(),
        'fixing/fixed_share': changed.amax(0).mean().item(),
    }


def sampling_model(runner, hook: Hook) -> torch.nn.Module:
    """The weights to sample from: the EMA copy when an ``EMAHook`` is registered.

    Inside a validation epoch MMEngine's EMAHook has swapped the EMA weights
    into ``runner.model`` (and the raw ones into its copy) until its own
    ``after_val_epoch``; hooks called before it there see the swap.
    """
    from mmengine.hooks import EMAHook
    model = runner.model.module if is_model_wrapper(runner.model) else runner.model
    hooks = list(runner.hooks)
    ema = next((h for h in hooks if isinstance(h, EMAHook)), None)
    if ema is None or getattr(ema, 'ema_model', None) is None:
        return model
    swapped = getattr(hook, '_in_val_epoch', False) and hooks.index(ema) > hooks.index(hook)
    return model if swapped else ema.ema_model.module
