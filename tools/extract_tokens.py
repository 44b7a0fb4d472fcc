"""Pre-extract VQ tokens of an image dataset into the TokenDataset layout.

    python tools/extract_tokens.py CONFIG --split train --out DIR [--flip]
        [--batch-size 64] [--device cuda] [--checkpoint CKPT] [--chunk-size 4096]
        [--num-workers 4] [--limit N] [--verify 8] [--overwrite] [--cfg-options k=v ...]

CONFIG names the tokenizer and the image datasets, by split::

    tokenizer = dict(type='VQGANTokenizer', arch='llamagen-vq16', checkpoint='vq_ds16_c2i.pt')
    extract_datasets = dict(
        train=dict(type='ImageNetFolder', data_root='data/imagenet', split='train',
                   pipeline=[dict(type='CenterCropResize', size=256)]))

Datasets yield ``img`` ((H, W, 3) uint8 RGB, one size per dataset) and ``gt_label``;
video datasets yield ``frames`` ((T, H, W, 3)) instead and need a video tokenizer
(``PerFrameTokenizer``), giving (N, t, h, w) tokens (see configs/bigfix/bigfix_ucf101.py).
DIR receives ``tokens.npy`` ((N, h, w) uint16 / int32 / uint32 / int64 by codebook size, written through a memory map),
``labels.npy`` and ``meta.json``. With ``--flip`` every image is also encoded
mirrored: row 2i is image i, row 2i+1 its horizontal flip.

Work proceeds in chunks of ``--chunk-size`` images; each finished chunk is
flushed and recorded in ``DIR/progress.json``, so a killed run started again with
the same arguments skips the finished chunks and produces the same file. At the
end, ``--verify`` samples are decoded and compared with the tokenizer's own
reconstruction of the source images. The work is done by
:mod:`bigfix_mm.datasets.token_extraction`; this is its front end.
"""
import argparse
import shlex
import sys
from typing import Optional, Sequence


from bigfix_mm.utils.cli import run_tool  # noqa: E402  (first: quiet start-up)

import torch  # noqa: E402
from mmengine.config import Config, DictAction  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402

from bigfix_mm.datasets.token_extraction import extract, verify  # noqa: E402
from bigfix_mm.core.checkpoint import resolve_checkpoint  # noqa: E402
from bigfix_mm.engine.config_files import load_config  # noqa: E402


# -------------------------------------------------------------------- building
def build_from_config(cfg: Config, split: str, checkpoint: Optional[str] = None,
                      limit: Optional[int] = None):
    """Tokenizer and dataset of ``cfg`` for ``split``; returns (tokenizer, dataset, description)."""
    init_default_scope(cfg.get('default_scope', 'mmagic'))
    import bigfix_mm  # noqa: F401  (registers components)
    from bigfix_mm.registry import DATASETS, MODELS
    # a BIGFix config's tokenizer is the model's; a tokenizer-training config names it
    tok = (cfg.get('model') or {}).get('tokenizer') or cfg.get('tokenizer')
    if tok is None:
        raise KeyError(f'{cfg.filename}: the config needs `model.tokenizer` (BIGFix configs) or '
                       '`tokenizer = dict(type=...)` naming the tokenizer to extract with.')
    datasets = cfg.get('extract_datasets')
    if not datasets or split not in datasets:
        raise KeyError(f'{cfg.filename}: `extract_datasets` has no entry for --split {split!r} '
                       f'(has: {sorted(datasets or {})}). Add extract_datasets = dict({split}=dict('
                       "type=..., ...)) to the config.")
    tok_cfg = tok.to_dict() if hasattr(tok, 'to_dict') else dict(tok)
    if checkpoint is not None:
        tok_cfg['checkpoint'] = str(resolve_checkpoint(checkpoint))
    data_cfg = datasets[split].to_dict() if hasattr(datasets[split], 'to_dict') else dict(datasets[split])
    if limit is not None:
        data_cfg['indices'] = int(limit)
    tokenizer = MODELS.build(tok_cfg)
    dataset = DATASETS.build(data_cfg)
    return tokenizer, dataset, dict(tokenizer=tok_cfg, dataset=data_cfg, split=split)


# ------------------------------------------------------------------------- CLI
def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description='Pre-extract VQ tokens into the TokenDataset layout')
    p.add_argument('config', help='config with `tokenizer` and `extract_datasets`')
    p.add_argument('--split', default='train', help='key of extract_datasets')
    p.add_argument('--out', required=True, help='output folder (tokens.npy, labels.npy, meta.json)')
    p.add_argument('--flip', action='store_true', help='also encode horizontally mirrored images')
    p.add_argument('--batch-size', type=int, default=64)
    p.add_argument('--chunk-size', type=int, default=4096,
                   help='images per resumable chunk (must stay the same when resuming)')
    p.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    p.add_argument('--checkpoint', default=None,
                   help='tokenizer weights, or a training work dir (its newest checkpoint); '
                   'overrides the config')
    p.add_argument('--num-workers', type=int, default=1, help='image decoding processes')
    p.add_argument('--limit', type=int, default=None, help='only the first N images')
    p.add_argument('--verify', type=int, default=8, help='samples to check after extraction (0: none)')
    p.add_argument('--overwrite', action='store_true', help='discard an existing extraction in --out')
    p.add_argument('--no-progress', action='store_true', help='no progress bar')
    p.add_argument('--cfg-options', nargs='+', action=DictAction, help='override config entries')
    return p.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    cfg = load_config(args.config, args.cfg_options)
    tokenizer, dataset, description = build_from_config(cfg, args.split, args.checkpoint, args.limit)
    given = [a for a in (sys.argv[1:] if argv is None else argv) if a != '--overwrite']
    command = shlex.join(['python', 'tools/extract_tokens.py', *given])
    try:
        stats = extract(tokenizer, dataset, args.out, description, flip=args.flip,
                        batch_size=args.batch_size, chunk_size=args.chunk_size,
                        device=args.device, num_workers=args.num_workers,
                        overwrite=args.overwrite, progress=not args.no_progress, command=command)
    except KeyboardInterrupt:
        print(f'extraction into {args.out} interrupted; the finished chunks are kept. Resume '
              f'it with the same command: {command}', file=sys.stderr, flush=True)
        return 130
    if stats['images']:
        print(f"encoded {stats['images']} images in {stats['seconds']:.1f} s "
              f"({stats['images_per_s']:.1f} images/s, {'with' if args.flip else 'no'} flip) "
              f'-> {args.out}')
    if args.verify > 0:
        check = verify(tokenizer, dataset, args.out, num=args.verify, device=args.device)
        print(f"verify: {check['rows']} rows, id agreement {check['agreement']:.4f}, max |decode("
              f"stored) - decode(encode(img))| = {check['max_abs_diff']:.2e} -> "
              f"{'OK' if check['ok'] else 'FAILED'}")
        if not check['ok']:
            return 1
    return 0


if __name__ == '__main__':
    sys.exit(run_tool(main))
