"""Small image helpers: tensors in [0, 1] to uint8 grids and files."""
import math
from pathlib import Path
from typing import Optional

import numpy as np
import torch
from PIL import Image

from bigfix_mm.core.files import atomic_path


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """(B, 3, H, W) float RGB in [0, 1] -> (B, H, W, 3) uint8."""
    return (images.clamp(0, 1) * 255).round().to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()


def upscale(images: np.ndarray, scale: int) -> np.ndarray:
    """(..., H, W, C) -> (..., H * scale, W * scale, C) by pixel repetition (``images``
    itself when ``scale`` is 1)."""
    return images.repeat(scale, axis=-3).repeat(scale, axis=-2) if scale > 1 else images


def make_grid_uint8(images: torch.Tensor, n_row: Optional[int] = None, pad: int = 2) -> np.ndarray:
    """(B, 3, H, W) float RGB in [0, 1] -> one (H', W', 3) uint8 grid image."""
    arr = to_uint8(images)
    bsz, h, w, _ = arr.shape
    n_row = n_row or math.ceil(math.sqrt(bsz))
    n_col = math.ceil(bsz / n_row)
    grid = np.full((n_col * (h + pad) + pad, n_row * (w + pad) + pad, 3), 255, dtype=np.uint8)
    for i, img in enumerate(arr):
        r, c = divmod(i, n_row)
        grid[pad + r * (h + pad):pad + r * (h + pad) + h, pad + c * (w + pad):pad + c * (w + pad) + w] = img
    return grid


def save_png(image: np.ndarray, path: str | Path) -> None:
    """Write an (H, W, 3) uint8 RGB array as PNG (temp file + rename)."""
    with atomic_path(path) as tmp:
        Image.fromarray(image).save(tmp, format='PNG')
