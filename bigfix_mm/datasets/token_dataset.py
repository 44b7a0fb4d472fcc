"""Pre-extracted tokens: one memory-mapped id array, labels and a metadata JSON.

Layout of ``data_root``::

    tokens.npy   (N, *grid) integer ids (np.load mmap; uint16 / int32 / uint32 / int64 by K,
                 see :func:`token_dtype`; read as int64)
    labels.npy   (N,) integer class ids
    meta.json    {"codebook_size": K, "grid": [T, H, W] or [H, W],
                  "num_classes": C, "tokenizer": "...", "num_samples": N}
"""
import json
from pathlib import Path
from typing import List, Optional, Sequence

import numpy as np
import torch
from mmengine.dataset import BaseDataset

from bigfix_mm.core.schedules import as_grid3d
from bigfix_mm.errors import DataNotFoundError, InputTypeError, InputValueError
from bigfix_mm.registry import DATASETS
from bigfix_mm.core.files import write_text_atomic
from bigfix_mm.core.tokens import check_token_range

TOKEN_FILES = ('tokens.npy', 'labels.npy', 'meta.json')
PROGRESS = 'progress.json'  # an extraction's finished chunks (and its command), until it ends


def unfinished_extraction(root: Path) -> Optional[str]:
    """What to tell about ``root`` when its ``progress.json`` shows an extraction that did
    not finish (None when there is none): how far it got and the command resuming it."""
    try:
        state = json.loads((Path(root) / PROGRESS).read_text())
    except (OSError, ValueError):
        return None
    command = state.get('command') or 'the tools/extract_tokens.py command that wrote it'
    return (f'TokenDataset: the token extraction into {root} did not finish '
            f"({len(state.get('done', []))} of {state.get('n_chunks', '?')} chunks done; "
            f'meta.json is written at the end). Run the same command again to resume it: '
            f'{command}')


def token_dtype(codebook_size: int) -> np.dtype:
    """Storage dtype of ids in [0, K): uint16 up to 2^16 codes, int32 up to 2^31,
    uint32 up to 2^32 (a 32-bit binary tokenizer), else int64."""
    k = int(codebook_size)
    for dtype, limit in ((np.uint16, 1 << 16), (np.int32, 1 << 31), (np.uint32, 1 << 32)):
        if k <= limit:
            return np.dtype(dtype)
    return np.dtype(np.int64)


def write_token_meta(out_dir: str | Path, **meta) -> None:
    """Write ``meta.json`` atomically."""
    write_text_atomic(Path(out_dir) / 'meta.json', json.dumps(meta, indent=2))


@DATASETS.register_module()
class TokenDataset(BaseDataset):
    """Pre-extracted VQ tokens with labels, checked against the config at build time.

    Args:
        data_root: folder holding the three files above.
        codebook_size: expected K (must equal the metadata's); None: the metadata's.
            In a BIGFix config leave these three out: they are the model's.
        grid: expected token grid; None skips the check.
        num_classes: expected class count; None skips the check.
        check_range: scan ids once (chunked) for values outside [0, K).

    Items are ``dict(tokens=(T, H, W) int64 tensor, gt_label=int, sample_idx=int)``.
    """

    def __init__(self,
                 data_root: str,
                 codebook_size: Optional[int] = None,
                 grid: Optional[Sequence[int]] = None,
                 num_classes: Optional[int] = None,
                 check_range: bool = True,
                 **kwargs):
        self.root = Path(data_root)
        self.expected = dict(codebook_size=codebook_size, grid=grid, num_classes=num_classes)
        self.check_range = check_range
        kwargs.setdefault('serialize_data', False)
        super().__init__(data_root=str(self.root), ann_file='', **kwargs)

    def load_data_list(self) -> List[dict]:
        for name in TOKEN_FILES:
            if not (self.root / name).is_file():
                raise DataNotFoundError(unfinished_extraction(self.root) or
                                        f'TokenDataset: {self.root / name} is missing; data_root '
                                        f'must hold {TOKEN_FILES} (written by '
                                        'tools/extract_tokens.py).')
        self.meta = json.loads((self.root / 'meta.json').read_text())
        try:
            self.tokens = np.load(self.root / 'tokens.npy', mmap_mode='r')
        except ValueError as err:
            raise InputValueError(
                f'TokenDataset: {self.root / "tokens.npy"} is truncated or corrupt '
                f'({err}); re-run tools/extract_tokens.py.') from err
        try:
            labels = np.load(self.root / 'labels.npy')
        except ValueError as err:
            raise InputValueError(
                f'TokenDataset: {self.root / "labels.npy"} is truncated or corrupt '
                f'({err}); re-run tools/extract_tokens.py.') from err
        self._validate(labels)
        self.labels = labels.astype(np.int64)
        return [dict(gt_label=int(label), token_index=i) for i, label in enumerate(self.labels)]

    def _validate(self, labels: np.ndarray) -> None:
        meta, exp, root = self.meta, self.expected, self.root
        k = meta.get('codebook_size')
        if exp['codebook_size'] is not None and k != exp['codebook_size']:
            raise InputValueError(
                f'TokenDataset: codebook_size mismatch: {root}/meta.json says codebook_size={k} '
                f"but the config expects codebook_size={exp['codebook_size']} (in a BIGFix "
                'config: model.transformer.codebook_size, or model.tokenizer\'s codebook). '
                'Make it the tokens\' codebook, or re-extract the tokens.')
        grid = tuple(meta.get('grid', ()))
        if exp['grid'] is not None and as_grid3d(grid) != as_grid3d(exp['grid']):
            raise InputValueError(
                f'TokenDataset: grid mismatch: meta.json grid={list(grid)} but the '
                f"config expects grid={list(exp['grid'])}.")
        if exp['num_classes'] is not None and meta.get('num_classes') not in (None, exp['num_classes']):
            raise InputValueError(
                f"TokenDataset: num_classes mismatch: meta.json says "
                f"{meta.get('num_classes')}, the config {exp['num_classes']}.")
        if not np.issubdtype(self.tokens.dtype, np.integer):
            raise InputTypeError(
                f'TokenDataset: tokens.npy has dtype {self.tokens.dtype}; token ids '
                'must be integers (uint16 / uint32 / int32 / int64).')
        shape = tuple(self.tokens.shape[1:])
        if len(shape) not in (2, 3) or as_grid3d(shape) != as_grid3d(grid):
            raise InputValueError(
                f'TokenDataset: tokens.npy has per-sample shape '
                f'{tuple(self.tokens.shape[1:])} but meta.json grid={list(grid)}.')
        if len(labels) != len(self.tokens):
            raise InputValueError(
                f'TokenDataset: labels.npy has {len(labels)} entries but tokens.npy '
                f'{len(self.tokens)} samples (truncated file?).')
        classes = exp['num_classes'] or meta.get('num_classes')
        if not np.issubdtype(labels.dtype, np.integer):
            raise InputTypeError(
                f'TokenDataset: {root}/labels.npy has dtype {labels.dtype}; class ids '
                'must be integers.')
        if classes is not None and len(labels) and (labels.min() < 0 or labels.max() >= classes):
            raise InputValueError(
                f'TokenDataset: label out of range [{labels.min()}, {labels.max()}] '
                f'in {root}/labels.npy for num_classes={classes}: re-extract the '
                'tokens or set num_classes to the labels\' class count.')
        n_meta = meta.get('num_samples')
        if n_meta is not None and n_meta != len(self.tokens):
            raise InputValueError(
                f'TokenDataset: meta.json num_samples={n_meta} but tokens.npy holds '
                f'{len(self.tokens)} samples (truncated or unfinished extraction).')
        if self.check_range:
            for start in range(0, len(self.tokens), 65536):
                check_token_range(np.asarray(self.tokens[start:start + 65536]), k,
                                  f'TokenDataset: {root}/tokens.npy (samples {start}..)')

    def get_data_info(self, idx: int) -> dict:
        info = super().get_data_info(idx)
        ids = np.asarray(self.tokens[info['token_index']], dtype=np.int64)
        info['tokens'] = torch.from_numpy(ids.reshape(as_grid3d(ids.shape)))
        return info

