"""Given tokens that fixing may re-sample (seam fixing): only inside the fixable mask."""
import pytest
import torch

from bigfix_mm.core.context import resolve_fixable
from bigfix_mm.registry import MODELS
# the random 6x6-token transformer fixture
from tests.models.editors.bigfix.sampler.test_samplers import transformer  # noqa: F401


LABELS = torch.tensor([0, 1, 2, 0])
CONTEXT = torch.randint(0, 16, (4, 1, 6, 6), generator=torch.Generator().manual_seed(1))
HOLE = torch.zeros(6, 6, dtype=torch.bool)
HOLE[2:5, 2:5] = True  # 9 tokens for 6 steps
RING = torch.zeros(6, 6, dtype=torch.bool)
RING[1:6, 1:6] = True
RING &= ~HOLE  # the given tokens next to the hole
FIXING = [dict(type='TokenFixingSampler', steps=6, fix='all'),
          dict(type='TokenFixingSampler', steps=6, fix='low_confidence', fix_ratio=0.5)]


def run(cfg, transformer, fixable=None, seed=0):
    sampler = MODELS.build(cfg)
    return sampler(transformer, LABELS, generator=torch.Generator().manual_seed(seed),
                   context=CONTEXT, context_mask=~HOLE.reshape(-1),
                   fixable_mask=None if fixable is None else fixable.reshape(-1),
                   return_trace=True)


@pytest.mark.parametrize('cfg', FIXING, ids=lambda c: c['fix'])
def test_given_tokens_never_change_without_a_fixable_mask(cfg, transformer):
    ids, trace = run(cfg, transformer)
    given = ~HOLE.reshape(-1)
    assert torch.equal(ids.reshape(4, -1)[:, given], CONTEXT.reshape(4, -1)[:, given])
    assert not trace['changed'][:, :, given].any()
    assert trace['changed'][:, :, ~given].any()  # fixing is on: the hole's tokens do change


@pytest.mark.parametrize('cfg', FIXING, ids=lambda c: c['fix'])
def test_given_tokens_change_only_inside_the_fixable_band(cfg, transformer):
    ids, trace = run(cfg, transformer, fixable=RING)
    flat = ids.reshape(4, -1)
    outside = (~HOLE & ~RING).reshape(-1)
    assert torch.equal(flat[:, outside], CONTEXT.reshape(4, -1)[:, outside])
    assert not trace['changed'][:, :, outside].any()
    band = RING.reshape(-1)
    assert trace['changed'][:, :, band].any()  # the band is re-sampled
    assert not trace['placed'][:, :, ~HOLE.reshape(-1)].any()  # but never revealed anew


def test_plain_sampler_ignores_the_fixable_band(transformer):
    ids, _ = run(dict(type='HaltonSampler', steps=6), transformer, fixable=RING)
    given = ~HOLE.reshape(-1)
    assert torch.equal(ids.reshape(4, -1)[:, given], CONTEXT.reshape(4, -1)[:, given])


def test_fixable_mask_must_lie_inside_the_given_tokens():
    given = torch.zeros(2, 4, dtype=torch.bool)
    given[:, :2] = True
    with pytest.raises(ValueError, match='not given'):
        resolve_fixable(torch.tensor([True, False, True, False]), given, (2, 2), 2)
    with pytest.raises(ValueError, match='same number'):
        resolve_fixable(torch.tensor([[True, False, False, False], [True, True, False, False]]),
                        given, (2, 2), 2)
    with pytest.raises(ValueError, match='given tokens too'):
        resolve_fixable(torch.ones(4, dtype=torch.bool), None, (2, 2), 2)
    assert not resolve_fixable(None, given, (2, 2), 2).any()
