import math

import pytest
import torch

from bigfix_mm.models.schedules import (cosine_reveal_counts, halton_order, halton_reveal_counts,
                                        sample_mask_ratio)


@pytest.mark.parametrize('grid', [(16, 16), (8, 8), (5, 7), (1, 4, 6), (3, 4, 4)])
def test_halton_order_is_a_permutation(grid):
    order = halton_order(grid)
    n = math.prod(grid)
    assert order.shape == (n, )
    assert torch.equal(order.sort().values, torch.arange(n))


def test_halton_order_spreads_early_tokens():
    order = halton_order((16, 16))[:4]
    rows, cols = order // 16, order % 16
    assert len(set(rows.tolist())) == 4 and len(set(cols.tolist())) == 4


@pytest.mark.parametrize('steps', [1, 4, 8, 32])
def test_halton_counts_follow_formula(steps):
    n = 256
    counts = halton_reveal_counts(n, steps)
    for t in range(steps - 1):
        expected = min(n, max(t + 1, math.floor((1 - math.acos((t + 1) / steps) / (math.pi / 2)) * n)))
        assert counts[t] == expected
    assert counts[-1] == n
    assert torch.all(counts[1:] >= counts[:-1])


@pytest.mark.parametrize('steps', [1, 8, 64])
def test_cosine_counts_reveal_every_step(steps):
    counts = cosine_reveal_counts(64, steps)
    assert counts[-1] == 64 and counts[0] >= 1
    assert torch.all(counts[1:] > counts[:-1])


def test_steps_out_of_range_is_an_error():
    with pytest.raises(ValueError, match=r'steps=17 must be in \[1, 16\]'):
        halton_reveal_counts(16, 17)


def test_mask_ratio_mean_matches_arccos_schedule():
    g = torch.Generator().manual_seed(0)
    r = sample_mask_ratio(200_000, 256, generator=g)
    assert abs(r.mean().item() - 2 / math.pi) < 0.005  # E[arccos(U)/(pi/2)] = 2/pi
    # a smaller grid (a > 1) masks less on average
    assert sample_mask_ratio(100_000, 64, generator=g).mean() < r.mean() - 0.05
