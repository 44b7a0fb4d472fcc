"""Moving shapes: a synthetic video set rendered on the fly (tests and the CPU demo).

Each clip shows two coloured objects on a dark background. The *primary* object
defines the class: its shape (square, disc, triangle) and its motion (bouncing
horizontally or vertically). A *distractor* of another shape, size and colour
moves diagonally and bounces off the walls; the smaller object passes in front
of the larger one, so objects occlude each other without one ever disappearing.
Colours are exact cell colours of ``RGBQuantTokenizer(levels=4)``, so a tokenized
clip keeps them, and identity and position can be read back from pixels
(:mod:`bigfix_mm.evaluation.video`). Sample ``i`` of a split is a pure function
of ``(seed, split, i)``.
"""
from typing import List, Sequence

import numpy as np
from mmengine.dataset import BaseDataset

from bigfix_mm.registry import DATASETS

SHAPES = ('square', 'disc', 'triangle')
MOTIONS = ('horizontal', 'vertical')
MOVING_SHAPES_CLASSES = tuple(f'{s}-{m}' for s in SHAPES for m in MOTIONS)
# Cell centres of a 4-level RGB quantiser: (i + 0.5) / 4 * 255 -> 32, 96, 159, 223.
BACKGROUND = (32, 32, 32)
PALETTE = ((223, 32, 32), (32, 223, 32), (32, 96, 223), (223, 223, 32), (223, 32, 223),
           (32, 223, 223), (223, 159, 32), (223, 223, 223))
_SPLIT_IDS = {'train': 0, 'val': 1, 'test': 2}


def shape_mask(shape: str, size_px: int) -> np.ndarray:
    """(size_px, size_px) bool mask of a shape inscribed in its box."""
    c = (size_px - 1) / 2.0
    y, x = np.mgrid[:size_px, :size_px]
    if shape == 'square':
        return np.ones((size_px, size_px), dtype=bool)
    if shape == 'disc':
        return (y - c) ** 2 + (x - c) ** 2 <= (size_px / 2.0) ** 2
    if shape == 'triangle':  # apex up, base on the bottom row
        return 2 * np.abs(x - c) <= y + 1
    raise ValueError(f'shape={shape!r} is not one of {SHAPES}')


def bounce(start: int, velocity: int, low: int, high: int, steps: int) -> np.ndarray:
    """Positions start + v t reflected into [low, high]: (steps,) int64."""
    period = 2 * (high - low)
    if period == 0:
        return np.full(steps, low, dtype=np.int64)
    u = np.mod(start - low + velocity * np.arange(steps), period)
    return low + np.where(u <= high - low, u, period - u)


@DATASETS.register_module()
class SyntheticMovingShapes(BaseDataset):
    """Two bouncing, occluding shapes per clip; 6 classes (shape x motion).

    Objects live on a lattice of ``cell`` x ``cell`` pixel cells (the token
    cells of a tokenizer with that downsample factor), so that tokenization
    keeps their identity and position and consistency can be measured exactly;
    shapes differ inside their boxes (disc and triangle edges cut cells).

    Args:
        num_samples: clips in the split.
        num_frames: T frames per clip.
        image_size: square frame side in pixels (a multiple of ``cell``).
        cell: lattice step in pixels.
        sizes: the two object box sides in cells (distinct; the smaller object
            is drawn in front).
        max_speed: largest per-frame displacement along an axis, in cells.
        seed: base seed; ``split`` gives disjoint streams.
        split: ``'train'``, ``'val'`` or ``'test'``.
        pipeline, indices, ...: as :class:`mmengine.dataset.BaseDataset`.

    Items: ``frames`` (T, S, S, 3) uint8 RGB, ``gt_label``, ``sample_idx``,
    ``boxes`` (T, 2, 2) int top-left cells (y, x) of (primary, distractor) and
    ``colors`` (2,) palette indices.
    """

    METAINFO = dict(classes=MOVING_SHAPES_CLASSES)

    def __init__(self, num_samples: int = 2048, num_frames: int = 8, image_size: int = 32,
                 cell: int = 4, sizes: Sequence[int] = (2, 3), max_speed: int = 1, seed: int = 0,
                 split: str = 'train', **kwargs):
        if split not in _SPLIT_IDS:
            raise ValueError(f'SyntheticMovingShapes: split={split!r} must be one of {tuple(_SPLIT_IDS)}')
        if image_size % cell:
            raise ValueError(f'image_size={image_size} must be a multiple of cell={cell}')
        cells = image_size // cell
        if len(sizes) != 2 or sizes[0] == sizes[1] or min(sizes) < 1 or max(sizes) >= cells:
            raise ValueError(f'sizes={tuple(sizes)} must be two distinct box sides in [1, '
                             f'{cells - 1}] cells (image_size / cell = {cells})')
        if max_speed < 1 or num_frames < 1 or num_samples < 1:
            raise ValueError('num_samples, num_frames and max_speed must be >= 1')
        self.num_samples, self.num_frames = int(num_samples), int(num_frames)
        self.image_size, self.cell, self.cells = int(image_size), int(cell), cells
        self.sizes, self.max_speed = (int(sizes[0]), int(sizes[1])), int(max_speed)
        self.seed, self.split = int(seed), split
        kwargs.setdefault('serialize_data', False)
        super().__init__(ann_file='', **kwargs)

    def _rng(self, idx: int) -> np.random.Generator:
        return np.random.default_rng([self.seed, _SPLIT_IDS[self.split], idx])

    def describe(self, idx: int) -> dict:
        """The random parameters of clip ``idx`` (deterministic)."""
        rng = self._rng(idx)
        label = int(rng.integers(len(MOVING_SHAPES_CLASSES)))
        shape, motion = divmod(label, len(MOTIONS))
        other = (shape + 1 + int(rng.integers(len(SHAPES) - 1))) % len(SHAPES)
        sizes = list(self.sizes) if rng.integers(2) else list(self.sizes[::-1])
        colors = rng.choice(len(PALETTE), size=2, replace=False)
        boxes = np.zeros((self.num_frames, 2, 2), dtype=np.int64)
        for obj in range(2):
            high = self.cells - sizes[obj]
            start = rng.integers(0, high + 1, size=2)
            vel = rng.integers(1, self.max_speed + 1, size=2) * rng.choice([-1, 1], size=2)
            if obj == 0:  # primary: one axis only (motion 0: horizontal, 1: vertical)
                vel[0 if motion == 0 else 1] = 0
            for axis in range(2):
                boxes[:, obj, axis] = bounce(int(start[axis]), int(vel[axis]), 0, high,
                                             self.num_frames)
        return dict(gt_label=label, shapes=(SHAPES[shape], SHAPES[other]), sizes=sizes,
                    colors=colors.tolist(), boxes=boxes)

    def render(self, desc: dict) -> np.ndarray:
        """(T, S, S, 3) uint8 RGB frames of a clip description."""
        frames = np.empty((self.num_frames, self.image_size, self.image_size, 3), dtype=np.uint8)
        frames[:] = BACKGROUND
        order = np.argsort(desc['sizes'])[::-1]  # larger first, the smaller one in front
        masks = [shape_mask(desc['shapes'][o], desc['sizes'][o] * self.cell) for o in range(2)]
        for t in range(self.num_frames):
            for obj in order:
                top, left = (int(v) * self.cell for v in desc['boxes'][t, obj])
                side = masks[obj].shape[0]
                view = frames[t, top:top + side, left:left + side]
                view[masks[obj]] = PALETTE[desc['colors'][obj]]
        return frames

    def load_data_list(self) -> List[dict]:
        return [dict(gt_label=self.describe(i)['gt_label'], clip_index=i)
                for i in range(self.num_samples)]

    def get_data_info(self, idx: int) -> dict:
        info = super().get_data_info(idx)
        desc = self.describe(info['clip_index'])
        info.update(frames=self.render(desc), boxes=desc['boxes'],
                    colors=np.asarray(desc['colors']), num_frames=self.num_frames)
        return info
