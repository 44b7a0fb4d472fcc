"""Softmax head vs masked-bit head on the same tokens, with intervals over seeds.

    python tools/head_study.py configs/bigfix_cifar10_bits.py [--work-dir work_dirs/head_study]
        [--seeds 0 1 2] [--iters 2000] [--size tiny] [--samples 1000]
        [--samplers halton fix_low] [--steps 8] [--cfg-scales 1]
        [--bit-width 64 --bit-depth 2 --bit-steps B] [--results docs/bit_head_results.md]

For every seed it trains the config twice with tools/train.py (the same tokens,
budget, injection and seed): the tied softmax head and ``MaskedBitHead``; then it
samples and scores every cell (sampler x steps x guidance) of every run with the
fixing study's evaluation (EfficientNet-Lite0 FD, classifier accuracy), and
writes each metric's mean and 95% t-interval over the seeds. Finished runs and
cells are reused (``results.json`` in the work dir). The K where the softmax
head stops fitting is measured by ``tools/benchmark.py`` (docs/bit_head.md).
"""
import argparse
import copy
import json
import math
import os
import os.path as osp
import shlex
import sys
from typing import Dict, List, Sequence

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..')))
sys.path.insert(0, osp.abspath(osp.dirname(__file__)))
os.environ.setdefault('NO_ALBUMENTATIONS_UPDATE', '1')

from mmengine.config import Config  # noqa: E402

HEADS = ('softmax', 'bit')
METRICS = (('FD/fd', 'FD', 'lower'), ('cls/acc', 'acc %', 'higher'))


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description='softmax vs masked-bit head (train, sample, score)')
    p.add_argument('config', help='a BIGFix config with the bit head '
                   '(configs/bigfix_cifar10_bits.py)')
    p.add_argument('--work-dir', default='work_dirs/head_study')
    p.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    p.add_argument('--iters', type=int, default=None)
    p.add_argument('--batch-size', type=int, default=None)
    p.add_argument('--size', default=None)
    p.add_argument('--width', type=int, default=None)
    p.add_argument('--depth', type=int, default=None)
    p.add_argument('--heads', type=int, default=None)
    p.add_argument('--workers', type=int, default=None)
    p.add_argument('--val-points', type=int, default=2)
    p.add_argument('--injection-prob', type=float, default=0.2)
    p.add_argument('--bit-width', type=int, default=64)
    p.add_argument('--bit-depth', type=int, default=2)
    p.add_argument('--bit-steps', type=int, default=None)
    p.add_argument('--samples', type=int, default=1000)
    p.add_argument('--samplers', nargs='+', default=['halton', 'fix_low'])
    p.add_argument('--steps', type=int, nargs='+', default=[8])
    p.add_argument('--cfg-scales', type=float, nargs='+', default=[1.0])
    p.add_argument('--fix-ratio', type=float, default=0.1)
    p.add_argument('--gen-batch-size', type=int, default=100)
    p.add_argument('--fd-image-size', type=int, default=224)
    p.add_argument('--real-nums', type=int, default=-1)
    p.add_argument('--classifier', default=None)
    p.add_argument('--classifier-epochs', type=int, default=4)
    p.add_argument('--inception', default=None)
    p.add_argument('--results', default='docs/bit_head_results.md')
    p.add_argument('--threads', type=int, default=None)
    return p.parse_args(argv)


def with_head(base: Config, head: str, args) -> Config:
    """``base`` with the transformer's head set to ``head`` ('softmax' or 'bit')."""
    cfg = copy.deepcopy(base)
    if head == 'softmax':
        cfg.model.transformer.head = None
    else:
        cfg.model.transformer.head = dict(type='MaskedBitHead', bit_width=args.bit_width,
                                          depth=args.bit_depth, steps=args.bit_steps)
    return cfg


def mean_interval(values: Sequence[float], confidence: float = 0.95) -> Dict[str, float]:
    """Mean and half-width of the Student-t interval over seeds (nan half-width for one value)."""
    from scipy import stats
    vals = [float(v) for v in values if v is not None and not math.isnan(v)]
    n = len(vals)
    if n == 0:
        return dict(mean=float('nan'), half=float('nan'), n=0)
    mean = sum(vals) / n
    if n == 1:
        return dict(mean=mean, half=float('nan'), n=1)
    sd = math.sqrt(sum((v - mean)**2 for v in vals) / (n - 1))
    return dict(mean=mean, half=float(stats.t.ppf(0.5 + confidence / 2, n - 1)) * sd / math.sqrt(n),
                n=n)


def summary_table(results: Dict[str, Dict[str, dict]], cells, seeds: Sequence[int]) -> List[str]:
    """Markdown rows: per cell, each metric's mean ± 95% half-width for both heads."""
    from fixing_study.cells import TITLES as SAMPLER_TITLES
    head = ['sampler', 'steps', 'CFG'] + [f'{title} {h}' for _, title, _ in METRICS for h in HEADS]
    lines = ['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
    for cell in cells:
        row = [SAMPLER_TITLES.get(cell.sampler, cell.sampler), str(cell.steps),
               f'{cell.cfg_scale:g}']
        for key, _, _ in METRICS:
            for h in HEADS:
                vals = [results.get(f'{h}_seed{s}', {}).get(cell.name, {}).get(key) for s in seeds]
                iv = mean_interval(vals)
                row.append('–' if iv['n'] == 0 else
                           f"{iv['mean']:.2f} ± {iv['half']:.2f} (n={iv['n']})")
        lines.append('| ' + ' | '.join(row) + ' |')
    return lines


def main(argv=None) -> dict:
    import fixing_study as fs  # the fixing study's training and evaluation steps

    from fixing_study.cells import make_cells
    args = parse_args(argv)
    command = 'python tools/head_study.py ' + ' '.join(
        shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:]))
    base = Config.fromfile(args.config)
    args.iters = args.iters or int(base.train_cfg.max_iters)
    cells = make_cells(args.samplers, args.steps, args.cfg_scales, args.fix_ratio)
    os.makedirs(args.work_dir, exist_ok=True)
    classifier = fs.ensure_classifier(args)
    path = osp.join(args.work_dir, 'results.json')
    results = json.load(open(path)) if osp.isfile(path) else {}
    for seed in args.seeds:
        for head in HEADS:
            run_args = copy.copy(args)
            run_args.seed = seed
            name = f'{head}_seed{seed}'
            info = fs.train_twin(with_head(base, head, args), run_args, name, args.injection_prob)
            for cell in cells:
                sig = dict(ckpt_mtime=osp.getmtime(info['checkpoint']), samples=args.samples,
                           sampler=cell.sampler_cfg(), fd_image_size=args.fd_image_size)
                old = results.get(name, {}).get(cell.name)
                if old and old.get('signature') == sig:
                    continue
                out = fs.evaluate_cell(info, cell, run_args, classifier, None,
                                       osp.join(args.work_dir, f'eval_{name}'))
                out['signature'] = sig
                results.setdefault(name, {})[cell.name] = out
                fs.save_json(path, results)
    lines = ['# Softmax head vs masked-bit head on CIFAR-10 tokens', '',
             f'Generated by `{command}`.', '',
             f'Mean ± 95% t-interval half-width over seeds {args.seeds} (training and sampling '
             f'seed), {args.samples} images per cell, {args.iters} iterations per run.', '',
             *summary_table(results, cells, args.seeds), '']
    with open(args.results + '.tmp', 'w') as f:
        f.write('\n'.join(lines))
    os.replace(args.results + '.tmp', args.results)
    print(f'[head study] wrote {args.results}')
    return results


if __name__ == '__main__':
    main()
