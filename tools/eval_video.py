"""Evaluate a video BIGFix checkpoint: plain vs fixing samplers at several step counts.

    python tools/eval_video.py CONFIG CHECKPOINT --samplers halton fix_low \
        --steps 4 8 16 --out work_dirs/video_eval [--num 2048] [--real-split train] \
        [--ref-split auto] [--context-frames 2 --real-split val] [--i3d I3D.pt]

For each (sampler, steps) it samples ``--num`` clips, labels cycling over the
classes, decodes them and compares them with real clips. The protocol lives in
:mod:`bigfix_mm.evaluation.video`:

- real clips come from the video files of ``--real-split`` (the config's
  ``extract_datasets[split]``, or a dataloader that reads frames), never from
  pre-extracted tokens, and are class-balanced to the generated labels;
- reference rows: ``real clips (<split>)``, raw clips of ``--ref-split``, and
  ``tokenizer floor (<split> reconstructions)``, the same clips encoded and
  decoded by the model's tokenizer (the best a perfect generator can score);
- ``--context-frames k``: every generated clip continues the first k frames
  of its real clip (tokenized by the model's tokenizer); the k given frames
  are left out of every metric, in every set;
- metrics: temporal consistency (synthetic moving shapes), per-frame Fréchet
  distance (offline EfficientNet-Lite0), FVD with ``--i3d`` (16 scored
  frames only, refused otherwise before anything is sampled). Sets smaller
  than the feature dimension are flagged (rank-deficient covariance).

Writes ``results.json``, ``results.md`` and one ``<sampler>_s<steps>.png``
frame grid per setting under ``--out``.
"""
import argparse
import json
import sys
import time
from pathlib import Path
from typing import List, Optional, Sequence


from bigfix_mm.utils.cli import run_tool  # noqa: E402  (first: quiet start-up)

import numpy as np  # noqa: E402
import torch  # noqa: E402

from bigfix_mm.core.sampling import balanced_labels  # noqa: E402
from bigfix_mm.evaluation import video as V  # noqa: E402
from bigfix_mm.models.editors.bigfix.sampler.presets import SAMPLER_PRESETS, sampler_config  # noqa: E402
from bigfix_mm.core.files import write_text_atomic  # noqa: E402

REF_SPLITS = ('test', 'val')  # --ref-split auto: the first of these with video files


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description='Plain vs fixing samplers on a video checkpoint')
    p.add_argument('config')
    p.add_argument('checkpoint')
    p.add_argument('--samplers', nargs='+', default=['halton', 'fix_low', 'maskgit',
                                                      'maskgit_fix_low'],
                   choices=sorted(SAMPLER_PRESETS))
    p.add_argument('--steps', type=int, nargs='+', default=[4, 8, 16])
    p.add_argument('--num', type=int, default=V.DEFAULT_NUM_CLIPS,
                   help='clips per set (FVD: above the 400 I3D dimensions)')
    p.add_argument('--cfg', type=float, default=None, help='guidance scale (default: config)')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--batch-size', type=int, default=64)
    p.add_argument('--context-frames', type=int, default=None,
                   help='continue the first K frames of the real clips (needs --real-split)')
    p.add_argument('--real-split', default=None,
                   help='split of the real reference clips, read from video files '
                        '(default: train; with --context-frames it must be named)')
    p.add_argument('--ref-split', default='auto',
                   help="split of the 'real clips' and 'tokenizer floor' rows; auto: the first "
                        f"of {REF_SPLITS} other than --real-split; none: no such rows")
    p.add_argument('--fd-size', type=int, default=112, help='EfficientNet input side (224: standard)')
    p.add_argument('--no-fd', action='store_true', help='skip the per-frame Fréchet distance')
    p.add_argument('--i3d', default=None, help='TorchScript I3D file: also report FVD')
    p.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    p.add_argument('--no-ema', action='store_true')
    p.add_argument('--out', required=True)
    args = p.parse_args(argv)
    if args.real_split is None:
        if args.context_frames is not None:
            p.error('--context-frames continues real clips and scores them against their true '
                    'frames: name their split with --real-split (e.g. val or test).')
        args.real_split = 'train'
    return args


def to_markdown(rows: List[dict], keys: Sequence[str]) -> str:
    head = '| setting | steps | ' + ' | '.join(keys) + ' | s |'
    lines = [head, '|' + '---|' * (len(keys) + 3)]
    for r in rows:
        vals = ' | '.join(f'{r[k]:.3f}' if isinstance(r.get(k), float) else str(r.get(k, '-'))
                          for k in keys)
        lines.append(f"| {r['setting']} | {r.get('steps', '-')} | {vals} | {r.get('seconds', 0):.1f} |")
    return '\n'.join(lines) + '\n'


def pick_ref_split(cfg, args) -> Optional[str]:
    """``--ref-split`` resolved: a raw split other than the reference, or None."""
    if args.ref_split == 'none':
        return None
    if args.ref_split != 'auto':
        return args.ref_split
    return next((s for s in REF_SPLITS if s in V.raw_splits(cfg) and s != args.real_split), None)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    from bigfix_mm.apis import encode_clips, generate, init_model, reconstruct_clips
    from bigfix_mm.visualization.images import save_png
    from bigfix_mm.visualization.video import clips_to_uint8, make_video_grid_uint8

    model = init_model(args.config, args.checkpoint, device=args.device, use_ema=not args.no_ema)
    cfg = model.cfg
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    k = args.context_frames
    per_token_frame = getattr(model.tokenizer, 'temporal_downsample', 1)
    pixel_context = (k or 0) * per_token_frame  # given pixel frames
    if args.i3d:  # refuse before anything is loaded or sampled
        V.check_fvd_frames(model.grid[0] * per_token_frame, pixel_context)
    labels = balanced_labels(args.num, model.num_classes)
    real = V.real_clips(cfg, args.real_split, labels.numpy())
    synthetic = V.raw_dataset_cfg(cfg, args.real_split)['type'] == 'SyntheticMovingShapes'
    features = None if args.no_fd else V.default_frame_features(args.device, args.fd_size)
    score = V.ReferenceScorer(real['frames'], pixel_context, synthetic, features, args.i3d,
                              args.device)

    rows = []
    ref_split = pick_ref_split(cfg, args)
    floor_split, floor = args.real_split, real['frames']
    if ref_split is not None:
        floor_split, floor = ref_split, V.real_clips(cfg, ref_split, labels.numpy())['frames']
        rows.append(dict(setting=f'real clips ({ref_split})', steps='-', seconds=0.0,
                         **score(floor)))
    rows.append(dict(setting=f'tokenizer floor ({floor_split} reconstructions)', steps='-',
                     seconds=0.0, **score(reconstruct_clips(model, floor, args.batch_size))))

    context = None
    if k is not None:  # the first k frames of each real clip, tokenized
        context = encode_clips(model, real['frames'], args.batch_size)
    cfg_scale = args.cfg if args.cfg is not None else model.sampler_cfg.get('cfg_scale', 0.0)
    for name in args.samplers:
        for steps in args.steps:
            sampler = sampler_config(name, steps=steps, cfg_scale=cfg_scale)
            start = time.perf_counter()
            clips, tokens = generate(model, labels, sampler=sampler, seed=args.seed,
                                     batch_size=args.batch_size, context=context,
                                     context_frames=k, return_tokens=True)
            seconds = time.perf_counter() - start
            row = dict(setting=name, steps=steps, seconds=seconds)
            if k is not None:  # given frames must come back bit-identical
                row['context_kept'] = bool(torch.equal(tokens[:, :k], context[:, :k]))
            row.update(score(clips_to_uint8(clips)))
            rows.append(row)
            save_png(make_video_grid_uint8(clips[:8]), out / f'{name}_s{steps}.png')
            print(json.dumps(row), flush=True)

    keys = [key for key in ('id_switch_rate', 'pos_jump_rate', 'consistent_clip_rate',
                            'objects_per_frame', 'frame_fd', 'fvd', 'context_kept')
            if any(key in r for r in rows)]
    per_class = np.bincount(real['labels'])
    meta = dict(config=args.config, checkpoint=args.checkpoint, num=args.num, seed=args.seed,
                cfg_scale=cfg_scale, context_frames=k, frames_left_out=pixel_context,
                fd_size=None if args.no_fd else args.fd_size, real_split=args.real_split,
                real_indices=real['indices'].tolist(),
                real_clips_per_class=[int(per_class.min()), int(per_class.max())],
                ref_split=ref_split, warnings=score.warnings,
                torch_threads=torch.get_num_threads())
    write_text_atomic(out / 'results.json', json.dumps(dict(meta=meta, rows=rows), indent=2))
    table = to_markdown(rows, keys)
    if score.warnings:
        table += ''.join(f'\nwarning: {w}\n' for w in score.warnings)
    write_text_atomic(out / 'results.md', table)
    print(table)
    return 0


if __name__ == '__main__':
    sys.exit(run_tool(main))
