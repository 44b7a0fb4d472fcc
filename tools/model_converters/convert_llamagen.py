"""Convert LlamaGen's VQ checkpoint (e.g. ``vq_ds16_c2i.pt``) for VQGANTokenizer.

    python tools/model_converters/convert_llamagen.py vq_ds16_c2i.pt checkpoints/llamagen_vq16.safetensors
        [--arch llamagen-vq16] [--no-ema]

LlamaGen's file keeps the weights under ``model`` (or ``ema`` / ``state_dict``),
with the module names VQGANTokenizer uses. A file holding only tensors loads
directly (``dict(type='VQGANTokenizer', arch='llamagen-vq16', checkpoint='vq_ds16_c2i.pt')``);
this tool is for files that also pickle training objects (optimizer state, argparse
arguments), which ``weights_only`` refuses: it reads the tensors without running
any code from the file, checks them against the architecture and writes a plain
safetensors (or ``.pth``) file.
"""
import sys


from bigfix_mm.utils.cli import run_tool  # noqa: E402  (first: quiet start-up)
from bigfix_mm.models.tokenizers.convert import convert_cli  # noqa: E402


def main(argv=None) -> int:
    return convert_cli(argv, default_arch='llamagen-vq16', what='LlamaGen')


if __name__ == '__main__':
    sys.exit(run_tool(main))
