"""Pictures of edits: the masked input and labelled strips / grids of results."""
from typing import Sequence

import numpy as np
import torch

from bigfix_mm.visualization.images import to_uint8
from bigfix_mm.visualization.sampling_figures import hstack, text_block, vstack

HOLE_GREY = 0.5  # the fill of a hole in the masked input (MMagic's GetMaskedImage: 127.5)


def masked_input(images: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
    """(B, 3, H, W) in [0, 1] with the (B, 1, H, W) bool holes filled grey."""
    return torch.where(masks.bool(), torch.full_like(images, HOLE_GREY), images)


def labelled_grid(columns: Sequence[torch.Tensor], labels: Sequence[str],
                  scale: int = 2) -> np.ndarray:
    """One column per entry of ``columns`` ((B, 3, H, W) in [0, 1] each, the same
    inputs in the same rows), captioned with ``labels``: (H', W', 3) uint8."""
    cols = []
    for images, label in zip(columns, labels):
        cells = to_uint8(images).repeat(scale, axis=1).repeat(scale, axis=2)  # (B, H, W, 3)
        body = vstack(list(cells), gap=2)
        cols.append((text_block(body.shape[1], [label]), body))
    height = max(head.shape[0] for head, _ in cols)  # equal caption heights align the rows
    return hstack([np.concatenate([np.concatenate(
        [head, np.full((height - head.shape[0], head.shape[1], 3), 255, np.uint8)]), body])
        for head, body in cols], gap=4)
