"""What an edit is measured with, per image: the mask sets, MMagic's inpainting metrics on
the composite, the seam gap and the share of pixels outside the mask that seam fixing
replaced."""
from typing import Dict

import numpy as np
import torch

from bigfix_mm.core.edit_masks import box_mask, central_box
from bigfix_mm.evaluation.seam import seam_score

# mask set -> its description on the page
MASKS = {'box': 'central box 16x16 px (4x4 tokens)',
         'outpaint': 'everything outside the central 24x24 px regenerated (the outer ring)',
         'free-form': "brush strokes (MMagic's ff masks, widths 3-6 px)"}
# per-image metric -> (name on the page, lower is better, format)
PIXEL_METRICS = {'mae': ('MAE', True, '{:.4f}'), 'psnr': ('PSNR dB', False, '{:.2f}'),
                 'ssim': ('SSIM', False, '{:.4f}'), 'seam': ('seam gap', True, '{:.2f}')}


def make_masks(kind: str, num: int, seed: int, size: int = 32) -> torch.Tensor:
    """(num, 1, size, size) bool masks of one set (True = regenerate)."""
    if kind not in MASKS:
        raise ValueError(f'mask set {kind!r} is not one of {list(MASKS)}')
    if kind == 'box':
        return box_mask((size, size), central_box((size, size), size // 2))[None].expand(
            num, -1, -1, -1).clone()
    if kind == 'outpaint':
        keep = box_mask((size, size), central_box((size, size), size * 3 // 4))
        return (~keep)[None].expand(num, -1, -1, -1).clone()
    from mmagic.utils import brush_stroke_mask
    out = []
    for i in range(num):  # MMagic draws from numpy's global stream: seed it per image
        np.random.seed(seed * 100003 + i)
        mask = brush_stroke_mask((size, size), num_vertices=(4, 8), mean_angle=1.2,
                                 angle_range=0.4, brush_width=(3, 6), max_loops=2)
        out.append(torch.from_numpy(mask[..., 0] > 0))
    return torch.stack(out)[:, None]


def mmagic_metrics(images: torch.Tensor, composite: torch.Tensor,
                   masks: torch.Tensor) -> Dict[str, np.ndarray]:
    """Per-image MAE (inside the mask), PSNR and SSIM, computed by MMagic's own metric
    classes on (3, H, W) BGR [0, 255] images, as its inpainting evaluation feeds them.

    Args:
        images, composite: (N, 3, H, W) float RGB in [0, 1].
        masks: (N, 1, H, W) bool.
    """
    from mmagic.evaluation.metrics import MAE, PSNR, SSIM
    mae, psnr, ssim = MAE(mask_key='mask'), PSNR(), SSIM()
    gt, pred = images.flip(1) * 255.0, composite.flip(1) * 255.0
    rows = [(mae.process_image(g, p, m.float()), psnr.process_image(g, p, m),
             ssim.process_image(g, p, m)) for g, p, m in zip(gt, pred, masks)]
    return {name: np.array([float(r[i]) for r in rows]) for i, name in
            enumerate(('mae', 'psnr', 'ssim'))}


def pixel_measures(images: torch.Tensor, composite: torch.Tensor, masks: torch.Tensor,
                   region: torch.Tensor) -> Dict[str, np.ndarray]:
    """Every per-image measure of one edit: ``mae``, ``psnr``, ``ssim`` (MMagic), ``seam``
    (|seam score of the composite - that of the real image| across the border of the edited
    region, 8-bit levels) and ``outside`` (share of the pixels outside the mask replaced).

    Args:
        images, composite: (N, 3, H, W) float RGB in [0, 1].
        masks, region: (N, 1, H, W) bool: the pixel mask, and where the composite took
            decoded pixels.
    """
    out = mmagic_metrics(images, composite, masks)
    out['seam'] = np.abs(seam_score(composite, region).numpy() - seam_score(images, region).numpy())
    outside = (region & ~masks).flatten(1).sum(1).double() / (~masks).flatten(1).sum(1)
    out['outside'] = outside.numpy()
    return out
