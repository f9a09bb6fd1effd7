"""kgan.layers.pixel_norm.PixelNormalization: hand values, a numpy reference, mixed precision, the layer contract."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from kgan.layers.pixel_norm import PixelNormalization
from tests.helpers import normal, run_layer_test


def test_hand_values_each_pixel_on_its_own():
    # one sample, a 1×3 map of 2 channels:
    #   [3, 4]: mean square (9 + 16) / 2 = 12.5, rms 3.5355 → [0.84853, 1.13137]
    #   [0, 2]: mean square (0 + 4) / 2 = 2,     rms 1.4142 → [0, 1.41421]
    #   [0, 0]: stays [0, 0] (ε = 1e-8 keeps 0 / sqrt(0 + ε) finite)
    x = np.array([[[[3.0, 4.0], [0.0, 2.0], [0.0, 0.0]]]], "float32")
    expected = [[[[0.848528, 1.131371], [0.0, 1.414214], [0.0, 0.0]]]]
    np.testing.assert_allclose(PixelNormalization()(x).numpy(), expected, rtol=1e-5, atol=1e-7)


def test_matches_numpy_and_gives_unit_mean_square_per_pixel():
    x = normal((3, 4, 5, 6), seed=2, scale=7.0)
    outputs = PixelNormalization()(x).numpy()
    reference = x / np.sqrt((x.astype("float64") ** 2).mean(axis=-1, keepdims=True) + 1e-8)
    np.testing.assert_allclose(outputs, reference, rtol=1e-5)
    np.testing.assert_allclose((outputs**2).mean(axis=-1), 1.0, rtol=1e-5)


@pytest.mark.parametrize("policy, low", [("mixed_float16", "float16"), ("mixed_bfloat16", "bfloat16")])
def test_mixed_precision_computes_in_float32(policy, low):
    layer = PixelNormalization(dtype=policy)
    # [300, 400]: the squares 90,000 and 160,000 overflow float16 (max 65,504); in float32 the mean square
    # is 125,000, rms 353.55, output [0.84853, 1.13137] — as for [3, 4].
    large = layer(np.array([[[[300.0, 400.0]]]], "float32"))
    assert large.dtype == low
    np.testing.assert_allclose(tf.cast(large, "float32").numpy(), [[[[0.848528, 1.131371]]]], rtol=1e-2)
    # An all-zero map: ε = 1e-8 is 0 in float16, so a float16 computation gives 0 / 0 = NaN.
    zeros = tf.Variable(tf.zeros((2, 3, 3, 4)))
    with tf.GradientTape() as tape:
        outputs = layer(zeros)
        total = tf.reduce_sum(tf.cast(outputs, "float32"))
    np.testing.assert_array_equal(tf.cast(outputs, "float32").numpy(), 0.0)
    gradient = tape.gradient(total, zeros).numpy()
    # At x = 0 the mean square's own gradient (2x / C) is 0, so d out_i / d x_i = 1 / sqrt(ε) = 1e4.
    assert np.all(np.isfinite(gradient))
    np.testing.assert_allclose(gradient, 1e4, rtol=1e-2)


def test_bad_epsilon_is_a_clear_error():
    with pytest.raises(ValueError, match="epsilon must be positive, got 0"):
        PixelNormalization(epsilon=0)


def test_layer_contract(tmp_path):
    keras.utils.set_random_seed(0)
    run_layer_test(lambda: PixelNormalization(epsilon=1e-6), (4, 4, 3), {"epsilon": 1e-6}, tmp_path=tmp_path)
