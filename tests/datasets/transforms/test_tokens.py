import numpy as np
import pytest
import torch

from bigfix_mm.registry import TRANSFORMS


def test_tokenize_then_inject_from_registry():
    img = np.random.default_rng(0).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    tok = TRANSFORMS.build(dict(type='TokenizeImage',
                                tokenizer=dict(type='RGBQuantTokenizer', levels=6, downsample=4)))
    inj = TRANSFORMS.build(dict(type='RandomTokenInjection', codebook_size=216, seed=3))
    results = inj(tok(dict(img=img, sample_idx=5)))
    assert results['tokens'].shape == (1, 8, 8)
    assert results['input_ids'].shape == (1, 8, 8)
    masked = results['masked']
    assert torch.all(results['input_ids'][masked] == 216)
    again = inj(tok(dict(img=img, sample_idx=5)))
    assert torch.equal(again['input_ids'], results['input_ids'])


def test_context_frames_gives_whole_first_frames_before_injection():
    tokens = torch.randint(0, 8, (4, 3, 3))
    give = TRANSFORMS.build(dict(type='ContextFrames', frame_range=(1, 3), seed=7))
    inj = TRANSFORMS.build(dict(type='RandomTokenInjection', codebook_size=8, seed=3,
                                mask_ratio=1.0))
    ks = []
    for idx in range(40):
        out = inj(give(dict(tokens=tokens, sample_idx=idx)))
        context_mask = out['context_mask']
        k = int(context_mask[:, 0, 0].sum())
        assert torch.equal(context_mask, (torch.arange(4) < k)[:, None, None].expand(4, 3, 3))
        assert torch.equal(out['input_ids'][context_mask], tokens[context_mask])  # untouched
        assert out['masked'][~context_mask].all()  # everything else masked (mask_ratio=1)
        again = give(dict(tokens=tokens, sample_idx=idx))['context_mask']
        assert torch.equal(again, context_mask)  # seeded
        ks.append(k)
    assert set(ks) == {1, 2, 3}
    with pytest.raises(ValueError, match=r'ContextFrames.frame_range=\(1, 4\).*T=4'):
        TRANSFORMS.build(dict(type='ContextFrames', frame_range=(1, 4)))(dict(tokens=tokens))
