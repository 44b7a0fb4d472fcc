"""Training and sampling throughput of BIGFix; one JSON line per case.

Defaults are the reference H100 setting (random weights, 16x16 tokens, 16,384 codes,
1,000 classes, bf16 on CUDA): training sizes large and base at batch 64, and
sampling size large, 64 images, 32 steps, CFG (doubled batch)::

    python tools/benchmark.py --peak-tflops 798                  # eager
    python tools/benchmark.py --peak-tflops 798 --compile        # torch.compile
    python tools/benchmark.py --cases sample --compile --cuda-graphs
    # output heads: analytic size / FLOPs at K = 2^10, 2^16, 2^32, then the bit head's
    # training speed and memory (one process per case: CPU peak memory is per process)
    python tools/benchmark.py --cases heads --train-sizes tiny
    python tools/benchmark.py --cases train --head bit --codebook-size 65536 --device cpu ...
    # CPU, reduced shapes:
    python tools/benchmark.py --device cpu --dtype fp32 --train-sizes tiny \\
        --sample-sizes tiny --batch 8 --sample-batch 8 --grid 8 8 \\
        --codebook-size 1024 --steps 8 --iters 3 --warmup 1 --repeats 3

Needs torch, mmengine and mmagic's pure-Python parts only (no compiled mmcv
ops, no ``mmagic.models`` / ``mmagic.evaluation``).
"""
import argparse
import json
import os
from typing import List, Optional

os.environ.setdefault('NO_ALBUMENTATIONS_UPDATE', '1')

from bigfix_mm.utils.cli import run_tool  # noqa: E402  (first: quiet start-up)

import torch  # noqa: E402

from bigfix_mm.models.editors.bigfix.heads import MaskedBitHead  # noqa: E402

from bigfix_mm.apis.benchmark import (DTYPES, SAMPLER_PRESETS, bench_sampling,  # noqa: E402
                                       bench_training, head_costs, parse_size)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument('--cases', nargs='+', choices=['train', 'sample', 'heads'],
                   default=['train', 'sample'],
                   help="'heads': parameters and per-token FLOPs of both output heads")
    p.add_argument('--train-sizes', nargs='+', default=['large', 'base'],
                   help="size names (tiny/small/base/large/xlarge) or WIDTHxDEPTHxHEADS")
    p.add_argument('--sample-sizes', nargs='+', default=['large'])
    p.add_argument('--batch', type=int, default=64, help='training batch size')
    p.add_argument('--sample-batch', type=int, default=64, help='images per sampling call')
    p.add_argument('--grid', type=int, nargs='+', default=[16, 16], help='(H W) or (T H W)')
    p.add_argument('--codebook-size', type=int, default=16384)
    p.add_argument('--head', choices=['softmax', 'bit'], default='softmax',
                   help='output head: tied softmax, or MaskedBitHead (K must be 2^b)')
    p.add_argument('--bit-width', type=int, default=64, help='bit head: width of the bit model')
    p.add_argument('--bit-depth', type=int, default=2, help='bit head: blocks of the bit model')
    p.add_argument('--bit-steps', type=int, default=None,
                   help='bit head: bit passes per draw (default: the bits, exact chain)')
    p.add_argument('--head-cost-bits', type=int, nargs='+', default=[10, 16, 32],
                   help="case 'heads': the b of K = 2^b for the analytic cost table")
    p.add_argument('--head-cost-width', type=int, default=None,
                   help="case 'heads': transformer width D (default: the first --train-sizes)")
    p.add_argument('--num-classes', type=int, default=1000)
    p.add_argument('--samplers', nargs='+', choices=sorted(SAMPLER_PRESETS),
                   default=['maskgit', 'halton', 'fix_low', 'fix_all'])
    p.add_argument('--steps', type=int, default=32, help='sampling steps')
    p.add_argument('--cfg', type=float, default=1.5, help='CFG scale; 0 = no doubled batch')
    p.add_argument('--dtype', choices=sorted(DTYPES), default=None,
                   help='autocast dtype (default: bf16 on CUDA, fp32 on CPU)')
    p.add_argument('--bf16-weights', action='store_true',
                   help='sampling: cast the weights to --dtype instead of autocasting')
    p.add_argument('--compile', action='store_true', help='torch.compile the transformer')
    p.add_argument('--compile-mode', default=None,
                   help="torch.compile mode, e.g. max-autotune-no-cudagraphs")
    p.add_argument('--cuda-graphs', action='store_true',
                   help='sampling: capture each whole sampler call in one CUDA graph')
    p.add_argument('--grad-checkpointing', action='store_true',
                   help='training: recompute block activations in backward')
    p.add_argument('--iters', type=int, default=20, help='timed training iterations')
    p.add_argument('--warmup', type=int, default=5, help='untimed iterations / calls first')
    p.add_argument('--repeats', type=int, default=5, help='timed calls per sampler')
    p.add_argument('--device', default='auto', help="'auto', 'cpu', 'cuda', 'cuda:1', ...")
    p.add_argument('--peak-tflops', type=float, default=None,
                   help='peak matrix TFLOP/s of the device for MFU (e.g. 798 for the '
                   'reference H100)')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--out', help='also append the JSON lines to this file')
    return p.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> List[dict]:
    args = parse_args(argv)
    device = torch.device('cuda' if args.device == 'auto' and torch.cuda.is_available() else
                          'cpu' if args.device == 'auto' else args.device)
    dtype = args.dtype or ('bf16' if device.type == 'cuda' else 'fp32')
    compile_opts = False
    if args.compile:
        compile_opts = dict(mode=args.compile_mode) if args.compile_mode else True
    torch.set_float32_matmul_precision('high')  # TF32 for any fp32 matmul left on CUDA
    results: List[dict] = []

    def emit(row: dict) -> None:
        line = json.dumps(row)
        print(line, flush=True)
        results.append(row)
        if args.out:
            with open(args.out, 'a') as f:
                f.write(line + '\n')

    bit_head = dict(bit_width=args.bit_width, depth=args.bit_depth, steps=args.bit_steps)
    # the class itself, not its registry name: no registry look-up (see the module doc)
    head = dict(type=MaskedBitHead, **bit_head) if args.head == 'bit' else None
    if 'heads' in args.cases:
        width = args.head_cost_width or parse_size(args.train_sizes[0])[0]
        for row in head_costs(width, args.head_cost_bits, bit_head):
            emit(dict(case='heads', **row))
    common = dict(grid=tuple(args.grid), codebook_size=args.codebook_size,
                  num_classes=args.num_classes, dtype=dtype, compile=compile_opts,
                  device=device, peak_tflops=args.peak_tflops, seed=args.seed, head=head)
    if 'train' in args.cases:
        for size in args.train_sizes:
            emit(bench_training(size, batch_size=args.batch, iters=args.iters,
                                warmup=args.warmup, grad_checkpointing=args.grad_checkpointing,
                                **common))
            _free(device)
    if 'sample' in args.cases:
        for size in args.sample_sizes:
            for row in bench_sampling(size, samplers=args.samplers, batch_size=args.sample_batch,
                                      steps=args.steps, cfg_scale=args.cfg,
                                      bf16_weights=args.bf16_weights,
                                      cuda_graphs=args.cuda_graphs, repeats=args.repeats,
                                      warmup=min(args.warmup, 2), **common):
                emit(row)
            _free(device)
    return results


def _free(device: torch.device) -> None:
    if device.type == 'cuda':
        torch.cuda.empty_cache()


if __name__ == '__main__':
    run_tool(main)
