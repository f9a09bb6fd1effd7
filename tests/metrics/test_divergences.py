"""kgan.metrics.divergences: JS and the earth mover's distance by hand, and on the book's two segments."""

import numpy as np
import pytest

from kgan.datasets import parallel_lines
from kgan.metrics import histogram_2d, js_divergence, wasserstein_1d


def test_js_divergence_hand_values():
    assert js_divergence([0.5, 0.5], [0.5, 0.5]) == pytest.approx(0.0)
    assert js_divergence([1, 0], [0, 1]) == pytest.approx(np.log(2))
    # p = (1, 0), q = (½, ½): m = (¾, ¼); ½·log(4/3) + ½·(½·log(2/3) + ½·log 2)
    expected = 0.5 * np.log(4 / 3) + 0.5 * (0.5 * np.log(0.5 / 0.75) + 0.5 * np.log(0.5 / 0.25))
    assert js_divergence([1, 0], [0.5, 0.5]) == pytest.approx(expected)
    with pytest.raises(ValueError, match="same shape"):
        js_divergence([1, 0], [1, 0, 0])


def test_wasserstein_1d_hand_values():
    assert wasserstein_1d([0, 1, 2], [2, 3, 4]) == pytest.approx(2.0)
    assert wasserstein_1d([3, 0, 1], [1, 0, 3]) == pytest.approx(0.0)  # order does not matter
    assert wasserstein_1d([0, 0], [1, -1]) == pytest.approx(1.0)


@pytest.mark.parametrize("theta", [-0.8, 0.3, 1.0])
def test_books_parallel_lines_js_is_log2_and_em_is_abs_theta(theta):
    p, q = parallel_lines(theta, 2000, seed=0)
    extent = ((-1.05, 1.05), (0, 1))
    js = js_divergence(histogram_2d(p, (42, 10), extent), histogram_2d(q, (42, 10), extent))
    assert js == pytest.approx(np.log(2))
    assert wasserstein_1d(p[:, 0], q[:, 0]) == pytest.approx(abs(theta))
    p0, q0 = parallel_lines(0.0, 2000, seed=0)
    assert js_divergence(histogram_2d(p0, (42, 10), extent), histogram_2d(q0, (42, 10), extent)) < 0.01
