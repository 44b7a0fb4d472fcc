import pytest
import torch

from bigfix_mm.errors import InputValueError
from bigfix_mm.models.editors.bigfix.sampler.token_sampler import TokenSampler
from bigfix_mm.core.schedules import cosine_reveal_counts, halton_reveal_counts
from bigfix_mm.models.editors.bigfix.transformer import BidirectionalTransformer
from bigfix_mm.registry import MODELS


@pytest.fixture(scope='module')
def transformer():
    torch.manual_seed(0)
    model = BidirectionalTransformer(16, grid=(6, 6), num_classes=3, size=None, width=32,
                                     depth=2, heads=2).eval()
    for p in model.parameters():  # random, non-degenerate predictions
        torch.nn.init.normal_(p, std=0.3)
    return model


LABELS = torch.tensor([0, 1, 2, 0])
SAMPLERS = [
    dict(type='MaskGITSampler', steps=6),
    dict(type='HaltonSampler', steps=6),
    dict(type='TokenFixingSampler', steps=6, fix='all'),
    dict(type='TokenFixingSampler', steps=6, fix='low_confidence', fix_ratio=0.3),
    dict(type='TokenFixingSampler', steps=6, reveal='confidence', fix='low_confidence'),
    dict(type='TokenFixingSampler', steps=6, fix='none', cfg_scale=2.0, cfg_schedule='linear',
         temperature=(1.5, 0.5), top_k=8, top_p=0.9),
]


def run(cfg, transformer, seed=0, **kw):
    sampler = MODELS.build(cfg)
    return sampler(transformer, LABELS, generator=torch.Generator().manual_seed(seed),
                   return_trace=True, **kw)


@pytest.mark.parametrize('cfg', SAMPLERS, ids=lambda c: f"{c['type']}-{c.get('fix', '')}")
def test_every_position_is_placed_once_and_no_mask_remains(cfg, transformer):
    ids, trace = run(cfg, transformer)
    assert ids.shape == (4, 1, 6, 6)
    assert ids.min() >= 0 and ids.max() < 16  # mask id 16 never survives
    placed_per_step = trace['placed'].sum(-1)  # (steps, B)
    counts = (halton_reveal_counts if 'MaskGIT' not in cfg['type'] and cfg.get('reveal') !=
              'confidence' else cosine_reveal_counts)(36, 6)
    increments = torch.diff(counts, prepend=torch.zeros(1, dtype=torch.long))
    assert torch.equal(placed_per_step, increments[:, None].expand(-1, 4))
    assert torch.all(trace['placed'].sum(0) == 1)


@pytest.mark.parametrize('cfg', SAMPLERS[:2] + [SAMPLERS[-1]], ids=lambda c: c['type'])
def test_plain_samplers_never_change_a_placed_token(cfg, transformer):
    _, trace = run(cfg, transformer)
    assert not trace['changed'].any()


def test_fix_all_and_low_confidence_change_placed_tokens(transformer):
    _, trace_all = run(SAMPLERS[2], transformer)
    _, trace_low = run(SAMPLERS[3], transformer)
    assert trace_all['changed'].any() and trace_low['changed'].any()
    # low_confidence touches at most fix_ratio of the placed tokens per step
    counts = halton_reveal_counts(36, 6)
    for t in range(1, 6):
        assert int(trace_low['changed'][t].sum(-1).max()) <= int(0.3 * counts[t - 1])


def test_fix_window_limits_fixing(transformer):
    cfg = dict(type='TokenFixingSampler', steps=6, fix='all', fix_window=(0.5, 1.0))
    _, trace = run(cfg, transformer)
    assert not trace['changed'][:3].any() and trace['changed'][3:].any()


@pytest.mark.parametrize('cfg', SAMPLERS, ids=lambda c: f"{c['type']}-{c.get('fix', '')}")
def test_same_seed_same_tokens_other_seed_differs(cfg, transformer):
    a, _ = run(cfg, transformer, seed=1)
    b, _ = run(cfg, transformer, seed=1)
    c, _ = run(cfg, transformer, seed=2)
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


def test_cfg_zero_weight_equals_conditional_path(transformer):
    """The guidance every sampler uses: the head's distribution over one doubled batch."""
    ids = torch.randint(0, 17, (4, 36), generator=torch.Generator().manual_seed(0))
    null = torch.full_like(LABELS, 3)
    both = transformer(torch.cat([ids, ids]), torch.cat([LABELS, null]))  # (2B, N, K + 1)
    head = transformer.head

    def guided(weight):
        return head.distribution(both[:4], both[4:], weight).logits

    cond, uncond = both[:4, :, :16].float(), both[4:, :, :16].float()
    assert torch.allclose(guided(0.0), cond, atol=1e-5)
    strong = guided(3.0)
    assert not torch.allclose(strong, cond, atol=1e-3)
    assert torch.allclose(strong, 4.0 * cond - 3.0 * uncond, atol=1e-4)


def test_steps_validation(transformer):
    with pytest.raises(InputValueError, match=r'steps=37 must be in \[1, 36\]'):
        TokenSampler(steps=37)(transformer, LABELS)
    with pytest.raises(InputValueError, match=r'steps=0 must be in \[1, 36\]'):
        TokenSampler(steps=8)(transformer, LABELS, steps=0)  # 0 is not 'use the default'
    with pytest.raises(ValueError, match='fix'):
        TokenSampler(fix='sometimes')


class _FixedDistribution:
    """A step's distribution with given draws and log-probabilities (B, N)."""

    def __init__(self, draw, logp):
        self.draw, self.logp = draw, logp

    def sample(self, generator=None):
        return self.draw

    def log_prob(self, ids):
        return self.logp.gather(-1, ids.unsqueeze(-1)).squeeze(-1)


def test_step_decides_reveal_and_fixing_without_the_model():
    """``step`` (no model call) reveals the plan's positions of this step and re-samples the
    least likely placed ones, never a given position."""
    from bigfix_mm.models.editors.bigfix.sampler.token_sampler import SamplingPlan
    sampler = TokenSampler(steps=2, fix='low_confidence', fix_ratio=0.5)
    ids = torch.tensor([[3, 1, 4, 16, 16, 16]])  # three placed, mask id 16
    placed = ids < 16
    context = torch.tensor([[True, False, False, False, False, False]])
    logp = torch.zeros(1, 6, 16)
    logp[0, 1, 1], logp[0, 2, 4] = -5.0, -1.0  # position 1's id is the least likely
    plan = SamplingPlan(steps=2, counts=[2, 5], fixing=[True, True],
                        step_of=torch.tensor([[-1, 0, 0, 1, 1, 1]]), context_mask=context,
                        codebook_size=16)
    draw = torch.full((1, 6), 7)
    new_ids, new, fix = sampler.step(_FixedDistribution(draw, logp), 1, ids, placed, plan)
    assert new.tolist() == [[False, False, False, True, True, True]]  # step_of == 1
    assert fix.tolist() == [[False, True, False, False, False, False]]  # 0.5 x 2 placed
    assert new_ids.tolist() == [[3, 7, 4, 7, 7, 7]]
