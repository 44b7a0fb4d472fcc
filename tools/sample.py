"""Sample images from a checkpoint to disk: one PNG per image plus a grid.

    python tools/sample.py CONFIG CHECKPOINT --num 64 --steps 16 \
        --sampler TokenFixingSampler --cfg 1.0 --seed 0 --out samples/

Video models (a ``PerFrameTokenizer`` / 3D tokenizer) write one MP4 and / or GIF
per clip plus ``grid.png`` (a row of frames per clip) and ``grid.gif``;
``--context-frames K`` continues the first K frames of clips of the config's
``--context-split`` dataset (frame prediction), keeping those frames unchanged.
"""
import argparse
import os.path as osp
import sys
from pathlib import Path

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..')))

from bigfix_mm.utils.cli import run_tool  # noqa: E402  (first: quiet start-up)

import torch  # noqa: E402

from bigfix_mm.apis import context_clips, generate, init_model  # noqa: E402
from bigfix_mm.utils.images import make_grid_uint8, save_png, to_uint8  # noqa: E402
from bigfix_mm.utils.video import write_clips  # noqa: E402


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description='Sample images from a BIGFix checkpoint')
    p.add_argument('config')
    p.add_argument('checkpoint')
    p.add_argument('--num', type=int, default=64, help='number of images')
    p.add_argument('--steps', type=int, default=None, help='sampling steps (default: config)')
    p.add_argument('--sampler', default=None,
                   help='MaskGITSampler | HaltonSampler | TokenFixingSampler (default: config)')
    p.add_argument('--fix', default=None, help="fix policy for TokenFixingSampler: none|all|low_confidence")
    p.add_argument('--cfg', type=float, default=None, help='classifier-free guidance scale w')
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
    return p.parse_args()


def main() -> None:
    args = parse_args()
    model = init_model(args.config, args.checkpoint, device=args.device, use_ema=not args.no_ema)
    sampler = dict(model.sampler_cfg)
    if args.sampler:
        sampler['type'] = args.sampler
        if args.sampler != 'TokenFixingSampler':  # plain samplers have no reveal/fix options
            for key in ('reveal', 'fix', 'fix_ratio', 'fix_window'):
                sampler.pop(key, None)
    if args.fix:
        sampler['fix'] = args.fix
    if args.labels:
        labels = torch.tensor(args.labels).repeat(args.num // len(args.labels) + 1)[:args.num]
    else:
        labels = torch.randint(0, model.num_classes, (args.num, ),
                               generator=torch.Generator().manual_seed(args.seed))
    kwargs = {k: v for k, v in dict(steps=args.steps, cfg_scale=args.cfg).items() if v is not None}
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
