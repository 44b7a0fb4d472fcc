import pytest
import torch
from mmengine.optim import OptimWrapper

from bigfix_mm.registry import MODELS


def build(tiny_transformer_cfg, **kw):
    cfg = dict(type='BIGFix', transformer=tiny_transformer_cfg, label_drop_prob=0.0, **kw)
    return MODELS.build(cfg)


def batch(n=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    return dict(inputs=dict(tokens=torch.randint(0, 16, (n, 4, 4), generator=g),
                            labels=torch.randint(0, 3, (n, ), generator=g)))


def test_loss_falls_when_overfitting_8_samples(tiny_transformer_cfg):
    torch.manual_seed(0)
    model = build(tiny_transformer_cfg)
    optim = OptimWrapper(torch.optim.AdamW(model.parameters(), lr=3e-3))
    data = batch()
    first = model.train_step(data, optim)
    for _ in range(150):
        last = model.train_step(data, optim)
    assert last['loss'] < 0.5 * first['loss']
    assert {'masked_acc', 'injected_acc', 'clean_acc'} <= set(last)


def test_loss_covers_every_position(tiny_transformer_cfg):
    """A new clean id at one masked, one injected or one clean visible position changes
    the loss; one at a given (context) position does not."""
    model = build(tiny_transformer_cfg).eval()
    target = torch.randint(0, 16, (1, 16), generator=torch.Generator().manual_seed(0))
    masked = torch.zeros(1, 16, dtype=torch.bool)
    masked[0, :5] = True
    injected = torch.zeros_like(masked)
    injected[0, 5:9] = True
    context_mask = torch.zeros_like(masked)
    context_mask[0, 14:] = True
    input_ids = target.masked_fill(masked, 16)
    input_ids[injected] = (target[injected] + 1) % 16

    def loss(clean: torch.Tensor) -> float:
        inputs = dict(input_ids=input_ids, masked=masked, injected=injected, target=clean,
                      context_mask=context_mask, labels=torch.zeros(1, dtype=torch.long))
        return float(model.loss(inputs)['loss'])

    def changed_at(pos: int) -> torch.Tensor:
        out = target.clone()
        out[0, pos] = (out[0, pos] + 3) % 16
        return out

    base = loss(target)
    for pos in (2, 6, 11):  # masked, injected, clean visible
        assert loss(changed_at(pos)) != base, pos
    assert loss(changed_at(15)) == base  # given context is not scored


def test_tensor_mode_does_not_corrupt(tiny_transformer_cfg):
    model = build(tiny_transformer_cfg, injection=dict(injection_prob=1.0)).eval()
    inputs = batch()['inputs']
    logits = model(inputs, mode='tensor')
    expected = model.transformer(inputs['tokens'].reshape(8, -1), inputs['labels'])
    assert torch.equal(logits, expected) and torch.equal(model(inputs, mode='tensor'), logits)


def test_predict_returns_datasamples(tiny_transformer_cfg):
    from mmagic.structures import DataSample
    model = build(tiny_transformer_cfg).eval()
    scored = model.predict(batch()['inputs'])
    assert len(scored) == 8 and all(isinstance(x, DataSample) for x in scored)
    assert int(scored[0].num_tokens) == 16 and int(scored[0].masked_count) >= 0


def test_uses_pipeline_corruption_when_given(tiny_transformer_cfg):
    model = build(tiny_transformer_cfg)
    tokens = torch.randint(0, 16, (2, 16))
    inputs = dict(input_ids=torch.full((2, 16), 16), masked=torch.ones(2, 16, dtype=torch.bool),
                  injected=torch.zeros(2, 16, dtype=torch.bool), target=tokens,
                  labels=torch.zeros(2, dtype=torch.long))
    out = model.corrupt(inputs)
    assert torch.equal(out.input_ids, inputs['input_ids']) and torch.equal(out.target, tokens)


def test_tokenizer_codebook_mismatch_names_the_field(tiny_transformer_cfg):
    with pytest.raises(ValueError, match='codebook_size'):
        build(tiny_transformer_cfg, tokenizer=dict(type='RGBQuantTokenizer', levels=4,
                                                   downsample=4))


def test_nonfinite_loss_raises_or_skips(tiny_transformer_cfg):
    model = build(tiny_transformer_cfg)
    with torch.no_grad():
        model.transformer.tok_emb.weight[0, 0] = float('nan')
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1))
    with pytest.raises(FloatingPointError, match='nonfinite_loss'):
        model.train_step(batch(), optim)
    model.nonfinite_loss = 'skip'
    before = model.transformer.blocks[0].attn.qkv.weight.clone()
    log = model.train_step(batch(), optim)
    assert log['nonfinite_skipped'] == 1
    assert torch.equal(before, model.transformer.blocks[0].attn.qkv.weight)


def test_sample_and_generation_request(tiny_transformer_cfg):
    cfg = dict(tiny_transformer_cfg, codebook_size=8, grid=(2, 2))
    model = MODELS.build(dict(type='BIGFix', transformer=cfg,
                              tokenizer=dict(type='RGBQuantTokenizer', levels=2, downsample=4),
                              sampler=dict(type='HaltonSampler', steps=2)))
    tokens = model.sample(torch.tensor([0, 1]), generator=torch.Generator().manual_seed(0))
    assert tokens.shape == (2, 1, 2, 2)
    out = model.val_step(dict(inputs=dict(num_batches=3, sample_model='orig', sample_kwargs={})))
    assert len(out) == 3
    img = out[0].fake_img
    assert img.shape == (3, 8, 8) and img.dtype == torch.float32
    assert 0 <= img.min() and img.max() <= 255


def test_generation_requests_are_seeded_balanced_and_quantised(tiny_transformer_cfg):
    cfg = dict(tiny_transformer_cfg, codebook_size=8, grid=(2, 2))
    model = MODELS.build(dict(type='BIGFix', transformer=cfg,
                              tokenizer=dict(type='RGBQuantTokenizer', levels=2, downsample=4),
                              sampler=dict(type='HaltonSampler', steps=2)))

    def request(**kwargs):
        out = model.val_step(dict(inputs=dict(num_batches=4, sample_model='orig',
                                              sample_kwargs=dict(kwargs))))
        return (torch.stack([o.fake_img for o in out]),
                torch.stack([o.gt_label.label.reshape(()) for o in out]))

    model.eval()
    first, labels = request(labels='balanced', seed=3)
    second, labels2 = request(labels='balanced', seed=3)  # the stream goes on ...
    assert labels.tolist() == [0, 1, 2, 0] and labels2.tolist() == [1, 2, 0, 1]
    assert torch.equal(first, first.round())  # whole 8-bit levels
    model.train()  # ... and restarts after training, so each validation sees the same samples
    model.eval()
    again, labels3 = request(labels='balanced', seed=3)
    assert torch.equal(again, first) and torch.equal(labels3, labels)
    model.reset_generation()
    assert torch.equal(request(labels='balanced', seed=3)[0], first)
    with pytest.raises(ValueError, match="labels.*'uniform' or 'balanced'"):
        request(labels='sorted')
