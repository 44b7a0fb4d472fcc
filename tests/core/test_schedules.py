import math

import numpy as np
import pytest
import torch

from bigfix_mm.core.schedules import (cosine_reveal_counts, halton_order, halton_reveal_counts,
                                        sample_mask_ratio)
from tests.conftest import HALTON_MASKGIT_ROOT, requires_halton_maskgit


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


@requires_halton_maskgit
@pytest.mark.parametrize('size', [8, 16, 24, 32])
def test_halton_order_equals_the_authors(size):
    ref = np.load(HALTON_MASKGIT_ROOT / 'halton_schedule.npz')[f'order_{size}']  # (S*S, 2) rows, cols
    order = halton_order((size, size))
    assert torch.equal(torch.stack([order // size, order % size], 1), torch.from_numpy(ref))


@requires_halton_maskgit
def test_halton_counts_equal_the_authors_for_every_listed_size():
    ref = np.load(HALTON_MASKGIT_ROOT / 'halton_schedule.npz')
    keys = [k for k in ref.files if k.startswith('counts_')]
    assert len(keys) >= 6
    for key in keys:  # counts_{S}x{S}_{T}steps
        _, grid, steps = key.split('_')
        size, steps = int(grid.split('x')[0]), int(steps[:-len('steps')])
        assert halton_reveal_counts(size * size, steps).tolist() == ref[key].tolist(), key


def test_halton_order_starts_after_the_corner():
    # index 0 of the sequence is the corner (0, 0); the first point used is (1/2, 1/3)
    assert halton_order((8, 8))[0].item() == 4 * 8 + 2
    # volumes: (h, w, t) = floor((1/2 H, 1/3 W, 1/5 T)) = (4, 2, 0)
    assert halton_order((4, 8, 8))[0].item() == 0 * 64 + 4 * 8 + 2
    assert halton_order((6, 8, 8))[0].item() == 1 * 64 + 4 * 8 + 2
