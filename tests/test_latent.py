import numpy as np
import pytest

from kgan.latent import interpolate, slerp


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
