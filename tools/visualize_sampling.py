"""Show one sampling run step by step: a PNG strip and a GIF.

    python tools/visualize_sampling.py CONFIG CHECKPOINT [--sampler fix_low]
        [--labels 0 1 2] [--steps 8] [--cfg 1.0] [--seed 0] [--out vis/]

Each row of ``sampling_strip.png`` is one sample: the grid after every step
(hatched grey = still masked; blue outline = placed this step; pink outline = changed
by fixing this step), then the final images of the fixing sampler and of the
same sampler without fixing, under the same seed. ``sampling.gif`` plays the
steps. ``--sampler`` names a preset of ``bigfix_mm/models/editors/bigfix/sampler/presets.py``
(default: the config's ``model.sampler``). Drawing: bigfix_mm/visualization/sampling_figures.py.
"""
import argparse
from pathlib import Path


from bigfix_mm.utils.cli import run_tool  # noqa: E402  (first: quiet start-up)

import torch  # noqa: E402

from bigfix_mm.apis import init_model  # noqa: E402
from bigfix_mm.errors import InputError, InputValueError  # noqa: E402
from bigfix_mm.models.editors.bigfix.sampler.presets import SAMPLER_PRESETS, sampler_config  # noqa: E402
from bigfix_mm.visualization.images import save_png  # noqa: E402
from bigfix_mm.visualization.sampling_figures import visualize_sampling  # noqa: E402
from bigfix_mm.visualization.video import save_gif  # noqa: E402


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description='Step-by-step pictures of one sampling run')
    p.add_argument('config')
    p.add_argument('checkpoint')
    p.add_argument('--sampler', choices=list(SAMPLER_PRESETS), default=None, metavar='PRESET',
                   help=f'sampler preset: {" | ".join(SAMPLER_PRESETS)} (default: the config\'s '
                        'model.sampler); drawn beside the same sampler without fixing')
    p.add_argument('--labels', type=int, nargs='+', default=[0, 1, 2, 3],
                   help='class ids, one row each')
    p.add_argument('--steps', type=int, default=None, help='sampling steps (default: config)')
    p.add_argument('--cfg', type=float, default=None, help='guidance scale w (default: config)')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--scale', type=int, default=4, help='pixel repetition of the pictures')
    p.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    p.add_argument('--out', default='vis', help='output folder')
    return p.parse_args()


def main() -> None:
    args = parse_args()
    if args.scale < 1:
        raise InputValueError(f'--scale {args.scale} must be >= 1.')
    model = init_model(args.config, args.checkpoint, device=args.device)
    if model.tokenizer is None or getattr(model.tokenizer, 'is_video', False):
        raise InputError(f'{args.config}: tools/visualize_sampling.py draws image models with a '
                         'tokenizer (model.tokenizer); for video use tools/sample.py.')
    bad = [c for c in args.labels if not 0 <= c < model.num_classes]
    if bad:
        raise InputValueError(f'--labels {bad} are outside [0, {model.num_classes - 1}], the '
                              'classes of this model. Fix: pass class ids in that range.')
    sampler = dict(model.sampler_cfg)
    if args.sampler:  # steps and guidance default to the config's sampler
        sampler = sampler_config(args.sampler, steps=sampler.get('steps'),
                                 cfg_scale=sampler.get('cfg_scale'))
    overrides = {k: v for k, v in dict(steps=args.steps, cfg_scale=args.cfg).items()
                 if v is not None}
    names = _class_names(model, args.labels)
    strip, frames = visualize_sampling(model, torch.tensor(args.labels), sampler, seed=args.seed,
                                       scale=args.scale, row_labels=names, **overrides)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    save_png(strip, out / 'sampling_strip.png')
    save_gif(frames, out / 'sampling.gif', fps=1000 / 700, last_ms=2500)
    print(f'wrote {out / "sampling_strip.png"} and {out / "sampling.gif"}')


def _class_names(model, labels):
    """Class names from the config's training dataset, else the ids."""
    from bigfix_mm.registry import DATASETS
    dataset = model.cfg.get('train_dataloader', {}).get('dataset', {})
    cls = DATASETS.get(dataset.get('type', '')) if dataset else None
    classes = getattr(cls, 'METAINFO', {}).get('classes') if cls is not None else None
    return [classes[c] if classes and c < len(classes) else str(c) for c in labels]


if __name__ == '__main__':
    run_tool(main)
