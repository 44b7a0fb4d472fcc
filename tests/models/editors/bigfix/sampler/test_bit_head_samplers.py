import pytest
import torch

from bigfix_mm.models.editors.bigfix.sampler.presets import SAMPLER_PRESETS, sampler_config
from bigfix_mm.models.editors.bigfix.transformer import BidirectionalTransformer
from bigfix_mm.registry import MODELS

BITS = 10
LABELS = torch.tensor([0, 1, 2, 0])
# every preset, and settings beyond them: guidance with its schedule, a temperature ramp
SAMPLERS = [sampler_config(name, steps=6) for name in SAMPLER_PRESETS] + [
    sampler_config('fix_low', steps=6, fix_ratio=0.3),
    sampler_config('fix_low', steps=6, cfg_scale=2.0, cfg_schedule='linear',
                   temperature=(1.5, 0.5)),
]


@pytest.fixture(scope='module')
def transformer():
    torch.manual_seed(0)
    model = BidirectionalTransformer(2**BITS, grid=(6, 6), num_classes=3, size=None, width=32,
                                     depth=2, heads=2,
                                     head=dict(type='MaskedBitHead', bit_width=16, depth=1,
                                               heads=2, steps=4)).eval()
    for p in model.parameters():  # random, non-degenerate predictions
        torch.nn.init.normal_(p, std=0.3)
    return model


@pytest.mark.parametrize('cfg', SAMPLERS, ids=lambda c: '-'.join(f'{v}' for v in c.values()))
def test_every_sampler_returns_valid_ids_under_the_bit_head(cfg, transformer):
    sampler = MODELS.build(cfg)
    ids, trace = sampler(transformer, LABELS, generator=torch.Generator().manual_seed(0),
                         return_trace=True)
    assert ids.shape == (4, 1, 6, 6) and ids.dtype == torch.long
    assert ids.min() >= 0 and ids.max() < 2**BITS
    assert torch.equal(trace['placed'].sum(0), torch.ones(4, 36, dtype=torch.long))
    again = sampler(transformer, LABELS, generator=torch.Generator().manual_seed(0))
    assert torch.equal(ids, again)  # seeded: the same tokens
    if cfg.get('fix') in ('all', 'low_confidence'):
        assert trace['changed'].any()  # fixing re-samples placed tokens in bit space too
