"""kgan.metrics.kid: the unbiased MMD² by hand, its unbiasedness, its seeds, and its response to blur and noise."""

import numpy as np
import pytest

from kgan.metrics.kid import kernel_distance, mmd2_unbiased, polynomial_kernel
from tests.metrics.image_sets import BLURS, NOISES, degraded, features, strictly_increasing


def test_polynomial_kernel_by_hand():
    # d = 2: k(a, b) = (a·b / 2 + 1)³
    x = np.array([[1.0, 0.0], [0.0, 1.0]])
    y = np.array([[1.0, 1.0], [0.0, 0.0], [2.0, -2.0]])
    expected = [[1.5**3, 1.0, 2.0**3], [1.5**3, 1.0, 0.0]]
    np.testing.assert_allclose(polynomial_kernel(x, y), expected)


def test_unbiased_mmd2_by_hand():
    # d = 1, k(a, b) = (ab + 1)³. X = {0, 1, 2}: off-diagonal k = 1, 1, 27, each twice → 58 / (3·2);
    # Y = {1, −1}: k(1, −1) = 0; cross: k(0, ·) = 1, 1; k(1, ·) = 8, 0; k(2, ·) = 27, −1 → 36, times 2/(3·2)
    x, y = np.array([[0.0], [1.0], [2.0]]), np.array([[1.0], [-1.0]])
    assert mmd2_unbiased(x, y) == pytest.approx(58 / 6 + 0 - 36 / 3)  # −7/3: unbiased estimates can be < 0

    # d = 2, X = {(1, 0), (0, 1)}, Y = {(1, 1), (0, 0)}: within X k = 1, within Y k = 1,
    # cross 3.375 + 1 + 3.375 + 1 = 8.75 → 1 + 1 − 2·8.75/4 = −2.375
    x, y = np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([[1.0, 1.0], [0.0, 0.0]])
    assert mmd2_unbiased(x, y) == pytest.approx(-2.375)
    # every subset of 2 out of 2 rows is the whole set: mean −2.375, spread 0
    result = kernel_distance(x, y, subsets=5, subset_size=2)
    assert result.mean == pytest.approx(-2.375) and result.std == pytest.approx(0.0, abs=1e-12)
    mean, std = result  # a plain (mean, std) pair too
    assert (mean, std) == (result.mean, result.std)


def test_subset_size_is_capped_at_the_smaller_set():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(30, 3)), rng.normal(0.5, 1.0, size=(30, 3))
    # subsets of all 30 rows are permutations of the sets: every estimate is the full-sample one
    result = kernel_distance(x, y, subsets=4, subset_size=1000)
    assert result.mean == pytest.approx(mmd2_unbiased(x, y)) and result.std < 1e-12
    uneven = kernel_distance(x, rng.normal(size=(80, 3)), subsets=4, subset_size=1000)
    assert uneven.std > 0  # 30 of the 80 change from subset to subset


def v_statistic(x, y):
    """The plug-in (biased) MMD²: the diagonal k(xᵢ, xᵢ) terms are kept."""
    return polynomial_kernel(x, x).mean() + polynomial_kernel(y, y).mean() - 2 * polynomial_kernel(x, y).mean()


def test_unbiased_estimate_averages_to_zero_on_one_distribution_and_the_v_statistic_does_not():
    rng = np.random.default_rng(1)
    unbiased, biased = [], []
    for _ in range(400):  # independent pairs of samples of 20 from one 4D Gaussian
        x, y = rng.normal(size=(20, 4)), rng.normal(size=(20, 4))
        unbiased.append(kernel_distance(x, y, subsets=1, subset_size=20).mean)
        biased.append(v_statistic(x, y))
    unbiased_se = np.std(unbiased) / np.sqrt(len(unbiased))
    assert abs(np.mean(unbiased)) < 3 * unbiased_se
    # the V-statistic's bias is about 2 (E k(x, x) − E k(x, x')) / m = 2 (11.5 − 1.75) / 20 ≈ 1
    assert np.mean(biased) > 0.5 and np.mean(biased) > 20 * np.std(biased) / np.sqrt(len(biased))


def test_subset_average_on_one_distribution_is_near_zero_and_positive_across_two():
    rng = np.random.default_rng(2)
    pool_x, pool_y = rng.normal(size=(5000, 4)), rng.normal(size=(5000, 4))
    same = kernel_distance(pool_x, pool_y, subsets=200, subset_size=50, seed=0)
    assert abs(same.mean) < 3 * same.std / np.sqrt(200)
    shifted = kernel_distance(pool_x, pool_y + 0.5, subsets=200, subset_size=50, seed=0)
    assert shifted.mean > 10 * shifted.std / np.sqrt(200)


def test_seeds_fix_the_value():
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(300, 8)), rng.normal(0.3, 1.0, size=(300, 8))
    first = kernel_distance(x, y, subsets=20, subset_size=100, seed=7)
    assert kernel_distance(x, y, subsets=20, subset_size=100, seed=7) == first
    other = kernel_distance(x, y, subsets=20, subset_size=100, seed=8)
    assert other.mean != first.mean and other.mean == pytest.approx(first.mean, rel=0.2)


def test_kernel_distance_of_a_set_against_itself_is_near_zero(face_features):
    real_features, fake = face_features
    itself = kernel_distance(real_features, real_features, subsets=20, subset_size=500).mean
    # subsets of one set share about a quarter of their points, whose k(x, x) terms in the cross sum pull
    # the estimate slightly below 0 (by about 2 (E k(x, x) − E k(x, x')) / N): small next to a mild blur
    mild_blur = kernel_distance(real_features, features(degraded(fake, "blur", 0.5)), subsets=20, subset_size=500)
    assert abs(itself) < 0.2 * mild_blur.mean


@pytest.mark.parametrize("kind, amounts", [("blur", BLURS), ("noise", NOISES)])
def test_kernel_distance_grows_monotonically_with_blur_and_noise(face_features, kind, amounts):
    real_features, fake = face_features
    means = [
        kernel_distance(real_features, features(degraded(fake, kind, amount)), subsets=20, subset_size=500).mean
        for amount in amounts
    ]
    assert strictly_increasing(means), means
    assert abs(means[0]) < 0.1 * means[-1]  # two draws of one distribution: ≈ 0 on this scale


@pytest.mark.parametrize(
    "real, fake, options, message",
    [
        (np.zeros((5, 3)), np.zeros((5, 4)), {}, "dimensions differ"),
        (np.zeros(5), np.zeros((5, 1)), {}, "2D array"),
        (np.zeros((1, 3)), np.zeros((5, 3)), {}, "at least 2"),
        (np.zeros((5, 3)), np.zeros((5, 3)), {"subsets": 0}, "subsets"),
        (np.zeros((5, 3)), np.zeros((5, 3)), {"subset_size": 1}, "subset_size"),
    ],
)
def test_bad_inputs_are_rejected(real, fake, options, message):
    with pytest.raises(ValueError, match=message):
        kernel_distance(real, fake, **options)
