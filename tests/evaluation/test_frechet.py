import numpy as np
import pytest
import torch
from scipy import linalg

from bigfix_mm.evaluation.frechet import (feature_statistics, frechet_distance, load_statistics,
                                          save_statistics)


def reference_fd(mu1, c1, mu2, c2):
    """Textbook formula with scipy's general matrix square root."""
    covmean = linalg.sqrtm(c1 @ c2).real
    return float((mu1 - mu2) @ (mu1 - mu2) + np.trace(c1 + c2 - 2 * covmean))


def test_identical_sets_give_zero_and_shifts_grow():
    rng = np.random.default_rng(0)
    feats = rng.normal(size=(500, 8)) @ rng.normal(size=(8, 8))
    mu, cov = feature_statistics(feats)
    assert abs(frechet_distance(mu, cov, mu, cov)['fd']) < 1e-8
    small = frechet_distance(*feature_statistics(feats + 0.1), mu, cov)['fd']
    large = frechet_distance(*feature_statistics(feats + 1.0), mu, cov)['fd']
    assert small == pytest.approx(8 * 0.01, rel=1e-6)  # pure mean shift: |0.1|^2 per dimension
    assert large > small > 0
    scaled = frechet_distance(*feature_statistics(feats * 2.0), mu, cov)
    assert scaled['mean'] == pytest.approx(float(mu @ mu), rel=1e-6)
    assert scaled['cov'] > 0


def test_matches_textbook_formula():
    rng = np.random.default_rng(1)
    a = rng.normal(size=(300, 6))
    b = rng.normal(size=(300, 6)) @ rng.normal(size=(6, 6)) + 0.5
    s1, s2 = feature_statistics(torch.from_numpy(a)), feature_statistics(b)
    assert frechet_distance(*s1, *s2)['fd'] == pytest.approx(reference_fd(*s1, *s2), rel=1e-6)


def test_rank_deficient_covariances_are_fine():
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(5, 40)), rng.normal(size=(5, 40))  # N < D
    out = frechet_distance(*feature_statistics(a), *feature_statistics(b))
    assert np.isfinite(out['fd']) and out['fd'] > 0


def test_bad_shapes_raise():
    with pytest.raises(ValueError, match='N >= 2'):
        feature_statistics(np.zeros((1, 3)))
    with pytest.raises(ValueError, match='do not match'):
        frechet_distance(np.zeros(2), np.eye(2), np.zeros(3), np.eye(3))


def test_statistics_round_trip_and_meta_check(tmp_path):
    path = str(tmp_path / 'sub' / 'stats.npz')
    save_statistics(path, np.ones(3), np.eye(3), dict(network='x', n=5))
    mean, cov, meta = load_statistics(path, dict(network='x'))
    assert np.array_equal(mean, np.ones(3)) and np.array_equal(cov, np.eye(3)) and meta['n'] == 5
    with pytest.raises(ValueError, match='real_stats=.*network'):
        load_statistics(path, dict(network='y'), option='real_stats')
