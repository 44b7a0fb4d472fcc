"""Edit an image with a BIGFix checkpoint: inpainting, outpainting or a box.

    python tools/edit.py CONFIG CHECKPOINT --img x.png --mask m.png --label 3 \
        [--sampler fix_low] [--seam 1] [--mode inpaint|outpaint|box X0 Y0 X1 Y1] --out DIR

The mask is a PNG of the image's size, non-zero (white) = regenerate (MMagic's
``LoadMask`` file rule); ``--mode outpaint`` regenerates its inverse, ``--mode box``
the pixel box (x1, y1 exclusive) and needs no mask. ``--label`` is the class the
region is regenerated under (another class than the image's is a class edit).
Writes to DIR: ``composite.png`` (original pixels outside the edited region),
``decoded.png`` (the whole decoded token grid), ``masked.png`` (the input with
its hole grey) and ``presets.png``, every sampler preset side by side under the
one seed (plus ``--sampler`` with ``--seam`` when a seam is asked for).
"""
import argparse
from pathlib import Path
from typing import Optional, Sequence

from bigfix_mm.utils.cli import run_tool  # first: quiet start-up

import numpy as np  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402

from bigfix_mm.apis import edit, init_model  # noqa: E402
from bigfix_mm.errors import InputValueError  # noqa: E402
from bigfix_mm.core.edit_masks import box_mask  # noqa: E402
from bigfix_mm.models.editors.bigfix.editing import check_edit_inputs, resolve_sampler  # noqa: E402
from bigfix_mm.models.editors.bigfix.sampler.presets import SAMPLER_PRESETS  # noqa: E402
from bigfix_mm.visualization.edit_figures import labelled_grid, masked_input  # noqa: E402
from bigfix_mm.visualization.images import save_png, to_uint8  # noqa: E402

MODES = ('inpaint', 'outpaint', 'box')


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description='Inpaint / outpaint / class-edit an image')
    p.add_argument('config')
    p.add_argument('checkpoint')
    p.add_argument('--img', required=True, help='RGB image file (the model\'s image size)')
    p.add_argument('--mask', default=None,
                   help='mask file of the image\'s size, non-zero = regenerate (not for box)')
    p.add_argument('--label', type=int, required=True,
                   help='class to regenerate the region under')
    p.add_argument('--sampler', choices=list(SAMPLER_PRESETS), default='fix_low',
                   metavar='PRESET', help=f'{" | ".join(SAMPLER_PRESETS)} (default fix_low)')
    p.add_argument('--seam', type=int, default=0,
                   help='tokens around the hole that fixing may re-sample (default 0)')
    p.add_argument('--mode', nargs='+', default=['inpaint'], metavar='MODE',
                   help='inpaint | outpaint | box X0 Y0 X1 Y1 (default inpaint)')
    p.add_argument('--steps', type=int, default=None, help='sampling steps (default: config)')
    p.add_argument('--cfg', type=float, default=None, help='guidance w (default: config)')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--scale', type=int, default=4, help='pixel repetition in presets.png')
    p.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    p.add_argument('--out', required=True, help='output folder')
    args = p.parse_args(argv)
    mode = args.mode[0]
    if mode not in MODES:
        p.error(f'--mode {mode!r} is not one of {MODES}')
    if mode == 'box':
        if len(args.mode) != 5:
            p.error('--mode box needs four pixel coordinates: --mode box X0 Y0 X1 Y1')
        try:
            args.box = [int(v) for v in args.mode[1:]]
        except ValueError:
            p.error(f'--mode box coordinates must be integers, got {args.mode[1:]}')
    elif len(args.mode) != 1:
        p.error(f'--mode {mode} takes no values (only box takes X0 Y0 X1 Y1)')
    elif args.mask is None:
        p.error(f'--mode {mode} needs --mask FILE')
    args.mode = mode
    return args


def read_image(path: str, option: str, mask: bool = False) -> torch.Tensor:
    """(1, 3, H, W) float RGB in [0, 1], or for ``mask`` (1, 1, H, W) bool (non-zero)."""
    if not Path(path).is_file():
        raise InputValueError(f'{option} {path}: no such file. Fix: give an existing image file.')
    try:
        img = Image.open(path)
        arr = np.asarray(img.convert('L') if mask else img.convert('RGB'))
    except OSError as err:
        raise InputValueError(f'{option} {path} is not a readable image ({err}). Fix: give a '
                              'PNG / JPEG file.') from err
    if mask:
        return torch.from_numpy(arr > 0)[None, None]
    return torch.from_numpy(arr.copy()).permute(2, 0, 1)[None].float() / 255.0


def build_mask(args: argparse.Namespace, image: torch.Tensor) -> torch.Tensor:
    """(1, 1, H, W) bool: the file's mask, its inverse (outpaint) or the box."""
    height, width = image.shape[-2:]
    if args.mode == 'box':
        x0, y0, x1, y1 = args.box
        if not (0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height):
            raise InputValueError(f'--mode box {x0} {y0} {x1} {y1} lies outside the {width}x'
                                  f'{height} image or is empty. Fix: 0 <= X0 < X1 <= {width}, '
                                  f'0 <= Y0 < Y1 <= {height}.')
        return box_mask((height, width), args.box)[None]
    mask = read_image(args.mask, '--mask', mask=True)
    if mask.shape[-2:] != (height, width):
        raise InputValueError(f'--mask {args.mask} is {mask.shape[-1]}x{mask.shape[-2]}, the '
                              f'image {width}x{height}. Fix: give a mask of the image\'s size.')
    if not bool(mask.any()):
        raise InputValueError(f'--mask {args.mask} is all black (nothing to regenerate). Fix: '
                              'paint the region to regenerate white.')
    return ~mask if args.mode == 'outpaint' else mask


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = parse_args(argv)
    image = read_image(args.img, '--img')
    mask = build_mask(args, image)
    if args.mode == 'outpaint' and not bool(mask.any()):
        raise InputValueError(f'--mask {args.mask} is all white: outpainting its inverse '
                              'regenerates nothing. Fix: leave the kept region black.')
    model = init_model(args.config, args.checkpoint, device=args.device)
    labels = torch.tensor([args.label])
    chosen = resolve_sampler(model, args.sampler, args.steps, args.cfg)
    check_edit_inputs(model, image, mask, labels, args.seam, chosen)  # before any sampling
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    result = edit(model, image, mask, labels, sampler=chosen, seam=args.seam, seed=args.seed)
    save_png(to_uint8(result.composite)[0], out / 'composite.png')
    save_png(to_uint8(result.decoded)[0], out / 'decoded.png')
    held = masked_input(image, mask)
    save_png(to_uint8(held)[0], out / 'masked.png')
    columns, names = [image, held], ['input', 'masked']
    for name in SAMPLER_PRESETS:
        sampler = resolve_sampler(model, name, args.steps, args.cfg)
        columns.append(edit(model, image, mask, labels, sampler=sampler, seed=args.seed).composite)
        names.append(name)
    if args.seam:
        columns.append(result.composite)
        names.append(f'{args.sampler} seam {args.seam}')
    save_png(labelled_grid(columns, names, scale=args.scale), out / 'presets.png')
    print(f'wrote composite.png, decoded.png, masked.png and presets.png to {out}')


if __name__ == '__main__':
    run_tool(main)
