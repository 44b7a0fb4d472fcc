"""Image transforms of token extraction (TRANSFORMS registry)."""
import numpy as np
from mmcv.transforms import BaseTransform
from PIL import Image

from bigfix_mm.registry import TRANSFORMS


def center_crop_resize(img: np.ndarray, size: int) -> np.ndarray:
    """Resize the short side to ``size`` and crop the centre square.

    (H, W, 3) uint8 RGB -> (size, size, 3) uint8. Large images are first halved
    with box filtering while the short side is >= 2 * size (anti-aliasing), then
    resized with bicubic filtering: the preprocessing of ADM / LlamaGen / MaskGIT
    ImageNet models.
    """
    pil = Image.fromarray(np.asarray(img, dtype=np.uint8))
    while min(pil.size) >= 2 * size:
        pil = pil.resize(tuple(s // 2 for s in pil.size), resample=Image.BOX)
    scale = size / min(pil.size)
    pil = pil.resize(tuple(round(s * scale) for s in pil.size), resample=Image.BICUBIC)
    arr = np.asarray(pil)
    top, left = (arr.shape[0] - size) // 2, (arr.shape[1] - size) // 2
    return np.ascontiguousarray(arr[top:top + size, left:left + size])


@TRANSFORMS.register_module()
class CenterCropResize(BaseTransform):
    """Short side to ``size``, then a centre ``size`` x ``size`` crop of ``results['img']``.

    Args:
        size: output side, e.g. 256 for ImageNet-256 token extraction.

    Reads and writes ``img`` ((H, W, 3) uint8 RGB); sets ``img_shape``.
    """

    def __init__(self, size: int = 256):
        if size < 1:
            raise ValueError(f'CenterCropResize: size={size} must be >= 1')
        self.size = int(size)

    def transform(self, results: dict) -> dict:
        results['img'] = center_crop_resize(results['img'], self.size)
        results['img_shape'] = results['img'].shape[:2]
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(size={self.size})'
