"""The study in one command: twins, classifier, reference, CFG pilot, cells, statistics, page.

Every stage is cached under ``--work-dir`` (see :mod:`.cache`); running the
same command again computes only what is missing, so an interrupted study
continues where it stopped. ``--only`` / ``--time-budget`` limit what one
invocation samples; the page then lists the cells still pending.
"""
import argparse
import datetime
import glob
import os
import os.path as osp
import platform
import shlex
import subprocess
import sys
import time
from typing import Dict, List

import numpy as np
import torch
from mmengine.config import Config

from .cache import Store, files_digest, read_npz, write_npz
from .cells import Cell, make_cells, sweep_cells, training_config
from .training import REPO, child_env, train_twins, twin_tag

TWINS = {'p=0.2': 0.2, 'p=0': 0.0}
# What a sampled cell depends on besides its settings: the sampling code.
CODE_FILES = ['bigfix_mm/models/samplers/*.py', 'bigfix_mm/models/schedules.py',
              'bigfix_mm/models/transformer.py', 'bigfix_mm/models/bigfix.py',
              'bigfix_mm/models/tokenizers/rgb_quant.py', 'bigfix_mm/models/tokenizers/base.py',
              'tools/fixing_study/sampling.py']


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description='Token-fixing study: train the twins, sample and '
                                'score every cell with paired seeds, write docs/results.md')
    p.add_argument('config', help='a BIGFix CIFAR-10 config (configs/bigfix_cifar10_quick.py: '
                   'RGB-quantised tokens; configs/bigfix_cifar10.py: the VQ tokenizer)')
    p.add_argument('--work-dir', default='work_dirs/fixing_study')
    g = p.add_argument_group('twins (both: same seed and settings, p=0.2 shuffle vs p=0)')
    g.add_argument('--iters', type=int, default=3600)
    g.add_argument('--batch-size', type=int, default=32)
    g.add_argument('--size', default=None, help='transformer size name (tiny, small, ...)')
    g.add_argument('--width', type=int, default=None)
    g.add_argument('--depth', type=int, default=None)
    g.add_argument('--heads', type=int, default=None)
    g.add_argument('--workers', type=int, default=0, help='dataloader workers per twin')
    g.add_argument('--val-points', type=int, default=6,
                   help='validations (and checkpoints) per training run')
    g.add_argument('--train-seed', type=int, default=0)
    g = p.add_argument_group('cells')
    g.add_argument('--samplers', nargs='+', default=['maskgit', 'halton', 'fix_all', 'fix_low'])
    g.add_argument('--steps', type=int, nargs='+', default=[4, 8, 16])
    g.add_argument('--cfg-scale', type=float, default=None,
                   help='the guided CFG of the grid; default: the best of --cfg-candidates for '
                   'Halton on the p=0.2 twin in the pilot')
    g.add_argument('--cfg-candidates', type=float, nargs='+', default=[0.5, 1.0, 2.0, 3.0])
    g.add_argument('--pilot-samples', type=int, default=200)
    g.add_argument('--pilot-seed', type=int, default=1000, help='not one of --seeds')
    g.add_argument('--pilot-steps', type=int, default=8)
    g.add_argument('--sweep-steps', type=int, default=8)
    g.add_argument('--fix-ratios', type=float, nargs='*', default=[0.05, 0.1, 0.2])
    g.add_argument('--fix-windows', nargs='*', default=['0,0.5', '0.5,1'],
                   help='fixing windows (start,end fractions of the steps) of the sweep')
    g = p.add_argument_group('samples and statistics')
    g.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    g.add_argument('--samples', type=int, default=340, help='samples per cell per seed')
    g.add_argument('--gen-batch-size', type=int, default=100)
    g.add_argument('--bootstrap', type=int, default=100, help='paired bootstrap replicates')
    g.add_argument('--fd-image-size', type=int, default=128)
    g.add_argument('--classifier', default=None, help='a tools/train_classifier.py output; '
                   'default: train one into the work dir')
    g.add_argument('--classifier-epochs', type=int, default=3)
    g.add_argument('--real-limit', type=int, default=None,
                   help='real test images for the reference (toy runs); default all 10,000')
    g = p.add_argument_group('this invocation')
    g.add_argument('--only', nargs='+', default=None, help='sample only these presets now')
    g.add_argument('--only-twins', nargs='+', default=None, choices=list(TWINS),
                   help='sample only these twins now (e.g. one process per twin)')
    g.add_argument('--no-page', action='store_true',
                   help='sample only; leave the page to another invocation')
    g.add_argument('--time-budget', type=float, default=None,
                   help='minutes: start no new cell after this (the page lists what is pending)')
    g.add_argument('--stop-after', choices=['train', 'pilot'], default=None)
    g.add_argument('--status-page', action='store_true',
                   help='only write the page of a study whose twins are still training')
    g.add_argument('--results', default='docs/results.md')
    g.add_argument('--images', default='docs/images')
    g.add_argument('--threads', type=int, default=1, help='torch CPU threads')
    g.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    return p.parse_args(argv)


# Options that only limit one invocation, or say where its cache lives on one machine: left
# out of the page's reproduce command (which then uses the default work dir).
INVOCATION_ONLY = ('--only', '--only-twins', '--time-budget', '--stop-after', '--no-page',
                   '--status-page', '--work-dir')


def reproduce_command(argv: List[str]) -> str:
    """``python tools/fixing_study.py ...`` without the :data:`INVOCATION_ONLY` options."""
    kept, skipping = [], False
    for arg in argv:
        if arg.startswith('--'):
            skipping = arg.split('=')[0] in INVOCATION_ONLY
        if not skipping:
            kept.append(arg)
    return 'python tools/fixing_study.py ' + ' '.join(shlex.quote(a) for a in kept)


def code_version() -> str:
    paths = sorted(p for pattern in CODE_FILES for p in glob.glob(osp.join(REPO, pattern)))
    return files_digest(paths)


def ensure_classifier(args) -> str:
    if args.classifier:
        return osp.abspath(args.classifier)
    path = osp.abspath(osp.join(args.work_dir, 'classifier.pth'))
    if not osp.isfile(path):
        cmd = ['nice', '-n', str(max(0, 10 - os.nice(0))), sys.executable,
               osp.join(REPO, 'tools', 'train_classifier.py'),
               '--out', path, '--epochs', str(args.classifier_epochs), '--seed', '0',
               '--threads', str(args.threads)]
        print('[study] + ' + ' '.join(shlex.quote(c) for c in cmd), flush=True)
        subprocess.run(cmd, check=True, env=child_env(args.threads), cwd=REPO)
    return path


def parse_windows(texts: List[str]):
    out = []
    for text in texts:
        try:
            a, b = (float(x) for x in text.split(','))
        except ValueError:
            raise ValueError(f'--fix-windows {text!r}: write START,END fractions, e.g. 0,0.5')
        out.append((a, b))
    return out


class Study:
    """Loaded models, scorers and caches of one study directory."""

    def __init__(self, args, runs: Dict[str, dict], classifier_path: str):
        from bigfix_mm.apis import init_model
        from bigfix_mm.evaluation.classifier import load_classifier
        from bigfix_mm.evaluation.efficientnet import EfficientNetLite0Features, file_digest
        self.args = args
        self.runs = runs
        self.store = Store(osp.join(args.work_dir, 'cache'))
        self.code = code_version()
        self.models = {}
        self.ckpt_digest = {}
        for name, info in runs.items():
            self.models[name] = init_model(info['config'], info['checkpoint'], args.device)
            self.ckpt_digest[name] = file_digest(info['checkpoint'])
        self.features = EfficientNetLite0Features(image_size=args.fd_image_size).to(args.device)
        self.classifier, self.classifier_meta = load_classifier(classifier_path)
        self.classifier = self.classifier.to(args.device).eval()
        self.classifier_digest = file_digest(classifier_path)
        self.score_key = dict(weights=self.features.weights_digest,
                              image_size=self.features.image_size,
                              classifier=self.classifier_digest)

    # ------------------------------------------------------------- samples
    def sample_key(self, twin: str, cell: Cell, seed: int, num: int) -> dict:
        return dict(twin=twin, checkpoint=self.ckpt_digest[twin], code=self.code,
                    sampler=cell.sampler_cfg(), seed=int(seed), num=int(num),
                    batch=self.args.gen_batch_size, score=self.score_key)

    def sample_path(self, twin: str, cell: Cell, seed: int, num: int) -> str:
        return self.store.path('samples', self.sample_key(twin, cell, seed, num), 'npz')

    def has_samples(self, twin: str, cell: Cell, seed: int, num: int) -> bool:
        return osp.isfile(self.sample_path(twin, cell, seed, num))

    def samples(self, twin: str, cell: Cell, seed: int, num: int) -> Dict[str, np.ndarray]:
        from .sampling import sample_cell
        path = self.sample_path(twin, cell, seed, num)
        if osp.isfile(path):
            return read_npz(path)
        start = time.time()
        out = sample_cell(self.models[twin], cell.sampler_cfg(), seed, num, self.features,
                          self.classifier, self.args.gen_batch_size)
        write_npz(path, **out)
        print(f'[study] {twin} {cell.name} seed {seed}: {num} samples in '
              f'{time.time() - start:.0f} s', flush=True)
        return out


def main(argv=None) -> dict:
    args = parse_args(argv)
    argv = list(sys.argv[1:] if argv is None else argv)
    command = reproduce_command(argv)
    torch.set_num_threads(args.threads)
    os.makedirs(args.work_dir, exist_ok=True)
    start = time.time()

    base = Config.fromfile(args.config)
    configs = {name: training_config(base, 'unused', p, args.iters, args.train_seed,
                                     args.batch_size, args.size, args.width, args.depth,
                                     args.heads, args.workers, args.val_points)
               for name, p in TWINS.items()}
    if args.status_page:
        from .report import write_status_page
        guided = 'W' if args.cfg_scale is None else f'{args.cfg_scale:g}'
        text = [f'- both twins, CFG {guided} and 0: every preset of {args.samplers} at '
                f'{args.steps} steps; at {args.sweep_steps} steps and CFG {guided}, fix_low '
                f'with fix_ratio {args.fix_ratios} and fix_window {args.fix_windows}.',
                '- W: the guided CFG, picked by the pilot (Halton on the p=0.2 twin).'
                if args.cfg_scale is None else '']
        runs = {n: osp.join(args.work_dir, f'train_{twin_tag(n)}') for n in TWINS}
        return dict(page=write_status_page(args, command, [t for t in text if t], runs))
    runs = train_twins(configs, args.work_dir, args.iters, threads=args.threads)
    if args.stop_after == 'train':
        return dict(runs=runs)
    classifier = ensure_classifier(args)

    from mmengine.registry import init_default_scope
    init_default_scope('mmagic')
    study = Study(args, runs, classifier)

    from .reference import reference_features
    model = study.models['p=0.2']
    ref = reference_features(osp.join(args.work_dir, 'cache'), model.tokenizer,
                             configs['p=0.2'].model.get('tokenizer'), study.features,
                             study.classifier, study.classifier_digest, limit=args.real_limit)

    # guidance: the best candidate for Halton on the p=0.2 twin, on a separate pilot seed
    from .report import pilot_choice, write_page
    pilot = None
    if args.cfg_scale is None and (not args.only or 'halton' in args.only):
        pilot_cells = [Cell('halton', args.pilot_steps, w) for w in args.cfg_candidates]
        feats = {c.cfg_scale: study.samples('p=0.2', c, args.pilot_seed, args.pilot_samples)
                 for c in pilot_cells}
        pilot = pilot_choice(feats, ref)
        args.cfg_scale = pilot['best']
        print(f'[study] pilot: CFG {args.cfg_scale:g} is best for Halton on p=0.2 '
              f'({pilot["fd"]})', flush=True)
    if args.stop_after == 'pilot':
        return dict(runs=runs, pilot=pilot)
    if args.cfg_scale is None:  # --only without Halton: the guided CFG is not known yet
        print('[study] no pilot in this invocation (--only without halton): sampling the '
              'CFG 0 cells only, no page', flush=True)
        args.no_page = True
        grid, sweep = make_cells(args.samplers, args.steps, [0.0]), []
    else:
        grid = make_cells(args.samplers, args.steps, [args.cfg_scale, 0.0])
        sweep = sweep_cells(args.sweep_steps, args.cfg_scale, args.fix_ratios,
                            parse_windows(args.fix_windows))
    cells = grid + sweep
    # sampling order: the middle steps first, then the others, the sweep last
    order = sorted(grid, key=lambda c: (abs(c.steps - args.sweep_steps), c.steps,
                                        c.cfg_scale == 0.0)) + sweep
    deadline = start + args.time_budget * 60 if args.time_budget else None
    stopped = False
    for cell in order:
        if args.only and cell.sampler not in args.only:
            continue
        for twin in TWINS:
            if args.only_twins and twin not in args.only_twins:
                continue
            for seed in args.seeds:
                if study.has_samples(twin, cell, seed, args.samples):
                    continue
                if deadline and time.time() > deadline:
                    stopped = True
                    break
                study.samples(twin, cell, seed, args.samples)
    if stopped:
        print('[study] time budget spent: the page lists the pending cells; rerun the same '
              'command to continue', flush=True)
    if args.no_page:
        return dict(runs=runs, pilot=pilot)
    meta = dict(command=command, config=args.config, date=datetime.date.today().isoformat(),
                device=(torch.cuda.get_device_name() if args.device.startswith('cuda')
                        else f'CPU ({platform.machine()}), {args.threads} thread(s)'),
                code=study.code, classifier_meta=study.classifier_meta)
    result = write_page(args, study, cells, ref, pilot, meta)
    print(f'[study] done in {(time.time() - start) / 60:.1f} min', flush=True)
    return result
