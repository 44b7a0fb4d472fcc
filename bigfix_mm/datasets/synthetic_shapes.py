"""Coloured shapes: a synthetic image set rendered on the fly (tests and the CPU demo).

Each image shows one shape on a flat grey background. The class fixes the shape
(square, disc, triangle) and its colour (red, green, blue); the shape's size and
position and the background grey are drawn per image. Colours are exact cell
colours of ``RGBQuantTokenizer(levels=4)`` (the palette of the moving-shapes video
set), so flat regions tokenize to single codes. Sample ``i`` of a split is a pure
function of ``(seed, split, i)``; labels cycle through the classes (``i mod 9``),
so every split and every prefix of it is balanced. Nothing is read from disk.
"""
from typing import List, Sequence

import numpy as np
from mmengine.dataset import BaseDataset

from bigfix_mm.errors import InputValueError
from bigfix_mm.registry import DATASETS
from bigfix_mm.datasets.synthetic_video import PALETTE, SHAPES, shape_mask

COLOURS = ('red', 'green', 'blue')  # PALETTE[0], PALETTE[1], PALETTE[2]
SHAPES_CLASSES = tuple(f'{c}-{s}' for s in SHAPES for c in COLOURS)
BACKGROUNDS = ((32, 32, 32), (96, 96, 96))  # 4-level cell greys
_SPLIT_IDS = {'train': 0, 'val': 1, 'test': 2}


@DATASETS.register_module()
class SyntheticShapes(BaseDataset):
    """One coloured shape per image; 9 classes (shape x colour).

    Items are what :class:`CIFAR10JPEG` gives the pipeline, so the same
    ``TokenizeImage`` / ``RandomTokenInjection`` / ``PackTokenInputs`` pipelines
    apply: ``img`` (S, S, 3) uint8 RGB, ``gt_label`` int, ``sample_idx`` int,
    plus ``box`` (3,) int64 ``(top, left, side)`` of the shape in pixels.

    Args:
        num_samples: images in the split.
        image_size: S, square image side in pixels (>= 8).
        side_range: (min, max) shape side as a fraction of S, in (0, 1].
        seed: base seed; ``split`` gives disjoint streams.
        split: ``'train'``, ``'val'`` or ``'test'``.
        pipeline, indices, ...: as :class:`mmengine.dataset.BaseDataset`.
    """

    METAINFO = dict(classes=SHAPES_CLASSES)

    def __init__(self, num_samples: int = 10000, image_size: int = 32,
                 side_range: Sequence[float] = (0.3, 0.7), seed: int = 0, split: str = 'train',
                 **kwargs):
        if split not in _SPLIT_IDS:
            raise InputValueError(f'SyntheticShapes: split={split!r} must be one of '
                             f'{tuple(_SPLIT_IDS)}')
        if num_samples < 1:
            raise InputValueError(f'SyntheticShapes: num_samples={num_samples} must be >= 1')
        if image_size < 8:
            raise InputValueError(f'SyntheticShapes: image_size={image_size} must be >= 8')
        low, high = (float(v) for v in side_range)
        if not 0 < low <= high <= 1:
            raise InputValueError(f'SyntheticShapes: side_range={tuple(side_range)} must be '
                             '(min, max) fractions of image_size with 0 < min <= max <= 1')
        self.num_samples, self.image_size = int(num_samples), int(image_size)
        self.sides = (max(2, round(low * image_size)), max(2, round(high * image_size)))
        self.seed, self.split = int(seed), split
        kwargs.setdefault('serialize_data', False)
        super().__init__(ann_file='', **kwargs)

    def describe(self, idx: int) -> dict:
        """The parameters of image ``idx`` (deterministic): label, shape, colour,
        background and ``box`` (3,) int64 (top, left, side) in pixels."""
        label = idx % len(SHAPES_CLASSES)
        shape, colour = divmod(label, len(COLOURS))
        rng = np.random.default_rng([self.seed, _SPLIT_IDS[self.split], idx])
        side = int(rng.integers(self.sides[0], self.sides[1] + 1))
        top, left = (int(v) for v in rng.integers(0, self.image_size - side + 1, size=2))
        background = BACKGROUNDS[int(rng.integers(len(BACKGROUNDS)))]
        return dict(gt_label=label, shape=SHAPES[shape], colour=PALETTE[colour],
                    background=background, box=np.array([top, left, side], dtype=np.int64))

    def render(self, desc: dict) -> np.ndarray:
        """(S, S, 3) uint8 RGB image of a description."""
        img = np.empty((self.image_size, self.image_size, 3), dtype=np.uint8)
        img[:] = desc['background']
        top, left, side = (int(v) for v in desc['box'])
        img[top:top + side, left:left + side][shape_mask(desc['shape'], side)] = desc['colour']
        return img

    def load_data_list(self) -> List[dict]:
        return [dict(gt_label=i % len(SHAPES_CLASSES), image_index=i)
                for i in range(self.num_samples)]

    def get_data_info(self, idx: int) -> dict:
        info = super().get_data_info(idx)
        desc = self.describe(info['image_index'])
        info.update(img=self.render(desc), box=desc['box'])
        return info
