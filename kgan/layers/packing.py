"""PacGAN's packing (Lin et al. 2018): the discriminator judges m samples at once.

A collapsed generator is hard to spot one sample at a time: every sample of one mode looks real.
Packed m at a time, its samples look nothing like m independent draws from the data, so the
discriminator can punish the collapse. Packing concatenates m consecutive samples into one input.
"""

import keras
import tensorflow as tf
from keras import ops

__all__ = ["PackSamples"]


@keras.saving.register_keras_serializable(package="kgan")
class PackSamples(keras.layers.Layer):
    """PacGAN's packing: (batch, features) → (batch / pack, pack · features).

    Row i of the output is samples i·pack, …, i·pack + pack − 1 concatenated, exactly
    `numpy.reshape(x, (-1, pack * features))`. The batch must be a multiple of `pack`: a batch
    that is not raises a ValueError when its size is known, and an InvalidArgumentError with the
    same message inside a graph.
    """

    def __init__(self, pack, **kwargs):
        super().__init__(**kwargs)
        if int(pack) < 1:
            raise ValueError(f"pack must be at least 1, got {pack}.")
        self.pack = int(pack)
        self.input_spec = keras.InputSpec(ndim=2)

    def _message(self, batch):
        return f"PackSamples: the batch size {batch} is not divisible by pack={self.pack}; use a batch size that is a multiple of {self.pack}."

    def call(self, inputs):
        if self.pack == 1:
            return inputs
        static_batch = inputs.shape[0]
        if static_batch is not None:
            if static_batch % self.pack:
                raise ValueError(self._message(static_batch))
        else:
            batch = tf.shape(inputs)[0]
            check = tf.debugging.assert_equal(batch % self.pack, 0, message=self._message("of this call"))
            with tf.control_dependencies([check]):
                inputs = tf.identity(inputs)
        return ops.reshape(inputs, (-1, self.pack * inputs.shape[-1]))

    def compute_output_shape(self, input_shape):
        batch = None if input_shape[0] is None else input_shape[0] // self.pack
        return (batch, self.pack * input_shape[-1])

    def get_config(self):
        config = super().get_config()
        config.update(pack=self.pack)
        return config
