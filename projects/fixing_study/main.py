"""The study in one command: twins, classifier, references, ladder, CFG pilot, cells, page.

Every stage is cached under ``--work-dir`` (see :mod:`.cache`); running the
same command again computes only what is missing, so an interrupted study
continues where it stopped. A sampled cell is keyed by its checkpoint, its
sampler config and that sampler's behaviour (:mod:`.fingerprint`), not by the
source text. ``--only`` / ``--time-budget`` limit what one invocation samples;
the page then lists the cells still pending.
"""
import argparse
import datetime
import os
import os.path as osp
import platform
import shlex
import sys
import time
from dataclasses import dataclass
from typing import Dict, List, Optional

import numpy as np
import torch
from mmengine.config import Config

from .cache import Store, read_npz, write_npz
from .cells import Cell, make_cells, sweep_cells, training_config
from .ladder import LADDER_MODES, LADDER_RATES
from .training import train_twins

TWINS = {'p=0.2': 0.2, 'p=0': 0.0}


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog='python -m projects.fixing_study',
                                description='Token-fixing study of one token space: train the '
                                'twins, validate the metric on a corruption ladder, sample and '
                                'score every cell with paired seeds, write the page')
    p.add_argument('config', help='a BIGFix CIFAR-10 config (configs/bigfix/bigfix_cifar10.py: the VQ '
                   'tokenizer; configs/bigfix/bigfix_cifar10_quick.py: RGB-quantised tokens)')
    p.add_argument('--space', default=None,
                   help='name of the token space on the page (default: from the tokenizer, '
                   'e.g. vq1024, rgb216)')
    p.add_argument('--work-dir', default=None, help='default: work_dirs/fixing_study_SPACE')
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
    g.add_argument('--no-double', action='store_true',
                   help='leave out Halton at 2T for every fixing cell at T')
    g.add_argument('--cfg-scale', type=float, default=None,
                   help='the guided CFG of the grid; default: the best of --cfg-candidates for '
                   'Halton on the p=0.2 twin in the pilot (lowest FD to the round trip)')
    g.add_argument('--cfg-candidates', type=float, nargs='+', default=[0.5, 1.0, 2.0, 3.0])
    g.add_argument('--pilot-samples', type=int, default=200)
    g.add_argument('--pilot-seed', type=int, default=1000, help='not one of --seeds')
    g.add_argument('--pilot-steps', type=int, default=8)
    g.add_argument('--sweep-steps', type=int, default=8)
    g.add_argument('--fix-ratios', type=float, nargs='*', default=[0.05, 0.1, 0.2])
    g.add_argument('--fix-windows', nargs='*', default=['0,0.5', '0.5,1'],
                   help='fixing windows (start,end fractions of the steps) of the sweep')
    g.add_argument('--sweep-twins', nargs='+', default=['p=0.2'], choices=list(TWINS),
                   help='the twins the fix_ratio / fix_window sweep samples')
    g = p.add_argument_group('samples, metric and statistics')
    g.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    g.add_argument('--samples', type=int, default=334, help='samples per cell per seed')
    g.add_argument('--gen-batch-size', type=int, default=167)
    g.add_argument('--jackknife-groups', type=int, default=12,
                   help='delete-a-group jackknife groups of the intervals (dealt over the seeds)')
    g.add_argument('--fd-image-size', type=int, default=128)
    g.add_argument('--ref-size', type=int, default=5000,
                   help='test images of the reference half (the rest gives the probe set)')
    g.add_argument('--ladder-rates', type=float, nargs='+', default=list(LADDER_RATES))
    g.add_argument('--ladder-draws', type=int, default=3,
                   help='independent corruptions per ladder step: the step\'s metric is their '
                   'mean (a single draw at a step below the resolution can fall either way)')
    g.add_argument('--ladder-modes', nargs='+', default=list(LADDER_MODES),
                   choices=list(LADDER_MODES))
    g.add_argument('--pr-k', type=int, default=3, help='neighbours of precision / recall')
    g.add_argument('--classifier', default=None, help='a projects.classifier_training output; '
                   'default: train one into the work dir')
    g.add_argument('--classifier-epochs', type=int, default=3)
    g = p.add_argument_group('this invocation')
    g.add_argument('--only', nargs='+', default=None, help='sample only these presets now')
    g.add_argument('--only-twins', nargs='+', default=None, choices=list(TWINS),
                   help='sample only these twins now (e.g. one process per twin)')
    g.add_argument('--no-page', action='store_true',
                   help='sample only; leave the page to another invocation')
    g.add_argument('--time-budget', type=float, default=None,
                   help='minutes: start no new cell after this (the page lists what is pending)')
    g.add_argument('--stop-after', choices=['train', 'ladder', 'pilot'], default=None)
    g.add_argument('--results-dir', default='docs/results',
                   help='where the space\'s page SPACE.md and SPACE.json go')
    g.add_argument('--index', default='docs/results.md',
                   help='the page that sums up every space in --results-dir')
    g.add_argument('--images', default='docs/images')
    g.add_argument('--threads', type=int, default=1, help='torch CPU threads')
    g.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    return p.parse_args(argv)


# Options that only limit one invocation, or say where its cache lives on one machine: left
# out of the page's reproduce command (which then uses the default work dir).
INVOCATION_ONLY = ('--only', '--only-twins', '--time-budget', '--stop-after', '--no-page',
                   '--work-dir', '--classifier')


def reproduce_command(argv: List[str]) -> str:
    """``python -m projects.fixing_study ...`` without the :data:`INVOCATION_ONLY` options."""
    kept, skipping = [], False
    for arg in argv:
        if arg.startswith('--'):
            skipping = arg.split('=')[0] in INVOCATION_ONLY
        if not skipping:
            kept.append(arg)
    return 'python -m projects.fixing_study ' + ' '.join(shlex.quote(a) for a in kept)


def space_name(cfg: Config) -> str:
    """'rgb216' for the RGB quantiser, 'vq1024' for a VQ tokenizer with 1,024 codes, ..."""
    from bigfix_mm.registry import MODELS
    tok = cfg.model.get('tokenizer') or {}
    kind = 'rgb' if 'RGB' in str(tok.get('type', '')) else 'vq'
    model = MODELS.build(cfg.model)
    return f'{kind}{model.codebook_size}'


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
        from .fingerprint import Fingerprints, decode_fingerprint
        self.args = args
        self.runs = runs
        self.store = Store(osp.join(args.work_dir, 'cache'))
        self.models = {}
        self.ckpt_digest = {}
        for name, info in runs.items():
            self.models[name] = init_model(info['config'], info['checkpoint'], args.device)
            self.ckpt_digest[name] = file_digest(info['checkpoint'])
        self.features = EfficientNetLite0Features(image_size=args.fd_image_size).to(args.device)
        self.classifier, self.classifier_meta = load_classifier(classifier_path)
        self.classifier = self.classifier.to(args.device).eval()
        self.classifier_digest = file_digest(classifier_path)
        first = self.models[next(iter(runs))]
        # one probe per transformer config (the twins share one; another head gets its own)
        probes: Dict[str, Fingerprints] = {}
        self.behaviour = {}
        for name, model in self.models.items():
            tr_cfg = model.cfg.model.transformer
            key = repr(sorted(dict(tr_cfg).items()))
            if key not in probes:
                probes[key] = Fingerprints(tr_cfg, model.codebook_size)
            self.behaviour[name] = probes[key]
        self.score_key = dict(weights=self.features.weights_digest,
                              image_size=self.features.image_size,
                              classifier=self.classifier_digest,
                              decode=decode_fingerprint(first))

    @property
    def first_model(self):
        return self.models[next(iter(self.runs))]

    # ------------------------------------------------------------- samples
    def sample_key(self, twin: str, cell: Cell, seed: int, num: int) -> dict:
        cfg = cell.sampler_cfg()
        return dict(twin=twin, checkpoint=self.ckpt_digest[twin], sampler=cfg,
                    behaviour=self.behaviour[twin](cfg), seed=int(seed), num=int(num),
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

    # ------------------------------------------------------------- ladder
    def ladder_images(self, ref: Dict[str, np.ndarray], mode: str, rate: float,
                      draw: int = 0) -> Dict[str, np.ndarray]:
        """Scored decodings of the probe's round trip with ``rate`` of its tokens corrupted
        (``draw``: which of the independent corruptions of that rate).

        Keyed by what they are made of: the probe's tokens, the corruption and the scoring
        (feature network, classifier, the tokenizer's decoding).
        """
        from .ladder import changed_share, corrupt_tokens
        from .report import features_digest
        from .sampling import decode_ids, score_images, to_bgr255
        key = dict(probe=features_digest(ref['probe_tokens']), score=self.score_key,
                   mode=mode if rate > 0 else 'none', rate=float(rate), seed=int(draw))
        path = self.store.path('ladder', key, 'npz')
        if osp.isfile(path):
            return read_npz(path)
        start = time.time()
        model = self.first_model
        clean = torch.from_numpy(ref['probe_tokens']).long()
        gen = torch.Generator().manual_seed(int(1000 * rate) + 7 * LADDER_MODES.index(mode)
                                            + 100_003 * int(draw))
        ids = corrupt_tokens(clean, rate, mode, model.codebook_size, gen)
        scored = score_images(to_bgr255(decode_ids(model, ids)), self.features, self.classifier)
        out = dict(labels=ref['probe_labels'], changed=np.array(changed_share(clean, ids)),
                   seconds=np.array([time.time() - start]), **scored)
        write_npz(path, **out)
        print(f'[study] ladder {mode} {100 * rate:g}% draw {draw}: {len(ids)} images in '
              f'{time.time() - start:.0f} s', flush=True)
        return out


def grid_cells(args) -> List[Cell]:
    """The grid at both guidance scales, plus Halton at 2T for every fixing cell at T."""
    cells = make_cells(args.samplers, args.steps, [args.cfg_scale, 0.0])
    if not args.no_double:
        names = {c.name for c in cells}
        for t in args.steps:
            for w in (args.cfg_scale, 0.0):
                cell = Cell('halton', 2 * t, w)
                if cell.name not in names:
                    cells.append(cell)
                    names.add(cell.name)
    return cells


@dataclass
class Space:
    """One token space made ready for scoring: the twins, the references and the metric's
    validation (every part cached under ``args.work_dir``)."""

    args: argparse.Namespace
    runs: Dict[str, dict]
    study: 'Study'
    ref: Dict[str, np.ndarray]
    scorer: 'Scorer'
    ref_id: str
    ladder: dict  # :func:`.report.ladder_summary`
    start: float


def prepare_space(args: argparse.Namespace) -> Space:
    """Train (or reuse) the twins and the classifier, embed the references and validate the
    metric on the corruption ladder. ``args``: :func:`parse_args` of the study's command."""
    from mmengine.registry import init_default_scope
    start = time.time()
    torch.set_num_threads(args.threads)
    init_default_scope('mmagic')
    import bigfix_mm  # noqa: F401  (register components)

    base = Config.fromfile(args.config)
    args.space = args.space or space_name(base)
    args.work_dir = args.work_dir or osp.join('work_dirs', f'fixing_study_{args.space}')
    os.makedirs(args.work_dir, exist_ok=True)
    configs = {name: training_config(base, 'unused', p, args.iters, args.train_seed,
                                     args.batch_size, args.size, args.width, args.depth,
                                     args.heads, args.workers, args.val_points)
               for name, p in TWINS.items()}
    runs = train_twins(configs, args.work_dir, args.iters, threads=args.threads)
    if args.stop_after == 'train':
        return Space(args, runs, None, None, None, None, None, start)
    from projects.classifier_training.train import ensure_classifier
    classifier = ensure_classifier(args.work_dir, args.classifier, args.classifier_epochs,
                                   args.threads)
    study = Study(args, runs, classifier)

    # references and the metric's validation, before any cell
    from .reference import reference_sets
    n_cell = len(args.seeds) * args.samples
    ref = reference_sets(study.store, study.first_model, configs['p=0.2'].model.get('tokenizer'),
                         study.features, study.classifier, study.score_key, args.ref_size, n_cell)
    rates = sorted(set([0.0] + list(args.ladder_rates)))
    # the 0% step has nothing to draw; every other step is the mean of independent draws
    ladder = {mode: [[study.ladder_images(ref, mode, r, d)
                      for d in range(1 if r == 0 else args.ladder_draws)] for r in rates]
              for mode in args.ladder_modes}
    from .analysis import Scorer
    from .report import ladder_summary, reference_id
    scorer = Scorer(ref, pr_size=n_cell, k=args.pr_k)
    ref_id = reference_id(study.score_key, ref)
    lad = ladder_summary(study.store, scorer, ref_id, ladder, rates, args.jackknife_groups)
    print('[study] ladder: ' + ', '.join(
        f'{m} FD-tok ' + ' < '.join(f'{s["fd_tok"]:.2f}' for s in v['steps']) +
        f' (valid: {v["valid"]}, strictly monotonic: {v["monotonic"]}, resolution: '
        f'{v["resolution"]})'
        for m, v in lad['modes'].items()), flush=True)
    return Space(args, runs, study, ref, scorer, ref_id, lad, start)


def choose_guidance(space: Space) -> Optional[dict]:
    """Set ``args.cfg_scale`` to the candidate with the lowest FD-tok for Halton on the p=0.2
    twin, on a pilot seed that no cell uses (cached samples); None when it was given."""
    from .report import pilot_choice
    args, study = space.args, space.study
    if args.cfg_scale is not None:
        return None
    pilot_cells = [Cell('halton', args.pilot_steps, w) for w in args.cfg_candidates]
    feats = {c.cfg_scale: study.samples('p=0.2', c, args.pilot_seed, args.pilot_samples)
             for c in pilot_cells}
    pilot = pilot_choice(feats, space.ref)
    args.cfg_scale = pilot['best']
    print(f'[study] pilot: CFG {args.cfg_scale:g} is best for Halton on p=0.2 '
          f'({pilot["fd"]})', flush=True)
    return pilot


def main(argv=None) -> dict:
    args = parse_args(argv)
    argv = list(sys.argv[1:] if argv is None else argv)
    command = reproduce_command(argv)
    space = prepare_space(args)
    runs, study, ref, start = space.runs, space.study, space.ref, space.start
    if args.stop_after == 'train':
        return dict(runs=runs)
    scorer, ref_id, lad = space.scorer, space.ref_id, space.ladder
    if args.stop_after == 'ladder':
        return dict(runs=runs, ladder=lad)
    from .analysis import make_groups
    from .report import cached_stats, write_pages
    pilot = choose_guidance(space)
    if args.stop_after == 'pilot':
        return dict(runs=runs, pilot=pilot)
    grid = grid_cells(args)
    sweep = sweep_cells(args.sweep_steps, args.cfg_scale, args.fix_ratios,
                        parse_windows(args.fix_windows))
    cells = grid + sweep
    # sampling order: the sweep's steps and Halton at twice them first (a whole set of answers
    # early), then the other steps, 2T-only cells last, the sweep at the end
    def priority(c: Cell) -> tuple:
        first = c.steps == args.sweep_steps or (c.sampler == 'halton' and
                                                c.steps == 2 * args.sweep_steps)
        return (not first, c.steps not in args.steps, c.steps, c.cfg_scale == 0.0)
    order = sorted(grid, key=priority) + sweep
    groups = make_groups([args.samples] * len(args.seeds), args.jackknife_groups)
    deadline = start + args.time_budget * 60 if args.time_budget else None
    stopped = False
    for cell in order:
        if args.only and cell.sampler not in args.only:
            continue
        for twin in TWINS:
            if args.only_twins and twin not in args.only_twins:
                continue
            if cell in sweep and twin not in args.sweep_twins:
                continue
            for seed in args.seeds:
                if study.has_samples(twin, cell, seed, args.samples):
                    continue
                if deadline and time.time() > deadline:
                    stopped = True
                    break
                study.samples(twin, cell, seed, args.samples)
            if all(study.has_samples(twin, cell, s, args.samples) for s in args.seeds):
                # the cell's jackknife now, while its samples are at hand (cached for the page)
                parts = [study.samples(twin, cell, s, args.samples) for s in args.seeds]
                cached_stats(study.store, scorer, ref_id, parts, groups)
    if stopped:
        print('[study] time budget spent: the page lists the pending cells; rerun the same '
              'command to continue', flush=True)
    if args.no_page:
        return dict(runs=runs, pilot=pilot)
    meta = dict(command=command, config=args.config, date=datetime.date.today().isoformat(),
                device=(torch.cuda.get_device_name() if args.device.startswith('cuda')
                        else f'CPU ({platform.machine()}), {args.threads} thread(s)'),
                classifier_meta=study.classifier_meta, wall_minutes=(time.time() - start) / 60)
    result = write_pages(args, study, cells, ref, lad, pilot, meta)
    print(f'[study] done in {(time.time() - start) / 60:.1f} min', flush=True)
    return result
