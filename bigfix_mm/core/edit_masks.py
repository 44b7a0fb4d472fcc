"""Pixel masks of an edit and the token masks derived from them.

A pixel mask is (B, 1, H, W) bool, True where the image is regenerated. The rule
from pixels to tokens (:func:`token_mask`): a token is regenerated if **any** of
its f x f pixels is masked (f the tokenizer's downsampling factor), so a hole is
never partly kept at token level. Every other token is *given*: it is encoded
from the image and kept as context.

Seam fixing (:func:`seam_band`): with width w >= 1, the given tokens within w
tokens of the hole (Chebyshev distance, i.e. the hole dilated by a
(2w + 1) x (2w + 1) square) may be re-sampled by a fixing sampler, so that the
border of the hole is harmonised instead of left as the first draw placed it.
Given tokens outside that band never change. The authors' code has no such
option (their given tokens, like ours at w = 0, are always kept).
"""
from typing import Sequence, Tuple

import torch
import torch.nn.functional as F


def token_mask(pixel_mask: torch.Tensor, factor: int) -> torch.Tensor:
    """(B, 1, H, W) bool pixel mask -> (B, H / f, W / f) bool: True where any pixel
    of the token's f x f cell is masked. H and W must be multiples of ``factor``."""
    if pixel_mask.dim() != 4 or pixel_mask.shape[1] != 1:
        raise ValueError(f'pixel mask must be (B, 1, H, W), got {tuple(pixel_mask.shape)}')
    height, width = pixel_mask.shape[-2:]
    if height % factor or width % factor:
        raise ValueError(f'mask {height}x{width} is not a multiple of the factor {factor}')
    return F.max_pool2d(pixel_mask.float(), factor)[:, 0] > 0


def token_to_pixel(mask: torch.Tensor, factor: int) -> torch.Tensor:
    """(B, h, w) bool token mask -> (B, 1, h f, w f) bool pixel mask (each token's cell)."""
    return mask.repeat_interleave(factor, 1).repeat_interleave(factor, 2).unsqueeze(1)


def seam_band(hole: torch.Tensor, width: int) -> torch.Tensor:
    """Given tokens within ``width`` tokens of the hole: (B, h, w) bool.

    Args:
        hole: (B, h, w) bool, True at regenerated tokens.
        width: w >= 0; 0 gives an empty band.
    """
    if width < 0:
        raise ValueError(f'seam width {width} must be >= 0')
    if width == 0:
        return torch.zeros_like(hole)
    grown = F.max_pool2d(hole.float().unsqueeze(1), 2 * width + 1, stride=1, padding=width)
    return (grown[:, 0] > 0) & ~hole


def box_mask(size: Tuple[int, int], box: Sequence[int]) -> torch.Tensor:
    """(1, H, W) bool, True inside the pixel box (x0, y0, x1, y1), end exclusive."""
    x0, y0, x1, y1 = (int(v) for v in box)
    mask = torch.zeros(1, *size, dtype=torch.bool)
    mask[:, y0:y1, x0:x1] = True
    return mask


def central_box(size: Tuple[int, int], side: int) -> Tuple[int, int, int, int]:
    """The (x0, y0, x1, y1) of the centred ``side`` x ``side`` box of an H x W image."""
    height, width = size
    y0, x0 = (height - side) // 2, (width - side) // 2
    return x0, y0, x0 + side, y0 + side
