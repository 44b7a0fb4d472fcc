import torch
from mmengine.optim import OptimWrapper

from bigfix_mm.registry import MODELS


def bit_bigfix(**kw):
    cfg = dict(type='BIGFix', label_drop_prob=0.1,
               transformer=dict(type='BidirectionalTransformer', size=None, width=32, depth=2,
                                heads=2, codebook_size=64, grid=(4, 4), num_classes=3,
                                head=dict(type='MaskedBitHead', bit_width=32, depth=1)),
               sampler=dict(type='TokenFixingSampler', steps=4, cfg_scale=1.0), **kw)
    return MODELS.build(cfg)


def batch(n=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    return dict(inputs=dict(tokens=torch.randint(0, 64, (n, 4, 4), generator=g),
                            labels=torch.randint(0, 3, (n, ), generator=g)))


def test_bigfix_trains_with_the_bit_head_and_bit_flip_injection():
    torch.manual_seed(0)
    model = bit_bigfix(injection=dict(injection_prob=0.2, mode='bit_flip'))
    optim = OptimWrapper(torch.optim.AdamW(model.parameters(), lr=3e-3))
    data = batch()
    before = [p.detach().clone() for p in model.transformer.head.parameters()]
    first = model.train_step(data, optim)
    losses = [model.train_step(data, optim)['loss'].item() for _ in range(30)]
    assert sum(losses[-5:]) / 5 < 0.75 * first['loss'].item()
    assert {'masked_acc', 'injected_acc', 'clean_acc'} <= set(first)
    after = list(model.transformer.head.parameters())
    assert all(not torch.equal(b, a) for b, a in zip(before, after))  # the bit model trains


def test_bigfix_predict_and_sample_with_the_bit_head():
    model = bit_bigfix().eval()
    data = model.data_preprocessor(batch(), False)
    rows = model.predict(data['inputs'])
    assert len(rows) == 8 and all(torch.isfinite(r.ce_sum) and r.ce_sum > 0 for r in rows)
    ids = model.sample(torch.tensor([0, 1]), generator=torch.Generator().manual_seed(0))
    assert ids.shape == (2, 1, 4, 4) and ids.max() < 64


def test_default_head_keeps_the_checkpoint_layout():
    model = MODELS.build(dict(type='BidirectionalTransformer', size=None, width=32, depth=1,
                              heads=2, codebook_size=16, grid=(4, 4), num_classes=3))
    explicit = MODELS.build(dict(type='BidirectionalTransformer', size=None, width=32, depth=1,
                                 heads=2, codebook_size=16, grid=(4, 4), num_classes=3,
                                 head=dict(type='SoftmaxHead')))
    assert list(model.state_dict()) == list(explicit.state_dict())
    assert 'tok_emb.weight' in model.state_dict() and 'head_bias' in model.state_dict()
    assert not any(k.startswith('head.') for k in model.state_dict())
