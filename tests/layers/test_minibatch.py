"""kgan.layers.MinibatchDiscrimination and MinibatchStdDev: numpy references, the batch check (eager, graph and XLA),
mixed precision (float32 statistics, the collapsed batch in float16), and the layer contract."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from kgan.layers import MinibatchDiscrimination, MinibatchStdDev
from tests.helpers import normal, run_layer_test

MIXED_POLICIES = ["mixed_float16", "mixed_bfloat16"]


@pytest.fixture(autouse=True)
def seeded():
    keras.utils.set_random_seed(0)
    yield
    keras.config.set_dtype_policy("float32")  # whatever a test set


def as_float64(tensor):
    return tf.cast(tensor, tf.float64).numpy()


def rounded_to(x, dtype):
    """`x` as the layer sees it under a policy computing in `dtype`: rounded to it, as float64."""
    return as_float64(tf.cast(x, dtype))


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
    with pytest.raises(ValueError, match=message):  # the batch size is known: a plain ValueError
        layer(normal((6, 2, 2, 3)))
    in_graph = tf.function(layer, input_signature=[tf.TensorSpec((None, 2, 2, 3), tf.float32)])
    in_graph(normal((8, 2, 2, 3)))
    with pytest.raises(tf.errors.InvalidArgumentError, match=message):  # known at run time only: the Assert's message
        in_graph(normal((6, 2, 2, 3)))


def test_minibatch_stddev_batch_check_survives_xla():
    layer = MinibatchStdDev(group_size=4)
    x = normal((8, 2, 2, 3))
    in_xla = tf.function(layer, input_signature=[tf.TensorSpec((None, 2, 2, 3), tf.float32)], jit_compile=True)
    np.testing.assert_allclose(in_xla(x).numpy(), layer(x).numpy(), rtol=1e-6)
    # XLA drops the Assert; at compile time range(6) cannot be cut into rows of G = 4, under the check's name
    message = r"(?s)tensor with 6 values.*multiple of 4.*MinibatchStdDev_batch_size_must_be_a_multiple_of_group_size"
    with pytest.raises(tf.errors.InvalidArgumentError, match=message):
        in_xla(normal((6, 2, 2, 3)))
    with pytest.raises(ValueError, match=r"batch size 6 is not a multiple of the group size 4"):
        tf.function(layer, jit_compile=True)(normal((6, 2, 2, 3)))  # traced with the batch size known


def test_minibatch_stddev_batch_check_in_a_model_compiled_with_jit():
    inputs = keras.Input((2, 2, 3))
    outputs = keras.layers.Dense(1)(keras.layers.Flatten()(MinibatchStdDev(group_size=4)(inputs)))
    model = keras.Model(inputs, outputs)
    model.compile(keras.optimizers.SGD(0.1), "mse", jit_compile=True)
    x, y = normal((14, 2, 2, 3)), normal((14, 1), seed=1)
    model.train_on_batch(x[:8], y[:8])
    weights = [w.numpy() for w in model.weights]
    check = "MinibatchStdDev_batch_size_must_be_a_multiple_of_group_size"
    with pytest.raises(tf.errors.InvalidArgumentError, match=check):  # retraced with a `None` batch, compiled for 6
        model.train_on_batch(x[:6], y[:6])
    for before, after in zip(weights, model.weights, strict=True):
        np.testing.assert_array_equal(after.numpy(), before)
    with pytest.raises(tf.errors.InvalidArgumentError, match=check):
        model.predict(x, batch_size=8, verbose=0)  # 8 samples, then 6
    assert model.predict(x[:12], batch_size=4, verbose=0).shape == (12, 1)


@pytest.mark.parametrize("policy", MIXED_POLICIES)
def test_minibatch_stddev_computes_in_float32_under_mixed_precision(policy):
    keras.config.set_dtype_policy(policy)
    compute_dtype = keras.config.dtype_policy().compute_dtype
    # Samples near 10 that differ by about 0.5, so the spread is small next to the values.
    x = 10 + normal((8, 3, 2, 5), seed=3, scale=0.5)
    outputs = MinibatchStdDev(group_size=4)(x)
    assert outputs.dtype == compute_dtype
    expected = minibatch_stddev_reference(rounded_to(x, compute_dtype), 4)[..., -1]
    # only the final rounding of ≈ 0.5 to 16 bits is left: 2⁻¹¹ (float16) or 2⁻⁸ (bfloat16) relative
    np.testing.assert_allclose(as_float64(outputs[..., -1]), expected, rtol=2e-3 if policy == "mixed_float16" else 8e-3)


@pytest.mark.parametrize("policy", MIXED_POLICIES)
def test_minibatch_stddev_of_a_collapsed_batch_stays_finite_in_16_bits(policy):
    """The case the layer exists for: identical samples. In float16, 1e-8 is 0 and sqrt(0) has an infinite slope."""
    keras.config.set_dtype_policy(policy)
    x = tf.constant(np.repeat(normal((1, 4, 4, 3)), 8, axis=0))
    with tf.GradientTape() as tape:
        tape.watch(x)
        outputs = MinibatchStdDev(group_size=4)(x)
        total = tf.reduce_sum(tf.cast(outputs, tf.float32))
    gradient = tape.gradient(total, x).numpy()
    # feature: sqrt(0 + 1e-8) = 1e-4 at every position, in 16 bits
    np.testing.assert_allclose(as_float64(outputs[..., -1]), 1e-4, rtol=4e-3)
    # d total / dx = 1 (x passes through) + d feature / dx, and the variance's slope 2(x − mean)/G is 0 here
    np.testing.assert_array_equal(gradient, 1.0)


@pytest.mark.parametrize("policy", MIXED_POLICIES)
def test_minibatch_discrimination_computes_in_float32_under_mixed_precision(policy):
    keras.config.set_dtype_policy(policy)
    compute_dtype = keras.config.dtype_policy().compute_dtype
    layer = MinibatchDiscrimination(num_kernels=3, kernel_dim=2)
    layer.build((None, 4))
    assert layer.kernel.dtype == "float32"
    kernel = normal((4, 6), seed=3, scale=3.0)
    layer.set_weights([kernel])
    # Near-identical samples whose rows M = x·T are up to ≈ 6 in size while their L1 distances are ≈ 0.3:
    # differences of numbers that 16 bits space 0.004 (float16) or 0.03 (bfloat16) apart near 6.
    x = np.repeat(normal((1, 4), seed=4), 5, axis=0) + normal((5, 4), seed=5, scale=0.02)
    outputs = layer(x)
    assert outputs.dtype == compute_dtype
    expected = minibatch_discrimination_reference(rounded_to(x, compute_dtype), kernel, 3, 2)
    # computed in float32, only the closeness (3.2 to 4.8) is rounded to 16 bits: 2⁻¹¹ or 2⁻⁸ relative
    np.testing.assert_allclose(as_float64(outputs), expected, rtol=1e-3 if policy == "mixed_float16" else 8e-3)


@pytest.mark.parametrize("policy", MIXED_POLICIES)
def test_minibatch_discrimination_of_a_collapsed_batch_stays_finite_in_16_bits(policy):
    keras.config.set_dtype_policy(policy)
    layer = MinibatchDiscrimination(num_kernels=3, kernel_dim=2)
    x = tf.constant(np.repeat(normal((1, 4)), 6, axis=0))
    with tf.GradientTape() as tape:
        tape.watch(x)
        outputs = layer(x)
        total = tf.reduce_sum(tf.cast(outputs, tf.float32))
    gradients = tape.gradient(total, [x, layer.kernel])
    # six identical samples: every distance 0, so each closeness is 6 · exp(0) = 6
    np.testing.assert_array_equal(as_float64(outputs[:, 4:]), 6.0)
    # and |M_i − M_j| has slope 0 at 0 (TensorFlow's sign(0) = 0): only the pass-through's 1 reaches x
    np.testing.assert_array_equal(gradients[0].numpy(), 1.0)
    assert np.isfinite(gradients[1].numpy()).all()


@pytest.mark.parametrize("make_layer, input_shape", [
    (lambda: MinibatchDiscrimination(3, 2, dtype="mixed_float16"), (5, 4)),
    (lambda: MinibatchStdDev(2, dtype="mixed_float16"), (4, 3, 3, 2)),
])
def test_a_layer_given_its_own_mixed_policy(make_layer, input_shape):
    layer = make_layer()  # the global policy stays float32
    outputs = layer(normal(input_shape))
    assert outputs.dtype == "float16" and np.isfinite(as_float64(outputs)).all()
    assert all(variable.dtype == "float32" for variable in layer.weights)


def test_minibatch_discrimination_layer_contract(tmp_path):
    run_layer_test(lambda: MinibatchDiscrimination(3, 2), (6,), {"num_kernels": 3, "kernel_dim": 2}, tmp_path=tmp_path)


def test_minibatch_stddev_layer_contract(tmp_path):
    run_layer_test(
        lambda: MinibatchStdDev(group_size=2, epsilon=1e-6), (4, 4, 2), {"group_size": 2, "epsilon": 1e-6},
        tmp_path=tmp_path,
    )


@pytest.mark.parametrize("policy", MIXED_POLICIES)
def test_minibatch_discrimination_layer_contract_under_mixed_precision(policy, tmp_path):
    run_layer_test(
        lambda: MinibatchDiscrimination(3, 2), (6,), {"num_kernels": 3, "kernel_dim": 2}, tmp_path=tmp_path, dtype_policy=policy
    )


@pytest.mark.parametrize("policy", MIXED_POLICIES)
def test_minibatch_stddev_layer_contract_under_mixed_precision(policy, tmp_path):
    run_layer_test(lambda: MinibatchStdDev(group_size=2), (4, 4, 2), {"group_size": 2}, tmp_path=tmp_path, dtype_policy=policy)
