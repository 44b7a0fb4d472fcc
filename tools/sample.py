"""Sample images from a checkpoint to disk: one PNG per image plus a grid.

    python tools/sample.py CONFIG CHECKPOINT --num 64 --steps 16 \
        --sampler fix_low --cfg 1.0 --seed 0 --out samples/

``--sampler`` names a preset of ``bigfix_mm/models/editors/bigfix/sampler/presets.py`` (maskgit,
halton, fix_all, fix_low, maskgit_fix_low); without it the config's
``model.sampler`` samples. ``--steps`` / ``--cfg`` default to the config's sampler.

Video models (a ``PerFrameTokenizer`` / 3D tokenizer) write one MP4 and / or GIF
per clip plus ``grid.png`` (a row of frames per clip) and ``grid.gif``;
``--context-frames K`` continues the first K frames of clips of the config's
``--context-split`` dataset (frame prediction), keeping those frames unchanged.
"""
import argparse
from pathlib import Path
from typing import Optional, Sequence


from bigfix_mm.utils.cli import run_tool  # noqa: E402  (first: quiet start-up)

import torch  # noqa: E402

from bigfix_mm.apis import context_clips, generate, init_model  # noqa: E402
from bigfix_mm.models.editors.bigfix.sampler.presets import (FIXING_TWINS, SAMPLER_PRESETS,  # noqa: E402
                                               sampler_config)
from bigfix_mm.visualization.images import make_grid_uint8, save_png, to_uint8  # noqa: E402
from bigfix_mm.visualization.video import write_clips  # noqa: E402


LOW_CONFIDENCE = [n for n, c in SAMPLER_PRESETS.items() if c.get('fix') == 'low_confidence']


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description='Sample images from a BIGFix checkpoint')
    p.add_argument('config')
    p.add_argument('checkpoint')
    p.add_argument('--num', type=int, default=64, help='number of images')
    p.add_argument('--steps', type=int, default=None, help='sampling steps (default: config)')
    p.add_argument('--sampler', choices=list(SAMPLER_PRESETS), default=None, metavar='PRESET',
                   help=f'sampler preset: {" | ".join(SAMPLER_PRESETS)} '
                        '(default: the config\'s model.sampler)')
    p.add_argument('--cfg', type=float, default=None,
                   help='classifier-free guidance scale w (default: config)')
    p.add_argument('--fix-ratio', type=float, default=None,
                   help='share of placed tokens re-sampled per step (presets fixing '
                        f'low-confidence tokens: {", ".join(LOW_CONFIDENCE)})')
    p.add_argument('--fix-window', type=float, nargs=2, default=None, metavar=('START', 'END'),
                   help='fractions of the steps during which fixing is on (fixing presets)')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--labels', type=int, nargs='+', default=None,
                   help='class ids, cycled to --num (default: uniform over classes)')
    p.add_argument('--batch-size', type=int, default=64)
    p.add_argument('--nrow', type=int, default=None, help='images per grid row')
    p.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    p.add_argument('--no-ema', action='store_true', help='use the raw weights, not EMA')
    p.add_argument('--out', required=True, help='output folder')
    p.add_argument('--context-frames', type=int, default=None,
                   help='video: continue the first K frames of dataset clips (labels from the clips)')
    p.add_argument('--context-split', default='val', help='video: dataloader giving context clips')
    p.add_argument('--formats', nargs='+', default=['mp4', 'gif'], help='video: mp4 and / or gif')
    p.add_argument('--fps', type=float, default=4.0, help='video: frames per second')
    p.add_argument('--scale', type=int, default=4, help='video: pixel repetition in MP4 / GIF files')
    args = p.parse_args(argv)
    if args.sampler is None and (args.fix_ratio is not None or args.fix_window is not None):
        p.error('--fix-ratio / --fix-window override a preset: name one with --sampler '
                f'({" | ".join(FIXING_TWINS)})')
    if args.sampler is not None:  # refuse overrides the preset cannot take before any loading
        try:
            sampler_config(args.sampler, fix_ratio=args.fix_ratio, fix_window=args.fix_window)
        except ValueError as err:
            p.error(str(err))
    return args


def sampler_from_args(args: argparse.Namespace, config_sampler: dict) -> dict:
    """The sampler config: preset ``--sampler`` with the overrides (steps and guidance
    default to the config's sampler), or the config's ``model.sampler`` itself."""
    if args.sampler is None:
        return dict(config_sampler)
    steps = args.steps if args.steps is not None else config_sampler.get('steps')
    cfg_scale = args.cfg if args.cfg is not None else config_sampler.get('cfg_scale')
    return sampler_config(args.sampler, steps=steps, cfg_scale=cfg_scale,
                          fix_ratio=args.fix_ratio, fix_window=args.fix_window)


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = parse_args(argv)
    model = init_model(args.config, args.checkpoint, device=args.device, use_ema=not args.no_ema)
    sampler = sampler_from_args(args, model.sampler_cfg)
    if args.labels:
        labels = torch.tensor(args.labels).repeat(args.num // len(args.labels) + 1)[:args.num]
    else:
        labels = torch.randint(0, model.num_classes, (args.num, ),
                               generator=torch.Generator().manual_seed(args.seed))
    kwargs = {} if args.sampler else {  # a preset holds them already; else per-call overrides
        k: v for k, v in dict(steps=args.steps, cfg_scale=args.cfg).items() if v is not None}
    if args.context_frames is not None:
        context, labels = context_clips(model.cfg, args.context_split, args.num)
    else:
        context = None
    images = generate(model, labels, sampler=sampler, seed=args.seed, batch_size=args.batch_size,
                      progress=True, context=context, context_frames=args.context_frames,
                      **kwargs)
    out = Path(args.out)
    if images.dim() == 5:  # (B, T, 3, H, W) clips
        names = [f'{i:06d}_class{label}' for i, label in enumerate(labels.tolist())]
        write_clips(images, out, names, formats=args.formats, fps=args.fps, scale=args.scale,
                    n_row=args.nrow)
        print(f'wrote {len(images)} clips ({", ".join(args.formats)}), grid.png and grid.gif to {out}')
        return
    out.mkdir(parents=True, exist_ok=True)
    for i, (img, label) in enumerate(zip(to_uint8(images), labels.tolist())):
        save_png(img, out / f'{i:06d}_class{label}.png')
    save_png(make_grid_uint8(images, n_row=args.nrow), out / 'grid.png')
    print(f'wrote {len(images)} images and grid.png to {out}')


if __name__ == '__main__':
    run_tool(main)
