"""The synthetic coloured-shapes image set, alone and through the image pipeline."""
import numpy as np
import pytest

from bigfix_mm.datasets.synthetic_shapes import (BACKGROUNDS, COLOURS, SHAPES_CLASSES,
                                                 SyntheticShapes)
from bigfix_mm.datasets.synthetic_video import PALETTE, shape_mask
from bigfix_mm.errors import InputValueError
from bigfix_mm.registry import DATASETS


@pytest.fixture(scope='module')
def ds():
    return SyntheticShapes(num_samples=36, split='test')


def test_items_are_deterministic_per_split_and_seed(ds):
    item = ds[5]
    assert item['img'].shape == (32, 32, 3) and item['img'].dtype == np.uint8
    assert item['sample_idx'] == 5 and isinstance(item['gt_label'], int)
    again = SyntheticShapes(num_samples=36, split='test')
    assert all(np.array_equal(ds[i]['img'], again[i]['img']) for i in range(36))
    for other in (SyntheticShapes(num_samples=36, split='train'),
                  SyntheticShapes(num_samples=36, split='test', seed=1)):
        assert not all(np.array_equal(ds[i]['img'], other[i]['img']) for i in range(8))


def test_labels_are_balanced_and_name_shape_and_colour(ds):
    labels = [ds.get_data_info(i)['gt_label'] for i in range(36)]
    assert np.bincount(labels).tolist() == [4] * len(SHAPES_CLASSES) == [4] * 9
    assert ds.metainfo['classes'] == SHAPES_CLASSES
    for i in range(18):
        item = ds[i]
        shape, colour = SHAPES_CLASSES[item['gt_label']].split('-')[::-1]
        top, left, side = item['box']
        img = item['img']
        background = tuple(img[0, 0]) if (top, left) != (0, 0) else tuple(img[-1, -1])
        assert background in BACKGROUNDS
        # exactly the shape's mask holds the class colour, everything else is background
        expected = np.zeros(img.shape[:2], dtype=bool)
        expected[top:top + side, left:left + side] = shape_mask(shape, side)
        painted = (img == PALETTE[COLOURS.index(colour)]).all(axis=-1)
        assert np.array_equal(painted, expected), i
        assert (img[~expected] == background).all()


def test_sizes_and_positions_vary_inside_the_image(ds):
    boxes = np.stack([ds[i]['box'] for i in range(36)])
    top, left, side = boxes.T
    assert side.min() >= round(0.3 * 32) and side.max() <= round(0.7 * 32)
    assert (top + side <= 32).all() and (left + side <= 32).all()
    assert len(set(side)) > 3 and len(set(top)) > 3 and len(set(left)) > 3


@pytest.mark.parametrize('kwargs, field', [
    (dict(split='valid'), 'split'),
    (dict(num_samples=0), 'num_samples'),
    (dict(image_size=4), 'image_size'),
    (dict(side_range=(0.5, 0.2)), 'side_range'),
    (dict(side_range=(0.0, 0.5)), 'side_range'),
])
def test_bad_arguments_name_the_field(kwargs, field):
    with pytest.raises(InputValueError, match=field):
        SyntheticShapes(**kwargs)


def test_image_pipeline_tokenizes_and_packs_it():
    """The CIFAR pipeline's transforms apply unchanged (TokenizeImage, injection, packing)."""
    tokenizer = dict(type='RGBQuantTokenizer', levels=4, downsample=4)
    ds = DATASETS.build(dict(type='SyntheticShapes', num_samples=4, indices=3, pipeline=[
        dict(type='TokenizeImage', tokenizer=tokenizer),
        dict(type='RandomTokenInjection', codebook_size=64, seed=0),
        dict(type='PackTokenInputs')]))
    assert len(ds) == 3
    item = ds[2]
    inputs = item['inputs']
    assert item['data_samples']['sample_idx'] == 2 and int(inputs['labels']) == 2
    tokens = inputs['tokens']
    assert tokens.shape == inputs['input_ids'].shape == (1, 8, 8)
    assert 0 <= int(tokens.min()) and int(tokens.max()) < 64
    # flat regions are single codes: the background grey's cell, and the blue square's cell
    desc = SyntheticShapes(num_samples=4).describe(2)
    assert SHAPES_CLASSES[2] == 'blue-square'
    grey = desc['background'][0] * 4 // 256
    blue = [c * 4 // 256 for c in PALETTE[2]]
    codes = set(tokens.flatten().tolist())
    assert {grey * 21, blue[0] * 16 + blue[1] * 4 + blue[2]} <= codes
