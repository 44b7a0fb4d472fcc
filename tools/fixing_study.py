"""Reproduce the token-fixing study (docs/results.md) from scratch in one command.

    python tools/fixing_study.py CONFIG [--work-dir work_dirs/fixing_study]
        [--iters 400] [--batch-size B] [--size tiny | --width W --depth D --heads H]
        [--val-points 5]
        [--samples 1000] [--steps 4 8 16 32] [--samplers maskgit halton fix_all fix_low maskgit_fix_low]
        [--cfg-scales 0 1] [--fix-ratio 0.1] [--seed 0] [--fd-image-size 224]
        [--real-nums -1] [--classifier PATH | --classifier-epochs 4]
        [--inception inception-2015-12-05.pt] [--results docs/results.md]
        [--images docs/images] [--threads N]

1. trains CONFIG twice with tools/train.py (same budget and seed): injection
   p=0.2 (shuffle) and p=0 (the twin never sees injected tokens);
2. trains the CIFAR-10 classifier (tools/train_classifier.py) unless given;
3. evaluates every cell (sampler x steps x guidance) of both models with
   MMagic's MultiTestLoop + Evaluator: EfficientNet-Lite0 Fréchet distance,
   classifier accuracy, and FID / IS when --inception is given;
4. writes the markdown table and the training-curve PNG.

Finished training runs and evaluated cells are reused when the command is
run again with the same settings (results.json in the work dir), so an
interrupted study continues where it stopped.
"""
import argparse
import copy
import datetime
import json
import os
import os.path as osp
import platform
import shlex
import subprocess
import sys
import time
from typing import Dict, List, Optional

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..')))
os.environ.setdefault('NO_ALBUMENTATIONS_UPDATE', '1')

from bigfix_mm.utils.cli import run_tool  # noqa: E402  (first: quiet start-up)

import torch  # noqa: E402
from mmengine.config import Config  # noqa: E402

from bigfix_mm.evaluation.study import (Cell, evaluation_config, evenly_spread,  # noqa: E402
                                        fixing_summary, make_cells, results_table,
                                        training_config)

REPO = osp.abspath(osp.join(osp.dirname(__file__), '..'))
GEN_BASE = osp.join(REPO, 'configs', '_base_', 'evaluation', 'generative_cifar10.py')
SETTINGS = {'p=0.2': 0.2, 'p=0': 0.0}


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description='BIGFix token-fixing study (train twins, sample, '
                                'score, write docs/results.md)')
    p.add_argument('config', help='a BIGFix CIFAR-10 config (e.g. configs/bigfix_cifar10.py)')
    p.add_argument('--work-dir', default='work_dirs/fixing_study')
    g = p.add_argument_group('training budget (both twins)')
    g.add_argument('--iters', type=int, default=None, help='default: the config\'s max_iters')
    g.add_argument('--batch-size', type=int, default=None, help='default: the config\'s')
    g.add_argument('--size', default=None, help='transformer size name (tiny, small, ...)')
    g.add_argument('--width', type=int, default=None)
    g.add_argument('--depth', type=int, default=None)
    g.add_argument('--heads', type=int, default=None)
    g.add_argument('--workers', type=int, default=None, help='dataloader workers')
    g.add_argument('--val-points', type=int, default=5,
                   help='teacher-forced validations per run (held-out fix accuracy curve)')
    g = p.add_argument_group('sampling budget (every cell of both models)')
    g.add_argument('--samples', type=int, default=1000, help='images per cell (10000 in the issue)')
    g.add_argument('--steps', type=int, nargs='+', default=[4, 8, 16, 32])
    g.add_argument('--samplers', nargs='+', default=['maskgit', 'halton', 'fix_all', 'fix_low',
                                                         'maskgit_fix_low'])
    g.add_argument('--cfg-scales', type=float, nargs='+', default=[0.0, 1.0],
                   help='guidance scales w; 0 = no CFG')
    g.add_argument('--fix-ratio', type=float, default=0.1, help='fix_low: share re-sampled')
    g.add_argument('--gen-batch-size', type=int, default=100)
    g.add_argument('--seed', type=int, default=0, help='training and sampling seed')
    g = p.add_argument_group('metrics')
    g.add_argument('--fd-image-size', type=int, default=224,
                   help='EfficientNet input side (224: its training size; smaller is faster)')
    g.add_argument('--real-nums', type=int, default=-1,
                   help='real test images for the reference statistics (-1: all 10,000)')
    g.add_argument('--classifier', default=None, help='a tools/train_classifier.py output; '
                   'default: train one into the work dir')
    g.add_argument('--classifier-epochs', type=int, default=4)
    g.add_argument('--inception', default=None,
                   help='Tero\'s inception-2015-12-05.pt (TorchScript) to add FID and IS')
    g = p.add_argument_group('outputs')
    g.add_argument('--results', default='docs/results.md')
    g.add_argument('--images', default='docs/images')
    g.add_argument('--threads', type=int, default=None, help='torch CPU threads')
    return p.parse_args(argv)


def run(cmd: List[str], threads: Optional[int]) -> None:
    env = dict(os.environ, NO_ALBUMENTATIONS_UPDATE='1')
    if threads:
        env['OMP_NUM_THREADS'] = str(threads)
    print('+ ' + ' '.join(shlex.quote(c) for c in cmd), flush=True)
    subprocess.run(cmd, check=True, env=env, cwd=REPO)


def train_twin(base: Config, args, name: str, prob: float) -> Dict[str, object]:
    """Train one twin with tools/train.py (skipped when an identical run finished)."""
    tag = f'train_{name.replace("=", "")}'
    work_dir = osp.abspath(osp.join(args.work_dir, tag))
    cfg = training_config(base, work_dir, prob, args.iters, args.seed, args.batch_size, args.size,
                          args.width, args.depth, args.heads, args.workers, args.val_points)
    # Outside work_dir: the Runner dumps its own copy (with `launcher` added) there.
    cfg_path = osp.abspath(osp.join(args.work_dir, 'configs', f'{tag}.py'))
    os.makedirs(osp.dirname(cfg_path), exist_ok=True)
    ckpt = osp.join(work_dir, f'iter_{args.iters}.pth')
    text = cfg.pretty_text
    timing = osp.join(work_dir, 'study_train_seconds.txt')
    if (osp.isfile(ckpt) and osp.isfile(cfg_path) and open(cfg_path).read() == text
            and osp.isfile(timing)):
        print(f'[study] {name}: reusing {ckpt}')
    else:
        with open(cfg_path + '.tmp', 'w') as f:
            f.write(text)
        os.replace(cfg_path + '.tmp', cfg_path)
        start = time.time()
        run([sys.executable, osp.join(REPO, 'tools', 'train.py'), cfg_path, '--work-dir', work_dir],
            args.threads)
        with open(timing, 'w') as f:
            f.write(f'{time.time() - start:.1f}\n')
    return dict(work_dir=work_dir, config=cfg_path, checkpoint=ckpt,
                seconds=float(open(timing).read()))


def ensure_classifier(args) -> str:
    if args.classifier:
        return osp.abspath(args.classifier)
    path = osp.abspath(osp.join(args.work_dir, 'classifier.pth'))
    if not osp.isfile(path):
        run([sys.executable, osp.join(REPO, 'tools', 'train_classifier.py'), '--out', path,
             '--epochs', str(args.classifier_epochs), '--seed', str(args.seed)], args.threads)
    return path


def evaluate_cell(run_info: Dict[str, str], cell: Cell, args, classifier: str,
                  real_indices: Optional[List[int]], work_dir: str) -> Dict[str, float]:
    """One MMEngine Runner test run of one cell; returns its metrics and wall time."""
    from mmengine.runner import Runner
    cfg = evaluation_config(Config.fromfile(run_info['config']), Config.fromfile(GEN_BASE),
                            work_dir, run_info['checkpoint'], cell, args.samples, args.seed,
                            classifier, args.gen_batch_size, real_indices, args.fd_image_size,
                            args.inception)
    cfg.log_level = 'WARNING'
    start = time.time()
    runner = Runner.from_cfg(cfg)
    runner.test()
    out = {k[len('test/'):]: float(v.current()) for k, v in runner.message_hub.log_scalars.items()
           if k.startswith('test/') and '/' in k[len('test/'):]}
    out['seconds'] = time.time() - start
    return out


def real_floor(args, real_indices: Optional[List[int]]) -> Optional[float]:
    """FD of ``--samples`` real *training* images against the test-split statistics:
    what a perfect generator would score with this many samples."""
    from mmengine.dataset import pseudo_collate
    from torch.utils.data import DataLoader

    from bigfix_mm.evaluation.classifier_training import load_cifar10_arrays
    from bigfix_mm.registry import DATASETS, METRICS, MODELS
    gen = Config.fromfile(GEN_BASE)
    loader_cfg = gen.gen_dataloader.to_dict()
    if real_indices is not None:
        loader_cfg['dataset']['indices'] = list(real_indices)
    dataset = DATASETS.build(loader_cfg['dataset'])
    loader = DataLoader(dataset, batch_size=args.gen_batch_size, collate_fn=pseudo_collate)
    metric = METRICS.build(dict(type='EfficientNetFrechetDistance', fake_nums=args.samples,
                                real_nums=-1, image_size=args.fd_image_size))
    stub = torch.nn.Module()
    stub.data_preprocessor = MODELS.build(dict(type='TokenDataPreprocessor'))
    metric.prepare(stub, loader)
    images, _ = load_cifar10_arrays('train', limit=args.samples)
    for chunk in images.split(args.gen_batch_size):
        metric.process({}, [dict(fake_img=img.flip(0).float()) for img in chunk])  # RGB -> BGR
    return metric.evaluate()['FD-EffNetLite0/fd']


def write_report(args, meta: dict, results: dict, cells: List[Cell], curves_png: str) -> None:
    settings = list(SETTINGS)
    rel_png = osp.relpath(curves_png, osp.dirname(osp.abspath(args.results)))
    lines = [
        '# Token fixing on CIFAR-10: results', '',
        f'Generated by `tools/fixing_study.py` on {meta["date"]} ({meta["device"]}, '
        f'{meta["threads"]} threads): training {meta["train_hours"]:.2f} h, sampling and '
        f'scoring {meta["sample_hours"]:.2f} h.', '',
        '## Reproduce', '', '```bash', meta['command'], '```', '',
        'Every number and plot on this page comes from that one command (finished training '
        'runs and cells are reused when it is run again with the same settings).', '',
        '## Setup', '',
        f'- Config `{meta["config"]}`: tokenizer `{meta["tokenizer"]}` ({meta["codebook_size"]} '
        f'codes, token grid {meta["grid"]}), transformer {meta["transformer"]} '
        f'({meta["params_m"]:.2f} M parameters).',
        f'- Twins: random-token injection p=0.2 (`shuffle`) and p=0, each {meta["iters"]} '
        f'iterations of batch {meta["batch_size"]}, seed {args.seed}, otherwise identical.',
        f'- Every cell: {args.samples} images, classes balanced, sampling seed {args.seed} '
        '(the same labels and noise stream in every cell). `Fixing low_confidence` re-samples '
        f'the {args.fix_ratio:g} share of placed tokens the model doubts most at each step; '
        '`Fixing all` re-samples every placed token (the authors\' released behaviour). Both '
        'reveal positions in the Halton order, so Halton is their no-fixing twin; '
        '`MaskGIT + fixing low_confidence` reveals by confidence like MaskGIT, its twin.',
        f'- **FD**: Fréchet distance in ImageNet EfficientNet-Lite0 features '
        f'({args.fd_image_size} px) to {meta["real_nums"]} real CIFAR-10 test images '
        '(lower is better; not comparable with Inception FID). '
        f'Reference: {args.samples} real *training* images score FD {meta["real_floor"]:.2f} '
        '(what a perfect generator would get with this many samples).',
        f'- **acc %**: top-1 accuracy of a CIFAR-10 classifier trained on the real training '
        f'split (its accuracy on real test images: {meta["classifier_acc"]:.2f}%) on the '
        'samples, against the class they were conditioned on.',
        ('- **FID\\* / IS\\***: MMagic\'s FrechetInceptionDistance / InceptionScore with '
         f'`{meta["inception"]}` (sha256 {meta["inception_sha"]}).') if args.inception else
        '- FID / IS: not computed (no Inception file given; see docs/evaluation.md).',
        '', '## Table', '',
        'Best value of each (steps, CFG) group and model in bold; `s / cell` = wall seconds of '
        'the cell (sampling + metrics) for each model (the first cell also embeds the real '
        'images once, unless cached).', '',
        results_table(results, settings, cells), '',
        '## Does fixing help here?', '',
        'Mechanical counts from the table (FD, lower is better):', '',
        *fixing_summary(results, settings, cells), '',
        'A win by a margin far below the gap between the samples and the real-image reference '
        f'({meta["real_floor"]:.2f}), or below the spread of repeated runs with other '
        '`--seed`s, is not evidence either way.', '',
        '## Training curves', '',
        f'![training curves]({rel_png})', '',
        'Loss and accuracies logged by tools/train.py (MMEngine json logs). The held-out fix '
        'accuracy is measured with the same p=0.2 corruption for both twins; the p=0 twin has '
        'no training fix accuracy (it never sees injected tokens).', '',
    ]
    os.makedirs(osp.dirname(osp.abspath(args.results)), exist_ok=True)
    tmp = args.results + '.tmp'
    with open(tmp, 'w') as f:
        f.write('\n'.join(lines))
    os.replace(tmp, args.results)
    print(f'[study] wrote {args.results} and {curves_png}')


def save_json(path: str, data: dict) -> None:
    with open(path + '.tmp', 'w') as f:
        json.dump(data, f, indent=1, sort_keys=True)
    os.replace(path + '.tmp', path)


def main(argv=None) -> dict:
    args = parse_args(argv)
    command = 'python tools/fixing_study.py ' + ' '.join(
        shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:]))
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.inception and not osp.isfile(args.inception):
        raise FileNotFoundError(f'--inception {args.inception!r} is not a file (Tero\'s '
                                'inception-2015-12-05.pt; see docs/evaluation.md)')
    base = Config.fromfile(args.config)
    args.iters = args.iters or int(base.train_cfg.max_iters)
    cells = make_cells(args.samplers, args.steps, args.cfg_scales, args.fix_ratio)
    os.makedirs(args.work_dir, exist_ok=True)

    runs = {name: train_twin(base, args, name, p) for name, p in SETTINGS.items()}
    classifier = ensure_classifier(args)
    real_indices = None
    if args.real_nums > 0:
        from mmengine.registry import init_default_scope

        from bigfix_mm.registry import DATASETS
        init_default_scope('mmagic')
        test_split = DATASETS.build(Config.fromfile(GEN_BASE).gen_dataloader.dataset)
        real_indices = evenly_spread(len(test_split), args.real_nums)

    results_path = osp.join(args.work_dir, 'results.json')
    stored = json.load(open(results_path)) if osp.isfile(results_path) else {}
    results = stored.get('cells', {})
    for name, info in runs.items():
        for cell in cells:
            signature = dict(ckpt_mtime=osp.getmtime(info['checkpoint']), samples=args.samples,
                             seed=args.seed, fd_image_size=args.fd_image_size,
                             real_nums=args.real_nums, classifier=classifier,
                             inception=args.inception, sampler=cell.sampler_cfg())
            old = results.get(name, {}).get(cell.name)
            if old and old.get('signature') == signature:
                continue
            print(f'[study] {name} {cell.name}: sampling {args.samples} images', flush=True)
            out = evaluate_cell(info, cell, args, classifier, real_indices,
                                osp.join(args.work_dir, f'eval_{name.replace("=", "")}'))
            out['signature'] = signature
            results.setdefault(name, {})[cell.name] = out
            print(f'[study] {name} {cell.name}: ' + ', '.join(
                f'{k}={v:.4g}' for k, v in out.items() if isinstance(v, float)), flush=True)
            save_json(results_path, dict(stored, cells=results))

    from bigfix_mm.evaluation.classifier import load_classifier
    from bigfix_mm.evaluation.curves import plot_training_curves
    from bigfix_mm.registry import MODELS
    curves_png = osp.join(args.images, 'fixing_study_curves.png')
    plot_training_curves({n: r['work_dir'] for n, r in runs.items()}, curves_png,
                         skip={'p=0': ['fix_acc']})
    train_cfg = Config.fromfile(runs['p=0.2']['config'])
    model = MODELS.build(copy.deepcopy(train_cfg.model))
    tr = model.transformer
    meta = dict(
        date=datetime.date.today().isoformat(), command=command, config=args.config,
        device=torch.cuda.get_device_name() if torch.cuda.is_available() else
        f'CPU ({platform.processor() or platform.machine()})',
        threads=torch.get_num_threads(),
        train_hours=sum(r['seconds'] for r in runs.values()) / 3600,
        sample_hours=sum(c.get('seconds', 0.0) for t in results.values()
                         for c in t.values()) / 3600,
        tokenizer=train_cfg.model.get('tokenizer', {}).get('type', 'none'),
        codebook_size=tr.codebook_size, grid='x'.join(map(str, tr.grid)),
        transformer=f'width {tr.width}, depth {len(tr.blocks)}',
        params_m=sum(p.numel() for p in tr.parameters()) / 1e6, iters=args.iters,
        batch_size=train_cfg.train_dataloader.batch_size,
        real_nums=len(real_indices) if real_indices is not None else 'all',
        real_floor=real_floor(args, real_indices),
        classifier_acc=load_classifier(classifier)[1].get('test_acc', float('nan')),
        inception=args.inception, inception_sha=None)
    if args.inception:
        from bigfix_mm.evaluation.efficientnet import file_digest
        meta['inception_sha'] = file_digest(args.inception)
    save_json(results_path, dict(cells=results, meta=meta))
    write_report(args, meta, results, cells, curves_png)
    return dict(meta=meta, cells=results)


if __name__ == '__main__':
    run_tool(main)
