"""Improved precision / recall on constructed point sets."""
import numpy as np
import pytest

from bigfix_mm.evaluation.precision_recall import knn_radii, manifold_coverage, precision_recall


def cloud(n, centre, seed, dim=8):
    return np.random.default_rng(seed).normal(size=(n, dim)) + centre


def test_identical_sets_score_one_and_one():
    x = cloud(200, 0.0, 0)
    assert precision_recall(x, x.copy(), k=3) == (1.0, 1.0)


def test_disjoint_sets_score_zero_and_zero():
    assert precision_recall(cloud(200, 0.0, 0), cloud(200, 100.0, 1), k=3) == (0.0, 0.0)


def test_a_collapsed_sample_set_keeps_precision_and_loses_recall():
    ref = cloud(300, 0.0, 0)
    collapsed = ref[0] + 1e-3 * cloud(30, 0.0, 2)  # every sample at one real point
    p, r = precision_recall(collapsed, ref, k=3)
    assert p == 1.0 and r < 0.05


def test_radii_are_the_kth_other_neighbour():
    x = np.array([[0.0], [1.0], [3.0], [7.0]])
    assert knn_radii(x, k=1).tolist() == [1.0, 1.0, 2.0, 4.0]
    assert knn_radii(x, k=2).tolist() == [3.0, 2.0, 3.0, 6.0]
    with pytest.raises(ValueError, match='more than k points'):
        knn_radii(x, k=4)


def test_bootstrap_indices_recompute_from_indicators():
    ref, fake = cloud(100, 0.0, 0), cloud(80, 0.5, 1)
    cov = manifold_coverage(fake, ref, k=3)
    idx = np.arange(40)
    sub = manifold_coverage(fake, ref, k=3)
    # precision over a subset is the mean of that subset's indicators
    assert cov.precision(idx) == pytest.approx(sub.inside_reference[:40].mean())
    # recall over a subset never exceeds recall over all samples (fewer balls)
    assert cov.recall(idx) <= cov.recall()
    # repeats do not change recall (a ball counts once)
    assert cov.recall(np.concatenate([idx, idx])) == cov.recall(idx)
