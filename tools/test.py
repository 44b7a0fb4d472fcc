"""Evaluate a checkpoint with the config's test loop and evaluator.

    python tools/test.py CONFIG CHECKPOINT [--work-dir D] [--cfg-options k=v ...]
                         [--launcher none|pytorch|slurm|mpi]
    bash tools/dist_test.sh CONFIG CHECKPOINT GPUS [args]

A checkpoint trained with EMAHook is evaluated with its EMA weights (MMEngine
saves them as the checkpoint's ``state_dict``). CHECKPOINT may be a work dir (its
newest checkpoint); it must fit the config's model key for key and shape for shape.
"""
import argparse
import os
from typing import Optional, Sequence

from bigfix_mm.utils.cli import run_tool  # noqa: E402  (first: quiet start-up)

from mmengine.config import DictAction  # noqa: E402

import bigfix_mm  # noqa: E402,F401  (registers components)
from bigfix_mm.engine.config_files import load_config  # noqa: E402
from bigfix_mm.engine.launch import (LAUNCHERS, build_runner, default_work_dir, finish_launch,  # noqa: E402
                                     prepare_launch)


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Test a BIGFix model')
    parser.add_argument('config', help='config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='directory for logs and results')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    parser.add_argument('--launcher', choices=LAUNCHERS, default='none')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = parse_args(argv)
    cfg = load_config(args.config, args.cfg_options)
    cfg.work_dir = args.work_dir or cfg.get('work_dir') or default_work_dir(args.config)
    cfg.load_from = args.checkpoint
    cfg.resume = False
    prepare_launch(cfg, args.launcher)
    build_runner(cfg).test()
    finish_launch()


if __name__ == '__main__':
    run_tool(main)
