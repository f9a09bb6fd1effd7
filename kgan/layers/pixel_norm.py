"""ProGAN's pixel normalisation: every pixel's feature vector scaled to unit root mean square.

Karras et al. 2018 (ProGAN) replaced BatchNorm in the generator with a normalisation that has no
batch statistics and no weights: at each position (h, w) the C channels are divided by their own
root mean square,

    b_{h,w} = a_{h,w} / sqrt( (1/C) · Σ_c a_{h,w,c}² + ε ),   ε = 1e-8.

It keeps the signal magnitudes in G from escalating when G and D compete, without tying a sample
to its batch mates (as BatchNorm does) and without learned scale or offset.
"""

import keras
from keras import ops

__all__ = ["PixelNormalization"]


@keras.saving.register_keras_serializable(package="kgan")
class PixelNormalization(keras.layers.Layer):
    """Feature maps (batch, ..., C) → the same shape, each position's C channels at unit mean square.

    Computes `x / sqrt(mean(x², channels) + epsilon)` over the last axis (channels last), so after
    it `mean(b², channels) = 1` at every pixel (a little less where the pixel's mean square is
    comparable to ε). A pixel of all zeros stays all zeros: ε keeps the division finite.

    Under a mixed dtype policy the statistic is computed in float32 and the result cast back to the
    compute dtype: in float16, ε = 1e-8 rounds to 0 (an all-zero pixel would give 0/0 = NaN) and
    squares above 65,504 overflow. No weights, no batch statistics: the same in training and inference.
    """

    def __init__(self, epsilon=1e-8, **kwargs):
        super().__init__(**kwargs)
        if not epsilon > 0:
            raise ValueError(f"PixelNormalization epsilon must be positive, got {epsilon}.")
        self.epsilon = float(epsilon)

    def call(self, inputs):
        features = ops.cast(inputs, "float32")  # ε and the squares need float32's range
        mean_square = ops.mean(ops.square(features), axis=-1, keepdims=True)
        return ops.cast(features * ops.rsqrt(mean_square + self.epsilon), self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(epsilon=self.epsilon)
        return config
