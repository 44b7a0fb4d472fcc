"""docs/results.md, generated: tables, intervals, and the words that follow from them.

Only the section between :data:`CONTEXT_START` and :data:`CONTEXT_END` is
hand-written; it is carried over from the existing page unchanged.
"""
import os.path as osp
from typing import Dict, List, Optional, Sequence

import numpy as np

from bigfix_mm.utils.files import write_text_atomic

from .analysis import CellStats, Comparison, cell_stats, comparisons, make_draws
from .cache import write_json
from .cells import Cell
from .curves import plot_training_curves, read_scalars
from .plots import plot_fd_vs_steps, plot_grid
from .stats import NO_DIFFERENCE, FrechetToReference, format_interval, verdict

CONTEXT_START = '<!-- context: hand-written; tools/fixing_study.py keeps this section as is -->'
CONTEXT_END = '<!-- end of context -->'
DEFAULT_CONTEXT = '(No hand-written context yet.)'

# The GPU-scale run of the same study (the scale note prints it).
GPU_COMMAND = ('python tools/fixing_study.py configs/bigfix_cifar10.py '
               '--work-dir work_dirs/fixing_study_gpu --iters 100000 --batch-size 256 '
               '--size small --workers 8 --val-points 10 --samples 10000 --seeds 0 1 2 '
               '--pilot-samples 2000 --bootstrap 200 --fd-image-size 224 '
               '--classifier-epochs 30 --gen-batch-size 500 --threads 8 --device cuda')


def pilot_choice(samples_by_w: Dict[float, Dict[str, np.ndarray]],
                 ref: Dict[str, np.ndarray]) -> dict:
    """The guidance scale whose Halton samples have the lowest FD (pilot seed)."""
    from bigfix_mm.evaluation.frechet import feature_statistics
    frechet = FrechetToReference(*feature_statistics(ref['real_features']))
    fd = {f'{w:g}': frechet.distance(frechet.prepare(s['features']))
          for w, s in samples_by_w.items()}
    best = min(samples_by_w, key=lambda w: fd[f'{w:g}'])
    n = len(next(iter(samples_by_w.values()))['features'])
    return dict(fd=fd, best=float(best), samples=int(n))


def read_context(path: str) -> str:
    if not osp.isfile(path):
        return DEFAULT_CONTEXT
    text = open(path).read()
    if CONTEXT_START in text and CONTEXT_END in text:
        return text.split(CONTEXT_START, 1)[1].split(CONTEXT_END, 1)[0].strip('\n')
    return DEFAULT_CONTEXT


def words(comp: Comparison, name_a: str, name_b: str) -> str:
    return verdict(comp.fd, name_a, name_b)


def tally(comps: Sequence[Comparison]) -> str:
    """'better in 2, worse in 1, no difference detected in 3 (of 6)'."""
    better = sum(c.sign < 0 for c in comps)
    worse = sum(c.sign > 0 for c in comps)
    return (f'lower FD (better) in {better}, higher FD (worse) in {worse}, no difference '
            f'detected in {len(comps) - better - worse} (of {len(comps)})')


def comparison_lines(comps: Sequence[Comparison], a: str, b: str) -> List[str]:
    out = []
    for c in comps:
        line = f'  - {c.label}: FD {format_interval(c.fd)} → {words(c, a, b)}'
        if c.acc is not None:
            line += (f'; accuracy {format_interval(c.acc, "{:+.1f}")} points → '
                     f'{verdict(c.acc, a, b, "accuracy", lower_is_better=False)}')
        out.append(line)
    return out


def finding_fixing(comps: List[Comparison], twins: Sequence[str]) -> List[str]:
    out = []
    for twin in twins:
        for fixer, title in (('Fixing `low_confidence`', 'fix_low'), ('Fixing `all`', 'fix_all')):
            mine = [c for c in comps if c.question == 'fixing' and c.twin == twin
                    and c.label.startswith(fixer)]
            if not mine:
                continue
            out.append(f'- **{twin}, {fixer} vs Halton** (same reveal order): {tally(mine)} '
                       '(steps, CFG) settings.')
            out += comparison_lines(mine, fixer.split(' ', 1)[1], 'Halton')
    return out


def finding_steps(comps: List[Comparison]) -> List[str]:
    out = []
    for c in [c for c in comps if c.question == 'steps']:
        sign = c.sign
        text = (NO_DIFFERENCE if sign == 0 else
                'fixing lowers FD more at the fewer steps' if sign < 0 else
                'fixing lowers FD more at the more steps')
        out.append(f'- {c.twin}, {c.label}: {format_interval(c.fd)} → {text}.')
    return out


def finding_policy(comps: List[Comparison], twins: Sequence[str]) -> List[str]:
    out = []
    for question, a, b in (('policy', '`low_confidence`', '`all`'),
                           ('sweep', 'the variant', 'the reference')):
        mine = [c for c in comps if c.question == question]
        for twin in [t for t in twins if any(c.twin == t for c in mine)]:
            sub = [c for c in mine if c.twin == twin]
            out.append(f'- **{twin}**, {question}: {tally(sub)}.')
            out += comparison_lines(sub, a, b)
    return out


def finding_injection(comps: List[Comparison]) -> List[str]:
    mine = [c for c in comps if c.question == 'injection']
    if not mine:
        return []
    return [f'- p=0.2 − p=0 under plain sampling: {tally(mine)} (sampler, steps, CFG) '
            'settings (lower: the injection-trained twin is better).'] + \
        comparison_lines(mine, 'p=0.2', 'p=0')


def cell_table(stats: Dict[tuple, CellStats], cells: Sequence[Cell],
               twins: Sequence[str]) -> List[str]:
    head = ['sampler', 'steps', 'CFG'] + [f'FD {t} [95%]' for t in twins] + \
        [f'FD per seed {t}' for t in twins] + [f'acc % {t}' for t in twins] + ['s (all seeds)']
    lines = ['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
    for cell in cells:
        got = [stats.get((t, cell.name)) for t in twins]
        row = [cell.title, str(cell.steps), f'{cell.cfg_scale:g}']
        for s in got:
            row.append('pending' if s is None else
                       f'{s.fd:.2f} [{s.fd_interval()[0]:.2f}, {s.fd_interval()[1]:.2f}]')
        for s in got:
            row.append('–' if s is None else ', '.join(f'{v:.1f}' for v in s.fd_seeds))
        for s in got:
            row.append('–' if s is None else f'{s.acc:.1f}')
        row.append(' / '.join('–' if s is None else f'{s.seconds:.0f}' for s in got))
        lines.append('| ' + ' | '.join(row) + ' |')
    return lines


def val_summary(work_dir: str) -> dict:
    _, val = read_scalars(work_dir)
    last = val[-1] if val else {}
    return dict(step=last.get('step'), masked=last.get('token/masked_acc'),
                fix=last.get('token/fix_acc'), loss=last.get('token/loss'),
                curve=[(r['step'], r.get('token/masked_acc'), r.get('token/fix_acc'))
                       for r in val])


def write_page(args, study, cells: List[Cell], ref: Dict[str, np.ndarray], pilot: Optional[dict],
               meta: dict) -> dict:
    """Compute the statistics of every finished cell, draw the figures, write the page."""
    from bigfix_mm.evaluation.frechet import feature_statistics
    from .main import TWINS
    from .reference import floor_distances
    twins = list(TWINS)
    seeds, n = list(args.seeds), int(args.samples)
    draws = make_draws(len(seeds), n, args.bootstrap)
    frechet = FrechetToReference(*feature_statistics(ref['real_features']))
    stats, pending = {}, []
    for cell in cells:
        for twin in twins:
            if not all(study.has_samples(twin, cell, s, n) for s in seeds):
                pending.append((twin, cell))
                continue
            keys = [study.sample_key(twin, cell, s, n) for s in seeds]
            parts = [study.samples(twin, cell, s, n) for s in seeds]
            boot_key = dict(samples=keys, draws=[len(seeds), n, args.bootstrap, 0])
            reps = study.store.get('bootstrap', boot_key)
            stats[(twin, cell.name)] = cell_stats(parts, frechet, draws, reps)
            if reps is None:
                study.store.put('bootstrap', boot_key, stats[(twin, cell.name)].fd_reps)
    sweep = [c for c in cells if c.fix_ratio is not None or c.fix_window is not None]
    grid_cells = [c for c in cells if c not in sweep]
    cfgs = sorted({c.cfg_scale for c in grid_cells}, reverse=True)
    comps = comparisons(stats, cells, twins, draws, args.steps, cfgs, sweep)
    floor = study.store.get_or_compute('floor', dict(ref=study.score_key, subset=len(seeds) * n,
                                                     limit=args.real_limit),
                                       lambda: floor_distances(ref, len(seeds) * n))

    # figures
    results_dir = osp.dirname(osp.abspath(args.results))
    images = osp.abspath(args.images)
    rel = lambda p: osp.relpath(p, results_dir)  # noqa: E731
    fd_png = plot_fd_vs_steps({k: (s.fd, *s.fd_interval()) for k, s in stats.items()},
                              args.samplers, twins, args.steps, cfgs,
                              osp.join(images, 'fixing_study_fd_vs_steps.png'),
                              floor=floor['subset_mean'])
    curves_png = plot_training_curves({t: study.runs[t]['work_dir'] for t in twins},
                                      osp.join(images, 'fixing_study_curves.png'))
    grid_pngs = {}
    w_star = cfgs[0]
    for twin in twins:
        rows = {}
        for sampler in ('halton', 'fix_low', 'fix_all', 'maskgit'):
            cell = Cell(sampler, args.sweep_steps, w_star)
            if sampler in args.samplers and study.has_samples(twin, cell, seeds[0], n):
                tokens = study.samples(twin, cell, seeds[0], n)['tokens'][:20]
                model = study.models[twin]
                import torch
                ids = torch.from_numpy(tokens.astype(np.int64)).view(-1, *model.transformer.grid)
                rows[cell.title.replace('`', '')] = model.decode(ids).float().numpy()
        if rows:
            grid_pngs[twin] = plot_grid(
                rows, osp.join(images, f'fixing_study_grid_{twin.replace("=", "")}.png'),
                f'{twin}: seed {seeds[0]}, samples 1-20 (classes 0-9 twice), '
                f'{args.sweep_steps} steps, CFG {w_star:g}')

    vals = {t: val_summary(study.runs[t]['work_dir']) for t in twins}
    train_s = {t: study.runs[t].get('seconds') for t in twins}
    sample_s = sum(s.seconds for s in stats.values())
    done = len(cells) * len(twins) - len(pending)
    ref_acc = {k: float(100 * (ref[f'{k}_logits'].argmax(1) == ref['labels']).mean())
               for k in ('real', 'token')} if 'real_logits' in ref else {}
    tr = study.models[twins[0]].transformer
    params = sum(p.numel() for p in tr.parameters()) / 1e6

    L = ['# Token fixing on CIFAR-10: results', '',
         '<!-- Generated by tools/fixing_study.py from the cached study; do not edit outside '
         'the context section. -->', '',
         '## Reproduce', '', '```bash', meta['command'], '```', '',
         'The same command resumes an interrupted study and computes only what is missing '
         '(every training, sample set and bootstrap is cached under `--work-dir`, keyed by its '
         'settings, the checkpoint\'s hash and the sampling code\'s hash).', '',
         f'Generated on {meta["date"]} on {meta["device"]}. Wall time: training '
         + ', '.join(f'{t} {s / 60:.1f} min' for t, s in train_s.items() if s) +
         ' (both at once, one core each); sampling and scoring '
         f'{sample_s / 60:.1f} min for the {done} finished (twin, cell) pairs.', '']
    if pending:
        L += [f'**Pending: {len(pending)} of {len(cells) * len(twins)} (twin, cell) pairs** '
              '(rerun the command above to compute them): '
              + ', '.join(f'{t} `{c.name}`' for t, c in pending) + '.', '']
    L += ['## Scale', '',
          f'This run: 2 shared CPU cores; transformer {tr.width} wide, {len(tr.blocks)} deep '
          f'({params:.2f} M parameters), {args.iters} iterations of batch {args.batch_size} per '
          f'twin; {n} samples per cell and seed, {len(seeds)} seeds ({n * len(seeds)} per cell), '
          f'{args.bootstrap} bootstrap replicates, EfficientNet input {args.fd_image_size} px. '
          'A GPU run should use the VQ token space (`configs/bigfix_cifar10.py`, after '
          'training the tokenizer as in docs/tokenizers.md), a `small` transformer trained '
          '100,000 iterations of batch 256, 10,000 samples per cell and seed, 3 seeds, 200 '
          'bootstrap replicates and 224 px features:', '', '```bash', GPU_COMMAND, '```', '',
          '## Context', '', CONTEXT_START, read_context(args.results), CONTEXT_END, '',
          '## Setup', '',
          f'- Config `{meta["config"]}`, tokenizer '
          f'`{type(study.models[twins[0]].tokenizer).__name__}` ({tr.codebook_size} codes, '
          f'token grid {"x".join(map(str, tr.grid))}).',
          '- Twins: random-token injection p=0.2 (`shuffle`) and p=0, the same seed, data order '
          'and settings otherwise. Held-out validation (512 test images, the same p=0.2 '
          'corruption for both) at the end: ' + '; '.join(
              f'{t} masked-token accuracy {v["masked"]:.3f}, fix accuracy {v["fix"]:.3f}'
              for t, v in vals.items() if v['masked'] is not None) + '.',
          f'- Cells: {len(cells)} per twin; samples `i` of seed `s` have the same class '
          '(classes in turn) and start from the same random stream in every cell, so every '
          'comparison is paired.',
          f'- **FD**: Fréchet distance in ImageNet EfficientNet-Lite0 features '
          f'({args.fd_image_size} px) to all 10,000 CIFAR-10 test images (lower is better; not '
          'comparable with Inception FID). Floor: the same test images passed through the '
          f'tokenizer and back score FD {floor["full"]:.2f} (all 10,000) and '
          f'{floor["subset_mean"]:.2f} ± {floor["subset_sd"]:.2f} at {floor["subset"]} images '
          f'(a cell\'s size; real test images themselves: {floor["real_subset_mean"]:.2f} at '
          'that size).',
          f'- **acc %**: a CIFAR-10 classifier (tools/train_classifier.py, '
          f'{meta["classifier_meta"].get("epochs")} epochs) on the samples against their '
          'class; it scores ' + ', '.join(f'{v:.1f}% on {k} test images' for k, v in
                                         ref_acc.items()) + '.',
          f'- Intervals: 95% paired percentile bootstrap over samples ({args.bootstrap} '
          'replicates, resampling within each seed, the same draws for every cell); the '
          f'per-seed t-interval ({len(seeds)} seeds) is in `summary.json` of the work dir. '
          'A direction is stated only '
          f'when the interval excludes zero, otherwise "{NO_DIFFERENCE}". Each interval is '
          '95% on its own; with this many comparisons, a few may exclude zero by chance. '
          'Resampling with repeats makes every bootstrap FD larger than the pooled one, so a '
          "cell's own interval (table, figure) can lie above its point; a difference between "
          'cells uses the same draws on both sides, so that shift is shared.']
    if pilot:
        L.append(f'- Guidance: CFG {pilot["best"]:g}, the lowest FD of Halton ({args.pilot_steps} '
                 f'steps) on the p=0.2 twin among ' + ', '.join(
                     f'{w} → {v:.2f}' for w, v in pilot['fd'].items()) +
                 f', on a separate pilot seed ({args.pilot_seed}, {pilot["samples"]} samples, '
                 'not used by any cell).')
    L += ['', '## Findings', '',
          '### Does fixing help, and at which steps?', '', *finding_fixing(comps, twins), '',
          'Fixing\'s gain at few vs many steps (difference of the paired differences; '
          'negative: fixing helps more at few steps):', '', *finding_steps(comps), '',
          '### Which policy?', '', *finding_policy(comps, twins), '',
          '### Is the injection-trained model no worse under plain sampling?', '',
          *finding_injection(comps), '',
          '## FD against steps', '', f'![FD against steps]({rel(fd_png)})', '',
          'Pooled FD of each cell with its 95% bootstrap interval; the dashed line is the token '
          'round trip at the same sample size.', '',
          '## All cells', '', *cell_table(stats, cells, twins), '',
          '## Training curves', '', f'![training curves]({rel(curves_png)})', '',
          'Held-out curves: ' + '; '.join(
              f'{t} ' + ', '.join(f'{s}: {m:.3f} / {f:.3f}' for s, m, f in v['curve']
                                 if m is not None) for t, v in vals.items()) +
          ' (iteration: masked / fix accuracy).', '',
          '## Samples', '']
    for twin, png in grid_pngs.items():
        L += [f'![{twin} samples]({rel(png)})', '']
    write_text_atomic(args.results, '\n'.join(L).rstrip() + '\n')
    print(f'[study] wrote {args.results}', flush=True)
    summary = dict(pending=[[t, c.name] for t, c in pending], floor=floor, pilot=pilot,
                   val=vals, train_seconds=train_s, sample_seconds=sample_s,
                   cells={f'{t}|{k}': dict(fd=s.fd, interval=s.fd_interval(), seeds=s.fd_seeds,
                                           acc=s.acc) for (t, k), s in stats.items()},
                   comparisons=[dict(question=c.question, twin=c.twin, label=c.label, fd=c.fd,
                                     acc=c.acc, fd_seeds_t=c.fd_seeds) for c in comps])
    write_json(osp.join(args.work_dir, 'summary.json'), summary)
    return summary


def write_status_page(args, command: str, cells_text: List[str], runs: Dict[str, str]) -> str:
    """The page while the twins still train: the command, the training progress so far,
    and every cell pending (written by ``--status-page``)."""
    lines = ['# Token fixing on CIFAR-10: results', '',
             '<!-- Generated by tools/fixing_study.py; do not edit outside the context '
             'section. -->', '', '## Reproduce', '', '```bash', command, '```', '',
             '**Status: the twins are still training; no cell has been sampled yet.** Rerun '
             'the command above: it resumes the training from its last checkpoint and then '
             'computes every cell listed below.', '', '## Training so far', '']
    for name, work_dir in runs.items():
        try:
            train, val = read_scalars(work_dir)
        except FileNotFoundError:
            lines.append(f'- {name}: not started.')
            continue
        last = train[-1]['step'] if train else 0
        curve = ', '.join(f'{r["step"]}: {r.get("token/masked_acc", float("nan")):.3f} / '
                          f'{r.get("token/fix_acc", float("nan")):.3f}' for r in val)
        lines.append(f'- {name}: iteration {last} of {args.iters}; ' +
                     (f'held-out masked / fix accuracy at {curve}.' if curve else
                      'no validation yet.'))
    lines += ['', '## Context', '', CONTEXT_START, read_context(args.results), CONTEXT_END, '',
              '## Pending cells', '', *cells_text, '']
    write_text_atomic(args.results, '\n'.join(lines))
    return args.results
