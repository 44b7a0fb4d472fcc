"""Where data sets are looked for: the shared folder and the standard local folders."""
import os
from pathlib import Path
from typing import List, Optional, Tuple

REPO_ROOT = Path(__file__).resolve().parents[2]


def shared_dir() -> Path:
    """``$BIGFIX_SHARED`` or ``<repo>/../shared``."""
    return Path(os.environ.get('BIGFIX_SHARED', REPO_ROOT.parent / 'shared'))


def data_root_candidates(data_root: Optional[str], subdir: str) -> List[Tuple[str, Path]]:
    """The folders a data set is looked for in, in order, each with how it was chosen.

    An explicit ``data_root`` is the only place. Otherwise: ``subdir`` relative to
    the working directory (OpenMMLab's ``data/<name>`` habit), then
    ``$BIGFIX_SHARED/<subdir>`` (or ``<repo>/../shared/<subdir>`` when unset).
    """
    if data_root:
        return [('data_root', Path(data_root))]
    shared = ('$BIGFIX_SHARED' if 'BIGFIX_SHARED' in os.environ else '<repo>/../shared')
    return [(subdir, Path(subdir)), (f'{shared}/{subdir}', shared_dir() / subdir)]
