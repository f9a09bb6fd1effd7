"""PacGAN's packing (Lin et al. 2018): the discriminator judges m samples at once.

A collapsed generator is hard to spot one sample at a time: every sample of one mode looks real.
Packed m at a time, its samples look nothing like m independent draws from the data, so the
discriminator can punish the collapse. Packing concatenates m consecutive samples into one input.

Packing (like `MinibatchStdDev`'s groups) needs a batch that is a multiple of m, and
`check_batch_multiple` is the check both layers use. It has to survive three settings:

- the batch size is known when the layer is traced (eager calls, most `tf.function`s): a plain
  Python `ValueError` before any op exists;
- it is unknown at trace time (a `None` batch axis: an `input_signature`, or Keras' compiled
  train / predict function once a second batch size made it retrace) and the graph runs in
  TensorFlow: an `Assert` op fails at run time with the message and the actual sizes;
- it is unknown at trace time and the graph is compiled by XLA (`jit_compile=True`): XLA has no
  run-time errors and compiles `Assert` to nothing. But XLA compiles once per concrete shape, and
  at that moment the batch size is a constant: reshaping `range(batch)` into rows of m then fails
  to compile unless m divides the batch. The reshape is named after the rule, so the error reads
  "Input to reshape is a tensor with 10 values, but the requested shape requires a multiple of 4
  … [[{{node …/PackSamples_batch_size_must_be_a_multiple_of_pack}}]]": the layer, the batch size
  and m.
"""

import keras
import tensorflow as tf
from keras import ops

__all__ = ["PackSamples", "check_batch_multiple"]


def check_batch_multiple(inputs, multiple, message_parts, check_name):
    """`inputs`, unchanged, once its batch size is known to be a multiple of `multiple` (an error otherwise).

    Args:
        inputs: a tensor whose first axis is the batch.
        multiple: a Python int, or an int32 scalar tensor when it depends on the batch size itself.
        message_parts: `fn(batch, multiple) -> list` of strings and sizes; joined into the
            `ValueError` text when both sizes are known at trace time, otherwise the data of the
            run-time `Assert` (which prints the actual sizes).
        check_name: a graph-safe name (letters, digits, `_`) for the reshape that stands in for the
            check under XLA, so that XLA's error names the rule.

    Raises:
        ValueError: at trace time, when the batch size is known and not a multiple.
        tf.errors.InvalidArgumentError: at run time otherwise (TensorFlow's `Assert`, or XLA's
            failed compilation of the named reshape under `jit_compile=True`).
    """
    static_batch = inputs.shape[0]
    if static_batch is not None and isinstance(multiple, int):
        if static_batch % multiple:
            raise ValueError(" ".join(str(part) for part in message_parts(static_batch, multiple)))
        return inputs
    batch = tf.shape(inputs)[0]
    # Stateful, so no graph optimiser prunes it; XLA compiles it to nothing.
    assertion = tf.debugging.Assert(tf.equal(batch % multiple, 0), message_parts(batch, multiple))
    with tf.control_dependencies([assertion]):
        # Under XLA `batch` is a compile-time constant, and a reshape whose sizes do not divide fails to compile.
        rows = tf.reshape(tf.range(batch), tf.stack([-1, multiple]), name=check_name)
    # The layer's own ops read `checked`, so they wait for both checks (in XLA's compilation order too)
    # and neither the Assert's message nor the named reshape is pre-empted by the layer's own reshape error.
    with tf.control_dependencies([assertion, rows]):
        checked = tf.identity(inputs)
    return checked


@keras.saving.register_keras_serializable(package="kgan")
class PackSamples(keras.layers.Layer):
    """PacGAN's packing: (batch, features) → (batch / pack, pack · features).

    Row i of the output is samples i·pack, …, i·pack + pack − 1 concatenated, exactly
    `numpy.reshape(x, (-1, pack * features))`. The batch must be a multiple of `pack`: a batch
    that is not raises a ValueError when its size is known at trace time, and an
    InvalidArgumentError naming the sizes when it is not (inside a graph, XLA-compiled or not;
    see `check_batch_multiple`).

    No statistics, so nothing to keep in float32: under a mixed precision policy the output is in
    the compute dtype, as the input is.
    """

    def __init__(self, pack, **kwargs):
        super().__init__(**kwargs)
        if int(pack) < 1:
            raise ValueError(f"pack must be at least 1, got {pack}.")
        self.pack = int(pack)
        self.input_spec = keras.InputSpec(ndim=2)

    def _message_parts(self, batch, pack):
        return [
            "PackSamples: the batch size", batch,
            f"is not divisible by pack={self.pack}; use a batch size that is a multiple of {self.pack}.",
        ]

    def call(self, inputs):
        if self.pack == 1:
            return inputs
        inputs = check_batch_multiple(
            inputs, self.pack, self._message_parts, "PackSamples_batch_size_must_be_a_multiple_of_pack"
        )
        return ops.reshape(inputs, (-1, self.pack * inputs.shape[-1]))

    def compute_output_shape(self, input_shape):
        batch = None if input_shape[0] is None else input_shape[0] // self.pack
        return (batch, self.pack * input_shape[-1])

    def get_config(self):
        config = super().get_config()
        config.update(pack=self.pack)
        return config
