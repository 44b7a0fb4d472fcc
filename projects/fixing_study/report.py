"""The pages, generated: one per token space (``docs/results/SPACE.md`` with its
``SPACE.json``) and the index that sums up every space (``docs/results.md``).

Words follow from intervals by :func:`.stats.verdict`: a direction only where the
95% interval excludes zero. In a space where the corruption ladder does not
validate the metric (:func:`.ladder.valid_above_resolution`), no direction is
stated at all.
"""
import glob
import hashlib
import json
import os.path as osp
from typing import Dict, List, Optional, Sequence

import numpy as np

from bigfix_mm.core.files import write_text_atomic

from .analysis import METRICS, Comparison, Scorer, SetStats, comparisons, make_groups
from .cache import key_hash, write_json
from .cells import Cell
from .curves import plot_training_curves, read_scalars
from .ladder import (is_monotonic, ladder_means, ladder_rows, ladder_verdict, resolution,
                     valid_above_resolution)
from .plots import plot_fd_vs_steps, plot_grid, plot_ladder
from .stats import (NO_DIFFERENCE, format_interval, jackknife_interval, paired_jackknife,
                    verdict)

# The GPU-scale run of the same study (the scale note prints it).
GPU_COMMAND = ('python -m projects.fixing_study configs/bigfix/bigfix_cifar10.py '
               '--iters 100000 --batch-size 256 --size small --workers 8 --val-points 10 '
               '--samples 3334 --seeds 0 1 2 --pilot-samples 2000 --jackknife-groups 30 '
               '--fd-image-size 224 --classifier-epochs 30 --gen-batch-size 500 --threads 8 '
               '--device cuda')
NAMES = {'fd_tok': 'FD-tok', 'fd_real': 'FD-real', 'precision': 'precision',
         'recall': 'recall', 'acc': 'acc %'}
FORMATS = {'fd_tok': '{:+.2f}', 'precision': '{:+.3f}', 'recall': '{:+.3f}', 'acc': '{:+.1f}'}


def pilot_choice(samples_by_w: Dict[float, Dict[str, np.ndarray]],
                 ref: Dict[str, np.ndarray]) -> dict:
    """The guidance scale whose Halton samples have the lowest FD to the round trip."""
    from bigfix_mm.evaluation.frechet import feature_statistics
    from .stats import FrechetToReference
    frechet = FrechetToReference(*feature_statistics(ref['ref_rt_features']))
    fd = {f'{w:g}': frechet.distance(frechet.prepare(s['features']))
          for w, s in samples_by_w.items()}
    best = min(samples_by_w, key=lambda w: fd[f'{w:g}'])
    n = len(next(iter(samples_by_w.values()))['features'])
    return dict(fd=fd, best=float(best), samples=int(n))


def features_digest(feats: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(feats).tobytes()).hexdigest()[:16]


def reference_id(score_key: dict, ref: Dict[str, np.ndarray]) -> str:
    """Identity of the references a set is scored against (the jackknife cache's key)."""
    return key_hash(dict(score=score_key, ref=features_digest(ref['ref_rt_features'])))


def cached_stats(store, scorer: Scorer, ref_id: str, parts: Sequence[Dict[str, np.ndarray]],
                 groups: Sequence[np.ndarray]) -> SetStats:
    """:meth:`Scorer.stats` with the FD jackknife values cached by the features they come
    from and the groups."""
    feats = np.concatenate([p['features'] for p in parts])
    key = dict(features=features_digest(feats), ref=ref_id,
               groups=hashlib.sha256(np.concatenate(groups).tobytes()).hexdigest()[:16],
               num_groups=len(groups))
    if scorer.target != 'round_trip':  # the jackknife of another primary distance
        key['target'] = scorer.target
    leave_out = store.get('jackknife', key)
    stats = scorer.stats(parts, groups, leave_out)
    if leave_out is None:
        store.put('jackknife', key, stats.fd_tok_leave_out)
    return stats


# ---------------------------------------------------------------------- words
def metric_words(comp: Comparison, a: str, b: str) -> str:
    """``FD-tok +1.2 [0.3, 2.0] → a worse than b; precision ...`` for every metric held."""
    parts = []
    for m, d in comp.diffs.items():
        name, lower = METRICS[m]
        text = f'{NAMES[m]} {format_interval(d, FORMATS[m])}'
        if m == 'fd_tok':
            text += f' → {verdict(d, a, b, NAMES[m], lower_is_better=lower)}'
        parts.append(text)
    return '; '.join(parts)


def trade_words(comp: Comparison) -> str:
    """What a difference does to fidelity (precision, accuracy) and diversity (recall)."""
    s = comp.signs()
    fid_up = s.get('precision', 0) > 0 or s.get('acc', 0) > 0
    fid_down = s.get('precision', 0) < 0 or s.get('acc', 0) < 0
    div = s.get('recall', 0)
    if fid_up and div < 0:
        return 'trades diversity for fidelity'
    if fid_up and div > 0:
        return 'gains fidelity and diversity'
    if fid_up:
        return 'gains fidelity, no change in diversity detected'
    if fid_down and div > 0:
        return 'trades fidelity for diversity'
    if fid_down and div < 0:
        return 'loses fidelity and diversity'
    if fid_down:
        return 'loses fidelity, no change in diversity detected'
    if div:
        return f'{"gains" if div > 0 else "loses"} diversity, no change in fidelity detected'
    return 'no change in fidelity or diversity detected'


def tally(comps: Sequence[Comparison]) -> str:
    better = sum(c.sign < 0 for c in comps)
    worse = sum(c.sign > 0 for c in comps)
    return (f'lower FD-tok (better) in {better}, higher (worse) in {worse}, no difference '
            f'detected in {len(comps) - better - worse} (of {len(comps)})')


def comparison_lines(comps: Sequence[Comparison], a: str, b: str,
                     trade: bool = False) -> List[str]:
    out = []
    for c in comps:
        line = f'  - {c.label}: {metric_words(c, a, b)}'
        if trade and len(c.diffs) > 1:
            line += f'. Fidelity vs diversity: {trade_words(c)}'
        out.append(line + '.')
    return out


def findings(comps: List[Comparison], twins: Sequence[str]) -> List[str]:
    """The page's answers, one subsection per question."""
    def mine(question, twin=None, prefix=None):
        return [c for c in comps if c.question == question and (twin is None or c.twin == twin)
                and (prefix is None or c.label.startswith(prefix))]

    L = ['### Does fixing help? At what cost in diversity?', '']
    for twin in twins:
        for fixer in ('Fixing `low_confidence`', 'Fixing `all`'):
            sub = mine('fixing', twin, fixer)
            if sub:
                L.append(f'- **{twin}, {fixer} − Halton** (same reveal order): {tally(sub)} '
                         '(steps, CFG) settings.')
                L += comparison_lines(sub, fixer.split(' ', 1)[1], 'Halton', trade=True)
    L += ['', '### At which steps?', '',
          'Fixing\'s gain at few vs many steps (difference of the paired differences of '
          'FD-tok; negative: fixing helps more at few steps):', '']
    for c in mine('steps'):
        sign = c.sign
        text = (NO_DIFFERENCE if sign == 0 else
                'fixing lowers FD-tok more at the fewer steps' if sign < 0 else
                'fixing lowers FD-tok more at the more steps')
        L.append(f'- {c.twin}, {c.label}: {format_interval(c.fd)} → {text}.')
    L += ['', '### Does fixing at T steps match plain Halton at 2T?', '']
    for twin in twins:
        sub = mine('double', twin)
        if sub:
            L.append(f'- **{twin}**: {tally(sub)}.')
            L += comparison_lines(sub, 'fixing at T', 'Halton at 2T', trade=True)
    L += ['', '### Which policy?', '']
    for question, a, b in (('policy', '`low_confidence`', '`all`'),
                           ('sweep', 'the variant', 'the reference')):
        for twin in twins:
            sub = mine(question, twin)
            if sub:
                L.append(f'- **{twin}**, {question}: {tally(sub)}.')
                L += comparison_lines(sub, a, b)
    L += ['', '### Is the injection-trained model no worse under plain sampling?', '']
    sub = mine('injection')
    if sub:
        L.append(f'- p=0.2 − p=0 under plain sampling: {tally(sub)} (sampler, steps, CFG) '
                 'settings (lower: the injection-trained twin is better).')
        L += comparison_lines(sub, 'p=0.2', 'p=0', trade=True)
    return L


def headline(comps: List[Comparison], twins: Sequence[str]) -> List[str]:
    """One line per question for the index page."""
    def count(question, twin, prefix=None):
        sub = [c for c in comps if c.question == question and c.twin == twin and
               (prefix is None or c.label.startswith(prefix))]
        return tally(sub) if sub else 'not measured yet'
    out = []
    for twin in twins:
        out.append(f'- {twin}, fixing `low_confidence` − Halton: '
                   f'{count("fixing", twin, "Fixing `low_confidence`")}.')
        out.append(f'- {twin}, fixing `all` − Halton: {count("fixing", twin, "Fixing `all`")}.')
        out.append(f'- {twin}, fixing at T − Halton at 2T: {count("double", twin)}.')
    inj = [c for c in comps if c.question == 'injection']
    if inj:
        out.append(f'- p=0.2 − p=0 under plain sampling: {tally(inj)}.')
    return out


# --------------------------------------------------------------------- tables
def fmt_ci(value: float, ci, pattern: str = '{:.2f}') -> str:
    return f'{pattern.format(value)} [{pattern.format(ci[0])}, {pattern.format(ci[1])}]'


def cell_table(stats: Dict[tuple, SetStats], planned: Sequence[tuple], twins: Sequence[str],
               groups: Sequence[np.ndarray]) -> List[str]:
    """One row per planned (twin, cell) pair, twin after twin (a cell that a twin does not
    sample, such as the sweep on the other twin, has no row)."""
    head = ['twin', 'sampler', 'steps', 'CFG', 'FD-tok [95%]', 'FD-tok per seed', 'FD-real',
            'precision [95%]', 'recall [95%]', 'acc % [95%]', 's']
    lines = ['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
    for twin in twins:
        for cell in [c for t, c in planned if t == twin]:
            s = stats.get((twin, cell.name))
            row = [twin, cell.title, str(cell.steps), f'{cell.cfg_scale:g}']
            if s is None:
                row += ['pending'] + ['–'] * 6
            else:
                row += [fmt_ci(s.fd_tok, s.interval('fd_tok', groups)),
                        ', '.join(f'{v:.2f}' for v in s.fd_tok_seeds), f'{s.fd_real:.2f}',
                        fmt_ci(s.precision, s.interval('precision', groups), '{:.3f}'),
                        fmt_ci(s.recall, s.interval('recall', groups), '{:.3f}'),
                        fmt_ci(s.acc, s.interval('acc', groups), '{:.1f}'), f'{s.seconds:.0f}']
            lines.append('| ' + ' | '.join(row) + ' |')
    return lines


def val_summary(work_dir: str) -> dict:
    _, val = read_scalars(work_dir)
    last = val[-1] if val else {}
    return dict(step=last.get('step'), masked=last.get('token/masked_acc'),
                injected=last.get('token/injected_acc'),
                loss=last.get('token/loss'))


# ---------------------------------------------------------------------- ladder
def ladder_summary(store, scorer: Scorer, ref_id: str, ladder: Dict[str, List[List[dict]]],
                   rates: Sequence[float], num_groups: int) -> dict:
    """Per mode: every step's metrics and its paired difference to the 0% step; whether
    the primary metric is monotonic; its resolution.

    ``ladder[mode][i]``: the scored draws of rate ``rates[i]`` (one or more independent
    corruptions). A step's metrics are the means over its draws, and so are its jackknife
    leave-out values (every draw holds the same images, so the pairing is kept).
    """
    first = next(iter(ladder.values()))[0][0]
    n = len(first['features'])
    groups = make_groups([n], num_groups)
    out = dict(rates=list(rates), size=n, modes={})
    for mode, steps in ladder.items():
        rows, means = [], []
        for draws in steps:
            stats = [cached_stats(store, scorer, ref_id, [s], groups) for s in draws]
            means.append((float(np.mean([st.fd_tok for st in stats])),
                          np.mean([st.fd_tok_leave_out for st in stats], axis=0)))
            point, leave = means[-1]
            rows.append(dict(
                changed=float(np.mean([float(s['changed']) for s in draws])), draws=len(draws),
                fd_tok=point, fd_tok_draws=[st.fd_tok for st in stats],
                fd_tok_ci=[(iv := jackknife_interval(point, leave))['lo'], iv['hi']],
                fd_tok_vs_clean=paired_jackknife(point, means[0][0], leave, means[0][1]),
                **{m: float(np.mean([getattr(st, m) for st in stats]))
                   for m in ('fd_real', 'precision', 'recall', 'acc')}))
        diffs = [r['fd_tok_vs_clean'] for r in rows]
        res = resolution(rates, diffs)
        out['modes'][mode] = dict(
            steps=rows, monotonic=is_monotonic(ladder_means(rows)),
            monotonic_fd_real=is_monotonic(ladder_means(rows, 'fd_real')), resolution=res,
            valid=valid_above_resolution(rates, ladder_means(rows), diffs, res))
    out['valid'] = all(m['valid'] for m in out['modes'].values())
    return out


# ----------------------------------------------------------------------- pages
def write_pages(args, study, cells: List[Cell], ref: Dict[str, np.ndarray], lad: dict,
                pilot: Optional[dict], meta: dict) -> dict:
    """Compute every finished cell's statistics, draw the figures, write the space's page
    and its JSON, and rewrite the index. ``lad``: the :func:`ladder_summary` of the space."""
    from .main import TWINS
    twins = list(TWINS)
    space = args.space
    seeds, n = list(args.seeds), int(args.samples)
    groups = make_groups([n] * len(seeds), args.jackknife_groups)
    scorer = Scorer(ref, pr_size=n * len(seeds), k=args.pr_k)
    ref_id = reference_id(study.score_key, ref)

    sweep = [c for c in cells if c.fix_ratio is not None or c.fix_window is not None]
    planned = [(t, c) for c in cells for t in twins if c not in sweep or t in args.sweep_twins]
    stats, pending = {}, []
    for cell in cells:
        for twin in twins:
            if (twin, cell) not in planned:
                continue
            if not all(study.has_samples(twin, cell, s, n) for s in seeds):
                pending.append((twin, cell))
                continue
            parts = [study.samples(twin, cell, s, n) for s in seeds]
            stats[(twin, cell.name)] = cached_stats(study.store, scorer, ref_id, parts, groups)
    grid = [c for c in cells if c not in sweep]
    cfgs = sorted({c.cfg_scale for c in grid}, reverse=True)
    comps = comparisons(stats, cells, twins, groups, args.steps, cfgs, sweep)

    # reference figures
    real_probe = scorer.stats([dict(features=ref['probe_real_features'],
                                    logits=ref['probe_real_logits'],
                                    labels=ref['probe_labels'])],
                              make_groups([n * len(seeds)], args.jackknife_groups))
    rt_full = scorer.real.distance(scorer.real.prepare(ref['ref_rt_features']))
    rt_probe = lad['modes'][next(iter(lad['modes']))]['steps'][0]

    # figures
    results_dir = osp.abspath(args.results_dir)
    images = osp.abspath(args.images)
    rel = lambda p: osp.relpath(p, results_dir)  # noqa: E731
    tag = f'results_{space}'
    ladder_png = plot_ladder(lad, osp.join(images, f'{tag}_ladder.png'), space)
    steps_all = sorted({c.steps for c in grid})
    fd_png = plot_fd_vs_steps({k: (s.fd_tok, *s.interval('fd_tok', groups))
                               for k, s in stats.items()}, args.samplers, twins, steps_all, cfgs,
                              osp.join(images, f'{tag}_fd_vs_steps.png'),
                              floor=rt_probe['fd_tok'], ylabel='FD to the round trip')
    curves_png = plot_training_curves({t: study.runs[t]['work_dir'] for t in twins},
                                      osp.join(images, f'{tag}_curves.png'))
    grid_png = None
    rows = {}
    for twin in twins:
        for sampler in ('halton', 'fix_low', 'fix_all', 'maskgit'):
            cell = Cell(sampler, args.sweep_steps, cfgs[0])
            if sampler in args.samplers and study.has_samples(twin, cell, seeds[0], n):
                import torch
                tokens = study.samples(twin, cell, seeds[0], n)['tokens'][:20]
                model = study.models[twin]
                ids = torch.from_numpy(tokens.astype(np.int64)).view(-1, *model.grid)
                rows[f'{twin} {cell.title.replace("`", "")}'] = model.decode(ids).float().numpy()
    if rows:
        grid_png = plot_grid(rows, osp.join(images, f'{tag}_samples.png'),
                             f'{space}: seed {seeds[0]}, samples 1-20 (classes in turn), '
                             f'{args.sweep_steps} steps, CFG {cfgs[0]:g}')

    vals = {t: val_summary(study.runs[t]['work_dir']) for t in twins}
    train_s = {t: study.runs[t].get('seconds') for t in twins}
    sample_s = sum(s.seconds for s in stats.values())
    done = len(planned) - len(pending)
    model = study.models[twins[0]]
    tr = model.transformer
    params = sum(p.numel() for p in tr.parameters()) / 1e6
    valid_text = ladder_verdict(space, lad['modes'], lad['rates'])

    L = [f'# Token fixing on CIFAR-10: the {space} token space', '',
         '<!-- Generated by `python -m projects.fixing_study` from the cached study; do not '
         'edit. -->', '',
         f'Back to [all token spaces](../results.md).', '',
         '## Reproduce', '', '```bash', meta['command'], '```', '',
         'The same command resumes an interrupted study and computes only what is missing. '
         'Every training, reference, ladder step and sample set is cached under the work dir; a '
         'sample set is keyed by its checkpoint, its sampler config and the tokens that sampler '
         'returns on a fixed probe model (`projects/fixing_study/fingerprint.py`), so a '
         'change of code that changes no token keeps it.', '',
         f'Generated on {meta["date"]} on {meta["device"]}. Wall time of this invocation '
         f'{meta["wall_minutes"]:.1f} min; training ' +
         ', '.join(f'{t} {s / 60:.1f} min' for t, s in train_s.items() if s) +
         f' (both at once); sampling and scoring {sample_s / 60:.1f} min for the {done} '
         'finished (twin, cell) pairs.', '']
    if pending:
        L += [f'**Pending: {len(pending)} of {len(planned)} (twin, cell) pairs** '
              '(rerun the command above to compute them): '
              + ', '.join(f'{t} `{c.name}`' for t, c in pending) + '.', '']
    L += ['## Setup', '',
          f'- Config `{meta["config"]}`, tokenizer `{type(model.tokenizer).__name__}` '
          f'({model.codebook_size} codes, token grid {"x".join(map(str, model.grid))}).',
          f'- Twins: transformer {tr.width} wide, {len(tr.blocks)} deep ({params:.2f} M '
          f'parameters), {args.iters} iterations of batch {args.batch_size}; random-token '
          'injection p=0.2 (`shuffle`) and p=0, the same seed, data order and settings '
          'otherwise. Held-out validation (teacher forced, the same p=0.2 corruption for both) '
          'at the end: ' + '; '.join(
              f'{t} masked-token accuracy {v["masked"]:.3f}, injected-token accuracy '
              f'{v["injected"]:.3f}' for t, v in vals.items() if v['masked'] is not None) + '.',
          f'- Cells: {len(grid)} per twin and the {len(sweep)} of the sweep on '
          f'{", ".join(args.sweep_twins)}; {n} samples per seed and {len(seeds)} seeds '
          f'({n * len(seeds)} per cell); samples `i` of seed `s` have the same class (classes '
          'in turn) and start from the same random stream in every cell, so every comparison '
          'is paired.',
          '- Intervals: 95% delete-a-group jackknife t-intervals over samples '
          f'({len(groups)} groups, {len(groups) - 1} degrees of freedom; each seed\'s samples '
          'dealt into groups in turn, the same groups for every cell, so differences are '
          'paired). A direction is stated only when the interval excludes zero, otherwise '
          f'"{NO_DIFFERENCE}". Each interval is 95% on its own; with this many comparisons a '
          'few may exclude zero by chance.']
    if pilot:
        L.append(f'- Guidance: CFG {pilot["best"]:g}, the lowest FD-tok of Halton '
                 f'({args.pilot_steps} steps) on the p=0.2 twin among ' + ', '.join(
                     f'{w} → {v:.2f}' for w, v in pilot['fd'].items()) +
                 f', on a separate pilot seed ({args.pilot_seed}, {pilot["samples"]} samples).')
    L += ['', '## The metric', '',
          f'The test split is cut once (fixed permutation) into a reference half of '
          f'{args.ref_size} images and a disjoint probe set of {n * len(seeds)} (a cell\'s '
          'size). Features: ImageNet EfficientNet-Lite0, average-pooled, at '
          f'{args.fd_image_size} px.', '',
          '- **FD-tok** (primary): Fréchet distance of a set to the *token round trip* of the '
          'reference half (its images encoded and decoded by the same tokenizer), the '
          'distribution a perfect token model reproduces. Lower is better.',
          '- **FD-real**: Fréchet distance to the real images of the reference half.',
          f'- **The tokenizer\'s share**, which no token model can remove: the round trip '
          f'scores FD-real {rt_full:.2f} (all {args.ref_size} reference images) and '
          f'{rt_probe["fd_real"]:.2f} at a cell\'s size (the probe set); the probe\'s real '
          f'images score FD-real {real_probe.fd_real:.2f} and FD-tok {real_probe.fd_tok:.2f}.',
          f'- **Precision / recall**: improved k-NN precision (fidelity) and recall '
          f'(diversity), k={args.pr_k}, against {n * len(seeds)} round-trip images of the '
          'reference half (the same size as a cell).',
          f'- **acc %**: a CIFAR-10 classifier (python -m projects.classifier_training, '
          f'{meta["classifier_meta"].get("epochs")} epochs) on the samples against their class; '
          f'it scores {real_probe.acc:.1f}% on the real probe images and '
          f'{rt_probe["acc"]:.1f}% on their round trip.', '',
          '## Is the metric valid here? The corruption ladder', '',
          f'The probe set\'s round trip with a share of its tokens replaced (`uniform`: a random '
          'other code; `shuffle`: the code of another position of the same image, as the '
          'injection draws them) must score monotonically worse in the mean of '
          f'{lad["modes"][next(iter(lad["modes"]))]["steps"][-1]["draws"]} independent '
          'corruptions per step (one draw at a step below the resolution can fall either way). '
          'The 0% step is the noise '
          f'floor: FD-tok {rt_probe["fd_tok"]:.2f} between the two disjoint halves of the round '
          'trip at a cell\'s size.', '', valid_text, '']
    for mode, v in lad['modes'].items():
        L += [f'`{mode}` (valid from its resolution up: {"yes" if v["valid"] else "**no**"}; '
              f'FD-tok strictly monotonic over every step: {"yes" if v["monotonic"] else "no"}; '
              f'FD-real: {"yes" if v["monotonic_fd_real"] else "no"}):', '',
              '| tokens replaced | changed | FD-tok [95%] | FD-tok per draw | − 0% step [95%] | '
              'FD-real | precision | recall | acc % |', '|---|---|---|---|---|---|---|---|---|',
              *ladder_rows(lad['rates'], v['steps']), '']
    L += [f'![corruption ladder]({rel(ladder_png)})', '', '## Findings', '']
    if lad['valid']:
        L += findings(comps, twins)
    else:
        L += ['The metric is not valid in this space (see the ladder), so no direction is '
              'stated; the tables below give the numbers.']
    L += ['', '## FD-tok against steps', '', f'![FD-tok against steps]({rel(fd_png)})', '',
          'Pooled FD-tok of each cell with its 95% jackknife interval; the dashed line is the '
          'noise floor (the round trip at the same sample size).', '',
          '## All cells', '', *cell_table(stats, planned, twins, groups), '',
          '## Training curves', '', f'![training curves]({rel(curves_png)})', '']
    if grid_png:
        L += ['## Samples', '', f'![samples]({rel(grid_png)})', '']
    page = osp.join(args.results_dir, f'{space}.md')
    write_text_atomic(page, '\n'.join(L).rstrip() + '\n')
    summary = dict(
        space=space, command=meta['command'], date=meta['date'], device=meta['device'],
        valid=lad['valid'], validity=valid_text, ladder=lad,
        metric_names=dict(fd_tok='FD to the token round trip of the reference half',
                          fd_real='FD to the real images of the reference half',
                          roundtrip_fd_real='the round trip\'s own FD-real (tokenizer share)'),
        roundtrip_fd_real=dict(full=rt_full, cell_size=rt_probe['fd_real']),
        real_probe=dict(fd_tok=real_probe.fd_tok, fd_real=real_probe.fd_real,
                        acc=real_probe.acc),
        pending=[[t, c.name] for t, c in pending], pilot=pilot, val=vals,
        train_seconds=train_s, sample_seconds=sample_s,
        headline=headline(comps, twins) if lad['valid'] else [],
        cells={f'{t}|{k}': dict(fd_tok=s.fd_tok, fd_tok_ci=s.interval('fd_tok', groups),
                                fd_tok_seeds=s.fd_tok_seeds, fd_real=s.fd_real,
                                precision=s.precision, recall=s.recall, acc=s.acc)
               for (t, k), s in stats.items()},
        comparisons=[dict(question=c.question, twin=c.twin, label=c.label, diffs=c.diffs,
                          fd_real_diff=c.fd_real, fd_tok_seeds_t=c.fd_seeds) for c in comps])
    write_json(osp.join(args.results_dir, f'{space}.json'), summary)
    write_json(osp.join(args.work_dir, 'summary.json'), summary)
    write_index(args.results_dir, args.index)
    print(f'[study] wrote {page} and {args.index}', flush=True)
    return summary


def write_index(results_dir: str, index: str) -> str:
    """docs/results.md: every space's validity and headline, from its JSON."""
    L = ['# Does token fixing help? Results per token space', '',
         '<!-- Generated by `python -m projects.fixing_study` from docs/results/*.json; do not '
         'edit. -->', '',
         'Each token space has its own page, written by its own command (on the page). The '
         'primary metric is FD-tok, the Fréchet distance of samples to the token round trip of '
         'real test images (what a perfect token model reproduces); it is validated in each '
         'space by a corruption ladder before any direction is stated.', '']
    rel_dir = osp.relpath(osp.abspath(results_dir), osp.dirname(osp.abspath(index)))
    for path in sorted(glob.glob(osp.join(results_dir, '*.json'))):
        with open(path) as f:
            s = json.load(f)
        name = s['space']
        L += [f'## {name}', '', f'[Full page]({rel_dir}/{name}.md), generated {s["date"]}.', '',
              s['validity'], '']
        if s.get('pending'):
            L += [f'{len(s["pending"])} (twin, cell) pairs are still pending.', '']
        L += [*s.get('headline', []), '']
    write_text_atomic(index, '\n'.join(L).rstrip() + '\n')
    return index
