"""The editing study: the same CIFAR-10 test images, masks, labels and seed edited by every
sampler, measured, compared with paired intervals, and written up as a page.

    python -m projects.editing_study CONFIG CHECKPOINT [--num 300] [--out docs/editing.md]

Cells: samplers MaskGIT, Halton, fix_all, fix_low, fix_low with seam 1 and 2, on three mask
sets: a central box, outpainting of the outer ring, free-form strokes (MMagic's ``ff``
masks). Metrics per cell: Fréchet distance of the composites (EfficientNet-Lite0 features at
128 px, as the fixing study, to a reference of other test images), MMagic's MAE (inside the
mask), PSNR and SSIM against the originals, and the seam gap: the absolute difference between
the composite's and the real image's mean absolute change across the border of the edited
region (:func:`bigfix_mm.evaluation.seam.seam_score`). Each cell is computed once and cached
in ``--work-dir``.
"""
import argparse
import hashlib
import json
import os
import shlex
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch

from bigfix_mm.apis import edit, init_model
from bigfix_mm.evaluation.efficientnet import EfficientNetLite0Features
from bigfix_mm.evaluation.frechet import feature_statistics
from bigfix_mm.evaluation.seam import seam_score
from bigfix_mm.core.edit_masks import box_mask, central_box
from bigfix_mm.registry import DATASETS
from bigfix_mm.visualization.edit_figures import labelled_grid, masked_input
from bigfix_mm.core.files import atomic_path
from bigfix_mm.visualization.images import save_png
from bigfix_mm.visualization.sampling_figures import text_block, vstack
from projects.editing_study.intervals import (FrechetToReference, bootstrap_draws,
                                              format_interval, paired_interval, verdict)

# (name, preset, seam): the study's cells, in the order of its tables and grid columns
CELLS = [('maskgit', 'maskgit', 0), ('halton', 'halton', 0), ('fix_all', 'fix_all', 0),
         ('fix_low', 'fix_low', 0), ('fix_low seam 1', 'fix_low', 1),
         ('fix_low seam 2', 'fix_low', 2)]
MASKS = {'box': 'central box 16x16 px (4x4 tokens)',
         'outpaint': 'everything outside the central 24x24 px regenerated (the outer ring)',
         'free-form': "brush strokes (MMagic's ff masks, widths 3-6 px)"}
# metric -> (column title, lower is better, format)
METRICS = {'fd': ('FD', True, '{:.2f}'), 'mae': ('MAE', True, '{:.4f}'),
           'psnr': ('PSNR dB', False, '{:.2f}'), 'ssim': ('SSIM', False, '{:.4f}'),
           'seam': ('seam gap', True, '{:.2f}')}
# (a, b, question): paired differences a - b reported for every mask set
COMPARISONS = [('fix_low', 'halton', 'fixing'), ('fix_all', 'halton', 'fixing'),
               ('fix_low seam 1', 'fix_low', 'seam'), ('fix_low seam 2', 'fix_low', 'seam')]


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description='Editing with token fixing across samplers')
    p.add_argument('config')
    p.add_argument('checkpoint')
    p.add_argument('--num', type=int, default=300, help='edited test images')
    p.add_argument('--ref-num', type=int, default=1000,
                   help='other test images forming the FD reference')
    p.add_argument('--seed', type=int, default=0, help='image subset, masks and sampling seed')
    p.add_argument('--replicates', type=int, default=200, help='bootstrap replicates')
    p.add_argument('--grid-rows', type=int, default=4, help='images per mask set in the grid')
    p.add_argument('--batch-size', type=int, default=100)
    p.add_argument('--fd-image-size', type=int, default=128)
    p.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    p.add_argument('--work-dir', default='work_dirs/editing_study', help='cell cache')
    p.add_argument('--out', default='docs/editing.md')
    p.add_argument('--grid', default='docs/images/editing_grid.png')
    return p.parse_args(argv)


# ------------------------------------------------------------------------ inputs
def test_images(num: int, ref_num: int, seed: int):
    """(images (num, 3, 32, 32) [0, 1], labels (num,), reference (ref_num, 3, 32, 32)):
    disjoint seeded random subsets of the CIFAR-10 test split (it is class-sorted)."""
    dataset = DATASETS.build(dict(type='CIFAR10JPEG', split='test', pipeline=[]))
    order = np.random.default_rng(seed).permutation(len(dataset))
    if num + ref_num > len(order):
        raise ValueError(f'--num {num} + --ref-num {ref_num} exceed the {len(order)} test images')

    def load(indices):
        infos = [dataset.get_data_info(int(i)) for i in indices]
        imgs = torch.from_numpy(np.stack([info['img'] for info in infos])).permute(0, 3, 1, 2)
        return imgs.float() / 255.0, torch.tensor([int(info['gt_label']) for info in infos])

    images, labels = load(order[:num])
    reference, _ = load(order[num:num + ref_num])
    return images, labels, reference


def make_masks(kind: str, num: int, seed: int, size: int = 32) -> torch.Tensor:
    """(num, 1, size, size) bool masks of one set (True = regenerate)."""
    if kind == 'box':
        return box_mask((size, size), central_box((size, size), size // 2))[None].expand(
            num, -1, -1, -1).clone()
    if kind == 'outpaint':
        keep = box_mask((size, size), central_box((size, size), size * 3 // 4))
        return (~keep)[None].expand(num, -1, -1, -1).clone()
    from mmagic.utils import brush_stroke_mask
    out = []
    for i in range(num):  # MMagic draws from numpy's global stream: seed it per image
        np.random.seed(seed * 100003 + i)
        mask = brush_stroke_mask((size, size), num_vertices=(4, 8), mean_angle=1.2,
                                 angle_range=0.4, brush_width=(3, 6), max_loops=2)
        out.append(torch.from_numpy(mask[..., 0] > 0))
    return torch.stack(out)[:, None]


# ---------------------------------------------------------------------- metrics
def mmagic_metrics(images: torch.Tensor, composite: torch.Tensor,
                   masks: torch.Tensor) -> Dict[str, np.ndarray]:
    """Per-image MAE (inside the mask), PSNR and SSIM, computed by MMagic's own metric
    classes on (3, H, W) BGR [0, 255] images, as its inpainting evaluation feeds them."""
    from mmagic.evaluation.metrics import MAE, PSNR, SSIM
    mae, psnr, ssim = MAE(mask_key='mask'), PSNR(), SSIM()
    gt, pred = images.flip(1) * 255.0, composite.flip(1) * 255.0
    rows = [(mae.process_image(g, p, m.float()), psnr.process_image(g, p, m),
             ssim.process_image(g, p, m)) for g, p, m in zip(gt, pred, masks)]
    return {name: np.array([float(r[i]) for r in rows]) for i, name in
            enumerate(('mae', 'psnr', 'ssim'))}


def features(net: EfficientNetLite0Features, images: torch.Tensor,
             batch_size: int) -> np.ndarray:
    """(N, 3, H, W) RGB [0, 1] -> (N, 1280) float64."""
    with torch.no_grad():
        return torch.cat([net((chunk.flip(1) * 255.0).round()).cpu()
                          for chunk in images.split(batch_size)]).double().numpy()


def run_cell(model, images, labels, masks, preset: str, seam: int, args) -> dict:
    """Edit every image once; per-image metrics, features and timing."""
    start = time.perf_counter()
    out = edit(model, images, masks, labels, sampler=preset, seam=seam, seed=args.seed,
               batch_size=args.batch_size)
    seconds = time.perf_counter() - start
    metrics = mmagic_metrics(images, out.composite, masks)
    real_seam = seam_score(images, out.region).numpy()
    metrics['seam'] = np.abs(seam_score(out.composite, out.region).numpy() - real_seam)
    outside = (out.region & ~masks).flatten(1).sum(1).double() / (~masks).flatten(1).sum(1)
    return dict(metrics=metrics, composite=out.composite, real_seam=real_seam,
                outside=outside.numpy(), seconds=seconds)


def cell_path(args, kind: str, name: str) -> Path:
    key = dict(checkpoint=str(Path(args.checkpoint).resolve()),
               mtime=Path(args.checkpoint).stat().st_mtime, model=model_digest(args.config),
               num=args.num, seed=args.seed, kind=kind, cell=name, size=args.fd_image_size)
    digest = hashlib.sha1(json.dumps(key, sort_keys=True).encode()).hexdigest()[:12]
    return Path(args.work_dir) / f'{kind}_{name.replace(" ", "_")}_{digest}.npz'


def model_digest(config: str) -> str:
    """What a config says about the model (its resolved ``model`` dict), whatever file
    states it."""
    from mmengine.config import Config

    from bigfix_mm.engine.config_checks import resolve_config
    model = resolve_config(Config.fromfile(config)).to_dict()['model']
    return hashlib.sha1(json.dumps(model, sort_keys=True, default=str).encode()).hexdigest()


def save_cell(path: Path, cell: dict) -> None:
    """A cell's arrays as one ``.npz`` (no pickle), written atomically."""
    arrays = {f'metric_{k}': v for k, v in cell['metrics'].items()}
    arrays.update(composite=cell['composite'].numpy(), features=cell['features'],
                  real_seam=cell['real_seam'], outside=cell['outside'],
                  seconds=np.array(cell['seconds']))
    with atomic_path(path) as tmp:
        with open(tmp, 'wb') as f:
            np.savez(f, **arrays)


def load_cell(path: Path) -> dict:
    with np.load(path, allow_pickle=False) as data:
        return dict(metrics={k[len('metric_'):]: data[k] for k in data.files
                             if k.startswith('metric_')},
                    composite=torch.from_numpy(data['composite']), features=data['features'],
                    real_seam=data['real_seam'], outside=data['outside'],
                    seconds=float(data['seconds']))


# -------------------------------------------------------------------- analysis
def summarise(cells: Dict[str, dict], frechet: FrechetToReference, draws: np.ndarray) -> dict:
    """Point values and bootstrap replicates of every metric of every cell."""
    out = {}
    for name, cell in cells.items():
        point = {m: float(np.mean(v)) for m, v in cell['metrics'].items()}
        reps = {m: v[draws].mean(1) for m, v in cell['metrics'].items()}
        point['fd'] = frechet.distance(cell['features'])
        reps['fd'] = np.array([frechet.distance(cell['features'], idx) for idx in draws])
        out[name] = dict(point=point, reps=reps)
    return out


def comparisons(summary: dict) -> List[dict]:
    rows = []
    for a, b, question in COMPARISONS:
        for metric, (title, lower, _) in METRICS.items():
            iv = paired_interval(summary[a]['point'][metric], summary[b]['point'][metric],
                                 summary[a]['reps'][metric], summary[b]['reps'][metric])
            rows.append(dict(a=a, b=b, question=question, metric=metric, title=title,
                             interval=iv, verdict=verdict(iv, a, b, lower)))
    return rows


def paragraph(kind_rows: Dict[str, List[dict]], question: str) -> str:
    """One paragraph of verdicts for a question over the mask sets."""
    parts = []
    for kind, rows in kind_rows.items():
        said = [f'{r["title"]}: {r["verdict"]} ({format_interval(r["interval"], "{:+.3g}")})'
                for r in rows if r['question'] == question and not
                r['verdict'].startswith('no difference')]
        none = [r['title'] for r in rows if r['question'] == question
                and r['verdict'].startswith('no difference')]
        pairs = sorted({f'{r["a"]} vs {r["b"]}' for r in rows if r['question'] == question})
        text = f'**{kind}** ({"; ".join(pairs)}): ' + ('; '.join(said) if said else
                                                          'no interval excludes zero')
        if said and none:
            text += f'; no difference detected in {len(none)} other comparison(s)'
        parts.append(text + '.')
    return ' '.join(parts)


# ------------------------------------------------------------------------ page
def cell_table(summary: dict, cells: Dict[str, dict]) -> List[str]:
    head = ['sampler'] + [METRICS[m][0] for m in METRICS] + ['outside mask replaced',
                                                               'ms / image']
    lines = ['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
    for name, s in summary.items():
        vals = [METRICS[m][2].format(s['point'][m]) for m in METRICS]
        cell = cells[name]
        vals += [f'{100 * float(np.mean(cell["outside"])):.1f}%',
                 f'{1000 * cell["seconds"] / len(cell["outside"]):.0f}']
        lines.append(f'| {name} | ' + ' | '.join(vals) + ' |')
    return lines


def write_page(args, argv: Sequence[str], results: Dict[str, dict], grid_rel: str,
               device_name: str) -> str:
    lines = [
        '# Editing with token fixing: inpainting, outpainting, free-form masks', '',
        '<!-- written by `python -m projects.editing_study`; do not edit by hand -->', '',
        f'Regenerated by `{reproduce_command(argv)}`.', '',
        f'Scale: {args.num} CIFAR-10 test images (a seeded random subset), one mask per image '
        f'and mask set, each image under its true class, sampling seed {args.seed}, on '
        f'{device_name}; FD reference: {args.ref_num} other test images; intervals: '
        f'{args.replicates} paired bootstrap replicates over images, 95%; a direction is '
        'stated only where the interval excludes zero. Model: '
        f'`{args.checkpoint}` (`{args.config}`). Every cell edits the same images with the '
        'same masks, labels and seed; the composite keeps the original pixels outside the '
        'mask wherever no token changed. The samplers use the config\'s steps and guidance '
        '(a hole of n < steps tokens takes n steps).', '',
        'Metrics: **FD** Fréchet distance of the composites in EfficientNet-Lite0 features at '
        f'{args.fd_image_size} px (the fixing study\'s metric; lower is better); MMagic\'s '
        '**MAE** (inside the mask, [0, 1] scale), **PSNR** and **SSIM** of the composite '
        'against the original (MMagic\'s SSIM slides an 11x11 window without padding, so '
        'on 32x32 images it leaves out the outer 5 pixels: it hardly sees outpainting); '
        '**seam gap**: per image, |mean absolute change across the '
        'border of the edited region in the composite - the same on the real image|, in 8-bit '
        'levels (lower: the edit blends in as the real image does). *outside mask replaced*: '
        'share of the pixels outside the mask that seam fixing replaced; *ms / image*: '
        f'wall time of the edit. The FD of {args.num} composites in 1280-d features is '
        'dominated by its small-sample bias, and so are its bootstrap replicates (a '
        'resample repeats images): read its intervals as rough.', '',
        'Seam fixing (`seam=w`) lets the fixing sampler re-sample the given tokens within w '
        'tokens of the hole; the authors\' code has no such option (their given tokens are '
        'never changed, as here with w = 0). On an 8x8 token grid, seam 2 around the central '
        'box already covers every given token.', '',
        f'![editing grid]({grid_rel})', '',
        'Grid: per mask set, rows are the same images; columns: original, masked input, then '
        'the composite of each sampler.', '']
    per_kind_rows = {}
    for kind, res in results.items():
        lines += [f'## {kind}: {MASKS[kind]}', ''] + cell_table(res['summary'], res['cells'])
        lines += ['', '| comparison | metric | difference a - b [95% interval] | verdict |',
                  '|---|---|---|---|']
        for r in res['comparisons']:
            fmt = '{:+.4f}' if r['metric'] in ('mae', 'ssim') else '{:+.2f}'
            lines.append(f'| {r["a"]} - {r["b"]} | {r["title"]} | '
                         f'{format_interval(r["interval"], fmt)} | {r["verdict"]} |')
        lines.append('')
        per_kind_rows[kind] = res['comparisons']
    cost = {kind: {name: 1000 * c['seconds'] / args.num for name, c in res['cells'].items()}
            for kind, res in results.items()}
    replaced = {kind: {name: 100 * float(np.mean(c['outside'])) for name, c in
                       res['cells'].items()} for kind, res in results.items()}
    lines += [
        '## What the measurements say', '',
        '**Does fixing help editing?** ' + paragraph(per_kind_rows, 'fixing'), '',
        '**Does seam fixing help?** ' + paragraph(per_kind_rows, 'seam'), '',
        '**At what cost?** Fixing costs no extra forward pass: every sampler makes `steps` '
        'transformer calls (one doubled batch each with guidance) and fixing re-uses their '
        'logits. The wall times in the tables (fix_low against halton: ' + ', '.join(
            f'{cost[k]["fix_low"]:.0f} vs {cost[k]["halton"]:.0f} ms ({k})' for k in cost)
        + ') were taken one cell after the other on a shared machine whose load varied, so '
        'their differences are load, not method. Seam fixing replaces pixels outside the '
        'mask: on average '
        + ', '.join(f'{replaced[k]["fix_low seam 1"]:.1f}% (seam 1) and '
                    f'{replaced[k]["fix_low seam 2"]:.1f}% (seam 2) ({k})' for k in replaced)
        + ' of the pixels outside the mask, which MAE inside the mask does not see and PSNR / '
        'SSIM over the whole image do.', '',
        'This is a CPU-scale run on a small, briefly trained model with RGB-quantised 8x8 '
        'tokens: read it as the pipeline and a first signal, not as the paper\'s ImageNet '
        'setting.', '']
    return '\n'.join(lines)


def reproduce_command(argv: Sequence[str]) -> str:
    return 'python -m projects.editing_study ' + ' '.join(shlex.quote(a) for a in argv)


def grid_figure(images, labels, results: Dict[str, dict], masks: Dict[str, torch.Tensor],
                rows: int) -> np.ndarray:
    parts = []
    for kind, res in results.items():
        m = masks[kind][:rows]
        columns = [images[:rows], masked_input(images[:rows], m)]
        columns += [res['cells'][name]['composite'][:rows] for name, _, _ in CELLS]
        grid = labelled_grid(columns, ['original', 'masked'] + [n for n, _, _ in CELLS])
        parts += [text_block(grid.shape[1], [f'{kind}: {MASKS[kind]}']), grid]
    return vstack(parts, gap=6)


# ------------------------------------------------------------------------ main
def main(argv: Optional[Sequence[str]] = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    model = init_model(args.config, args.checkpoint, device=args.device)
    images, labels, reference = test_images(args.num, args.ref_num, args.seed)
    net = EfficientNetLite0Features(image_size=args.fd_image_size).to(args.device)
    frechet = FrechetToReference(*feature_statistics(features(net, reference, args.batch_size)))
    draws = bootstrap_draws(args.num, args.replicates, args.seed)
    Path(args.work_dir).mkdir(parents=True, exist_ok=True)
    results, all_masks = {}, {}
    for kind in MASKS:
        masks = all_masks[kind] = make_masks(kind, args.num, args.seed)
        cells = {}
        for name, preset, seam in CELLS:
            path = cell_path(args, kind, name)
            if path.is_file():
                cells[name] = load_cell(path)
            else:
                cell = run_cell(model, images, labels, masks, preset, seam, args)
                cell['features'] = features(net, cell['composite'], args.batch_size)
                save_cell(path, cell)
                cells[name] = cell
            print(f'{kind:10s} {name:15s} {cells[name]["seconds"]:7.1f} s', flush=True)
        summary = summarise(cells, frechet, draws)
        results[kind] = dict(cells=cells, summary=summary, comparisons=comparisons(summary))
    out = Path(args.out)
    grid = Path(args.grid)
    grid.parent.mkdir(parents=True, exist_ok=True)
    save_png(grid_figure(images, labels, results, all_masks, args.grid_rows), grid)
    grid_rel = os.path.relpath(grid, out.parent)
    out.parent.mkdir(parents=True, exist_ok=True)
    device_name = 'CPU' if args.device == 'cpu' else torch.cuda.get_device_name(args.device)
    out.write_text(write_page(args, argv, results, grid_rel, device_name))
    print(f'wrote {out} and {grid}')
