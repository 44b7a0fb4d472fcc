"""Softmax head vs masked-bit head on the same tokens, with intervals over seeds.

    python -m projects.head_study configs/bigfix/bigfix_cifar10_bits.py [--work-dir work_dirs/head_study]
        [--seeds 0 1 2] [--iters 2000] [--size tiny] [--samples 1000]
        [--samplers halton fix_low] [--steps 8] [--cfg-scales 1]
        [--bit-width 64 --bit-depth 2 --bit-steps B] [--results docs/bit_head_results.md]

For every seed it trains the config twice with tools/train.py (the same tokens,
budget, injection and seed): the tied softmax head and ``MaskedBitHead``; then it
samples and scores every cell (sampler x steps x guidance) of every run with the
fixing study's evaluation (EfficientNet-Lite0 FD, classifier accuracy), and
writes each metric's mean and 95% t-interval over the seeds. It reuses the fixing
study's modules (``projects.fixing_study``, imported from the repository root): trainings
resume and finished ones are kept,
samples are cached under the work dir by every setting they depend on, and the
per-run numbers are written to ``results.json`` there. The K where the softmax
head stops fitting is measured by ``tools/benchmark.py`` (docs/bit_head.md).
"""
import argparse
import copy
import math
import os
import os.path as osp
import shlex
import sys
from typing import Dict, List, Sequence

import numpy as np
import torch
from mmengine.config import Config

from bigfix_mm.core.files import write_text_atomic

HEADS = ('softmax', 'bit')
METRICS = (('FD/fd', 'FD', 'lower'), ('cls/acc', 'acc %', 'higher'))


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog='python -m projects.head_study',
                                description='softmax vs masked-bit head (train, sample, score)')
    p.add_argument('config', help='a BIGFix config with the bit head '
                   '(configs/bigfix/bigfix_cifar10_bits.py)')
    p.add_argument('--work-dir', default='work_dirs/head_study')
    p.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2],
                   help='training and sampling seeds (one pair of runs each)')
    g = p.add_argument_group('training (both heads: the same tokens, budget, injection, seed)')
    g.add_argument('--iters', type=int, default=None, help="default: the config's max_iters")
    g.add_argument('--batch-size', type=int, default=None)
    g.add_argument('--size', default=None)
    g.add_argument('--width', type=int, default=None)
    g.add_argument('--depth', type=int, default=None)
    g.add_argument('--heads', type=int, default=None)
    g.add_argument('--workers', type=int, default=None)
    g.add_argument('--val-points', type=int, default=2)
    g.add_argument('--injection-prob', type=float, default=0.2)
    g.add_argument('--bit-width', type=int, default=64)
    g.add_argument('--bit-depth', type=int, default=2)
    g.add_argument('--bit-steps', type=int, default=None)
    g = p.add_argument_group('cells and scoring')
    g.add_argument('--samples', type=int, default=1000, help='samples per cell per seed')
    g.add_argument('--samplers', nargs='+', default=['halton', 'fix_low'])
    g.add_argument('--steps', type=int, nargs='+', default=[8])
    g.add_argument('--cfg-scales', type=float, nargs='+', default=[1.0])
    g.add_argument('--fix-ratio', type=float, default=None,
                   help="fixing samplers' ratio; default: the preset's")
    g.add_argument('--gen-batch-size', type=int, default=100)
    g.add_argument('--fd-image-size', type=int, default=224)
    g.add_argument('--real-limit', type=int, default=None,
                   help='real test images for the reference (toy runs); default all 10,000')
    g.add_argument('--classifier', default=None, help='a projects.classifier_training output; '
                   'default: train one into the work dir')
    g.add_argument('--classifier-epochs', type=int, default=4)
    g.add_argument('--results', default='docs/bit_head_results.md')
    g.add_argument('--threads', type=int, default=1, help='torch CPU threads')
    g.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
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


def mean_interval(values: Sequence[float]) -> Dict[str, float]:
    """Mean and half-width of the 95% Student-t interval over seeds (nan half-width for
    one value; :func:`projects.fixing_study.stats.t_interval` for two or more)."""
    from projects.fixing_study.stats import t_interval
    vals = [float(v) for v in values if v is not None and not math.isnan(v)]
    if not vals:
        return dict(mean=float('nan'), half=float('nan'), n=0)
    if len(vals) == 1:
        return dict(mean=vals[0], half=float('nan'), n=1)
    iv = t_interval(vals)
    return dict(mean=iv['diff'], half=iv['hi'] - iv['diff'], n=len(vals))


def paired_diffs(results: Dict[str, Dict[str, dict]], cell_name: str, key: str,
                 seeds: Sequence[int]) -> List[float]:
    """``bit − softmax`` of one metric for every seed that has both runs."""
    diffs = []
    for s in seeds:
        a = results.get(run_name('bit', s), {}).get(cell_name, {}).get(key)
        b = results.get(run_name('softmax', s), {}).get(cell_name, {}).get(key)
        if a is not None and b is not None:
            diffs.append(a - b)
    return diffs


def paired_difference(results: Dict[str, Dict[str, dict]], cell_name: str, key: str,
                      seeds: Sequence[int]) -> str:
    """``bit − softmax`` of one metric, paired by seed: mean [95% t-interval]."""
    from projects.fixing_study.stats import format_interval, t_interval
    diffs = paired_diffs(results, cell_name, key, seeds)
    if not diffs:
        return '–'
    if len(diffs) == 1:
        return f'{diffs[0]:+.2f} (n=1)'
    return f'{format_interval(t_interval(diffs))} (n={len(diffs)})'


def reading(results: Dict[str, Dict[str, dict]], cells, seeds: Sequence[int]) -> List[str]:
    """One line per cell and metric: the words of :func:`projects.fixing_study.stats.verdict` for the
    seed-paired ``bit − softmax`` difference (a direction only where its interval excludes 0)."""
    from projects.fixing_study.cells import TITLES as SAMPLER_TITLES
    from projects.fixing_study.stats import format_interval, t_interval, verdict
    lines = []
    for cell in cells:
        where = (f'{SAMPLER_TITLES.get(cell.sampler, cell.sampler)}, {cell.steps} steps, '
                 f'CFG {cell.cfg_scale:g}')
        for key, title, better in METRICS:
            diffs = paired_diffs(results, cell.name, key, seeds)
            if len(diffs) < 2:
                lines.append(f'- {where}, {title}: fewer than 2 paired seeds, no interval.')
                continue
            iv = t_interval(diffs)
            words = verdict(iv, 'the bit head', 'the softmax head', metric=title,
                            lower_is_better=better == 'lower')
            lines.append(f'- {where}, {title}: {words} (bit − softmax {format_interval(iv)}).')
    return lines


def summary_table(results: Dict[str, Dict[str, dict]], cells, seeds: Sequence[int]) -> List[str]:
    """Markdown rows: per cell, each metric's mean ± 95% half-width for both heads, and
    the seed-paired difference bit − softmax with its 95% t-interval."""
    from projects.fixing_study.cells import TITLES as SAMPLER_TITLES
    head = ['sampler', 'steps', 'CFG'] + [f'{title} {h}' for _, title, _ in METRICS
                                          for h in HEADS + ('bit − softmax',)]
    lines = ['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
    for cell in cells:
        row = [SAMPLER_TITLES.get(cell.sampler, cell.sampler), str(cell.steps),
               f'{cell.cfg_scale:g}']
        for key, _, _ in METRICS:
            for h in HEADS:
                vals = [results.get(f'{h}_seed{s}', {}).get(cell.name, {}).get(key) for s in seeds]
                iv = mean_interval(vals)
                row.append('–' if iv['n'] == 0 else f"{iv['mean']:.2f} (n=1)" if iv['n'] == 1
                           else f"{iv['mean']:.2f} ± {iv['half']:.2f} (n={iv['n']})")
            row.append(paired_difference(results, cell.name, key, seeds))
        lines.append('| ' + ' | '.join(row) + ' |')
    return lines


def head_cells(args) -> list:
    """The cells of the comparison; ``--fix-ratio`` applies to the fixing samplers only."""
    from projects.fixing_study.cells import Cell, make_cells
    cells = make_cells(args.samplers, args.steps, args.cfg_scales)
    if args.fix_ratio is None:
        return cells
    return [Cell(c.sampler, c.steps, c.cfg_scale, fix_ratio=args.fix_ratio) if c.plain else c
            for c in cells]


def run_name(head: str, seed: int) -> str:
    return f'{head}_seed{seed}'


def score(samples: Dict[str, np.ndarray], frechet) -> Dict[str, float]:
    """FD of one cell's samples to the real statistics, and classifier accuracy (%)."""
    out = {'FD/fd': float(frechet.distance(frechet.prepare(samples['features'])))}
    if 'logits' in samples:
        out['cls/acc'] = float(100.0 * (samples['logits'].argmax(1) == samples['labels']).mean())
    return out


def training_times(runs: Dict[str, dict], seeds: Sequence[int]) -> List[str]:
    """Per head: wall seconds of the last training process of each seed (a resumed run
    counts only its last part) and their mean."""
    lines = []
    for head in HEADS:
        secs = [runs[run_name(head, s)].get('seconds') for s in seeds]
        secs = [x for x in secs if x is not None]
        if secs:
            lines.append(f'- {head}: ' + ', '.join(f'{x / 60:.1f}' for x in secs)
                         + f' min (mean {sum(secs) / len(secs) / 60:.1f}; processes sharing '
                         'the machine, so an upper bound of the work).')
    return lines


def main(argv=None) -> dict:
    from mmengine.registry import init_default_scope

    from bigfix_mm.evaluation.frechet import feature_statistics
    from projects.fixing_study.cache import write_json
    from projects.fixing_study.cells import training_config
    from projects.classifier_training.train import ensure_classifier
    from projects.fixing_study.main import Study
    from projects.fixing_study.reference import full_test_split_features
    from projects.fixing_study.stats import FrechetToReference
    from projects.fixing_study.training import train_twins
    args = parse_args(argv)
    command = 'python -m projects.head_study ' + ' '.join(
        shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:]))
    torch.set_num_threads(args.threads)
    base = Config.fromfile(args.config)
    args.iters = args.iters or int(base.train_cfg.max_iters)
    cells = head_cells(args)
    os.makedirs(args.work_dir, exist_ok=True)

    configs = {run_name(head, seed): training_config(
        with_head(base, head, args), 'unused', args.injection_prob, args.iters, seed,
        args.batch_size, args.size, args.width, args.depth, args.heads, args.workers,
        args.val_points) for seed in args.seeds for head in HEADS}
    runs = {}
    for seed in args.seeds:  # the two heads of one seed train at once
        runs.update(train_twins({run_name(h, seed): configs[run_name(h, seed)] for h in HEADS},
                                args.work_dir, args.iters, threads=args.threads))
    classifier = ensure_classifier(args.work_dir, args.classifier, args.classifier_epochs,
                                   args.threads)

    init_default_scope('mmagic')
    study = Study(args, runs, classifier)
    first = run_name(HEADS[0], args.seeds[0])
    ref = full_test_split_features(
        osp.join(args.work_dir, 'cache'), study.models[first].tokenizer,
        configs[first].model.get('tokenizer'), study.features, study.classifier,
        study.classifier_digest, limit=args.real_limit)
    frechet = FrechetToReference(*feature_statistics(ref['real_features']))
    results = {}
    for seed in args.seeds:
        for head in HEADS:
            name = run_name(head, seed)
            for cell in cells:  # sampled once per setting: Study caches the samples
                results.setdefault(name, {})[cell.name] = score(
                    study.samples(name, cell, seed, args.samples), frechet)
    write_json(osp.join(args.work_dir, 'results.json'), results)
    lines = ['# Softmax head vs masked-bit head', '',
             f'Generated by `{command}`.', '',
             f'Mean ± 95% t-interval half-width over seeds {args.seeds} (training and sampling '
             f'seed; bit − softmax paired by seed), {args.samples} images per cell, '
             f'{args.iters} iterations per run; FD: '
             f'EfficientNet-Lite0 features at {args.fd_image_size} px against '
             f'{len(ref["real_features"])} real test images.', '',
             *summary_table(results, cells, args.seeds), '',
             '## Reading', '',
             'Written by the tool from the table: a direction is stated only where the 95% '
             'interval of the seed-paired difference excludes zero.', '',
             *reading(results, cells, args.seeds), '',
             '## Training time', '',
             *training_times(runs, args.seeds), '']
    write_text_atomic(args.results, '\n'.join(lines))
    print(f'[head study] wrote {args.results}')
    return results
