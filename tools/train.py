"""Train a bigfix_mm config with MMEngine's Runner (or the config's ``runner_type``).

    python tools/train.py CONFIG [--work-dir D] [--resume [CKPT]] [--amp]
                          [--cfg-options k=v ...] [--launcher none|pytorch|slurm|mpi]
                          [--partial-load PATTERN ...]
    bash tools/dist_train.sh CONFIG GPUS [args]     # torchrun, --launcher pytorch
    bash tools/slurm_train.sh PARTITION JOB CONFIG [args]

The config is checked before anything is built (bigfix_mm.engine.config_checks): its
syntax, every key, and the facts shared by model and data. ``load_from`` and
``--resume`` load strictly; ``--partial-load PATTERN`` names model keys (fnmatch) a
``load_from`` may leave at their initial values (the config's ``partial_load``).
"""
import argparse
import os
from typing import Optional, Sequence


from bigfix_mm.utils.cli import run_tool  # noqa: E402  (first: quiet start-up)

from mmengine.config import DictAction  # noqa: E402

import bigfix_mm  # noqa: E402,F401  (registers components)
from bigfix_mm.engine.checkpoint import PARTIAL_LOAD_KEY  # noqa: E402
from bigfix_mm.engine.config_files import load_config  # noqa: E402
from bigfix_mm.engine.launch import (LAUNCHERS, build_runner, default_work_dir,  # noqa: E402
                                     finish_launch, prepare_launch, set_resume)


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Train a BIGFix model')
    parser.add_argument('config', help='config file path')
    parser.add_argument('--work-dir', help='directory for logs and checkpoints')
    parser.add_argument('--resume', nargs='?', type=str, const='auto',
                        help='resume from CKPT, or from the latest checkpoint of work_dir')
    parser.add_argument('--amp', action='store_true', help='bf16 automatic mixed precision')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config entries, e.g. train_cfg.max_iters=100')
    parser.add_argument('--partial-load', nargs='+', metavar='PATTERN', default=None,
                        help='model keys (fnmatch) that load_from may leave at their initial '
                        'values, e.g. "transformer.head*" (default: every key must load)')
    parser.add_argument('--launcher', choices=LAUNCHERS, default='none')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = parse_args(argv)
    cfg = load_config(args.config, args.cfg_options)
    if args.partial_load:
        cfg[PARTIAL_LOAD_KEY] = args.partial_load
    if args.work_dir:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = default_work_dir(args.config)
    if args.amp:
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('dtype', 'bfloat16')
        if cfg.optim_wrapper.dtype == 'bfloat16':  # fp32 exponent range: no loss scaling
            cfg.optim_wrapper.setdefault('loss_scale', dict(enabled=False))
    prepare_launch(cfg, args.launcher)
    set_resume(cfg, args.resume)
    build_runner(cfg).train()
    finish_launch()


if __name__ == '__main__':
    run_tool(main)
