import pytest
import torch

from bigfix_mm.registry import MODELS


def test_rgb_quant_round_trip_and_shapes():
    tok = MODELS.build(dict(type='RGBQuantTokenizer', levels=8, downsample=4))
    assert tok.codebook_size == 512 and tok.grid_size(32) == (8, 8)
    img = torch.rand(2, 3, 32, 32)
    ids = tok.encode(img)
    assert ids.shape == (2, 8, 8) and ids.dtype == torch.int64
    rec = tok.decode(ids)
    assert rec.shape == (2, 3, 32, 32) and rec.dtype == torch.float32
    pooled = torch.nn.functional.avg_pool2d(img, 4)
    assert (torch.nn.functional.avg_pool2d(rec, 4) - pooled).abs().max() <= 0.5 / 8 + 1e-6
    assert torch.equal(tok.encode(rec), ids)


def test_bad_image_size_and_ids_are_explained():
    tok = MODELS.build(dict(type='RGBQuantTokenizer', levels=4, downsample=4))
    with pytest.raises(ValueError, match='divisible'):
        tok.encode(torch.rand(1, 3, 30, 32))
    with pytest.raises(ValueError, match='codebook_size'):
        tok.decode(torch.full((1, 2, 2), 64))
