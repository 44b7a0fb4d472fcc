import pytest
import torch

from bigfix_mm.core.edit_masks import (box_mask, central_box, seam_band, token_mask,
                                         token_to_pixel)


def test_a_token_is_regenerated_if_any_of_its_pixels_is_masked():
    mask = torch.zeros(1, 1, 8, 8, dtype=torch.bool)
    mask[0, 0, 5, 2] = True  # one pixel of token (1, 0) at factor 4
    expected = torch.zeros(1, 2, 2, dtype=torch.bool)
    expected[0, 1, 0] = True
    assert torch.equal(token_mask(mask, 4), expected)
    assert not token_mask(torch.zeros(1, 1, 8, 8, dtype=torch.bool), 4).any()
    assert token_mask(torch.ones(1, 1, 8, 8, dtype=torch.bool), 4).all()


def test_token_mask_covers_the_pixel_mask_and_no_more_than_the_touched_cells():
    gen = torch.Generator().manual_seed(0)
    mask = torch.rand(3, 1, 16, 16, generator=gen) > 0.97
    tokens = token_mask(mask, 4)
    cells = token_to_pixel(tokens, 4)
    assert cells.shape == mask.shape
    assert bool((cells | ~mask).all())  # every masked pixel lies in a regenerated cell
    for b, i, j in zip(*torch.nonzero(tokens, as_tuple=True)):  # and every such cell is touched
        assert mask[b, 0, 4 * i:4 * i + 4, 4 * j:4 * j + 4].any()


def test_token_mask_refuses_sizes_off_the_factor():
    with pytest.raises(ValueError, match='multiple'):
        token_mask(torch.zeros(1, 1, 10, 8, dtype=torch.bool), 4)


def test_seam_band_is_the_ring_of_given_tokens_within_w():
    hole = torch.zeros(1, 7, 7, dtype=torch.bool)
    hole[0, 3, 3] = True
    assert not seam_band(hole, 0).any()
    one = seam_band(hole, 1)
    assert int(one.sum()) == 8 and not bool((one & hole).any())
    two = seam_band(hole, 2)
    assert int(two.sum()) == 24 and bool((two | ~one).all())  # the w=1 band lies inside w=2
    assert torch.equal(two[0, 1:6, 1:6] | hole[0, 1:6, 1:6], torch.ones(5, 5, dtype=torch.bool))


def test_box_and_central_box():
    assert central_box((32, 32), 16) == (8, 8, 24, 24)
    box = box_mask((32, 32), (8, 8, 24, 24))
    assert box.shape == (1, 32, 32) and int(box.sum()) == 256 and bool(box[0, 8, 23])
    assert not bool(box[0, 24, 8])
