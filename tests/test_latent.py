"""kgan.latent: the one latent draw, generating from it, and slerp."""

import numpy as np
import pytest

from kgan.latent import generate_samples, interpolate, sample_latent, slerp


def test_slerp_ends_and_great_circle():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=16), rng.normal(size=16)
    a, b = a / np.linalg.norm(a), b / np.linalg.norm(b)
    np.testing.assert_allclose(slerp(a, b, 0.0), a, atol=1e-12)
    np.testing.assert_allclose(slerp(a, b, 1.0), b, atol=1e-12)
    omega = np.arccos(np.dot(a, b))
    for t in (0.25, 0.5, 0.8):
        point = slerp(a, b, t)
        assert np.linalg.norm(point) == pytest.approx(1.0)  # stays on the unit sphere
        assert np.arccos(np.clip(np.dot(a, point), -1, 1)) == pytest.approx(t * omega)  # angle linear in t
    # the straight line's midpoint dips inside the sphere; slerp's does not
    assert np.linalg.norm((a + b) / 2) < 0.99 * np.linalg.norm(slerp(a, b, 0.5))


def test_parallel_codes_fall_back_to_a_line_and_interpolate_shapes():
    a = np.ones(4)
    np.testing.assert_allclose(slerp(a, 2 * a, 0.5), 1.5 * a)
    path = interpolate(np.zeros(3) + 1, np.array([1.0, -1.0, 0.5]), 7)
    assert path.shape == (7, 3) and path.dtype == np.float32


def test_sample_latent_is_standard_normal_and_a_pure_function_of_the_seed():
    z = sample_latent(4000, 8, 3).numpy()
    assert z.shape == (4000, 8) and z.dtype == np.float32
    assert abs(z.mean()) < 0.03 and abs(z.std() - 1) < 0.03
    np.testing.assert_array_equal(sample_latent(4000, 8, 3).numpy(), z)
    assert not np.allclose(sample_latent(4000, 8, 4).numpy(), z)
    np.testing.assert_array_equal(sample_latent(10, 8, 3).numpy(), z[:10])  # a prefix of the same draw


def test_generate_samples_is_seeded_and_uses_the_generator():
    import keras

    inputs = keras.Input((3,))
    generator = keras.Model(inputs, keras.layers.Dense(2, use_bias=False, kernel_initializer="ones")(inputs))
    samples = generate_samples(generator, 10, seed=5)
    z = sample_latent(10, 3, 5).numpy()
    np.testing.assert_allclose(samples, np.repeat(z.sum(axis=1, keepdims=True), 2, axis=1), rtol=1e-5)
    assert samples.shape == (10, 2) and samples.dtype == np.float32
    np.testing.assert_allclose(generate_samples(generator, 10, seed=5, batch_size=3), samples, rtol=1e-6)
