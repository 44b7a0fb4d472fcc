"""The study's statistics: paired bootstrap intervals, the words rule, the fast FD."""
import numpy as np
import pytest

from bigfix_mm.evaluation.frechet import feature_statistics, frechet_distance
from fixing_study.stats import (NO_DIFFERENCE, FrechetToReference, bootstrap_draws, direction,
                                format_interval, paired_interval, percentile_interval,
                                t_interval, verdict)


def test_draws_resample_within_each_seed_and_are_reproducible():
    draws = bootstrap_draws([5, 3], 200, seed=1)
    assert draws.shape == (200, 8)
    assert draws[:, :5].min() == 0 and draws[:, :5].max() == 4
    assert draws[:, 5:].min() == 5 and draws[:, 5:].max() == 7
    assert np.array_equal(draws, bootstrap_draws([5, 3], 200, seed=1))
    assert not np.array_equal(draws, bootstrap_draws([5, 3], 200, seed=2))


def test_pairing_cancels_the_shared_noise():
    """b = a + 0.1 + small noise: only a paired interval sees the shift."""
    rng = np.random.default_rng(0)
    a = rng.normal(0, 1, 400)
    b = a + 0.1 + rng.normal(0, 0.05, 400)
    draws = bootstrap_draws([400], 500)
    paired = paired_interval(a.mean(), b.mean(), [a[i].mean() for i in draws],
                             [b[i].mean() for i in draws])
    assert paired['diff'] == pytest.approx(-0.1, abs=0.01)
    assert paired['hi'] < 0 and direction(paired) == -1
    unpaired = paired_interval(a.mean(), b.mean(), [a[i].mean() for i in draws],
                               [b[i].mean() for i in bootstrap_draws([400], 500, seed=9)])
    assert unpaired['lo'] < 0 < unpaired['hi']  # independent draws: the shift drowns
    with pytest.raises(ValueError, match='paired replicates'):
        paired_interval(0, 0, [1, 2], [1, 2, 3])


def test_percentile_interval_covers_the_central_mass():
    lo, hi = percentile_interval(np.arange(1001), 0.9)
    assert (lo, hi) == (pytest.approx(50.0), pytest.approx(950.0))
    with pytest.raises(ValueError):
        percentile_interval([1.0])


def test_t_interval_matches_the_textbook_value():
    out = t_interval([1.0, 2.0, 3.0])  # mean 2, sd 1, t(0.975, 2) = 4.303
    assert out['diff'] == 2.0
    assert out['hi'] - 2.0 == pytest.approx(4.3027 / np.sqrt(3), rel=1e-4)


@pytest.mark.parametrize('lo,hi,words', [
    (-3.0, -0.5, 'A better than B (FD lower)'),
    (0.2, 4.0, 'A worse than B (FD higher)'),
    (-1.0, 2.0, NO_DIFFERENCE),
    (-1.0, 0.0, NO_DIFFERENCE),  # touching zero is not excluding it
])
def test_words_state_a_direction_only_when_the_interval_excludes_zero(lo, hi, words):
    assert verdict(dict(diff=(lo + hi) / 2, lo=lo, hi=hi), 'A', 'B') == words


def test_words_for_a_higher_is_better_metric():
    assert verdict(dict(diff=2, lo=1, hi=3), 'A', 'B', 'accuracy', lower_is_better=False) == \
        'A better than B (accuracy higher)'
    assert format_interval(dict(diff=1.234, lo=-0.4, hi=2.9)) == '+1.23 [-0.40, +2.90]'


def test_fast_frechet_equals_the_package_distance_with_and_without_repeats():
    rng = np.random.default_rng(0)
    real = rng.normal(size=(300, 12)) @ rng.normal(size=(12, 12))
    fake = rng.normal(0.3, 1.2, size=(50, 12))
    mu, cov = feature_statistics(real)
    fast = FrechetToReference(mu, cov)
    prepared = fast.prepare(fake)
    assert fast.distance(prepared) == pytest.approx(
        frechet_distance(*feature_statistics(fake), mu, cov)['fd'], rel=1e-8)
    idx = rng.integers(0, 50, 50)  # repeated rows, as in a bootstrap draw
    assert fast.distance(prepared, idx) == pytest.approx(
        frechet_distance(*feature_statistics(fake[idx]), mu, cov)['fd'], rel=1e-8)
    few = fake[:8]  # fewer samples than dimensions: the Gram-matrix path
    assert fast.distance(fast.prepare(few)) == pytest.approx(
        frechet_distance(*feature_statistics(few), mu, cov)['fd'], rel=1e-6)
