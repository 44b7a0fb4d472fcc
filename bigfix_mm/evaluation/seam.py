"""The seam score of an edit: how abruptly the image changes across the border of
the edited region.

For every pair of 4-neighbour pixels with one pixel inside the region and one
outside, the absolute difference, averaged over the three channels, is taken;
the score of an image is the mean over its border pairs, in 8-bit levels
(0..255). The same statistic on the real image at the same pairs is the
reference: a composite that blends in has a score close to the real image's.
"""
from typing import Tuple

import torch


def border_pairs(region: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """(B, 1, H, W) bool -> horizontal (B, H, W - 1) and vertical (B, H - 1, W) bool
    masks of neighbour pairs that straddle the border of ``region``."""
    r = region[:, 0]
    return r[:, :, 1:] != r[:, :, :-1], r[:, 1:, :] != r[:, :-1, :]


def seam_score(images: torch.Tensor, region: torch.Tensor) -> torch.Tensor:
    """Mean absolute difference across the border of ``region``, per image.

    Args:
        images: (B, 3, H, W) float RGB in [0, 1].
        region: (B, 1, H, W) bool.

    Returns:
        (B,) float64 in 8-bit levels; NaN for an image whose region has no border
        (empty or the whole image).
    """
    horizontal, vertical = border_pairs(region.bool())
    x = images.double() * 255.0
    dh = (x[..., :, 1:] - x[..., :, :-1]).abs().mean(1)  # (B, H, W - 1)
    dv = (x[..., 1:, :] - x[..., :-1, :]).abs().mean(1)  # (B, H - 1, W)
    total = (dh * horizontal).sum((1, 2)) + (dv * vertical).sum((1, 2))
    count = horizontal.sum((1, 2)) + vertical.sum((1, 2))
    return total / count.double()  # 0 / 0 = NaN where there is no border
