"""Evaluate a video BIGFix checkpoint: plain vs fixing samplers at several step counts.

    python tools/eval_video.py CONFIG CHECKPOINT --samplers halton halton-fix-low \
        --steps 4 8 16 --num 64 --out work_dirs/video_eval [--context-frames 2] [--i3d I3D.pt]

For each (sampler, steps) it samples ``--num`` clips (labels cycle over the
classes, or the labels of the context clips), decodes them and reports:

- temporal consistency (synthetic moving-shapes configs only): identity
  switches, position jumps and the share of fully consistent clips, measured
  from pixels (:func:`bigfix_mm.evaluation.video.temporal_consistency`);
- per-frame Fréchet distance to real frames of ``--real-split`` with the
  offline EfficientNet-Lite0 (``--fd-size`` input side);
- FVD when ``--i3d`` names a TorchScript I3D file (none is downloaded).

Reference rows: the tokenized real clips (the tokenizer's ceiling) and, for FD,
real clips of another split. Writes ``results.json``, ``results.md`` and one
``<sampler>_s<steps>.png`` frame grid per setting under ``--out``.
"""
import argparse
import json
import os
import os.path as osp
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional, Sequence

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..')))

from bigfix_mm.utils.cli import run_tool  # noqa: E402  (first: quiet start-up)

import numpy as np  # noqa: E402
import torch  # noqa: E402

SAMPLER_PRESETS = {
    'halton': dict(type='HaltonSampler'),
    'halton-fix-low': dict(type='TokenFixingSampler', reveal='halton', fix='low_confidence',
                           fix_ratio=0.1),
    'halton-fix-all': dict(type='TokenFixingSampler', reveal='halton', fix='all'),
    'maskgit': dict(type='MaskGITSampler'),
    'maskgit-fix-low': dict(type='TokenFixingSampler', reveal='confidence', fix='low_confidence',
                            fix_ratio=0.1),
}
PLAIN = ('halton', 'maskgit')


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description='Plain vs fixing samplers on a video checkpoint')
    p.add_argument('config')
    p.add_argument('checkpoint')
    p.add_argument('--samplers', nargs='+', default=['halton', 'halton-fix-low', 'maskgit',
                                                      'maskgit-fix-low'],
                   choices=sorted(SAMPLER_PRESETS))
    p.add_argument('--steps', type=int, nargs='+', default=[4, 8, 16])
    p.add_argument('--num', type=int, default=64, help='clips per setting')
    p.add_argument('--cfg', type=float, default=None, help='guidance scale (default: config)')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--batch-size', type=int, default=64)
    p.add_argument('--context-frames', type=int, default=None,
                   help='continue the first K frames of real clips of --real-split')
    p.add_argument('--real-split', default='test', help='dataloader of the real clips')
    p.add_argument('--ref-split', default='val', help='second real split (FD reference row)')
    p.add_argument('--fd-size', type=int, default=112, help='EfficientNet input side (224: standard)')
    p.add_argument('--no-fd', action='store_true', help='skip the per-frame Fréchet distance')
    p.add_argument('--i3d', default=None, help='TorchScript I3D file: also report FVD')
    p.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    p.add_argument('--no-ema', action='store_true')
    p.add_argument('--out', required=True)
    return p.parse_args(argv)


def real_clips(cfg, split: str, num: int, model) -> Dict[str, np.ndarray]:
    """Raw frames (before tokenization) and tokens of ``num`` clips of a split."""
    from bigfix_mm.apis import context_clips
    from bigfix_mm.registry import DATASETS
    tokens, labels = context_clips(cfg, split, num)
    ds_cfg = cfg[f'{split}_dataloader'].dataset.copy()
    pipeline = []
    for t in ds_cfg.get('pipeline', []):  # frame transforms only
        if t['type'] in ('TokenizeVideo', 'RandomTokenInjection', 'PackTokenInputs'):
            break
        pipeline.append(t)
    ds_cfg['pipeline'] = pipeline
    frames = None
    if ds_cfg['type'] != 'TokenDataset':
        dataset = DATASETS.build(ds_cfg)
        frames = np.stack([dataset[i]['frames'] for i in range(num)])
    from bigfix_mm.utils.video import clips_to_uint8
    recon = clips_to_uint8(model.decode(tokens.to(model.device)).cpu())
    return dict(frames=frames if frames is not None else recon, recon=recon, tokens=tokens,
                labels=labels)


def evaluate_clips(clips: np.ndarray, real: np.ndarray, synthetic: bool, fd_features,
                   real_features: Optional[np.ndarray], args) -> Dict[str, float]:
    from bigfix_mm.evaluation.video import (frechet_video_distance, per_frame_frechet,
                                            temporal_consistency)
    out: Dict[str, float] = {}
    if synthetic:
        out.update(temporal_consistency(clips))
    if fd_features is not None:
        fd = per_frame_frechet(clips, None, fd_features, device=args.device,
                               real_features=real_features)
        out['frame_fd'] = fd['fd']
    if args.i3d:
        out['fvd'] = frechet_video_distance(clips, real, args.i3d, device=args.device)['fd']
    return out


def to_markdown(rows: List[dict], keys: Sequence[str]) -> str:
    head = '| setting | steps | ' + ' | '.join(keys) + ' | s |'
    lines = [head, '|' + '---|' * (len(keys) + 3)]
    for r in rows:
        vals = ' | '.join(f'{r[k]:.3f}' if isinstance(r.get(k), float) else str(r.get(k, '-'))
                          for k in keys)
        lines.append(f"| {r['setting']} | {r.get('steps', '-')} | {vals} | {r.get('seconds', 0):.1f} |")
    return '\n'.join(lines) + '\n'


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    from bigfix_mm.apis import generate_video, init_model
    from bigfix_mm.evaluation.video import default_frame_features, frame_features
    from bigfix_mm.utils.images import save_png
    from bigfix_mm.utils.video import clips_to_uint8, make_video_grid_uint8

    model = init_model(args.config, args.checkpoint, device=args.device, use_ema=not args.no_ema)
    cfg = model.cfg
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    synthetic = cfg[f'{args.real_split}_dataloader'].dataset.type == 'SyntheticMovingShapes'
    real = real_clips(cfg, args.real_split, args.num, model)
    fd_features = None if args.no_fd else default_frame_features(args.device, args.fd_size)
    real_feats = None if fd_features is None else frame_features(real['frames'], fd_features,
                                                                 device=args.device)
    rows = []
    ref = dict(setting='tokenized real clips', steps='-', seconds=0.0)
    ref.update(evaluate_clips(real['recon'], real['frames'], synthetic, fd_features, real_feats, args))
    rows.append(ref)
    if fd_features is not None and args.ref_split != args.real_split:
        other = real_clips(cfg, args.ref_split, args.num, model)
        row = dict(setting=f'real clips ({args.ref_split} split)', steps='-', seconds=0.0)
        row.update(evaluate_clips(other['frames'], real['frames'], synthetic, fd_features,
                                  real_feats, args))
        rows.append(row)

    k = args.context_frames
    labels = real['labels'] if k is not None else torch.arange(args.num) % model.num_classes
    context = real['tokens'] if k is not None else None
    cfg_scale = args.cfg if args.cfg is not None else model.sampler_cfg.get('cfg_scale', 0.0)
    for name in args.samplers:
        for steps in args.steps:
            sampler = dict(SAMPLER_PRESETS[name], steps=steps, cfg_scale=cfg_scale)
            start = time.perf_counter()
            clips, tokens = generate_video(model, labels, sampler=sampler, seed=args.seed,
                                           batch_size=args.batch_size, context=context,
                                           context_frames=k, return_tokens=True)
            seconds = time.perf_counter() - start
            arr = clips_to_uint8(clips)
            row = dict(setting=name, steps=steps, seconds=seconds)
            if k is not None:  # given frames must come back bit-identical
                row['context_kept'] = bool(torch.equal(tokens[:, :k], real['tokens'][:, :k]))
            row.update(evaluate_clips(arr, real['frames'], synthetic, fd_features, real_feats, args))
            rows.append(row)
            save_png(make_video_grid_uint8(clips[:8]), out / f'{name}_s{steps}.png')
            print(json.dumps(row), flush=True)

    keys = [key for key in ('id_switch_rate', 'pos_jump_rate', 'consistent_clip_rate',
                            'objects_per_frame', 'frame_fd', 'fvd', 'context_kept')
            if any(key in r for r in rows)]
    meta = dict(config=args.config, checkpoint=args.checkpoint, num=args.num, seed=args.seed,
                cfg_scale=cfg_scale, context_frames=k, fd_size=None if args.no_fd else args.fd_size,
                real_split=args.real_split, torch_threads=torch.get_num_threads())
    tmp = out / 'results.json.tmp'
    tmp.write_text(json.dumps(dict(meta=meta, rows=rows), indent=2))
    os.replace(tmp, out / 'results.json')
    table = to_markdown(rows, keys)
    (out / 'results.md').write_text(table)
    print(table)
    return 0


if __name__ == '__main__':
    sys.exit(run_tool(main))
