import numpy as np
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
