"""Convert LlamaGen's VQ checkpoint (e.g. ``vq_ds16_c2i.pt``) for VQGANTokenizer.

    python tools/convert_llamagen.py vq_ds16_c2i.pt checkpoints/llamagen_vq16.safetensors
        [--arch llamagen-vq16] [--no-ema]

LlamaGen's file keeps the weights under ``model`` (or ``ema`` / ``state_dict``),
with the module names VQGANTokenizer uses. A file holding only tensors loads
directly (``dict(type='VQGANTokenizer', arch='llamagen-vq16', checkpoint='vq_ds16_c2i.pt')``);
this tool is for files that also pickle training objects (optimizer state, argparse
arguments), which ``weights_only`` refuses: it reads the tensors without running
any code from the file, checks them against the architecture and writes a plain
safetensors (or ``.pth``) file.
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..')))

from bigfix_mm.utils.cli import run_tool  # noqa: E402  (first: quiet start-up)

from mmengine.config import DictAction  # noqa: E402

from bigfix_mm.models.tokenizers.convert import convert_checkpoint  # noqa: E402


def main(argv=None, default_arch: str = 'llamagen-vq16', what: str = 'LlamaGen') -> int:
    p = argparse.ArgumentParser(description=f'Convert a {what} VQ checkpoint for VQGANTokenizer')
    p.add_argument('src', help='published checkpoint (.pt / .ckpt / .pth / .safetensors)')
    p.add_argument('dst', help='output file (.safetensors recommended, or .pth)')
    p.add_argument('--arch', default=default_arch, help=f'VQ_ARCHS name (default {default_arch})')
    p.add_argument('--arch-options', nargs='+', action=DictAction, default={},
                   help='overrides of the named arch, e.g. codebook_size=4096')
    p.add_argument('--no-ema', action='store_true', help='take the raw weights, not the EMA ones')
    args = p.parse_args(argv)
    report = convert_checkpoint(args.src, args.dst, args.arch, use_ema=not args.no_ema,
                                **args.arch_options)
    if report['replaced_globals']:
        print('read without running code; non-tensor objects left inert: ' +
              ', '.join(report['replaced_globals']))
    if report['dropped_keys']:
        print(f"dropped {len(report['dropped_keys'])} training-only tensors "
              f"(e.g. {report['dropped_keys'][0]})")
    print(f"wrote {args.dst}: {report['tensors']} tensors, {report['parameters']:,} values, "
          f"arch={args.arch}{' (renamed from the taming layout)' if report['taming_layout'] else ''}")
    extra = ''.join(f', {k}={v!r}' for k, v in args.arch_options.items())
    print(f"use: dict(type='VQGANTokenizer', arch='{args.arch}'{extra}, checkpoint='{args.dst}')")
    return 0


if __name__ == '__main__':
    sys.exit(run_tool(main))
