"""Locating the project's shared data folder."""
import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def shared_dir() -> Path:
    """``$BIGFIX_SHARED`` or ``<repo>/../shared``."""
    return Path(os.environ.get('BIGFIX_SHARED', REPO_ROOT.parent / 'shared'))


def resolve_data_root(data_root: str | None, default_subdir: str, dataset: str) -> Path:
    """Return ``data_root`` or ``shared/<default_subdir>``; raise a clear error if missing."""
    root = Path(data_root) if data_root else shared_dir() / default_subdir
    if not root.is_dir():
        raise FileNotFoundError(
            f'{dataset}: data_root={str(root)!r} does not exist. Set `data_root` in the dataset '
            f'config (or BIGFIX_SHARED to the folder holding `{default_subdir}`).')
    return root
