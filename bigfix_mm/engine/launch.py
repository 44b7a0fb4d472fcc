"""What tools/train.py and tools/test.py share: launcher setup, checks, runner build."""
import logging
import os
from datetime import timedelta
from typing import Optional

import torch
import torch.distributed as torch_dist
from mmengine.config import Config
from mmengine.logging import print_log

from bigfix_mm.engine import checkpoint
from bigfix_mm.engine.checkpoint import find_resume_checkpoint, scope_to_runner, strict_loading
from bigfix_mm.engine.config_checks import prepare_config
from bigfix_mm.engine.config_keys import RUNNER_TYPE_KEY

LAUNCHERS = ('none', 'pytorch', 'slurm', 'mpi')


def prepare_launch(cfg: Config, launcher: str) -> None:
    """Set ``cfg.launcher``; on a machine without CUDA use gloo.

    MMEngine 0.10.7's pytorch launcher calls ``torch.cuda.set_device`` before
    creating the process group, so on CPU-only machines the group is created
    here (gloo, from torchrun's environment variables) and MMEngine then finds
    it initialised. ``slurm`` / ``mpi`` need GPUs.
    """
    if launcher not in LAUNCHERS:
        raise ValueError(f'--launcher {launcher!r} must be one of {LAUNCHERS}')
    cfg.launcher = launcher
    if launcher == 'none' or torch.cuda.is_available():
        return
    dist_cfg = cfg.setdefault('env_cfg', {}).setdefault('dist_cfg', {})
    if dist_cfg.get('backend', 'nccl') == 'nccl':
        dist_cfg['backend'] = 'gloo'
    if launcher != 'pytorch':
        raise RuntimeError(f'--launcher {launcher} needs CUDA devices with MMEngine 0.10.7; for a '
                           'CPU run start the processes with torchrun (tools/dist_train.sh) and '
                           '--launcher pytorch.')
    if not torch_dist.is_initialized():
        timeout = timedelta(seconds=int(dist_cfg.get('timeout', 1800)))
        torch_dist.init_process_group(backend=dist_cfg['backend'], timeout=timeout)
        print_log(f'CPU distributed run: {dist_cfg["backend"]} process group of '
                  f'{torch_dist.get_world_size()} (rank {torch_dist.get_rank()})',
                  logger='current', level=logging.INFO)


def finish_launch() -> None:
    """Leave the process group cleanly (all ranks meet, then the group is destroyed).

    Without it, gloo's worker threads can still be alive at interpreter exit and a rank
    aborts with "terminate called without an active exception" after a finished run.
    """
    if torch_dist.is_available() and torch_dist.is_initialized():
        torch_dist.barrier()
        torch_dist.destroy_process_group()


def set_resume(cfg: Config, resume: Optional[str]) -> None:
    """``--resume``: 'auto' = newest usable checkpoint of the work dir, else a path."""
    if resume is None:
        return
    if resume != 'auto':
        cfg.resume, cfg.load_from = True, resume
        return
    found = find_resume_checkpoint(cfg.work_dir)
    if found is None:
        print_log(f'--resume: no checkpoint in {cfg.work_dir}; starting from scratch.',
                  logger='current', level=logging.WARNING)
        cfg.resume, cfg.load_from = False, cfg.get('load_from')
    else:
        cfg.resume, cfg.load_from = True, found


def build_runner(cfg: Config):
    """Resolve and check the config, install the safe checkpoint loader and the atomic
    file backend in MMEngine (this process only; ``import bigfix_mm`` changes
    nothing), then build ``Runner`` (or ``cfg.runner_type``, e.g. FlexibleRunner) whose
    ``load_from`` / ``resume`` checkpoints load with bigfix_mm's safe loader, strictly
    (:class:`~bigfix_mm.engine.checkpoint.StrictLoadHook`)."""
    prepare_config(cfg)
    checkpoint.install()
    if RUNNER_TYPE_KEY in cfg:
        from mmengine.registry import RUNNERS
        runner = RUNNERS.build(cfg)
    else:
        from mmengine.runner import Runner
        runner = Runner.from_cfg(cfg)
    return strict_loading(scope_to_runner(runner), cfg)


def default_work_dir(config_path: str) -> str:
    return os.path.join('./work_dirs', os.path.splitext(os.path.basename(config_path))[0])
