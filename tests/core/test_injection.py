import pytest
import torch

from bigfix_mm.core.injection import TokenInjector


def clean_tokens(bsz=64, n=256, k=1024, seed=0):
    return torch.randint(0, k, (bsz, n), generator=torch.Generator().manual_seed(seed))


def test_masked_fraction_follows_the_schedule():
    inj = TokenInjector(1024, injection_prob=0.2)
    out = inj(clean_tokens(bsz=2000), generator=torch.Generator().manual_seed(1))
    assert abs(out.masked.float().mean().item() - 0.6366) < 0.02
    assert torch.all(out.input_ids[out.masked] == 1024)


@pytest.mark.parametrize('p', [0.0, 0.2, 0.5])
def test_injected_fraction_over_visible_is_p(p):
    inj = TokenInjector(1024, injection_prob=p, mode='uniform')
    out = inj(clean_tokens(bsz=500), generator=torch.Generator().manual_seed(2))
    visible = ~out.masked
    frac = (out.injected & visible).sum() / visible.sum()
    assert abs(frac.item() - p) < 0.01
    assert not torch.any(out.injected & out.masked)
    assert torch.all(out.input_ids[out.injected] != out.target[out.injected])
    untouched = visible & ~out.injected
    assert torch.equal(out.input_ids[untouched], out.target[untouched])


def test_shuffle_draws_only_ids_of_the_same_image():
    tokens = torch.stack([torch.randint(i * 100, i * 100 + 50, (64, )) for i in range(8)])
    out = TokenInjector(1000, injection_prob=0.5, mode='shuffle')(
        tokens, generator=torch.Generator().manual_seed(0))
    assert out.injected.any()
    for i in range(8):
        own = set(tokens[i].tolist())
        assert set(out.input_ids[i][out.injected[i]].tolist()) <= own


def test_neighbour_draws_from_adjacent_cells():
    h = w = 8
    tokens = torch.arange(h * w).repeat(4, 1)  # id == position
    out = TokenInjector(h * w, injection_prob=1.0, mode='neighbour', mask_ratio=0.0)(
        tokens, grid=(h, w), generator=torch.Generator().manual_seed(0))
    pos = torch.nonzero(out.injected)[:, 1]
    src = out.input_ids[out.injected]
    dist = (pos // w - src // w).abs() + (pos % w - src % w).abs()
    assert out.injected.float().mean() > 0.9 and torch.all(dist == 1)


def test_frequency_mode_follows_the_unigram():
    unigram = torch.zeros(16)
    unigram[3] = 1.0
    out = TokenInjector(16, injection_prob=1.0, mode='frequency', unigram=unigram, mask_ratio=0.0)(
        torch.zeros(4, 32, dtype=torch.long), generator=torch.Generator().manual_seed(0))
    assert torch.all(out.input_ids == 3)


def test_seeded_and_context_mask():
    tokens = clean_tokens(bsz=4, n=64)
    inj = TokenInjector(1024, injection_prob=0.3)
    a = inj(tokens, generator=torch.Generator().manual_seed(5))
    b = inj(tokens, generator=torch.Generator().manual_seed(5))
    c = inj(tokens, generator=torch.Generator().manual_seed(6))
    assert torch.equal(a.input_ids, b.input_ids) and not torch.equal(a.input_ids, c.input_ids)
    context_mask = torch.zeros(4, 64, dtype=torch.bool)
    context_mask[:, :16] = True
    d = inj(tokens, generator=torch.Generator().manual_seed(5), context_mask=context_mask)
    assert torch.equal(d.input_ids[:, :16], tokens[:, :16])


def test_out_of_range_ids_name_the_codebook():
    with pytest.raises(ValueError, match='codebook_size=16'):
        TokenInjector(16)(torch.full((1, 4), 16))
    with pytest.raises(ValueError, match='mode'):
        TokenInjector(16, mode='nope')


def test_bit_flip_flips_a_random_nonempty_subset_of_bits():
    inj = TokenInjector(2**10, injection_prob=0.5, mode='bit_flip')
    out = inj(clean_tokens(bsz=200), generator=torch.Generator().manual_seed(3))
    diff = out.input_ids[out.injected] ^ out.target[out.injected]
    flipped = ((diff.unsqueeze(-1) >> torch.arange(10)) & 1).sum(-1)
    assert flipped.min() == 1 and flipped.max() == 10
    counts = torch.bincount(flipped, minlength=11)[1:].float()
    assert (counts / counts.sum() - 0.1).abs().max() < 0.02  # k ~ U{1..b}
    assert out.input_ids.max() <= 2**10
    assert abs(out.injected[~out.masked].float().mean() - 0.5) < 0.02


def test_bit_flip_needs_a_power_of_two_codebook():
    with pytest.raises(ValueError, match='power of two'):
        TokenInjector(1000, mode='bit_flip')
