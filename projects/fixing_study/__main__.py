"""Does token fixing help? The study behind docs/results.md, in one resumable command.

    python -m projects.fixing_study CONFIG --work-dir work_dirs/fixing_study_SPACE [options]

Run from the repository root. ``--help`` lists every option; projects/fixing_study/README.md
describes the stages and the cache.
"""
import os

os.environ.setdefault('NO_ALBUMENTATIONS_UPDATE', '1')

from bigfix_mm.utils.cli import run_tool  # noqa: E402  (first: quiet start-up)

from .main import main  # noqa: E402

if __name__ == '__main__':
    run_tool(main)
