"""The editing study's numbers and page: per-cell statistics with jackknife intervals, the
paired comparisons, the words (a direction only where the interval excludes zero, and for a
Fréchet distance only where the hole ladder validated it), the grid and ``docs/editing.md``."""
from typing import Dict, List, Sequence, Tuple

import numpy as np
import torch

from projects.fixing_study.report import cached_stats
from projects.fixing_study.stats import (NO_DIFFERENCE, format_interval, jackknife_interval,
                                         paired_jackknife, verdict)

from .measures import MASKS, PIXEL_METRICS

# metric -> (name on the page, lower is better, format, the side of the edit it measures)
FRECHET = {'fd_tok': ('FD-tok', True, '{:.2f}', 'decoded'),
           'fd_comp': ('FD-real of the composite', True, '{:.2f}', 'composite')}
METRICS = dict(FRECHET, **{m: v + ('composite', ) for m, v in PIXEL_METRICS.items()})
NOT_VALID = 'not stated: the hole ladder did not validate this distance for this mask set'
QUESTIONS = {'fixing': 'Does fixing help editing?', 'seam': 'Does seam fixing help?',
             'control': 'Does fixing help a model trained without injection?',
             'system': 'BIGFix against plain MaskGIT training and sampling'}


def comparisons_of(args) -> List[Tuple[str, Tuple[str, str], Tuple[str, str]]]:
    """(question, (twin, cell) a, (twin, cell) b): the paired differences a - b stated."""
    first, *control = args.twins
    out = [('fixing', (first, 'fix_low'), (first, 'halton')),
           ('fixing', (first, 'fix_all'), (first, 'halton')),
           ('seam', (first, 'fix_low seam 1'), (first, 'fix_low')),
           ('seam', (first, 'fix_low seam 2'), (first, 'fix_low'))]
    out += [('control', (t, 'fix_low'), (t, 'halton')) for t in control]
    out += [('system', (first, 'fix_low'), (t, 'halton')) for t in control]
    return out


def cell_values(space, scorers, arrays: Dict[str, np.ndarray], groups) -> dict:
    """metric -> (point, (G,) leave-one-group-out values) of one cell."""
    out = {}
    for metric, (_, _, _, side) in FRECHET.items():
        part = dict(features=arrays[f'{side}_features'], logits=arrays[f'{side}_logits'],
                    labels=arrays['labels'])
        st = cached_stats(space.study.store, scorers[side], space.ref_id, [part], groups)
        out[metric] = (st.fd_tok, np.asarray(st.fd_tok_leave_out))
    for metric in PIXEL_METRICS:
        v = arrays[f'px_{metric}']
        out[metric] = (float(np.nanmean(v)), np.array([np.nanmean(v[g]) for g in groups]))
    return out


def analyse(space, scorers, cells: Dict[tuple, dict], ladder: dict, groups, args) -> dict:
    """Statistics, intervals and comparisons of one mask set."""
    values = {key: cell_values(space, scorers, arrays, groups) for key, arrays in cells.items()}
    valid = {side: ladder[side]['valid'] for side in ladder}
    rows = []
    for question, a, b in comparisons_of(args):
        if a not in values or b not in values:
            continue
        for metric, (title, lower, _, side) in METRICS.items():
            iv = paired_jackknife(values[a][metric][0], values[b][metric][0],
                                  values[a][metric][1], values[b][metric][1])
            said = (NOT_VALID if metric in FRECHET and not valid[side] else
                    verdict(iv, label(a, args), label(b, args), title, lower))
            rows.append(dict(question=question, a=a, b=b, metric=metric, title=title,
                             interval=iv, verdict=said))
    return dict(cells=cells, values=values, ladder=ladder, valid=valid, comparisons=rows)


def label(key: Tuple[str, str], args) -> str:
    twin, name = key
    return name if len(args.twins) == 1 else f'{name} ({twin})'


# ------------------------------------------------------------------------ tables
def ladder_table(ladder: dict) -> List[str]:
    dec, comp = ladder['decoded']['modes']['uniform'], ladder['composite']['modes']['uniform']
    lines = ['| hole tokens replaced | changed | FD-tok [95%] | vs 0% | FD-real of the composite '
             '[95%] | vs 0% |', '|---|---|---|---|---|---|']
    for rate, d, c in zip(ladder['decoded']['rates'], dec['steps'], comp['steps']):
        def vs(step):
            return '–' if rate == 0 else format_interval(step['fd_tok_vs_clean'])
        lines.append(f'| {100 * rate:g}% | {100 * d["changed"]:.1f}% | {d["fd_tok"]:.2f} '
                     f'[{d["fd_tok_ci"][0]:.2f}, {d["fd_tok_ci"][1]:.2f}] | {vs(d)} | '
                     f'{c["fd_tok"]:.2f} [{c["fd_tok_ci"][0]:.2f}, {c["fd_tok_ci"][1]:.2f}] | '
                     f'{vs(c)} |')
    return lines


def ladder_sentence(ladder: dict) -> str:
    parts = []
    for side, name in (('decoded', 'FD-tok'), ('composite', 'the FD-real of the composite')):
        mode = ladder[side]['modes']['uniform']
        res = mode['resolution']
        if mode['valid']:
            strict = '' if mode['monotonic'] else ', not strictly below it'
            parts.append(f'{name} rises monotonically from its resolution up (valid; resolution '
                         f'{100 * res:g}% of the hole{strict})')
        else:
            parts.append(f'{name} does **not** rise monotonically from its resolution up (not '
                         'valid: no direction is stated from it for this mask set)')
    return 'Validation: ' + '; '.join(parts) + '.'


def cell_table(res: dict, args) -> List[str]:
    head = ['twin', 'sampler', 'FD-tok [95%]', 'FD-real of the composite [95%]'] + [
        PIXEL_METRICS[m][0] for m in PIXEL_METRICS] + ['outside mask replaced', 'ms / image']
    lines = ['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
    for (twin, name), vals in res['values'].items():
        arrays = res['cells'][(twin, name)]
        row = [twin, name]
        for metric in FRECHET:
            point, leave = vals[metric]
            iv = jackknife_interval(point, leave)
            row.append(f'{point:.2f} [{iv["lo"]:.2f}, {iv["hi"]:.2f}]')
        row += [PIXEL_METRICS[m][2].format(vals[m][0]) for m in PIXEL_METRICS]
        row += [f'{100 * float(np.mean(arrays["px_outside"])):.1f}%',
                f'{1000 * float(arrays["seconds"]) / len(arrays["labels"]):.0f}']
        lines.append('| ' + ' | '.join(row) + ' |')
    return lines


def comparison_table(res: dict, args) -> List[str]:
    lines = ['| comparison | metric | a − b [95%] | verdict |', '|---|---|---|---|']
    for r in res['comparisons']:
        fmt = '{:+.4f}' if r['metric'] in ('mae', 'ssim') else '{:+.2f}'
        lines.append(f'| {label(r["a"], args)} − {label(r["b"], args)} | {r["title"]} | '
                     f'{format_interval(r["interval"], fmt)} | {r["verdict"]} |')
    return lines


def paragraph(results: Dict[str, dict], question: str, args) -> str:
    """The verdicts of one question over the mask sets, in words."""
    parts = []
    for kind, res in results.items():
        rows = [r for r in res['comparisons'] if r['question'] == question]
        if not rows:
            continue
        said = [f'{r["title"]} {format_interval(r["interval"], "{:+.3g}")}: {r["verdict"]}'
                for r in rows if r['verdict'] not in (NO_DIFFERENCE, NOT_VALID)]
        quiet = sum(r['verdict'] == NO_DIFFERENCE for r in rows)
        invalid = sum(r['verdict'] == NOT_VALID for r in rows)
        text = f'**{kind}**: ' + ('; '.join(said) if said else 'no interval excludes zero')
        if said and quiet:
            text += f'; no difference detected in {quiet} other comparison(s)'
        if invalid:
            text += f'; {invalid} Fréchet comparison(s) not stated (metric not validated here)'
        parts.append(text + '.')
    return ' '.join(parts)


# ------------------------------------------------------------------------ page
def write_page(args, results: Dict[str, dict], meta: dict, grid_rel: str) -> str:
    first, *control = args.twins
    lines = [
        '# Editing with token fixing: inpainting, outpainting, free-form masks', '',
        '<!-- written by `python -m projects.editing_study`; do not edit by hand -->', '',
        f'Regenerated by `{meta["command"]}` on {meta["device"]} in {meta["minutes"]:.0f} min '
        '(cached parts are read back).', '',
        '## Setup', '',
        f'- **Models**: the twins of the [fixing study](results/{meta["space"]}.md) in the '
        f'{meta["space"]} token space (`{meta["study_command"]}`): {first} (trained with '
        'random-token injection) edits with every sampler; '
        + (', '.join(control) + ' (no injection) is the control, with '
           + ', '.join(args.control_cells) + '.' if control else 'no control twin.'),
        f'- **Images**: the fixing study\'s probe set, {meta["n"]} CIFAR-10 test images '
        'disjoint from its reference half, each under its true class; one mask per image and '
        f'mask set (free-form masks seeded by {args.mask_seed}); sampling seed '
        f'{args.edit_seed}; {meta["steps"]} steps, CFG {meta["cfg_scale"]:g} (the fixing '
        'study\'s pilot choice). Every cell edits the same images with the same masks, labels '
        'and seed: every comparison is paired.',
        '- **Metrics**: **FD-tok**, the fixing study\'s primary metric, of the *decoded* '
        'edit (all tokens, the given ones included) against the token round trip of the '
        'reference half; the **FD-real of the composite** (original pixels outside the mask) '
        'against the real reference images; MMagic\'s **MAE** (inside the mask, [0, 1]), '
        '**PSNR** and **SSIM** of the composite against the original (MMagic\'s SSIM slides '
        'an 11x11 window without padding: on 32x32 images it leaves out the outer 5 pixels, '
        'so it hardly sees outpainting); the **seam gap**, |mean absolute change across the '
        'border of the edited region in the composite − the same on the real image|, in '
        '8-bit levels (lower: the edit blends in as the real image does).',
        '- **Intervals**: 95% delete-a-group jackknife t-intervals over images, the same '
        'groups for every cell (the fixing study\'s `stats.py`). A direction is stated only '
        'where the interval excludes zero, and for a Fréchet distance only where the hole '
        'ladder below validated it for that mask set.',
        '- **Validation** (per mask set): the probe\'s round trip with '
        + ', '.join(f'{100 * r:g}%' for r in meta['rates']) +
        ' of the tokens *inside the hole* replaced by random codes, each step the mean of '
        f'{meta["draws"]} independent corruptions, scored exactly as the edits are. Its '
        'resolution is the smallest step whose paired interval against 0% excludes zero; a '
        'distance is valid when its mean rises monotonically from the resolution up and no '
        'smaller step is significantly below 0% (the fixing study\'s rule).',
        '- **Seam fixing** (`seam=w`) lets the fixing sampler re-sample the given tokens '
        'within w tokens of the hole, an option the authors\' code does not have (its given '
        'tokens never change, as here with w = 0). On an 8x8 token grid, seam 2 around the '
        'central box already covers every given token.', '',
        f'![editing grid]({grid_rel})', '',
        f'Grid ({first}): per mask set, the same images in rows; columns: original, masked '
        'input, then the composite of each sampler.', '']
    for kind, res in results.items():
        lines += [f'## {kind}: {MASKS[kind]}', '', ladder_sentence(res['ladder']), '',
                  *ladder_table(res['ladder']), '', *cell_table(res, args), '',
                  *comparison_table(res, args), '']
    cost = {kind: {name: 1000 * float(res['cells'][(first, name)]['seconds']) / meta['n']
                   for _, name in res['cells'] if (first, name) in res['cells']}
            for kind, res in results.items()}
    replaced = {kind: {name: 100 * float(np.mean(res['cells'][(first, name)]['px_outside']))
                       for t, name in res['cells'] if t == first}
                for kind, res in results.items()}
    lines += ['## What the measurements say', '']
    for question, title in QUESTIONS.items():
        text = paragraph(results, question, args)
        if text:
            lines += [f'**{title}** ' + text, '']
    seam_share = ', '.join(
        f'{kind}: {v.get("fix_low seam 1", float("nan")):.1f}% (seam 1), '
        f'{v.get("fix_low seam 2", float("nan")):.1f}% (seam 2)' for kind, v in replaced.items())
    lines += [
        '**At what cost?** Fixing costs no extra forward pass: every sampler makes `steps` '
        'transformer calls (a doubled batch with guidance) and fixing re-uses their logits. '
        'Wall time per image (' + ', '.join(
            f'{kind}: fix_low {c.get("fix_low", float("nan")):.0f} ms, halton '
            f'{c.get("halton", float("nan")):.0f} ms' for kind, c in cost.items())
        + ') was taken cell after cell on a shared machine: its differences are load, not '
        f'method. Seam fixing replaces pixels outside the mask ({seam_share} of them), '
        'which MAE inside the mask does not see and PSNR / SSIM over the whole image do.', '',
        f'Scale: a CPU run on small, briefly trained twins ({meta["space"]} tokens, 8x8 grid):'
        ' read it as the method\'s behaviour in this setting, not as the paper\'s ImageNet '
        'numbers.', '']
    return '\n'.join(lines)


def grid_figure(images: torch.Tensor, results: Dict[str, dict], masks: Dict[str, torch.Tensor],
                args) -> np.ndarray:
    """Per mask set: original, masked input and every cell's composite of the first twin."""
    from bigfix_mm.visualization.edit_figures import labelled_grid, masked_input
    from bigfix_mm.visualization.sampling_figures import text_block, vstack
    from .study import CELLS
    rows, first = args.grid_rows, args.twins[0]
    parts = []
    for kind, res in results.items():
        m = masks[kind][:rows]
        columns = [images[:rows], masked_input(images[:rows], m)]
        columns += [torch.from_numpy(res['cells'][(first, c.name)]['grid'][:rows]).float() / 255.0
                    for c in CELLS]
        grid = labelled_grid(columns, ['original', 'masked'] + [c.name for c in CELLS])
        parts += [text_block(grid.shape[1], [f'{kind}: {MASKS[kind]}']), grid]
    return vstack(parts, gap=6)
