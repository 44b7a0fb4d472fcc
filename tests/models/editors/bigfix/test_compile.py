"""``BIGFix(compile=...)``: the torch.compile path changes speed, not results.

The default run traces with the ``aot_eager`` backend (TorchDynamo + AOTAutograd
graphs, no C++ build); the ``inductor`` variant (generated C++ kernels, what a
GPU run uses with Triton) is marked slow: it compiles for about a minute on 2 CPU cores.
"""
import copy

import pytest
import torch

from bigfix_mm.models.editors.bigfix.sampler import TokenFixingSampler
from bigfix_mm.registry import MODELS

BACKENDS = ['aot_eager', pytest.param('inductor', marks=pytest.mark.slow)]


def build(cfg, compile=False, seed=0):
    torch.manual_seed(seed)
    model = MODELS.build(dict(type='BIGFix', transformer=cfg, compile=compile))
    for p in model.transformer.parameters():  # random, non-degenerate predictions
        torch.nn.init.normal_(p, std=0.3)
    return model


@pytest.mark.parametrize('backend', BACKENDS)
def test_compiled_and_eager_give_same_tokens_and_close_logits(backend, tiny_transformer_cfg):
    model = build(tiny_transformer_cfg, compile=dict(backend=backend)).eval()
    assert model.net is not model.transformer and model.net.grid == model.transformer.grid
    # batch 4 = the doubled CFG batch of the 2-image sampling below: one graph serves both
    ids = torch.randint(0, 17, (4, 16), generator=torch.Generator().manual_seed(0))
    labels = torch.tensor([0, 1, 3, 2])
    with torch.no_grad():
        eager, compiled = model.transformer(ids, labels), model.net(ids, labels)
        assert torch.allclose(compiled, eager, atol=1e-5, rtol=1e-5)
        with torch.autocast('cpu', dtype=torch.bfloat16):  # bf16 tolerance
            eager16, compiled16 = model.transformer(ids, labels), model.net(ids, labels)
        assert (compiled16.float() - eager16.float()).abs().max() <= 0.02 * eager.abs().max()

    sampler = TokenFixingSampler(steps=4, fix='low_confidence', fix_ratio=0.3, cfg_scale=1.5)
    tokens = model.sample(labels[:2], sampler=sampler, generator=torch.Generator().manual_seed(1))
    reference = sampler(model.transformer, labels[:2], generator=torch.Generator().manual_seed(1))
    assert torch.equal(tokens, reference)


def test_compiled_train_step_matches_eager(tiny_transformer_cfg):
    from mmengine.optim import OptimWrapper
    models = [build(tiny_transformer_cfg),
              build(tiny_transformer_cfg, compile=dict(backend='aot_eager'))]
    data = dict(inputs=dict(tokens=torch.randint(0, 16, (4, 4, 4)),
                            labels=torch.tensor([0, 1, 2, 0])))
    losses = []
    for model in models:
        wrapper = OptimWrapper(torch.optim.AdamW(model.parameters(), lr=1e-3))
        torch.manual_seed(5)  # same injection and label dropout draws
        losses.append(model.train_step(copy.deepcopy(data), wrapper)['loss'])
    assert torch.allclose(losses[0], losses[1], atol=1e-6)
    for a, b in zip(models[0].parameters(), models[1].parameters()):
        assert torch.allclose(a, b, atol=1e-6)


def test_compile_switch_keeps_checkpoints_and_copies_compile_their_own(tiny_transformer_cfg):
    eager = build(tiny_transformer_cfg)
    model = build(tiny_transformer_cfg, compile=dict(backend='eager'))
    assert model.state_dict().keys() == eager.state_dict().keys()
    assert eager.net is eager.transformer
    ids, labels = torch.zeros(1, 16, dtype=torch.long), torch.zeros(1, dtype=torch.long)
    before = model.net(ids, labels)
    ema = copy.deepcopy(model)  # what MMEngine's EMA hook does
    assert ema.net is not model.net and ema.net._orig_mod is ema.transformer
    with torch.no_grad():
        ema.transformer.head_bias.add_(1.0)
    assert torch.allclose(model.net(ids, labels), before)  # the copy has its own weights
    assert not torch.allclose(ema.net(ids, labels), before)
    with pytest.raises(TypeError, match='model.compile'):
        build(tiny_transformer_cfg, compile='yes')
