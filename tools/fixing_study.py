"""Does token fixing help? The study behind docs/results.md, in one resumable command.

    python tools/fixing_study.py configs/bigfix_cifar10_quick.py \
        --work-dir work_dirs/fixing_study [--iters 3600] [--width W --depth D --heads H]
        [--seeds 0 1 2] [--samples 340] [--steps 4 8 16] [--bootstrap 100] ...

Trains the p=0.2 and p=0 twins (tools/train.py, both at once, resumable),
trains the sample classifier, embeds the real test split and its token round
trip, picks the guidance scale on a pilot seed, samples and scores every cell
with paired seeds, and writes the page (``--help`` lists every option). The
modules live in tools/fixing_study/.
"""
import os
import os.path as osp
import sys

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..')))
sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
os.environ.setdefault('NO_ALBUMENTATIONS_UPDATE', '1')

from bigfix_mm.utils.cli import run_tool  # noqa: E402  (first: quiet start-up)
from fixing_study.main import main  # noqa: E402

if __name__ == '__main__':
    run_tool(main)
