"""SAGAN's self-attention block: every position of a feature map can draw on every other position.

Convolutions only mix neighbours, so a conv GAN struggles to keep distant parts of an image
consistent (two eyes that match). Zhang et al. 2019 (SAGAN) insert a non-local block: each position
asks a *query*, compares it with every position's *key*, and takes the softmax-weighted average of
their *values*. The block's output is `γ · attended + x` with a learned scalar γ that starts at 0, so
a fresh block is the identity and the network learns how much non-local evidence to mix in.

Under a mixed precision policy the projections and the weighted sum run in the compute dtype, but
the scores and their softmax run in float32: a score is a sum of C/8 products and can pass float16's
largest value (65504) long before the network is badly off, and the softmax's exponentials would
then overflow to inf and give NaN weights.
"""

import keras
from keras import ops

__all__ = ["SelfAttention2D"]


@keras.saving.register_keras_serializable(package="kgan")
class SelfAttention2D(keras.layers.Layer):
    """Feature maps (batch, H, W, C) → the same shape, with attention over all H·W positions mixed in.

    Three 1×1 convolutions map x to a query and a key of C // key_ratio channels (at least 1) and a
    value of C channels; the key has no bias, which the softmax would cancel. With positions
    flattened to N = H·W, the weights are `softmax_j(query_i · key_j)`: for each query position i a
    softmax over all N key positions j, unscaled as in SAGAN. The attended map is the weighted sum
    of values, and the output is `γ · attended + x`, γ a scalar weight initialised to 0.

    The value keeps all C channels, so no output convolution is needed. (SAGAN's code instead makes a
    C/2-channel value plus a 1×1 output convolution back to C, and max-pools keys and values 2×2 —
    savings in memory and compute, not a different mechanism.) The N×N attention matrix makes
    the cost grow with (H·W)², so the block goes on a mid-sized map (SAGAN: 32×32 of 64×64 images).
    Any batch size and any H, W work; C must be known when the layer is built.

    The three convolutions take the block's own dtype policy, so a block built with
    `dtype="mixed_float16"` inside a float32 model computes in float16 throughout, and the scores
    `query · key` and their softmax are computed in float32 (float64 for a float64 block) and the
    weights cast back to the compute dtype.
    """

    def __init__(self, key_ratio=8, **kwargs):
        super().__init__(**kwargs)
        if key_ratio < 1:
            raise ValueError(f"key_ratio must be at least 1, got {key_ratio}.")
        self.key_ratio = int(key_ratio)
        self.input_spec = keras.InputSpec(ndim=4)

    def build(self, input_shape):
        channels = input_shape[-1]
        if channels is None:
            raise ValueError("SelfAttention2D needs a known channel count (the last input dimension).")
        self.input_spec = keras.InputSpec(ndim=4, axes={-1: channels})
        key_channels = max(1, channels // self.key_ratio)
        # The block's policy, not the global one: otherwise a block given its own dtype would mix dtypes.
        policy = self.dtype_policy
        self.query = keras.layers.Conv2D(key_channels, 1, name="query", dtype=policy)
        # A key bias would add query_i · bias to every score of row i, which the softmax cancels.
        self.key = keras.layers.Conv2D(key_channels, 1, use_bias=False, name="key", dtype=policy)
        self.value = keras.layers.Conv2D(channels, 1, name="value", dtype=policy)
        for projection in (self.query, self.key, self.value):
            projection.build(input_shape)
        self.gamma = self.add_weight(shape=(), initializer="zeros", name="gamma")

    def call(self, inputs):
        batch = ops.shape(inputs)[0]

        def positions(projection):  # (batch, H, W, c) → (batch, H·W, c)
            features = projection(inputs)
            return ops.reshape(features, (batch, -1, features.shape[-1]))

        query, key, value = positions(self.query), positions(self.key), positions(self.value)
        # Scores and softmax in float32 at least: float16 scores overflow, and their exponentials sooner.
        score_dtype = keras.backend.result_type(query.dtype, "float32")
        scores = ops.matmul(ops.cast(query, score_dtype), ops.transpose(ops.cast(key, score_dtype), (0, 2, 1)))
        weights = ops.cast(ops.softmax(scores, axis=-1), value.dtype)  # (batch, N, N), rows sum to 1
        attended = ops.reshape(ops.matmul(weights, value), ops.shape(inputs))
        return self.gamma * attended + inputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(key_ratio=self.key_ratio)
        return config
