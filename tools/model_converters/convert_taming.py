"""Convert a taming-transformers VQGAN checkpoint (MaskGIT's f16, K=1024) for VQGANTokenizer.

    python tools/model_converters/convert_taming.py vqgan_imagenet_f16_1024/last.ckpt \
        checkpoints/taming_f16_1024.safetensors [--arch taming-f16-1024]

The Lightning ``last.ckpt`` keeps the weights under ``state_dict`` with taming's
names (``encoder.down.{l}.block.{i}``, ``mid.block_1``, ``decoder.up.{l}``) next
to the training losses (``loss.*``: discriminator, LPIPS) and Lightning objects.
The tool reads the tensors without running code from the file, renames them to
the native layout, drops ``loss.*``, checks them against the architecture and
writes safetensors (or ``.pth``). Use the K=16384 model with --arch taming-f16-16384.
"""
import sys


from bigfix_mm.utils.cli import run_tool  # noqa: E402  (first: quiet start-up)
from bigfix_mm.models.tokenizers.convert import convert_cli  # noqa: E402


def main(argv=None) -> int:
    return convert_cli(argv, default_arch='taming-f16-1024', what='taming-transformers')


if __name__ == '__main__':
    sys.exit(run_tool(main))
