"""kgan.metrics.frechet: hand values, singular covariances, the streaming metric, and the response to blur and noise."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from kgan.metrics.frechet import FrechetDistance, frechet_distance, frechet_distance_from_statistics
from tests.metrics.image_sets import BLURS, NOISES, degraded, features, strictly_increasing


def test_one_dimensional_gaussians():
    rng = np.random.default_rng(0)
    a, b = rng.normal(1.0, 2.0, size=(20000, 1)), rng.normal(-0.5, 0.5, size=(20000, 1))
    # with the sample statistics it is exact: (m₁ − m₂)² + s₁² + s₂² − 2 s₁ s₂
    by_hand = (a.mean() - b.mean()) ** 2 + (a.std(ddof=1) - b.std(ddof=1)) ** 2
    assert frechet_distance(a, b) == pytest.approx(by_hand, rel=1e-10)
    # and close to the population value (1 + 0.5)² + (2 − 0.5)² = 4.5
    assert frechet_distance(a, b) == pytest.approx(4.5, abs=0.1)


def test_diagonal_covariances_by_hand():
    mu1, mu2 = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 0.0])
    var1, var2 = np.array([1.0, 4.0, 9.0]), np.array([4.0, 1.0, 0.25])
    # ‖μ₁ − μ₂‖² = 1 + 0 + 4; Σ (√a − √b)² = 1 + 1 + 6.25
    assert frechet_distance_from_statistics(mu1, np.diag(var1), mu2, np.diag(var2)) == pytest.approx(13.25)
    # a common rotation of both Gaussians changes nothing
    q, _ = np.linalg.qr(np.random.default_rng(1).normal(size=(3, 3)))
    rotated = frechet_distance_from_statistics(q @ mu1, q @ np.diag(var1) @ q.T, q @ mu2, q @ np.diag(var2) @ q.T)
    assert rotated == pytest.approx(13.25)


def test_non_commuting_covariances_by_hand():
    # for 2×2 M with non-negative eigenvalues, Tr √M = √(Tr M + 2 √det M)
    sigma1, sigma2 = np.array([[2.0, 1.0], [1.0, 1.0]]), np.array([[1.0, 0.0], [0.0, 3.0]])
    assert not np.allclose(sigma1 @ sigma2, sigma2 @ sigma1)
    trace_sqrt = np.sqrt(np.trace(sigma1 @ sigma2) + 2 * np.sqrt(np.linalg.det(sigma1) * np.linalg.det(sigma2)))
    expected = 1.0 + np.trace(sigma1) + np.trace(sigma2) - 2 * trace_sqrt  # means 1 apart in one coordinate
    assert frechet_distance_from_statistics([0, 0], sigma1, [1, 0], sigma2) == pytest.approx(expected)
    # Σ₁ = 4 I: Tr √(4 Σ₂) = 2 (√3 + 1) for Σ₂ with eigenvalues 3 and 1
    assert frechet_distance_from_statistics([0, 0], 4 * np.eye(2), [0, 0], [[2, 1], [1, 2]]) == pytest.approx(
        8 - 4 * np.sqrt(3)
    )


def test_singular_covariances_give_zero_not_nan():
    # 10 samples of 32 features: rank-9 covariances whose zero eigenvalues round to ±1e-15 or so; their
    # square roots (~1e-8 each, 23 of them) are the error left, next to a trace of about 64
    x = np.random.default_rng(2).normal(size=(10, 32))
    assert abs(frechet_distance(x, x)) < 1e-5
    assert np.isfinite(frechet_distance(x, x[::-1] * 1.5))


def test_frechet_distance_of_a_set_against_itself_is_zero(face_features):
    real_features, _ = face_features
    assert abs(frechet_distance(real_features, real_features)) < 1e-10


@pytest.mark.parametrize("kind, amounts", [("blur", BLURS), ("noise", NOISES)])
def test_frechet_distance_grows_monotonically_with_blur_and_noise(face_features, kind, amounts):
    real_features, fake = face_features
    distances = [frechet_distance(real_features, features(degraded(fake, kind, amount))) for amount in amounts]
    assert strictly_increasing(distances), distances
    assert distances[-1] > 10 * distances[0]


def test_streaming_metric_equals_the_one_shot_function():
    rng = np.random.default_rng(3)
    # an offset mean, as real features have, so the sums-of-outer-products route is exercised
    real = rng.normal(5.0, 1.0, size=(230, 6)) @ rng.normal(size=(6, 6))
    fake = rng.normal(4.0, 1.5, size=(170, 6)) @ rng.normal(size=(6, 6))
    metric = FrechetDistance(num_features=6)
    assert np.isnan(metric.result().numpy())  # nothing seen yet
    for real_batch, fake_batch in zip(np.array_split(real, 3), np.array_split(fake, 3)):
        metric.update_state(real_batch, fake_batch)
    expected = frechet_distance(real, fake)
    assert metric.result().dtype == tf.float64
    assert metric.result().numpy() == pytest.approx(expected, rel=1e-9)

    # the two sets streamed separately, and unequal batches, in a compiled update
    separate = FrechetDistance(num_features=6)
    update = tf.function(separate.update_state)
    for batch in np.array_split(real, 4):
        update(real_features=batch)
    update(fake_features=tf.constant(fake, tf.float32))  # float32 in: accumulated in float64
    assert separate.result().numpy() == pytest.approx(frechet_distance(real, fake.astype(np.float32)), rel=1e-6)

    metric.reset_state()
    metric.update_state(real[:1], fake[:5])
    assert np.isnan(metric.result().numpy())  # one real sample: no covariance yet


def test_streaming_metric_config_round_trip():
    metric = FrechetDistance(num_features=5, name="fd_pool")
    config = metric.get_config()
    assert config["num_features"] == 5 and config["name"] == "fd_pool"
    clone = FrechetDistance.from_config(config)
    assert clone.num_features == 5 and clone.name == "fd_pool"
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(metric))
    assert type(restored) is FrechetDistance and restored.get_config() == config
    rng = np.random.default_rng(4)
    real, fake = rng.normal(size=(40, 5)), rng.normal(0.2, 1.0, size=(40, 5))
    restored.update_state(real, fake)
    assert restored.result().numpy() == pytest.approx(frechet_distance(real, fake), rel=1e-9)


def test_bad_inputs_are_rejected():
    with pytest.raises(ValueError, match="dimensions differ"):
        frechet_distance(np.zeros((5, 3)), np.zeros((5, 4)))
    with pytest.raises(ValueError, match="at least 2"):
        frechet_distance(np.zeros((1, 3)), np.zeros((5, 3)))
    with pytest.raises(ValueError, match="2D array"):
        frechet_distance(np.zeros(5), np.zeros(5))
    with pytest.raises(ValueError, match="means"):
        frechet_distance_from_statistics(np.zeros(2), np.eye(3), np.zeros(2), np.eye(2))
    with pytest.raises(ValueError, match=r"shape \(batch, 3\)"):
        FrechetDistance(num_features=3).update_state(np.zeros((4, 2)), np.zeros((4, 3)))
