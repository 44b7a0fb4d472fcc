"""CenterCropResize: short side to `size`, centre square crop."""
import numpy as np
import pytest

from bigfix_mm.datasets.transforms.images import center_crop_resize
from bigfix_mm.registry import TRANSFORMS


def test_centre_crop_of_a_wide_image():
    img = np.zeros((100, 300, 3), dtype=np.uint8)
    img[:, 80:220] = 255  # white around the centre third: the crop keeps cols 100..200
    out = TRANSFORMS.build(dict(type='CenterCropResize', size=32)).transform(dict(img=img))
    assert out['img'].shape == (32, 32, 3) and out['img_shape'] == (32, 32)
    assert out['img'].dtype == np.uint8 and out['img'].min() >= 250  # only the centre remains


def test_tall_large_and_small_images():
    tall = np.random.default_rng(0).integers(0, 256, (700, 520, 3), dtype=np.uint8)
    assert center_crop_resize(tall, 256).shape == (256, 256, 3)  # box-halved, then bicubic
    assert center_crop_resize(np.zeros((28, 28, 3), np.uint8), 32).shape == (32, 32, 3)
    with pytest.raises(ValueError, match='size'):
        TRANSFORMS.build(dict(type='CenterCropResize', size=0))
