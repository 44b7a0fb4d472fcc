"""ImageNet as OpenMMLab users keep it: class folders or an annotation file."""
from pathlib import Path
from typing import List, Optional, Sequence

import numpy as np
from mmengine.dataset import BaseDataset
from PIL import Image

from bigfix_mm.registry import DATASETS

IMG_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.webp')


@DATASETS.register_module()
class ImageNetFolder(BaseDataset):
    """Images under ``data_root/<split>/`` with labels from an annotation file or class folders.

    Layout (mmpretrain's)::

        data_root/
          train/n01440764/n01440764_10026.JPEG ...   one folder per class
          val/ILSVRC2012_val_00000001.JPEG ...        flat, or per class
          meta/train.txt, meta/val.txt                "<path relative to split> <label>"

    Args:
        data_root: dataset folder.
        split: sub-folder holding the images (``train`` / ``val`` / ...).
        ann_file: annotation file (relative to ``data_root`` or absolute);
            None uses ``meta/<split>.txt`` when it exists, else scans the class
            folders of ``data_root/<split>`` (labels = sorted folder index).
        classes: class names, in label order; default: the folder names when
            scanning, else none.
        pipeline: e.g. ``[dict(type='CenterCropResize', size=256)]``.

    Items are ``dict(img=(H, W, 3) uint8 RGB, gt_label=int, img_path=str, sample_idx=int)``;
    images are decoded in :meth:`get_data_info`.
    """

    def __init__(self,
                 data_root: str,
                 split: str = 'train',
                 ann_file: Optional[str] = None,
                 classes: Optional[Sequence[str]] = None,
                 **kwargs):
        root = Path(data_root)
        if not (root / split).is_dir():
            raise FileNotFoundError(f'ImageNetFolder: {root / split} does not exist; data_root must '
                                    f'hold the `{split}` image folder (split={split!r}).')
        self.image_dir = root / split
        if ann_file is None and (root / 'meta' / f'{split}.txt').is_file():
            ann_file = f'meta/{split}.txt'
        self.ann_path = None if ann_file is None else (root / ann_file if not Path(ann_file).is_absolute()
                                                       else Path(ann_file))
        if self.ann_path is not None and not self.ann_path.is_file():
            raise FileNotFoundError(f'ImageNetFolder: ann_file={str(self.ann_path)!r} does not exist.')
        self._classes = tuple(classes) if classes is not None else None
        metainfo = kwargs.pop('metainfo', None) or {}
        if self._classes is None and self.ann_path is None:
            self._classes = self._folder_classes()
        if self._classes is not None:
            metainfo = dict(metainfo, classes=self._classes)
        super().__init__(data_root=str(root), ann_file='', metainfo=metainfo, **kwargs)

    def _folder_classes(self) -> tuple:
        classes = sorted(d.name for d in self.image_dir.iterdir() if d.is_dir())
        if not classes:
            raise ValueError(f'ImageNetFolder: no class folders in {self.image_dir} and no '
                             'annotation file (meta/<split>.txt or ann_file) to read labels from.')
        return tuple(classes)

    def load_data_list(self) -> List[dict]:
        if self.ann_path is not None:
            return self._from_annotations()
        items = []
        for label, name in enumerate(self._classes):
            folder = self.image_dir / name
            if not folder.is_dir():
                raise FileNotFoundError(f'ImageNetFolder: class folder {folder} is missing.')
            for path in sorted(folder.rglob('*')):
                if path.suffix.lower() in IMG_EXTENSIONS:
                    items.append(dict(img_path=str(path), gt_label=label))
        if not items:
            raise ValueError(f'ImageNetFolder: no images ({IMG_EXTENSIONS}) under {self.image_dir}')
        return items

    def _from_annotations(self) -> List[dict]:
        items = []
        for lineno, line in enumerate(self.ann_path.read_text().splitlines(), 1):
            if not line.strip():
                continue
            parts = line.rsplit(maxsplit=1)
            if len(parts) != 2 or not parts[1].lstrip('-').isdigit():
                raise ValueError(f'ImageNetFolder: {self.ann_path}:{lineno}: expected '
                                 f'"<relative path> <integer label>", got {line!r}')
            items.append(dict(img_path=str(self.image_dir / parts[0]), gt_label=int(parts[1])))
        if not items:
            raise ValueError(f'ImageNetFolder: {self.ann_path} lists no images')
        return items

    def get_data_info(self, idx: int) -> dict:
        info = super().get_data_info(idx)
        try:
            with Image.open(info['img_path']) as im:
                info['img'] = np.asarray(im.convert('RGB'))
        except (OSError, FileNotFoundError) as err:
            raise OSError(f"ImageNetFolder: cannot read image {info['img_path']} ({err})") from err
        return info
