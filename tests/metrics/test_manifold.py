"""kgan.metrics.manifold: precision/recall and density/coverage on hand-placed points, and on degraded faces."""

import numpy as np
import pytest

from kgan.metrics import manifold
from kgan.metrics.manifold import density_coverage, kth_neighbour_distances, precision_recall
from tests.metrics.image_sets import BLURS, NOISES, degraded, features, strictly_increasing

# k = 1. Real radii (distance to the nearest other real point): 2, 2, 3, 3.
REAL = np.array([[0, 0], [2, 0], [10, 0], [10, 3]], float)
# Fake radii: 2, 2, 2 and 15 for the outlier at (20, 0).
FAKE = np.array([[1, 0], [3, 0], [5, 0], [20, 0]], float)


def test_kth_neighbour_distances_by_hand():
    np.testing.assert_allclose(kth_neighbour_distances(REAL, 1), [2, 2, 3, 3])
    np.testing.assert_allclose(kth_neighbour_distances(REAL, 2), [10, 8, 8, np.sqrt(73)])
    np.testing.assert_allclose(kth_neighbour_distances(FAKE, 1), [2, 2, 2, 15])
    # a duplicate is a neighbour at distance 0; the point itself is not
    np.testing.assert_allclose(kth_neighbour_distances([[0.0], [0.0], [5.0]], 1), [0, 0, 5])


def test_precision_recall_by_hand():
    # precision: (1, 0) is in (0, 0)'s ball and (3, 0) in (2, 0)'s; (5, 0) is 3 from (2, 0) (radius 2) and
    # 5 from (10, 0) (radius 3); (20, 0) is far from everything → 2/4.
    # recall: (0, 0) and (2, 0) lie within 1 of (1, 0) (radius 2); (10, 0) and (10, 3) lie within 10 and
    # √109 of the outlier (20, 0), whose radius is 15 → 4/4: one fake outlier inflates recall
    assert precision_recall(REAL, FAKE, k=1) == (0.5, 1.0)


def test_density_coverage_by_hand():
    # real balls holding each fake point: (1, 0) → (0, 0) and (2, 0); (3, 0) → (2, 0); (5, 0), (20, 0) → none:
    # density = 3 / (k·M) = 3/4. Coverage: (0, 0) and (2, 0) have a fake point within 1 (radius 2); the nearest
    # fake point to (10, 0) is 5 away and to (10, 3) √34 away, both radius 3 → 2/4. The outlier does not help.
    assert density_coverage(REAL, FAKE, k=1) == (0.75, 0.5)


def test_default_k_on_a_line():
    real = np.arange(5.0)[:, None]  # k = 3 radii: 3, 2, 2, 2, 3
    fake = np.array([[-2.5], [2.5], [7.5], [9.0]])
    # -2.5 is 2.5 from 0 (radius 3): in; 2.5 is in every ball; 7.5 is 3.5 from 4 (radius 3): out; 9 is out
    assert precision_recall(real, fake).precision == 0.5
    # balls holding each fake point: 1 (0's), 5, 0, 0 → density 6 / (3·4); every real point is within its
    # radius of 2.5 (0 at 2.5 ≤ 3, 1 at 1.5 ≤ 2, ...) → coverage 1
    assert density_coverage(real, fake, k=3) == (0.5, 1.0)


def test_balls_are_closed():
    real = np.array([[0, 0], [3, 4], [100, 100]], float)  # (0, 0) has radius 5 for k = 1
    fake = np.array([[-5, 0], [-5.01, 0]])  # exactly on the sphere, and just outside
    assert precision_recall(real, fake, k=1).precision == 0.5
    assert density_coverage(real, fake, k=1) == (0.5, 1 / 3)  # (3, 4)'s ball is 8.9 from (-5, 0)


def test_a_set_against_itself():
    x = np.random.default_rng(0).normal(size=(300, 5))
    assert precision_recall(x, x) == (1.0, 1.0)
    # every point lies in its own ball and, without ties, in k others on average: density 1 + 1/k
    density, coverage = density_coverage(x, x)
    assert coverage == 1.0 and density == pytest.approx(1 + 1 / 5)


def test_blocks_give_the_same_answer(monkeypatch):
    rng = np.random.default_rng(1)
    real, fake = rng.normal(size=(200, 4)), rng.normal(0.3, 1.0, size=(150, 4))
    whole = precision_recall(real, fake), density_coverage(real, fake)
    monkeypatch.setattr(manifold, "_BLOCK_BYTES", 8 * 200 * 7)  # 7 rows at a time
    assert (precision_recall(real, fake), density_coverage(real, fake)) == whole


@pytest.mark.parametrize("kind, amounts", [("blur", BLURS), ("noise", NOISES)])
def test_fidelity_and_diversity_fall_with_blur_and_noise(face_features, kind, amounts):
    real_features, fake = face_features
    rows = []
    for amount in amounts:
        fake_features = features(degraded(fake, kind, amount))
        rows.append(precision_recall(real_features, fake_features) + density_coverage(real_features, fake_features))
    precision, recall, density, coverage = np.array(rows).T
    assert precision[0] > 0.9 and recall[0] > 0.9 and coverage[0] > 0.9 and 0.9 < density[0] < 1.1
    for name, values in [("precision", precision), ("recall", recall), ("density", density), ("coverage", coverage)]:
        assert strictly_increasing(-values), (name, values)
        assert values[-1] < 0.1, (name, values)


@pytest.mark.parametrize(
    "real, fake, k, message",
    [
        (np.zeros((5, 2)), np.zeros((5, 3)), 3, "dimensions differ"),
        (np.zeros((3, 2)), np.zeros((5, 2)), 3, "more than k = 3"),
        (np.zeros((5, 2)), np.zeros((3, 2)), 3, "more than k = 3"),
        (np.zeros(5), np.zeros(5), 3, "2D array"),
        (np.zeros((5, 2)), np.zeros((5, 2)), 0, "positive integer"),
    ],
)
def test_bad_inputs_are_rejected(real, fake, k, message):
    with pytest.raises(ValueError, match=message):
        precision_recall(real, fake, k=k)


def test_density_coverage_needs_enough_real_samples_only():
    with pytest.raises(ValueError, match="real_features needs more than k = 5"):
        density_coverage(np.zeros((5, 2)), np.zeros((10, 2)))
    assert density_coverage(np.arange(6.0)[:, None], [[2.5]]).coverage == pytest.approx(1.0)
