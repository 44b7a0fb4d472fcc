"""CIFAR-10 from the official python release or the project's JPEG edition.

Two layouts are read:

- the official python release, ``cifar-10-batches-py/{data_batch_1..5, test_batch}``
  (what ``torchvision.datasets.CIFAR10`` downloads). A batch file is unpickled only
  after its MD5 matches the official one (torchvision's published list), and then
  with an unpickler that admits numpy arrays only;
- the JPEG edition of the shared folder, ``{train,test}.npz`` (see its README).

Lookup order (first folder holding the split wins): an explicit ``data_root``
(the only place when given); ``data/cifar10`` under the working directory;
``$BIGFIX_SHARED/data/cifar10`` (default ``<repo>/../shared/data/cifar10``);
then, with ``download=True``, torchvision's download of the official release
(archive MD5 checked) into ``data_root`` or ``data/cifar10``.
"""
import hashlib
import io
import pickle
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import numpy as np
from mmengine.dataset import BaseDataset
from PIL import Image

from bigfix_mm.errors import DataNotFoundError, InputError
from bigfix_mm.registry import DATASETS
from bigfix_mm.datasets.paths import data_root_candidates

CIFAR10_CLASSES = ('airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse',
                   'ship', 'truck')
OFFICIAL_FOLDER = 'cifar-10-batches-py'
SPLIT_FILES = {'train': tuple(f'data_batch_{i}' for i in range(1, 6)), 'test': ('test_batch', )}
DEFAULT_SUBDIR = 'data/cifar10'
MANUAL_FIX = ('with internet, set `download=True` in the dataset config (the quick config '
              'does), or run once: mkdir -p data/cifar10 && curl -L '
              'https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz | tar xz -C data/cifar10')


def official_md5s() -> Dict[str, str]:
    """File name -> MD5 of the official python release (torchvision's published list)."""
    from torchvision.datasets import CIFAR10
    return dict(CIFAR10.train_list + CIFAR10.test_list)


def find_split(folder: Path, split: str) -> Optional[Tuple[str, Path]]:
    """``('official', batches folder)`` or ``('jpeg', npz file)`` if ``folder`` holds
    ``split`` in either layout (the batches folder may be ``folder`` itself), else None."""
    if (folder / f'{split}.npz').is_file():
        return 'jpeg', folder / f'{split}.npz'
    for batches in (folder / OFFICIAL_FOLDER, folder):
        if all((batches / name).is_file() for name in SPLIT_FILES[split]):
            return 'official', batches
    return None


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Admits the few globals a pickled numpy array needs; nothing else runs."""

    ALLOWED = {('numpy.core.multiarray', '_reconstruct'),
               ('numpy._core.multiarray', '_reconstruct'),
               ('numpy', 'ndarray'), ('numpy', 'dtype'), ('_codecs', 'encode')}

    def find_class(self, module: str, name: str):
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f'global {module}.{name} is not allowed')
        return super().find_class(module, name)


def read_official_split(batches: Path, split: str) -> Tuple[np.ndarray, np.ndarray]:
    """Images (N, 32, 32, 3) uint8 RGB and labels (N,) int64 of the official release.

    Each batch file's MD5 is compared with the official one before it is unpickled;
    a mismatch raises :class:`InputError` naming the file.
    """
    md5s = official_md5s()
    images, labels = [], []
    for name in SPLIT_FILES[split]:
        path = batches / name
        raw = path.read_bytes()
        digest = hashlib.md5(raw, usedforsecurity=False).hexdigest()
        if digest != md5s[name]:
            raise InputError(
                f'CIFAR-10: {path} has MD5 {digest}, not the official release\'s {md5s[name]}; '
                'it was not read (it is corrupt or not the official file). Fix: delete '
                f'{batches} and download the release again.')
        batch = _NumpyOnlyUnpickler(io.BytesIO(raw), encoding='latin1').load()
        images.append(np.asarray(batch['data'], dtype=np.uint8).reshape(-1, 3, 32, 32))
        labels.append(np.asarray(batch['labels'], dtype=np.int64))
    return (np.ascontiguousarray(np.concatenate(images).transpose(0, 2, 3, 1)),
            np.concatenate(labels))


def download_official(root: Path) -> None:
    """Download and extract the official python release into ``root`` with torchvision
    (the archive's MD5 is checked)."""
    from torchvision.datasets import CIFAR10
    from torchvision.datasets.utils import download_and_extract_archive
    download_and_extract_archive(CIFAR10.url, str(root), filename=CIFAR10.filename,
                                 md5=CIFAR10.tgz_md5, remove_finished=True)


def locate_cifar10(data_root: Optional[str], split: str,
                   download: bool = False) -> Tuple[str, Path]:
    """Find (or download) ``split``: ``(layout, path)`` as :func:`find_split` returns.

    Raises:
        DataNotFoundError: nothing found (and no download); lists every place tried.
    """
    tried: List[str] = []
    candidates = data_root_candidates(data_root, DEFAULT_SUBDIR)
    for how, folder in candidates:
        found = find_split(folder, split)
        if found is not None:
            return found
        state = 'no such folder' if not folder.is_dir() else \
            f'holds neither {OFFICIAL_FOLDER}/ nor {split}.npz'
        tried.append(f'{how} ({folder.resolve()}): {state}')
    target = candidates[0][1]
    if download:
        try:
            download_official(target)
        except Exception as err:  # offline, refused, corrupt archive: report with the rest
            tried.append(f'download of the official release into {target.resolve()}: failed '
                         f'({type(err).__name__}: {err})')
        else:
            found = find_split(target, split)
            if found is not None:
                return found
            tried.append(f'download into {target.resolve()}: the archive lacked {split} files')
    else:
        tried.append('download: off (download=False)')
    raise DataNotFoundError(f'CIFAR-10 {split!r} split not found. Tried, in order:\n' +
                            '\n'.join(f'  - {t}' for t in tried) + f'\nFix: {MANUAL_FIX}.')


@DATASETS.register_module()
class CIFAR10JPEG(BaseDataset):
    """CIFAR-10 from the official python release or the shared JPEG edition.

    Each item is ``dict(img=(32, 32, 3) uint8 RGB, gt_label=int, sample_idx=int)``;
    JPEGs are decoded lazily in :meth:`get_data_info`. Where the data is looked
    for: see the module docstring.

    Args:
        data_root: folder holding ``cifar-10-batches-py/`` (or its files) or
            ``train.npz`` / ``test.npz``; None looks in the standard places.
        split: ``'train'`` or ``'test'``.
        download: when nothing is found, download the official release with
            torchvision (into ``data_root`` or ``data/cifar10``).
        pipeline, indices, ...: as :class:`mmengine.dataset.BaseDataset`.
    """

    METAINFO = dict(classes=CIFAR10_CLASSES)
    IMAGE_SIZE = 32  # 32x32 items (read by the config checks before any data is loaded)

    def __init__(self, data_root: Optional[str] = None, split: str = 'train',
                 download: bool = False, **kwargs):
        if split not in SPLIT_FILES:
            raise InputError(f"CIFAR10JPEG: split={split!r} must be 'train' or 'test'")
        layout, path = locate_cifar10(data_root, split, download)
        self.split = split
        self.layout = layout
        self._images = self._jpeg = self._offsets = None
        if layout == 'official':
            self._images, self._labels = read_official_split(path, split)
            root = path.parent if path.name == OFFICIAL_FOLDER else path
        else:
            with np.load(path) as npz:
                self._jpeg = npz['jpeg']
                self._offsets = npz['offsets']
                self._labels = npz['labels'].astype(np.int64)
            root = path.parent
        kwargs.setdefault('serialize_data', False)
        super().__init__(data_root=str(root), ann_file='', **kwargs)

    def load_data_list(self) -> List[dict]:
        return [dict(gt_label=int(label), image_index=i) for i, label in enumerate(self._labels)]

    def get_data_info(self, idx: int) -> dict:
        info = super().get_data_info(idx)
        i = info['image_index']
        if self._images is not None:
            info['img'] = self._images[i]
        else:
            raw = self._jpeg[self._offsets[i]:self._offsets[i + 1]].tobytes()
            info['img'] = np.asarray(Image.open(io.BytesIO(raw)).convert('RGB'))
        return info
