"""Convert the authors' Halton-MaskGIT / BIGFix transformer checkpoint for bigfix_mm.

    python tools/model_converters/convert_halton_maskgit.py ImageNet_256_tiny.pth checkpoints/halton_256_tiny.pth
        [--arch auto|tiny|small|base|large|xlarge] [--heads N]
    python tools/model_converters/convert_halton_maskgit.py work_dirs/x/iter_1000.pth theirs.pth --reverse

Reads their file with ``weights_only=True`` (nothing in it runs), infers the
architecture from the shapes (the head count from the published size table by
width and depth, or ``--heads``), checks every key and shape and writes an
MMEngine checkpoint (``transformer.*`` weights, no optimizer state) for
``init_model``, ``tools/sample.py``, ``tools/test.py`` and ``load_from``.
``--reverse`` writes a bigfix_mm checkpoint in their format.
"""
import argparse
import sys


from bigfix_mm.models.editors.bigfix.convert_halton_maskgit import (  # noqa: E402
    config_hint, convert_to_ours, convert_to_theirs)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description="Convert the authors' Halton-MaskGIT checkpoint")
    p.add_argument('src', help="their checkpoint (.pth), or ours with --reverse")
    p.add_argument('dst', help='output .pth')
    p.add_argument('--arch', default='auto',
                   help='auto (size from width and depth) or a size name: tiny, small, base, ...')
    p.add_argument('--heads', type=int, default=None,
                   help='attention heads, for widths / depths outside the size table')
    p.add_argument('--reverse', action='store_true', help='bigfix_mm checkpoint -> their format')
    args = p.parse_args(argv)
    if args.reverse:
        n = convert_to_theirs(args.src, args.dst)
        print(f'wrote {args.dst}: {n} tensors in the Halton-MaskGIT layout')
        return 0
    cfg = convert_to_ours(args.src, args.dst, arch=args.arch, heads=args.heads)
    print(f'wrote {args.dst}')
    print(config_hint(cfg))
    return 0


if __name__ == '__main__':
    sys.exit(main())
