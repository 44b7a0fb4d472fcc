"""The editing study: the fixing study's twins edit the fixing study's probe images, measured
with the fixing study's validated metric, compared with its paired jackknife intervals.

    python -m projects.editing_study [EDITING OPTIONS] -- FIXING STUDY COMMAND LINE

The part after ``--`` is a ``python -m projects.fixing_study`` command line: its twins,
reference half, probe set, feature network, classifier and guidance pilot are reused from
its cache (computed first where missing). Edited images: the probe set (a cell's sample
size, disjoint from the reference half), each under its true class. Cells: samplers
MaskGIT, Halton, fix_all, fix_low and fix_low with seam 1 and 2 on the injection-trained
twin, Halton and fix_low on the other (the control), on three mask sets: a central box,
outpainting of the outer ring, free-form strokes (MMagic's ``ff`` masks).
"""
import argparse
import os
import os.path as osp
import sys
import time
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch

from bigfix_mm.apis import edit
from projects.fixing_study.cache import read_npz, write_npz
from projects.fixing_study.cells import Cell
from projects.fixing_study.fingerprint import digest
from projects.fixing_study.sampling import score_images, to_bgr255

from .measures import MASKS, make_masks, pixel_measures

GRID_KEEP = 16  # composites kept per cell for the picture grid


@dataclass(frozen=True)
class EditCell:
    """One way of editing: a sampler preset and the seam width it may re-sample."""

    name: str
    preset: str
    seam: int = 0


CELLS = [EditCell('maskgit', 'maskgit'), EditCell('halton', 'halton'),
         EditCell('fix_all', 'fix_all'), EditCell('fix_low', 'fix_low'),
         EditCell('fix_low seam 1', 'fix_low', 1), EditCell('fix_low seam 2', 'fix_low', 2)]
CELL_NAMES = [c.name for c in CELLS]


def split_argv(argv: Sequence[str]) -> Tuple[List[str], List[str]]:
    """``[editing options] -- [fixing study command line]`` -> the two lists."""
    argv = list(argv)
    if '--' not in argv:
        raise SystemExit('usage: python -m projects.editing_study [options] -- CONFIG '
                         '[fixing study options]: give the fixing study\'s command line after '
                         '"--" (its twins, references and metric are the ones edited with)')
    cut = argv.index('--')
    return argv[:cut], argv[cut + 1:]


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog='python -m projects.editing_study',
                                description='Editing with token fixing across samplers, on a '
                                'fixing study\'s twins and validated metric (its command line '
                                'follows "--")')
    p.add_argument('--twins', nargs='+', default=['p=0.2', 'p=0'],
                   help='the first twin edits with every cell; the others are the control')
    p.add_argument('--control-cells', nargs='+', default=['halton', 'fix_low'],
                   choices=CELL_NAMES, help='cells the control twins edit with')
    p.add_argument('--mask-sets', nargs='+', default=list(MASKS), choices=list(MASKS))
    p.add_argument('--hole-rates', type=float, nargs='+', default=[0.05, 0.1, 0.2, 0.4],
                   help='shares of each hole\'s tokens the validation ladder replaces (0 is '
                   'added; a share must reach one token of the smallest holes to change them)')
    p.add_argument('--mask-seed', type=int, default=0, help='seeds the free-form masks')
    p.add_argument('--edit-seed', type=int, default=0, help='the sampling seed of every edit')
    p.add_argument('--steps', type=int, default=None,
                   help="sampling steps (default: the fixing study's --sweep-steps)")
    p.add_argument('--grid-rows', type=int, default=4, help='images per mask set in the grid')
    p.add_argument('--out', default='docs/editing.md')
    p.add_argument('--grid', default='docs/images/editing_grid.png')
    args = p.parse_args(argv)
    if args.grid_rows > GRID_KEEP:
        p.error(f'--grid-rows {args.grid_rows}: at most {GRID_KEEP}')
    return args


def plan(args) -> List[Tuple[str, EditCell]]:
    """(twin, cell) pairs of one mask set, in the order of the tables."""
    first, *control = args.twins
    out = [(first, c) for c in CELLS]
    out += [(t, c) for t in control for c in CELLS if c.name in args.control_cells]
    return out


# ------------------------------------------------------------------------ edits
def edit_fingerprint(model, sampler_cfg: dict, seam: int, images: torch.Tensor,
                     labels: torch.Tensor) -> str:
    """Hash of the ids that the edit path returns for four probe images under a central
    box mask: the edit's *behaviour* (context handling, seam band, composite) in the key."""
    out = edit(model, images[:4], make_masks('box', 4, 0, images.shape[-1]), labels[:4],
               sampler=dict(sampler_cfg), seam=seam, seed=0, batch_size=4)
    return digest(torch.cat([out.ids.flatten(), (out.composite * 255).round().flatten().long()]))


class Editor:
    """Edits of the probe images by the twins, cached in the fixing study's store."""

    def __init__(self, space, args, images_u8: torch.Tensor, labels: torch.Tensor,
                 steps: int, cfg_scale: float):
        self.space, self.args = space, args
        self.images_u8, self.labels = images_u8, labels
        self.images = images_u8.float() / 255.0  # (N, 3, H, W) RGB [0, 1]
        self.steps, self.cfg_scale = int(steps), float(cfg_scale)
        self.images_digest = digest(images_u8)

    def sampler_cfg(self, cell: EditCell) -> dict:
        return Cell(cell.preset, self.steps, self.cfg_scale).sampler_cfg()

    def key(self, twin: str, cell: EditCell, kind: str) -> dict:
        study, cfg = self.space.study, self.sampler_cfg(cell)
        model = study.models[twin]
        return dict(twin=twin, checkpoint=study.ckpt_digest[twin], sampler=cfg,
                    behaviour=study.behaviour[twin](cfg),
                    edit=edit_fingerprint(model, cfg, cell.seam, self.images, self.labels),
                    seam=cell.seam, masks=kind, mask_seed=self.args.mask_seed,
                    seed=self.args.edit_seed, images=self.images_digest,
                    batch=self.space.args.gen_batch_size, score=study.score_key)

    def cell(self, twin: str, cell: EditCell, kind: str, masks: torch.Tensor) -> dict:
        """The scored edit of every probe image (arrays; computed once, then read back)."""
        path = self.space.study.store.path('edits', self.key(twin, cell, kind), 'npz')
        if osp.isfile(path):
            return read_npz(path)
        study = self.space.study
        start = time.perf_counter()
        out = edit(study.models[twin], self.images, masks, self.labels,
                   sampler=self.sampler_cfg(cell), seam=cell.seam, seed=self.args.edit_seed,
                   batch_size=self.space.args.gen_batch_size)
        seconds = time.perf_counter() - start
        arrays = dict(labels=self.labels.numpy(), seconds=np.array(seconds),
                      grid=(out.composite[:GRID_KEEP] * 255).round().to(torch.uint8).numpy())
        for side, pixels in (('decoded', out.decoded), ('composite', out.composite)):
            scored = score_images(to_bgr255(pixels), study.features, study.classifier)
            arrays.update({f'{side}_{k}': v for k, v in scored.items()})
        for name, values in pixel_measures(self.images, out.composite, masks,
                                           out.region).items():
            arrays[f'px_{name}'] = values
        write_npz(path, **arrays)
        print(f'[editing] {kind} {twin} {cell.name}: {len(self.images)} edits in '
              f'{seconds:.0f} s', flush=True)
        return arrays


# ------------------------------------------------------------------------ main
def main(argv: Optional[Sequence[str]] = None) -> dict:
    from projects.fixing_study import main as fixing
    from projects.fixing_study.analysis import Scorer, make_groups
    from projects.fixing_study.reference import probe_images
    from bigfix_mm.core.files import write_text_atomic
    from bigfix_mm.visualization.images import save_png

    from .hole_ladder import hole_ladder
    from .page import analyse, grid_figure, write_page
    argv = list(sys.argv[1:] if argv is None else argv)
    edit_argv, study_argv = split_argv(argv)
    args = parse_args(edit_argv)
    sargs = fixing.parse_args(study_argv)
    unknown = [t for t in args.twins if t not in fixing.TWINS]
    if unknown:
        raise SystemExit(f'--twins {unknown}: the fixing study has {list(fixing.TWINS)}')
    start = time.time()
    space = fixing.prepare_space(sargs)
    fixing.choose_guidance(space)
    n = len(sargs.seeds) * sargs.samples
    images_u8, labels = probe_images(sargs.ref_size, n)
    steps = args.steps or sargs.sweep_steps
    editor = Editor(space, args, images_u8, labels, steps, sargs.cfg_scale)
    scorers = dict(decoded=space.scorer, composite=Scorer(space.ref, pr_size=n, k=sargs.pr_k,
                                                          target='real'))
    groups = make_groups([n], sargs.jackknife_groups)
    rates = sorted(set([0.0] + list(args.hole_rates)))
    results, all_masks = {}, {}
    for kind in args.mask_sets:
        masks = all_masks[kind] = make_masks(kind, n, args.mask_seed)
        ladder = hole_ladder(space, scorers, editor.images, masks, kind, args.mask_seed, rates,
                             sargs.jackknife_groups, sargs.ladder_draws)
        cells = {(twin, cell.name): editor.cell(twin, cell, kind, masks)
                 for twin, cell in plan(args)}
        results[kind] = analyse(space, scorers, cells, ladder, groups, args)
    grid = grid_figure(editor.images, results, all_masks, args)
    os.makedirs(osp.dirname(osp.abspath(args.grid)), exist_ok=True)
    save_png(grid, args.grid)
    meta = dict(space=sargs.space, n=n, steps=steps, cfg_scale=sargs.cfg_scale, rates=rates,
                draws=sargs.ladder_draws,
                study_command=fixing.reproduce_command(study_argv),
                command=reproduce_command(edit_argv, study_argv),
                device=('CPU' if sargs.device == 'cpu' else torch.cuda.get_device_name()),
                minutes=(time.time() - start) / 60)
    page = write_page(args, results, meta, osp.relpath(args.grid, osp.dirname(args.out)))
    write_text_atomic(args.out, page)
    print(f'[editing] wrote {args.out} and {args.grid} in {meta["minutes"]:.1f} min',
          flush=True)
    return dict(results=results, meta=meta)


def reproduce_command(edit_argv: Sequence[str], study_argv: Sequence[str]) -> str:
    """The page's command: the editing options, then the fixing study's reproduce command."""
    import shlex
    from projects.fixing_study.main import reproduce_command as study_command
    study = study_command(list(study_argv))[len('python -m projects.fixing_study '):]
    return ('python -m projects.editing_study ' + ' '.join(shlex.quote(a) for a in edit_argv)
            + (' ' if edit_argv else '') + '-- ' + study)
