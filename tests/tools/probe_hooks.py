"""Test-only hooks for tools/train.py subprocesses (loaded with ``custom_imports``).

``RankProbeHook`` writes what each rank saw and did to ``out_dir``;
``PauseHook`` parks a run at an iteration so a test can SIGKILL it there;
``CorruptionProbeHook`` records every training batch the model was given;
``FillDiskHook`` fills the disk right before a checkpoint is written;
``InterruptAtSample`` (a transform) stands for a Ctrl-C during an extraction.
"""
import json
import os
import time
from pathlib import Path
from typing import List, Optional

import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from bigfix_mm.engine.checkpoint import AtomicLocalBackend
from bigfix_mm.registry import HOOKS


@HOOKS.register_module()
class RankProbeHook(Hook):
    """Per rank: parameters after each iteration (``rank{r}_iter{i}.pt``), the
    sample indices of each batch, the torch seed, and every file this process
    wrote through MMEngine's local file backend (``rank{r}.json``)."""

    priority = 'LOWEST'

    def __init__(self, out_dir: str):
        self.out_dir = Path(out_dir)
        self.indices: List[List[int]] = []
        self.writes: List[str] = []

    def before_run(self, runner) -> None:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        original, writes = AtomicLocalBackend.put, self.writes

        def recording_put(backend, obj, filepath):
            writes.append(os.path.basename(str(filepath)))
            return original(backend, obj, filepath)

        AtomicLocalBackend.put = recording_put

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        self.indices.append([int(i) for i in data_batch['data_samples']['sample_idx']])

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        flat = torch.cat([p.detach().flatten().cpu() for p in model.parameters()])
        torch.save(flat, self.out_dir / f'rank{runner.rank}_iter{runner.iter + 1}.pt')

    def after_run(self, runner) -> None:
        info = dict(rank=runner.rank, world_size=runner.world_size, seed=torch.initial_seed(),
                    indices=self.indices, writes=self.writes,
                    model_wrapper=type(runner.model).__name__)
        (self.out_dir / f'rank{runner.rank}.json').write_text(json.dumps(info))


@HOOKS.register_module()
class PauseHook(Hook):
    """Before training iteration ``at_iter`` (0-based), touch ``flag_file`` and
    sleep, so the test can kill the process mid-run at a known point."""

    def __init__(self, at_iter: int, flag_file: str, seconds: float = 600.0):
        self.at_iter, self.flag_file, self.seconds = at_iter, flag_file, seconds

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        if runner.iter == self.at_iter:
            Path(self.flag_file).write_text(str(os.getpid()))
            time.sleep(self.seconds)


@HOOKS.register_module()
class CorruptionProbeHook(Hook):
    """Per training batch, as the model's loss saw it (pipeline- or model-corrupted):
    injected and visible token counts, the largest clean id and the model's codebook
    size, written to ``out_file`` (JSON) at the end of the run."""

    def __init__(self, out_file: str):
        self.out_file = Path(out_file)
        self.batches: List[dict] = []

    def before_train(self, runner) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        corrupt, batches = model.corrupt, self.batches

        def recording_corrupt(inputs, generator=None, context_mask=None):
            out = corrupt(inputs, generator=generator, context_mask=context_mask)
            visible = ~out.masked if context_mask is None else ~out.masked & ~context_mask
            batches.append(dict(injected=int(out.injected.sum()), visible=int(visible.sum()),
                                max_id=int(out.target.max()), codebook_size=model.codebook_size))
            return out

        model.corrupt = recording_corrupt

    def after_run(self, runner) -> None:
        self.out_file.parent.mkdir(parents=True, exist_ok=True)
        self.out_file.write_text(json.dumps(self.batches))


@HOOKS.register_module()
class FillDiskHook(Hook):
    """Fills the work dir's file system right before the ``at_save``-th checkpoint is
    written (``before_save_checkpoint``, after MMEngine's own bookkeeping), leaving
    ``leave`` bytes: the disk is full at that moment, as when other files grew during
    a run. ``filler`` is the file that takes the space (removed to free it again)."""

    def __init__(self, at_save: int = 2, leave: int = 16384, filler: str = 'filler.bin'):
        self.at_save, self.leave, self.filler, self.saves = at_save, leave, filler, 0

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        import shutil
        self.saves += 1
        if self.saves != self.at_save:
            return
        path = Path(runner.work_dir) / self.filler
        size = max(shutil.disk_usage(runner.work_dir).free - self.leave, 0)
        with open(path, 'wb') as f:
            chunk = b'\0' * (1 << 16)
            while size > 0:
                try:
                    f.write(chunk[:size])
                    f.flush()
                except OSError:
                    break
                size -= len(chunk)


from mmcv.transforms import BaseTransform  # noqa: E402

from bigfix_mm.registry import TRANSFORMS  # noqa: E402


@TRANSFORMS.register_module()
class InterruptAtSample(BaseTransform):
    """Raises ``KeyboardInterrupt`` on sample ``index`` (as a Ctrl-C arriving while that
    image is read); the samples before it pass unchanged."""

    def __init__(self, index: int):
        self.index = index

    def transform(self, results: dict) -> dict:
        if results.get('sample_idx') == self.index:
            raise KeyboardInterrupt
        return results
