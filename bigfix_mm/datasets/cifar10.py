"""CIFAR-10 from the project's JPEG edition (``shared/data/cifar10/{train,test}.npz``)."""
import io
from typing import List, Optional

import numpy as np
from mmengine.dataset import BaseDataset
from PIL import Image

from bigfix_mm.registry import DATASETS
from .paths import resolve_data_root

CIFAR10_CLASSES = ('airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse',
                   'ship', 'truck')


@DATASETS.register_module()
class CIFAR10JPEG(BaseDataset):
    """CIFAR-10 stored as concatenated JPEGs with offsets (see the data README).

    Each item is ``dict(img=(32, 32, 3) uint8 RGB, gt_label=int, sample_idx=int)``;
    JPEGs are decoded lazily in :meth:`get_data_info`.

    Args:
        data_root: folder with ``train.npz`` / ``test.npz``; default
            ``<repo>/../shared/data/cifar10``.
        split: ``'train'`` or ``'test'``.
        pipeline, indices, ...: as :class:`mmengine.dataset.BaseDataset`.
    """

    METAINFO = dict(classes=CIFAR10_CLASSES)

    def __init__(self, data_root: Optional[str] = None, split: str = 'train', **kwargs):
        if split not in ('train', 'test'):
            raise ValueError(f"CIFAR10JPEG: split={split!r} must be 'train' or 'test'")
        root = resolve_data_root(data_root, 'data/cifar10', 'CIFAR10JPEG')
        path = root / f'{split}.npz'
        if not path.is_file():
            raise FileNotFoundError(f'CIFAR10JPEG: {path} is missing (data_root={str(root)!r}).')
        self.split = split
        with np.load(path) as npz:
            self._jpeg = npz['jpeg']
            self._offsets = npz['offsets']
            self._labels = npz['labels'].astype(np.int64)
        kwargs.setdefault('serialize_data', False)
        super().__init__(data_root=str(root), ann_file='', **kwargs)

    def load_data_list(self) -> List[dict]:
        return [dict(gt_label=int(label), jpeg_index=i) for i, label in enumerate(self._labels)]

    def get_data_info(self, idx: int) -> dict:
        info = super().get_data_info(idx)
        i = info['jpeg_index']
        raw = self._jpeg[self._offsets[i]:self._offsets[i + 1]].tobytes()
        info['img'] = np.asarray(Image.open(io.BytesIO(raw)).convert('RGB'))
        return info
