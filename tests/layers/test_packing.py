"""kgan.layers.PackSamples: a numpy reshape, its batch check (eager, graph and XLA), mixed precision, the layer contract."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from kgan.layers import PackSamples
from tests.helpers import normal, run_layer_test

MIXED_POLICIES = ["mixed_float16", "mixed_bfloat16"]


@pytest.fixture(autouse=True)
def float32_policy_afterwards():
    yield
    keras.config.set_dtype_policy("float32")


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
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"(?s)batch size.*10.*not divisible by pack=4"):
        packed(x)


def test_xla_compiles_an_assert_away():
    """Why the batch check cannot be a `tf.debugging.Assert` alone: under `jit_compile=True` it never fires."""

    @tf.function(jit_compile=True)
    def asserts_false(x):
        with tf.control_dependencies([tf.debugging.Assert(tf.reduce_any(x < 0), ["never true"])]):
            return tf.identity(x)

    np.testing.assert_array_equal(asserts_false(tf.ones(3)), np.ones(3))  # no error: the Assert is gone
    with pytest.raises(tf.errors.InvalidArgumentError, match="never true"):
        tf.function(asserts_false.python_function)(tf.ones(3))  # the same function without XLA does fail


def test_batch_check_survives_xla_with_an_unknown_batch():
    x = normal((12, 2))
    packed = tf.function(PackSamples(4), input_signature=[tf.TensorSpec((None, 2), tf.float32)], jit_compile=True)
    np.testing.assert_array_equal(packed(x[:8]).numpy(), x[:8].reshape(2, 8))
    # XLA compiles per concrete shape; for 10 rows the named check reshape (range(10) into rows of 4) cannot compile
    message = r"(?s)tensor with 10 values.*multiple of 4.*PackSamples_batch_size_must_be_a_multiple_of_pack"
    with pytest.raises(tf.errors.InvalidArgumentError, match=message):
        packed(x[:10])


def test_batch_check_under_xla_with_a_known_batch_is_a_value_error():
    packed = tf.function(PackSamples(4), jit_compile=True)  # traced per shape: the batch size is a Python int
    with pytest.raises(ValueError, match="10 is not divisible by pack=4"):
        packed(normal((10, 2)))


def test_batch_check_in_a_model_compiled_with_jit():
    inputs = keras.Input((2,))
    model = keras.Model(inputs, keras.layers.Dense(1)(PackSamples(4)(inputs)))
    model.compile(keras.optimizers.SGD(0.1), "mse", jit_compile=True)
    x, y = normal((14, 2)), normal((14, 1), seed=1)
    model.train_on_batch(x[:8], y[:2])
    weights = [w.numpy() for w in model.weights]
    # the second shape retraces with a `None` batch (reduce_retracing), so only the XLA-proof check can catch it
    with pytest.raises(tf.errors.InvalidArgumentError, match="PackSamples_batch_size_must_be_a_multiple_of_pack"):
        model.train_on_batch(x[:6], y[:1])
    for before, after in zip(weights, model.weights, strict=True):
        np.testing.assert_array_equal(after.numpy(), before)  # the failed step changed nothing
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"(?s)6 values.*multiple of 4"):
        model.predict(x, batch_size=8, verbose=0)  # 8 rows, then 6


@pytest.mark.parametrize("policy", MIXED_POLICIES)
def test_pack_layer_under_mixed_precision(policy):
    keras.config.set_dtype_policy(policy)
    x = normal((6, 2))
    out = PackSamples(3)(x)
    assert out.dtype == keras.config.dtype_policy().compute_dtype
    np.testing.assert_array_equal(tf.cast(out, tf.float32).numpy(), tf.cast(tf.cast(x, out.dtype), tf.float32).numpy().reshape(2, 6))
    keras.config.set_dtype_policy("float32")
    assert PackSamples(3, dtype="mixed_float16")(x).dtype == "float16"  # a layer given its own policy


def test_layer_contract(tmp_path):
    run_layer_test(lambda: PackSamples(2), (3,), {"pack": 2}, tmp_path=tmp_path)


@pytest.mark.parametrize("policy", MIXED_POLICIES)
def test_layer_contract_under_mixed_precision(policy, tmp_path):
    run_layer_test(lambda: PackSamples(2), (3,), {"pack": 2}, tmp_path=tmp_path, dtype_policy=policy)
