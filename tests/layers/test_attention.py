"""kgan.layers.SelfAttention2D against a numpy reference, under mixed precision (float32 softmax), and the layer contract."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from kgan.layers import SelfAttention2D
from tests.helpers import normal, run_layer_test

MIXED_POLICIES = ["mixed_float16", "mixed_bfloat16"]


@pytest.fixture(autouse=True)
def seeded():
    keras.utils.set_random_seed(0)
    yield
    keras.config.set_dtype_policy("float32")  # whatever a test set


def as_float64(tensor):
    return tf.cast(tensor, tf.float64).numpy()


def softmax(scores, axis):
    scores = scores - scores.max(axis=axis, keepdims=True)
    return np.exp(scores) / np.exp(scores).sum(axis=axis, keepdims=True)


def self_attention_reference(x, layer):
    batch, height, width, _ = x.shape

    def project(conv):  # a 1×1 conv is a matmul over channels
        kernel, *bias = conv.get_weights()
        return (x.astype("float64") @ kernel[0, 0] + (bias[0] if bias else 0)).reshape(batch, height * width, -1)

    query, key, value = project(layer.query), project(layer.key), project(layer.value)
    weights = softmax(query @ key.transpose(0, 2, 1), axis=-1)
    attended = (weights @ value).reshape(x.shape)
    return float(layer.gamma.numpy()) * attended + x


def test_self_attention_starts_as_the_identity():
    x = normal((2, 3, 4, 8))
    np.testing.assert_array_equal(SelfAttention2D(key_ratio=4)(x).numpy(), x)


def test_self_attention_matches_reference():
    layer = SelfAttention2D(key_ratio=4)
    x = normal((2, 3, 4, 8))  # H ≠ W, so a transposed reshape would show
    layer(x)
    assert layer.query.kernel.shape == (1, 1, 8, 2) and layer.value.kernel.shape == (1, 1, 8, 8)
    layer.query.bias.assign(normal((2,), seed=6))
    layer.value.bias.assign(normal((8,), seed=7))
    layer.gamma.assign(1.0)
    np.testing.assert_allclose(layer(x).numpy(), self_attention_reference(x, layer), rtol=1e-5, atol=1e-5)


def test_a_block_given_its_own_mixed_policy_computes_in_float16():
    """The convolutions must follow the block's policy, not the global float32 one (this used to fail)."""
    layer = SelfAttention2D(key_ratio=4, dtype="mixed_float16")
    x = normal((2, 3, 4, 8))
    layer(x)
    layer.gamma.assign(1.0)
    outputs = layer(x)
    assert outputs.dtype == "float16"
    assert {conv.compute_dtype for conv in (layer.query, layer.key, layer.value)} == {"float16"}
    assert all(variable.dtype == "float32" for variable in layer.weights)
    # float16 inputs and float16 projections: each value rounded at 2⁻¹¹ relative, a few roundings deep
    reference = self_attention_reference(as_float64(tf.cast(x, tf.float16)), layer)
    np.testing.assert_allclose(as_float64(outputs), reference, rtol=2e-2, atol=2e-2)


@pytest.mark.parametrize("policy", MIXED_POLICIES)
def test_scores_beyond_float16_range_still_give_a_softmax(policy):
    """Scores of ~10⁵–10⁶ overflow float16 (max 65504): the softmax must see them in float32."""
    keras.config.set_dtype_policy(policy)
    layer = SelfAttention2D(key_ratio=4)
    # 2×2 positions whose 8 channels all equal s ∈ {0.5, 1, 1.5, 2}
    levels = np.array([0.5, 1.0, 1.5, 2.0], "float32")
    x = np.broadcast_to(levels.reshape(1, 2, 2, 1), (1, 2, 2, 8)).copy()
    layer(x)
    # query and key kernels all 50, no query bias: both key channels of position i are 8·50·s_i = 400 s_i, so
    # score(i, j) = 2 · (400 s_i)(400 s_j) = 320000 s_i s_j: from 80000 to 1.28e6, far past float16's 65504.
    # Rows differ by ≥ 320000 · 0.5 · 0.5 = 80000 between neighbouring j, so the softmax is one-hot on
    # s_j = 2 (the last position): every position attends to the value at position (1, 1).
    layer.query.kernel.assign(np.full((1, 1, 8, 2), 50.0, "float32"))
    layer.key.kernel.assign(np.full((1, 1, 8, 2), 50.0, "float32"))
    layer.value.kernel.assign(normal((1, 1, 8, 8), seed=2))
    layer.gamma.assign(1.0)
    outputs = layer(x)
    assert outputs.dtype == keras.config.dtype_policy().compute_dtype
    value_at_last = x[0, 1, 1] @ layer.value.kernel.numpy()[0, 0] + layer.value.bias.numpy()
    expected = x + value_at_last  # γ = 1: attended (the same everywhere) plus the input
    np.testing.assert_allclose(as_float64(outputs), expected, rtol=2e-2, atol=5e-2)


@pytest.mark.parametrize("policy", MIXED_POLICIES)
def test_gradients_stay_finite_under_mixed_precision(policy):
    keras.config.set_dtype_policy(policy)
    layer = SelfAttention2D(key_ratio=2)
    x = tf.constant(normal((2, 3, 3, 4)))
    layer(x)
    layer.gamma.assign(0.5)
    with tf.GradientTape() as tape:
        tape.watch(x)
        total = tf.reduce_sum(tf.cast(layer(x), tf.float32) ** 2)
    gradients = tape.gradient(total, [x, *layer.trainable_weights])
    assert all(np.isfinite(gradient.numpy()).all() for gradient in gradients)
    assert all(np.abs(gradient.numpy()).max() > 0 for gradient in gradients)  # every weight gets a signal


def open_the_gate(layer, batch):
    layer.gamma.assign(0.5)  # γ = 0 would hide the attention path


def test_layer_contract(tmp_path):
    run_layer_test(lambda: SelfAttention2D(key_ratio=2), (4, 3, 4), {"key_ratio": 2}, prepare=open_the_gate, tmp_path=tmp_path)


@pytest.mark.parametrize("policy", MIXED_POLICIES)
def test_layer_contract_under_mixed_precision(policy, tmp_path):
    run_layer_test(
        lambda: SelfAttention2D(key_ratio=2), (4, 3, 4), {"key_ratio": 2}, prepare=open_the_gate, tmp_path=tmp_path,
        dtype_policy=policy,
    )
