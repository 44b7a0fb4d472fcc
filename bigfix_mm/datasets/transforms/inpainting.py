"""Bring in-memory images to MMagic's inpainting pipeline (TRANSFORMS registry)."""
import numpy as np
from mmcv.transforms import BaseTransform

from bigfix_mm.registry import TRANSFORMS


@TRANSFORMS.register_module()
class ImageAsGT(BaseTransform):
    """``results['img']`` (H, W, 3) uint8 RGB (the in-memory datasets' items) ->
    ``results['gt']`` (H, W, 3) uint8 BGR with the metadata MMagic's
    ``LoadImageFromFile(key='gt')`` sets, so that ``LoadMask``, ``GetMaskedImage``
    and ``PackInputs`` follow as in MMagic's inpainting configs. ``img`` is removed
    (``GetMaskedImage`` writes the masked image there)."""

    def transform(self, results: dict) -> dict:
        img = np.asarray(results.pop('img'))
        if img.ndim != 3 or img.shape[-1] != 3:
            raise ValueError(f'ImageAsGT needs `img` (H, W, 3) RGB, got shape {img.shape}')
        results['gt'] = np.ascontiguousarray(img[..., ::-1])
        results['ori_gt_shape'] = results['gt'].shape
        results['gt_channel_order'] = 'bgr'
        results['gt_color_type'] = 'color'
        return results
