"""The corruption ladder: exact rates, and the rules that turn it into words."""
import pytest
import torch

from projects.fixing_study.ladder import (changed_share, corrupt_tokens, is_monotonic,
                                          ladder_verdict, resolution)


def tokens(n=50, length=64, k=1024, seed=0):
    return torch.randint(0, k, (n, length), generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize('rate', [0.0, 0.02, 0.05, 0.1, 0.2, 0.4, 1.0])
def test_uniform_changes_exactly_the_rate(rate):
    clean = tokens()
    out = corrupt_tokens(clean, rate, 'uniform', 1024, torch.Generator().manual_seed(1))
    per_image = (out != clean).sum(1)
    assert (per_image == round(rate * 64)).all()
    assert out.min() >= 0 and out.max() < 1024
    assert changed_share(clean, out) == pytest.approx(round(rate * 64) / 64)


@pytest.mark.parametrize('rate', [0.05, 0.2, 0.4])
def test_shuffle_changes_the_rate_with_codes_of_the_same_image(rate):
    clean = tokens(k=6)  # few codes: many positions share one
    out = corrupt_tokens(clean, rate, 'shuffle', 6, torch.Generator().manual_seed(2))
    assert ((out != clean).sum(1) == round(rate * 64)).all()
    for a, b in zip(clean, out):
        assert set(b.tolist()) <= set(a.tolist())  # only codes the image already had


def test_shuffle_cannot_change_an_image_of_one_code():
    clean = torch.full((3, 16), 5)
    out = corrupt_tokens(clean, 0.5, 'shuffle', 8, torch.Generator().manual_seed(0))
    assert torch.equal(out, clean)


def test_corruption_is_reproducible_and_checks_its_arguments():
    clean = tokens()
    a = corrupt_tokens(clean, 0.1, 'uniform', 1024, torch.Generator().manual_seed(3))
    b = corrupt_tokens(clean, 0.1, 'uniform', 1024, torch.Generator().manual_seed(3))
    assert torch.equal(a, b)
    with pytest.raises(ValueError, match='mode'):
        corrupt_tokens(clean, 0.1, 'bogus', 1024)
    with pytest.raises(ValueError, match='rate'):
        corrupt_tokens(clean, 1.5, 'uniform', 1024)


def test_monotonicity_rule():
    assert is_monotonic([1.0, 2.0, 2.5, 9.0])
    assert not is_monotonic([1.0, 2.0, 2.0, 9.0])  # a flat step is not worse
    assert not is_monotonic([1.0, 0.5, 3.0])


def test_resolution_is_the_first_step_whose_interval_excludes_zero():
    rates = [0.0, 0.02, 0.05, 0.1]
    diffs = [dict(diff=0, lo=0, hi=0), dict(diff=0.1, lo=-0.2, hi=0.4),
             dict(diff=1.0, lo=0.3, hi=1.6), dict(diff=3.0, lo=2.0, hi=4.0)]
    assert resolution(rates, diffs) == 0.05
    assert resolution(rates[:2], diffs[:2]) is None


def iv(d, lo, hi):
    return dict(diff=d, lo=lo, hi=hi)


def test_validity_rule_is_monotonic_from_the_resolution_up():
    from projects.fixing_study.ladder import valid_above_resolution
    rates = [0.0, 0.02, 0.05, 0.1]
    clean = iv(0, 0, 0)
    # a dip within the noise below the resolution: valid
    dip = [clean, iv(-0.1, -1.2, 1.0), iv(2.6, 0.6, 4.7), iv(11.7, 7.9, 15.5)]
    assert valid_above_resolution(rates, [83.5, 83.4, 86.2, 95.2], dip, 0.05)
    # a significant inversion below the resolution: not valid
    drop = [clean, iv(-2.0, -3.0, -1.0), iv(2.6, 0.6, 4.7), iv(11.7, 7.9, 15.5)]
    assert not valid_above_resolution(rates, [83.5, 81.5, 86.2, 95.2], drop, 0.05)
    # not monotonic above the resolution: not valid
    above = [clean, iv(0.1, -1, 1), iv(2.6, 0.6, 4.7), iv(1.0, 0.2, 1.8)]
    assert not valid_above_resolution(rates, [83.5, 83.6, 86.2, 84.5], above, 0.05)
    # nothing resolved: not valid
    assert not valid_above_resolution(rates, [1, 2, 3, 4], [clean] * 4, None)


def test_verdict_says_not_valid_and_names_the_failing_mode():
    steps = [dict(fd_tok_vs_clean=iv(0, 0, 0)), dict(fd_tok_vs_clean=iv(-0.12, -1.29, 1.05)),
             dict(fd_tok_vs_clean=iv(2.65, 0.58, 4.72))]
    rates = [0.0, 0.02, 0.05]
    good = dict(valid=True, monotonic=True, resolution=0.02, steps=steps)
    dipped = dict(valid=True, monotonic=False, resolution=0.05, steps=steps)
    bad = dict(valid=False, monotonic=False, resolution=None, steps=steps)
    text = ladder_verdict('rgb216', {'uniform': good, 'shuffle': bad}, rates)
    assert 'not valid in the rgb216 space' in text and '`shuffle`' in text
    assert 'no direction' in text and '`uniform`' not in text.split('(')[-1]
    ok = ladder_verdict('vq1024', {'uniform': dipped, 'shuffle': good}, rates)
    assert 'is valid in the vq1024 space' in ok
    assert '`uniform`: 5% of tokens' in ok and '`shuffle`: 2% of tokens' in ok
    assert '`uniform` 2%: -0.12 [-1.29, +1.05]' in ok and 'not strictly monotonic' in ok


@pytest.mark.parametrize('rate', [0.0, 0.1, 0.5, 1.0])
def test_corrupt_within_changes_the_rate_of_the_allowed_positions_only(rate):
    from projects.fixing_study.ladder import corrupt_within
    gen = torch.Generator().manual_seed(1)
    tokens = torch.randint(0, 16, (20, 64), generator=gen)
    positions = torch.rand(20, 64, generator=gen) < torch.linspace(0.1, 0.9, 20)[:, None]
    out = corrupt_within(tokens, rate, positions, 16, torch.Generator().manual_seed(0))
    changed = out != tokens
    assert not bool(changed[~positions].any())
    expected = (rate * positions.sum(1).double()).round().long()
    assert torch.equal(changed.sum(1), expected)
    assert int(out.max()) < 16 and int(out.min()) >= 0


def test_a_step_is_the_mean_of_its_draws(tmp_path):
    """One unlucky draw below the 0% step breaks a single-draw ladder, not the mean of three."""
    import numpy as np
    from projects.fixing_study.analysis import Scorer
    from projects.fixing_study.cache import Store
    from projects.fixing_study.report import ladder_summary
    rng = np.random.default_rng(0)
    ref_feats = rng.normal(size=(400, 4))
    ref = dict(ref_rt_features=ref_feats, ref_real_features=ref_feats)
    scorer = Scorer(ref, pr_size=60, k=3)
    base = rng.normal(size=(60, 4))

    def step(shift, changed):
        return dict(features=base + shift, logits=np.zeros((60, 2)), labels=np.zeros(60, int),
                    changed=np.array(changed))
    clean = step(0.0, 0.0)
    # the second step's draws: one below the clean step's distance, the mean above it
    drift = ref_feats.mean(0) - base.mean(0)  # towards the reference: a lower FD
    low = step(0.3 * drift, 0.1)
    highs = [step(-0.4 * drift, 0.1), step(-0.5 * drift, 0.1)]
    top = step(-1.5 * drift, 0.2)
    store = Store(str(tmp_path))
    one = ladder_summary(store, scorer, 'r', {'uniform': [[clean], [low], [top]]},
                         [0.0, 0.1, 0.2], 4)
    assert not one['modes']['uniform']['monotonic']
    mean = ladder_summary(store, scorer, 'r', {'uniform': [[clean], [low] + highs, [top]]},
                          [0.0, 0.1, 0.2], 4)
    steps = mean['modes']['uniform']['steps']
    assert mean['modes']['uniform']['monotonic'] and steps[1]['draws'] == 3
    assert abs(steps[1]['fd_tok'] - np.mean(steps[1]['fd_tok_draws'])) < 1e-9
    assert min(steps[1]['fd_tok_draws']) < steps[0]['fd_tok'] < steps[1]['fd_tok']
