"""kgan.layers.SelfAttention2D against a numpy reference, and the layer contract."""

import keras
import numpy as np
import pytest

from kgan.layers import SelfAttention2D
from tests.helpers import normal, run_layer_test


@pytest.fixture(autouse=True)
def seeded():
    keras.utils.set_random_seed(0)


def softmax(scores, axis):
    scores = scores - scores.max(axis=axis, keepdims=True)
    return np.exp(scores) / np.exp(scores).sum(axis=axis, keepdims=True)


def self_attention_reference(x, layer):
    batch, height, width, channels = x.shape

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


def open_the_gate(layer, batch):
    layer.gamma.assign(0.5)  # γ = 0 would hide the attention path


def test_layer_contract(tmp_path):
    run_layer_test(lambda: SelfAttention2D(key_ratio=2), (4, 3, 4), {"key_ratio": 2}, prepare=open_the_gate, tmp_path=tmp_path)
