"""The per-frame wrapper and the video tokenizer interface."""
import pytest
import torch
import torch.nn.functional as F

from bigfix_mm.models.tokenizers import BaseVideoTokenizer, PerFrameTokenizer, RGBQuantTokenizer
from bigfix_mm.registry import MODELS


def test_per_frame_equals_the_image_tokenizer_frame_by_frame():
    image_tok = RGBQuantTokenizer(levels=4, downsample=4)
    video_tok = MODELS.build(dict(type='PerFrameTokenizer', frame_batch=3,
                                  tokenizer=dict(type='RGBQuantTokenizer', levels=4, downsample=4)))
    assert video_tok.is_video and video_tok.codebook_size == 64 and video_tok.downsample == 4
    clips = torch.rand(2, 5, 3, 16, 12, generator=torch.Generator().manual_seed(0))
    ids = video_tok.encode(clips)
    assert ids.shape == (2, 5, 4, 3) and ids.dtype == torch.long
    for t in range(5):
        assert torch.equal(ids[:, t], image_tok.encode(clips[:, t]))
    rec = video_tok.decode(ids)
    assert rec.shape == clips.shape
    assert torch.equal(rec[:, 2], image_tok.decode(ids[:, 2]))
    assert video_tok.token_grid(5, (16, 12)) == (5, 4, 3)


def test_per_frame_errors_name_the_problem():
    tok = PerFrameTokenizer(RGBQuantTokenizer(levels=4, downsample=4))
    with pytest.raises(ValueError, match=r'\(B, T, 3, H, W\)'):
        tok.encode(torch.rand(2, 3, 16, 16))
    with pytest.raises(ValueError, match='not divisible'):
        tok.encode(torch.rand(1, 2, 3, 10, 16))
    with pytest.raises(ValueError, match='out of range'):
        tok.decode(torch.full((1, 2, 4, 4), 64))


class TimePairTokenizer(BaseVideoTokenizer):
    """A toy 3D tokenizer: averages frame pairs, then quantises like RGBQuant (2 levels)."""

    codebook_size = 8
    downsample = 2
    temporal_downsample = 2

    def _encode(self, clips):
        b, t = clips.shape[:2]
        x = clips.view(b, t // 2, 2, *clips.shape[2:]).mean(2).flatten(0, 1)
        q = (F.avg_pool2d(x, 2) > 0.5).long()  # (B*t', 3, h, w)
        return (q[:, 0] * 4 + q[:, 1] * 2 + q[:, 2]).view(b, t // 2, *q.shape[-2:])

    def _decode(self, ids):
        bits = torch.stack([ids // 4, ids // 2 % 2, ids % 2], 2).float()  # (B, t', 3, h, w)
        up = F.interpolate(bits.flatten(0, 1), scale_factor=2).view(*bits.shape[:3],
                                                                      *[2 * s for s in bits.shape[-2:]])
        return up.repeat_interleave(2, dim=1)


def test_a_3d_tokenizer_plugs_into_bigfix_through_the_interface():
    tok = TimePairTokenizer()
    clips = torch.rand(2, 4, 3, 8, 8)
    ids = tok.encode(clips)
    assert ids.shape == (2, 2, 4, 4) and tok.token_grid(4, 8) == (2, 4, 4)
    with pytest.raises(ValueError, match='temporal 2'):
        tok.encode(torch.rand(1, 3, 3, 8, 8))
    model = MODELS.build(dict(type='BIGFix', transformer=dict(
        type='BidirectionalTransformer', size=None, width=16, depth=1, heads=2, codebook_size=8,
        grid=(2, 4, 4), num_classes=2)))
    model.tokenizer = tok  # a registered 3D tokenizer would be named in the config instead
    tokens = model.sample(torch.tensor([0, 1]), sampler=dict(type='HaltonSampler', steps=2))
    assert model.decode(tokens).shape == (2, 4, 3, 8, 8)
