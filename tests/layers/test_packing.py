"""kgan.layers.PackSamples: a numpy reshape, its batch check, and the layer contract."""

import numpy as np
import pytest
import tensorflow as tf

from kgan.layers import PackSamples
from tests.helpers import run_layer_test


def test_pack_layer_is_a_numpy_reshape():
    x = np.arange(24, dtype="float32").reshape(12, 2)
    for pack in (1, 2, 3, 4):
        out = np.asarray(PackSamples(pack)(x))
        np.testing.assert_array_equal(out, x.reshape(-1, 2 * pack))
    # row i holds samples i·m … i·m + m − 1, in order
    np.testing.assert_array_equal(np.asarray(PackSamples(3)(x))[1], np.concatenate(x[3:6]))
    assert PackSamples(4).compute_output_shape((12, 2)) == (3, 8)
    with pytest.raises(ValueError, match="pack must be at least 1"):
        PackSamples(0)


def test_pack_layer_rejects_a_batch_it_cannot_divide():
    x = np.zeros((10, 2), "float32")
    with pytest.raises(ValueError, match="10 is not divisible by pack=4"):
        PackSamples(4)(x)
    # inside a graph the batch is unknown until run time: the same message, as an op error
    packed = tf.function(PackSamples(4), input_signature=[tf.TensorSpec((None, 2), tf.float32)])
    assert packed(np.zeros((8, 2), "float32")).shape == (2, 8)
    with pytest.raises(tf.errors.InvalidArgumentError, match="not divisible by pack=4"):
        packed(x)


def test_layer_contract(tmp_path):
    run_layer_test(lambda: PackSamples(2), (3,), {"pack": 2}, tmp_path=tmp_path)
