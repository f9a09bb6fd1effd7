"""kgan.layers.MinibatchDiscrimination and MinibatchStdDev against numpy references, and the layer contract."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from kgan.layers import MinibatchDiscrimination, MinibatchStdDev
from tests.helpers import normal, run_layer_test


@pytest.fixture(autouse=True)
def seeded():
    keras.utils.set_random_seed(0)


def minibatch_discrimination_reference(x, kernel, num_kernels, kernel_dim):
    rows = (x.astype("float64") @ kernel).reshape(len(x), num_kernels, kernel_dim)
    closeness = np.zeros((len(x), num_kernels))
    for i in range(len(x)):
        for j in range(len(x)):
            for b in range(num_kernels):
                closeness[i, b] += np.exp(-np.abs(rows[i, b] - rows[j, b]).sum())
    return np.concatenate([x, closeness], axis=-1)


@pytest.mark.parametrize("batch", [5, 1])
def test_minibatch_discrimination_matches_reference(batch):
    layer = MinibatchDiscrimination(num_kernels=3, kernel_dim=2)
    layer.build((None, 4))
    kernel = normal((4, 6), seed=3, scale=0.3)
    layer.set_weights([kernel])
    x = normal((batch, 4))
    outputs = layer(x).numpy()
    assert outputs.shape == (batch, 4 + 3)
    np.testing.assert_allclose(outputs, minibatch_discrimination_reference(x, kernel, 3, 2), rtol=1e-5, atol=1e-5)
    if batch == 1:  # only the self term: exp(0) = 1 per kernel
        np.testing.assert_allclose(outputs[:, 4:], 1.0)


def test_minibatch_discrimination_rejects_conv_maps():
    with pytest.raises(ValueError, match=r"expects \(batch, features\).*Flatten"):
        MinibatchDiscrimination(3, 2)(normal((2, 4, 4, 3)))


def minibatch_stddev_reference(x, group_size, epsilon=1e-8):
    """Groups by stride, as ProGAN's reshape to (G, batch/G, ...) does: sample i is in group i mod M."""
    batch = len(x)
    group = min(group_size, batch)
    groups = batch // group
    feature = np.zeros(batch)
    for i in range(batch):
        members = x[[i % groups + k * groups for k in range(group)]].astype("float64")
        feature[i] = np.sqrt(members.var(axis=0) + epsilon).mean()
    maps = np.broadcast_to(feature[:, None, None, None], (*x.shape[:-1], 1))
    return np.concatenate([x, maps], axis=-1)


@pytest.mark.parametrize("batch, group_size", [(8, 4), (6, 2), (3, 4), (1, 4)])
def test_minibatch_stddev_matches_reference(batch, group_size):
    x = normal((batch, 3, 2, 5), seed=batch)
    outputs = MinibatchStdDev(group_size=group_size)(x).numpy()
    assert outputs.shape == (batch, 3, 2, 6)
    np.testing.assert_allclose(outputs, minibatch_stddev_reference(x, group_size), rtol=1e-5, atol=1e-6)
    if batch == 1:
        np.testing.assert_allclose(outputs[..., -1], np.sqrt(1e-8), rtol=1e-3)


def test_minibatch_stddev_of_identical_samples_is_nearly_zero():
    x = np.repeat(normal((1, 4, 4, 3)), 8, axis=0)
    feature = MinibatchStdDev(group_size=4)(x).numpy()[..., -1]
    assert np.abs(feature).max() <= 1e-3


def test_minibatch_stddev_rejects_a_batch_not_divisible_by_the_group():
    layer = MinibatchStdDev(group_size=4)
    message = r"(?s)batch size.*6.*not a multiple of the group size.*4"
    with pytest.raises(tf.errors.InvalidArgumentError, match=message):
        layer(normal((6, 2, 2, 3)))
    in_graph = tf.function(layer, input_signature=[tf.TensorSpec((None, 2, 2, 3), tf.float32)])
    in_graph(normal((8, 2, 2, 3)))
    with pytest.raises(tf.errors.InvalidArgumentError, match=message):
        in_graph(normal((6, 2, 2, 3)))


def test_minibatch_discrimination_layer_contract(tmp_path):
    run_layer_test(lambda: MinibatchDiscrimination(3, 2), (6,), {"num_kernels": 3, "kernel_dim": 2}, tmp_path=tmp_path)


def test_minibatch_stddev_layer_contract(tmp_path):
    run_layer_test(
        lambda: MinibatchStdDev(group_size=2, epsilon=1e-6), (4, 4, 2), {"group_size": 2, "epsilon": 1e-6},
        tmp_path=tmp_path,
    )
