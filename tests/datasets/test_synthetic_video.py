"""The synthetic moving-shapes set and the TokenizeVideo transform."""
import numpy as np
import pytest
import torch

from bigfix_mm.datasets.synthetic_video import (MOVING_SHAPES_CLASSES, PALETTE, SyntheticMovingShapes,
                                                shape_mask)
from bigfix_mm.evaluation.video import object_tracks
from bigfix_mm.registry import DATASETS, TRANSFORMS


@pytest.fixture(scope='module')
def ds():
    return SyntheticMovingShapes(num_samples=64, num_frames=8, split='test')


def test_items_are_deterministic_per_split(ds):
    again = SyntheticMovingShapes(num_samples=64, num_frames=8, split='test')
    other = SyntheticMovingShapes(num_samples=64, num_frames=8, split='train')
    a = ds[5]
    assert a['frames'].shape == (8, 32, 32, 3) and a['frames'].dtype == np.uint8
    assert np.array_equal(a['frames'], again[5]['frames']) and a['gt_label'] == again[5]['gt_label']
    assert not all(np.array_equal(ds[i]['frames'], other[i]['frames']) for i in range(4))
    labels = [ds.get_data_info(i)['gt_label'] for i in range(64)]
    assert set(labels) == set(range(len(MOVING_SHAPES_CLASSES)))


def test_primary_moves_along_its_class_axis_and_both_objects_stay_visible(ds):
    for i in range(32):
        item = ds[i]
        shape, motion = divmod(item['gt_label'], 2)
        boxes = item['boxes']  # (T, 2, 2) cells (y, x)
        still = 0 if motion == 0 else 1  # horizontal motion keeps y
        assert np.all(boxes[:, 0, still] == boxes[0, 0, still])
        assert len(np.unique(boxes[:, 0, 1 - still])) > 1
        assert np.all(np.abs(np.diff(boxes, axis=0)) <= 1)  # one cell per frame at most
        tracks = object_tracks(item['frames'][None], [PALETTE[c] for c in item['colors']])
        assert tracks['present'].all()  # occlusion never hides an object completely


def test_shapes_differ_and_arguments_are_checked():
    masks = {s: shape_mask(s, 12) for s in ('square', 'disc', 'triangle')}
    assert masks['square'].sum() > masks['disc'].sum() > masks['triangle'].sum()
    with pytest.raises(ValueError, match='sizes'):
        SyntheticMovingShapes(sizes=(3, 3))
    with pytest.raises(ValueError, match='multiple of cell'):
        SyntheticMovingShapes(image_size=30)


def test_tokenize_video_transform_gives_volumes():
    ds = DATASETS.build(dict(type='SyntheticMovingShapes', num_samples=2, num_frames=4, pipeline=[
        dict(type='TokenizeVideo', keep_frames=False, tokenizer=dict(
            type='PerFrameTokenizer', tokenizer=dict(type='RGBQuantTokenizer', levels=4,
                                                     downsample=4))),
        dict(type='PackTokenInputs', keys=('tokens', ))]))
    item = ds[0]
    assert item['inputs']['tokens'].shape == (4, 8, 8) and 'frames' not in item['inputs']
    assert item['inputs']['tokens'].max() < 64
    with pytest.raises(TypeError, match='PerFrameTokenizer'):
        TRANSFORMS.build(dict(type='TokenizeVideo', tokenizer=dict(type='RGBQuantTokenizer')))
