"""Layers that let a discriminator look at the whole batch, so a collapsed generator is easy to spot.

A discriminator that scores one sample at a time cannot tell a batch of varied faces from a batch of
one face repeated; mode collapse then goes unpunished. Both layers append batch statistics to each
sample's features:

- `MinibatchDiscrimination` (Salimans et al. 2016) learns projections of the features and appends,
  per projection, how close each sample is to the others — a learned closeness.
- `MinibatchStdDev` (Karras et al. 2018, ProGAN) appends one number per group of samples: their
  average standard deviation — no weights, one extra feature map.

Both make a sample's output depend on its batch mates, so (like BatchNorm) they do not belong in a
WGAN-GP critic, whose gradient penalty assumes per-sample scores.

Under a mixed precision policy (`mixed_float16`, `mixed_bfloat16`) both compute their statistic in
float32 and return it in the compute dtype. float16 has too few bits for them: the L1 distances
between nearly equal samples are differences of nearly equal numbers, and `MinibatchStdDev`'s
epsilon of 1e-8 is 0 in float16 (the smallest float16 is about 6e-8), so a collapsed batch (zero
variance) would give sqrt(0), whose gradient is infinite — exactly the case the layer exists for.
"""

import keras
from keras import ops

from kgan.layers.packing import check_batch_multiple

__all__ = ["MinibatchDiscrimination", "MinibatchStdDev"]


@keras.saving.register_keras_serializable(package="kgan")
class MinibatchDiscrimination(keras.layers.Layer):
    """Features (batch, A) → (batch, A + num_kernels): the input with each sample's closeness to the batch.

    A learned tensor T (A, num_kernels·kernel_dim) maps each sample to `num_kernels` rows of length
    `kernel_dim`: M = x·T reshaped to (batch, num_kernels, kernel_dim). For kernel b, samples i and j
    are close by c_b(i, j) = exp(−‖M_{i,b} − M_{j,b}‖₁), and the appended feature is
    o(x_i)_b = Σ_j c_b(i, j).

    The sum runs over every j, including j = i, as the paper's formula does: the self term adds
    exp(0) = 1 to every feature, a constant the next layer's bias absorbs. A batch of one therefore
    gets o = 1 for every kernel; a batch of n identical samples gets n.

    `kernel_initializer` draws T (default N(0, 0.05), small so that the first distances are small).
    T is kept and read in float32 under a mixed policy, and M, the distances and the sums are
    computed in float32; only the appended feature is cast to the compute dtype.
    Needs rank-2 input: flatten conv maps first (`keras.layers.Flatten`). It builds a
    (batch, batch, num_kernels, kernel_dim) difference tensor, so its cost grows with batch².
    """

    def __init__(self, num_kernels, kernel_dim, kernel_initializer=None, **kwargs):
        super().__init__(**kwargs)
        self.num_kernels = int(num_kernels)
        self.kernel_dim = int(kernel_dim)
        # Small weights keep the L1 distances small at the start, so exp(−distance) is not all zeros
        # (which would leave the feature constant and its gradient zero).
        default_initializer = keras.initializers.RandomNormal(stddev=0.05)
        self.kernel_initializer = keras.initializers.get(kernel_initializer or default_initializer)

    def build(self, input_shape):
        if len(input_shape) != 2:
            raise ValueError(
                f"MinibatchDiscrimination expects (batch, features) input, got shape {tuple(input_shape)}; "
                "flatten conv maps first (keras.layers.Flatten)."
            )
        features = input_shape[-1]
        self.input_spec = keras.InputSpec(ndim=2, axes={-1: features})
        self.kernel = self.add_weight(
            shape=(features, self.num_kernels * self.kernel_dim),
            initializer=self.kernel_initializer,
            name="kernel",
            autocast=False,  # read in float32 even under a mixed policy: the distances need its precision
        )

    def call(self, inputs):
        # float32 at least (float64 stays float64): differences of nearly equal rows lose all their bits in float16
        statistics_dtype = keras.backend.result_type(self.kernel.dtype, "float32")
        projected = ops.matmul(ops.cast(inputs, statistics_dtype), ops.cast(self.kernel, statistics_dtype))
        rows = ops.reshape(projected, (-1, self.num_kernels, self.kernel_dim))
        # (batch, 1, K, D) − (1, batch, K, D): every pair (i, j) by broadcasting, so any batch size works.
        distances = ops.sum(ops.abs(rows[:, None] - rows[None, :]), axis=-1)  # (batch, batch, K)
        closeness = ops.sum(ops.exp(-distances), axis=1)  # sum over j, self term included
        return ops.concatenate([inputs, ops.cast(closeness, inputs.dtype)], axis=-1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[-1] + self.num_kernels)

    def get_config(self):
        config = super().get_config()
        config.update(
            num_kernels=self.num_kernels,
            kernel_dim=self.kernel_dim,
            kernel_initializer=keras.initializers.serialize(self.kernel_initializer),
        )
        return config


@keras.saving.register_keras_serializable(package="kgan")
class MinibatchStdDev(keras.layers.Layer):
    """Images (batch, H, W, C) → (batch, H, W, C + 1): one extra map holding its group's spread.

    The group size used is G = min(group_size, batch); the batch must be a multiple of G: a ValueError
    when the batch size is known at trace time, an InvalidArgumentError naming the sizes when it is
    not (inside a graph, XLA-compiled or not; see `kgan.layers.packing.check_batch_multiple`).
    As ProGAN's reshape to (G, batch/G, H, W, C) does, the batch is split into M = batch/G groups
    *by stride*: group m holds samples m, m + M, m + 2M, …, so sample i belongs to
    group i mod M. For each group, the standard deviation over its G samples,
    sqrt(population variance + epsilon), is taken at every (h, w, c), averaged to one scalar, and
    written as a constant (H, W, 1) map onto each of its samples.

    A batch of one (G = 1) or a group of identical samples gives the feature sqrt(epsilon) ≈ 1e-4,
    essentially 0: exactly the signal a collapsed generator gives away. The statistic is computed in
    float32 (float64 for float64 inputs), so epsilon keeps the square root, and its gradient, finite
    under a float16 policy too; the feature map is then cast to the input's dtype.
    """

    def __init__(self, group_size=4, epsilon=1e-8, **kwargs):
        super().__init__(**kwargs)
        if group_size < 1:
            raise ValueError(f"group_size must be at least 1, got {group_size}.")
        self.group_size = int(group_size)
        self.epsilon = float(epsilon)
        self.input_spec = keras.InputSpec(ndim=4)

    def _message_parts(self, batch, group):
        return [
            "MinibatchStdDev: the batch size", batch, "is not a multiple of the group size", group,
            f"(min(group_size={self.group_size}, batch size)); use a batch size that is a multiple of it.",
        ]

    def call(self, inputs):
        batch, height, width, channels = ops.shape(inputs)
        # G is a Python int when the batch size is known at trace time, so the check is a plain ValueError
        # then. (At least 1, so that an empty batch passes through instead of dividing by zero.)
        if isinstance(batch, int):
            group = max(min(self.group_size, batch), 1)
        else:
            group = ops.maximum(ops.minimum(self.group_size, batch), 1)
        inputs = check_batch_multiple(
            inputs, group, self._message_parts, "MinibatchStdDev_batch_size_must_be_a_multiple_of_group_size"
        )
        # float32 at least: epsilon = 1e-8 is 0 in float16, and sqrt(0) has an infinite gradient.
        statistics_dtype = keras.backend.result_type(inputs.dtype, "float32")
        grouped = ops.reshape(ops.cast(inputs, statistics_dtype), (group, -1, height, width, channels))  # (G, M, H, W, C)
        variance = ops.var(grouped, axis=0)  # population variance over each group's G samples
        spread = ops.mean(ops.sqrt(variance + self.epsilon), axis=(1, 2, 3))  # (M,)
        # Row i of the tiled (G·M, …) map is group i mod M, matching the reshape above.
        feature = ops.tile(spread[:, None, None, None], (group, height, width, 1))
        return ops.concatenate([inputs, ops.cast(feature, inputs.dtype)], axis=-1)

    def compute_output_shape(self, input_shape):
        channels = None if input_shape[-1] is None else input_shape[-1] + 1
        return (*input_shape[:-1], channels)

    def get_config(self):
        config = super().get_config()
        config.update(group_size=self.group_size, epsilon=self.epsilon)
        return config
