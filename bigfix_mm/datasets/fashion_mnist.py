"""Fashion-MNIST from the Debian package ``dataset-fashion-mnist`` (IDX files)."""
import gzip
from pathlib import Path
from typing import List, Optional

import numpy as np
from mmengine.dataset import BaseDataset

from bigfix_mm.registry import DATASETS

FASHION_MNIST_CLASSES = ('T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt',
                         'Sneaker', 'Bag', 'Ankle boot')
DEBIAN_ROOT = '/usr/share/datasets/fashion-mnist'
_FILES = {'train': ('train-images-idx3-ubyte', 'train-labels-idx1-ubyte'),
          'test': ('t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte')}


def read_idx(path: Path) -> np.ndarray:
    """Read an IDX file (optionally ``.gz``) of unsigned bytes into an array."""
    opener = gzip.open if path.suffix == '.gz' else open
    with opener(path, 'rb') as f:
        raw = f.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise ValueError(f'{path} is not an IDX file of unsigned bytes (magic {raw[:4].hex()})')
    ndim = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i:8 + 4 * i], 'big') for i in range(ndim))
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(shape)):
        raise ValueError(f'{path}: header says {shape} but holds {data.size} values (truncated?)')
    return data.reshape(shape)


@DATASETS.register_module()
class FashionMNIST(BaseDataset):
    """Fashion-MNIST (Xiao et al., 2017): 28x28 grey clothes, 10 classes, 60k / 10k.

    Install with ``apt-get install dataset-fashion-mnist`` (files land in
    ``/usr/share/datasets/fashion-mnist``) or point ``data_root`` at a folder
    with the four ``*-ubyte[.gz]`` files.

    Args:
        data_root: folder of the IDX files; default the Debian location.
        split: ``'train'`` or ``'test'``.
        pipeline: e.g. ``[dict(type='CenterCropResize', size=32)]`` to reach a
            size the tokenizer's downsampling divides.

    Items are ``dict(img=(28, 28, 3) uint8 (grey replicated to RGB), gt_label=int, sample_idx=int)``.
    """

    METAINFO = dict(classes=FASHION_MNIST_CLASSES)
    IMAGE_SIZE = 28  # 28x28 items (read by the config checks before any data is loaded)

    def __init__(self, data_root: Optional[str] = None, split: str = 'train', **kwargs):
        if split not in _FILES:
            raise ValueError(f"FashionMNIST: split={split!r} must be 'train' or 'test'")
        root = Path(data_root or DEBIAN_ROOT)
        paths = [self._find(root, name) for name in _FILES[split]]
        self.split = split
        self._images = read_idx(paths[0])  # (N, 28, 28)
        self._labels = read_idx(paths[1]).astype(np.int64)  # (N,)
        if len(self._images) != len(self._labels):
            raise ValueError(f'FashionMNIST: {paths[0]} has {len(self._images)} images but '
                             f'{paths[1]} {len(self._labels)} labels')
        kwargs.setdefault('serialize_data', False)
        super().__init__(data_root=str(root), ann_file='', **kwargs)

    @staticmethod
    def _find(root: Path, name: str) -> Path:
        for candidate in (root / f'{name}.gz', root / name):
            if candidate.is_file():
                return candidate
        raise FileNotFoundError(
            f'FashionMNIST: {root / name}[.gz] not found (data_root={str(root)!r}). Install the '
            'Debian package: apt-get install dataset-fashion-mnist, or set data_root.')

    def load_data_list(self) -> List[dict]:
        return [dict(gt_label=int(label), image_index=i) for i, label in enumerate(self._labels)]

    def get_data_info(self, idx: int) -> dict:
        info = super().get_data_info(idx)
        grey = self._images[info['image_index']]
        info['img'] = np.repeat(grey[:, :, None], 3, axis=2)  # (28, 28, 3)
        return info
