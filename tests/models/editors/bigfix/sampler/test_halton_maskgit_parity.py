"""Our samplers against the authors' sampler run on the same network (near-greedy)."""
import numpy as np
import pytest
import torch

from bigfix_mm.models.editors.bigfix.convert_halton_maskgit import infer_arch, load_their_checkpoint, to_ours
from bigfix_mm.models.editors.bigfix.sampler import HaltonSampler, TokenFixingSampler
from bigfix_mm.models.editors.bigfix.sampler.token_sampler import TokenSampler
from bigfix_mm.core.schedules import halton_order, halton_reveal_counts
from bigfix_mm.models.editors.bigfix.transformer import BidirectionalTransformer

from tests.conftest import HALTON_MASKGIT_ROOT, requires_halton_maskgit


@pytest.fixture(scope='module')
def network():
    theirs = load_their_checkpoint(HALTON_MASKGIT_ROOT / 'tiny_random.pth')
    cfg = infer_arch(theirs, heads=4)
    model = BidirectionalTransformer(**{k: v for k, v in cfg.items() if k != 'type'}).eval()
    model.load_state_dict(to_ours(theirs, model.state_dict()), strict=True)
    return model


def run_like_theirs(network, ref, sampler_cls, **kwargs):
    """Their inverse temperature t multiplies the logits: our temperature is 1 / t."""
    sampler = sampler_cls(steps=int(ref['steps']), cfg_scale=float(ref['cfg_w']),
                          temperature=1.0 / float(ref['inverse_temperature']), **kwargs)
    return sampler(network, torch.from_numpy(ref['labels']),
                   generator=torch.Generator().manual_seed(0), return_trace=True)


@requires_halton_maskgit
def test_halton_sampler_reproduces_theirs(network):
    ref = np.load(HALTON_MASKGIT_ROOT / 'tiny_random_halton_sample.npz')
    ids, trace = run_like_theirs(network, ref, HaltonSampler)
    bsz, steps = len(ref['labels']), int(ref['steps'])
    written = trace['placed'].view(steps, bsz, 8, 8)  # same order for every sample
    assert torch.equal(written, torch.from_numpy(ref['step_masks'])[:, None].expand_as(written))
    agree = (ids[:, 0] == torch.from_numpy(ref['final_code'])).float().mean().item()
    print(f'Halton sampler token agreement with theirs: {agree:.4f}')
    assert torch.equal(ids[:, 0], torch.from_numpy(ref['final_code']))


@requires_halton_maskgit
def test_fix_all_sampler_reproduces_theirs(network):
    ref = np.load(HALTON_MASKGIT_ROOT / 'tiny_random_fix_all_sample.npz')
    ids, trace = run_like_theirs(network, ref, TokenFixingSampler, fix='all')
    agree = (ids[:, 0] == torch.from_numpy(ref['final_code'])).float().mean().item()
    print(f'fix-all sampler token agreement with theirs: {agree:.4f}')
    assert trace['changed'].any()  # fixing did change placed tokens
    assert torch.equal(ids[:, 0], torch.from_numpy(ref['final_code']))


def test_randomize_rolls_each_samples_order(tiny_transformer_cfg):
    model = BidirectionalTransformer(**{k: v for k, v in tiny_transformer_cfg.items()
                                        if k != 'type'}).eval()
    labels = torch.tensor([0, 1, 2, 0, 1])
    sampler = HaltonSampler(steps=5, randomize=True)
    _, trace = sampler(model, labels, generator=torch.Generator().manual_seed(3), return_trace=True)
    shifts = torch.randint(0, 16, (5, ), generator=torch.Generator().manual_seed(3))
    assert len(set(shifts.tolist())) > 1
    counts = [0] + halton_reveal_counts(16, 5).tolist()
    for b, shift in enumerate(shifts.tolist()):
        order = torch.roll(halton_order((4, 4)), shift, 0)  # the authors' torch.roll
        for t in range(5):
            expected = torch.zeros(16, dtype=torch.bool)
            expected[order[counts[t]:counts[t + 1]]] = True
            assert torch.equal(trace['placed'][t, b], expected)
    with pytest.raises(ValueError, match='randomize'):
        TokenSampler(reveal='confidence', randomize=True)


def test_inverse_linear_temperature_is_their_linspace():
    sm_min, sm_max, steps = 1.0, 1.2, 32
    sampler = TokenSampler(temperature=(1 / sm_min, 1 / sm_max), temperature_schedule='inverse_linear')
    theirs = torch.linspace(sm_min, sm_max, steps, dtype=torch.float64)
    assert np.allclose([1 / t for t in sampler.temperatures(steps)], theirs.numpy(), rtol=1e-12)
    warm = TokenSampler(temperature=1.0, temperature_warmup_steps=3).temperatures(8)
    assert warm == [2.0] * 3 + [1.0] * 5  # their temp_warmup halves the inverse temperature
    with pytest.raises(ValueError, match='temperature_schedule'):
        TokenSampler(temperature_schedule='cosine')
