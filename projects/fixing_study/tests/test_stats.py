"""The study's statistics: paired jackknife intervals, the words rule, the fast FD."""
import numpy as np
import pytest

from bigfix_mm.evaluation.frechet import feature_statistics, frechet_distance
from projects.fixing_study.stats import (NO_DIFFERENCE, FrechetToReference, direction,
                                         format_interval, jackknife_groups, jackknife_interval,
                                         paired_jackknife, t_interval, verdict)


def test_groups_leave_out_one_group_of_every_seed_in_turn():
    groups = jackknife_groups([6, 4], per_group=2)
    assert len(groups) == 4
    # seed 0 (samples 0-5) dealt into groups 0, 1; seed 1 (samples 6-9) into 2, 3
    assert groups[0].tolist() == [1, 3, 5, 6, 7, 8, 9]
    assert groups[3].tolist() == [0, 1, 2, 3, 4, 5, 6, 8]
    left_out = [sorted(set(range(10)) - set(g.tolist())) for g in groups]
    assert sorted(sum(left_out, [])) == list(range(10))  # every sample left out once


def test_jackknife_se_of_a_mean_is_the_textbook_one():
    x = np.random.default_rng(0).normal(size=60)
    leave = [np.delete(x, i).mean() for i in range(60)]  # delete-one: SE = s / sqrt(n)
    iv = jackknife_interval(x.mean(), leave)
    assert iv['se'] == pytest.approx(x.std(ddof=1) / np.sqrt(60), rel=1e-10)
    assert iv['lo'] < x.mean() < iv['hi']
    with pytest.raises(ValueError, match='2 jackknife groups'):
        jackknife_interval(0.0, [1.0])


def test_pairing_cancels_the_shared_noise():
    """b = a + 0.1 + small noise: only a paired interval sees the shift."""
    rng = np.random.default_rng(0)
    a = rng.normal(0, 1, 400)
    b = a + 0.1 + rng.normal(0, 0.05, 400)
    groups = jackknife_groups([400], per_group=20)
    paired = paired_jackknife(a.mean(), b.mean(), [a[g].mean() for g in groups],
                              [b[g].mean() for g in groups])
    assert paired['diff'] == pytest.approx(-0.1, abs=0.01)
    assert paired['hi'] < 0 and direction(paired) == -1
    shuffled = jackknife_groups([400], per_group=20)
    rng.shuffle(shuffled)  # groups of b no longer those of a: the shift drowns
    unpaired = paired_jackknife(a.mean(), b.mean(), [a[g].mean() for g in groups],
                                [b[g].mean() for g in shuffled])
    assert unpaired['hi'] - unpaired['lo'] > 5 * (paired['hi'] - paired['lo'])
    with pytest.raises(ValueError, match='paired leave-out'):
        paired_jackknife(0, 0, [1, 2], [1, 2, 3])


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
