"""Class-conditional layers: conditional batch norm for the generator, the projection head for the discriminator.

A class-conditional GAN is told which class y ∈ {0, …, K−1} to draw (G) or to judge (D). Two ways to
feed y in, both from the papers that made conditional GANs work at ImageNet scale:

**Conditional batch normalisation** (de Vries et al. 2017; Dumoulin et al. 2017, who called it
conditional instance normalisation, one (γ, β) per painting style; used by Miyato & Koyama 2018 and,
with γ, β predicted from an embedding, by BigGAN, Brock et al. 2019). Batch norm's learned scale and
offset become per-class: x is normalised with the batch statistics as usual, then

    out = γ[y] ⊙ (x − μ_B) / sqrt(σ²_B + ε) + β[y],     γ, β: (K, C) weights, one row per class.

The class steers every channel of every layer that has one, which is cheap (2·K·C weights) and
strong. With γ = 1 and β = 0 (the initial values) it is plain batch norm with no scale and offset.

**The projection discriminator** (Miyato & Koyama 2018). If D is to estimate the log-ratio of the
data's and the generator's conditional densities, and log p(y | x) is log-linear in D's features
φ(x), the ratio takes the form

    f(x, y) = ψ(φ(x)) + ⟨V[y], φ(x)⟩,

ψ a linear map to one number (the unconditional critic) and V a (K, F) class embedding: the label
is projected onto the features by an inner product, rather than concatenated to the input (as
the first conditional GANs did), which the paper shows trains markedly better. SNGAN's projection
discriminator normalises both ψ and V spectrally.

Labels are int32 class indices in [0, K), shape (batch,). A label out of range is an error: a
`ValueError` naming the layer and the range in an eager call, an `InvalidArgumentError` with the
same message from a run-time `Assert` inside a TensorFlow graph. Under XLA (`jit_compile=True`),
which has no run-time errors and compiles `Assert` to nothing, an out-of-range label is not
caught: XLA's gather clamps it to the nearest class (conditional batch norm), and its one-hot row
is all zeros, so the projection term is 0 (projection head).
"""

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from kgan.layers.spectral_norm import SpectralNormalization

__all__ = ["ConditionalBatchNormalization", "ProjectionDiscriminatorHead"]


def _check_num_classes(layer_name, num_classes):
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) or num_classes < 1:
        raise ValueError(f"{layer_name} num_classes must be a positive int, got {num_classes!r}.")
    return int(num_classes)


def _split_inputs(layer, inputs, shapes=False):
    """`[features, labels]` (or their shapes) → the two, or a ValueError saying what the layer takes."""
    pair = isinstance(inputs, (list, tuple)) and len(inputs) == 2
    if not pair or (shapes and not all(isinstance(shape, (list, tuple)) for shape in inputs)):
        raise ValueError(f"{type(layer).__name__} is called on [features, labels]; got {str(inputs)[:80]}.")
    return inputs


def _check_label_shape(layer, labels_shape):
    if len(labels_shape) != 1:
        raise ValueError(
            f"{type(layer).__name__} labels must be class indices of shape (batch,), got shape {tuple(labels_shape)}."
        )


def _checked_labels(layer, labels):
    """`labels` as int32, once they are known to lie in [0, num_classes) (see the module docstring)."""
    labels = ops.convert_to_tensor(labels)
    dtype = keras.backend.standardize_dtype(labels.dtype)
    if "int" not in dtype:  # a float labels input would be autocast to float16 under a mixed policy
        raise ValueError(f"{type(layer).__name__} labels must be integer class indices (int32), got {dtype}.")
    labels = ops.cast(labels, "int32")
    message = f"{type(layer).__name__} {layer.name!r}: labels must be class indices in [0, {layer.num_classes})"
    if tf.executing_eagerly():
        values = np.asarray(labels)
        if values.size and (values.min() < 0 or values.max() >= layer.num_classes):
            raise ValueError(f"{message}; got labels from {values.min()} to {values.max()}.")
        return labels
    # Stateful, so no graph optimiser prunes them; the layer's ops read `checked`, so they wait for both.
    in_range = [
        tf.debugging.assert_non_negative(labels, message=message),
        tf.debugging.assert_less(labels, tf.constant(layer.num_classes, "int32"), message=message),
    ]
    with tf.control_dependencies(in_range):
        checked = tf.identity(labels)
    return checked


def _full_precision_policy(layer):
    """A sublayer policy that computes in the layer's variable dtype: float32 under a mixed policy."""
    return keras.DTypePolicy(layer.dtype_policy.variable_dtype)


@keras.saving.register_keras_serializable(package="kgan")
class ConditionalBatchNormalization(keras.layers.Layer):
    """`[x, labels]` → x's shape: batch norm, then the scale `gamma[labels]` and offset `beta[labels]`.

    Args:
        num_classes: K, the number of classes; labels are int32 in [0, K), shape (batch,).
        momentum, epsilon, synchronized: as `keras.layers.BatchNormalization`'s (the moving
            statistics' decay, the ε under the variance, cross-replica statistics).

    x is (batch, ..., C), channels last. It is normalised by a sublayer
    `keras.layers.BatchNormalization(center=False, scale=False, ...)`, so the batch statistics in a
    training call, the moving statistics in any other call, and their updates are exactly Keras'.
    The per-class `gamma` and `beta`, (K, C) weights initialised to ones and zeros, are then looked
    up by label and broadcast over the spatial axes: a layer whose every row of gamma is g and of
    beta is b computes what `BatchNormalization(gamma=g, beta=b)` does, in training and inference.

    Under a mixed precision policy the normalisation, the lookup and `γ ⊙ x̂ + β` run in float32
    from float32 weights (as Keras' own batch norm does with its γ and β: float16 squares overflow
    above 255), and only the output is cast to the compute dtype.
    """

    def __init__(self, num_classes, momentum=0.99, epsilon=1e-3, synchronized=False, **kwargs):
        super().__init__(**kwargs)
        self.num_classes = _check_num_classes("ConditionalBatchNormalization", num_classes)
        if not 0.0 <= momentum <= 1.0:
            raise ValueError(f"ConditionalBatchNormalization momentum must be in [0, 1], got {momentum}.")
        if not epsilon > 0:
            raise ValueError(f"ConditionalBatchNormalization epsilon must be positive, got {epsilon}.")
        self.momentum = float(momentum)
        self.epsilon = float(epsilon)
        self.synchronized = bool(synchronized)

    def build(self, input_shape):
        features_shape, labels_shape = _split_inputs(self, input_shape, shapes=True)
        _check_label_shape(self, labels_shape)
        channels = features_shape[-1]
        if len(features_shape) < 2 or channels is None:
            raise ValueError(
                f"ConditionalBatchNormalization needs features (batch, ..., C) with a known C, got shape {tuple(features_shape)}."
            )
        self.feature_rank = len(features_shape)
        # The statistics and the affine map in float32 (the variable dtype), whatever the compute dtype.
        self.batch_norm = keras.layers.BatchNormalization(
            momentum=self.momentum, epsilon=self.epsilon, center=False, scale=False, synchronized=self.synchronized,
            dtype=_full_precision_policy(self), name="batch_norm",
        )
        self.batch_norm.build(features_shape)
        # autocast=False: read in float32 under a mixed policy, as Keras' batch norm reads its γ and β
        self.gamma = self.add_weight(shape=(self.num_classes, channels), initializer="ones", name="gamma", autocast=False)
        self.beta = self.add_weight(shape=(self.num_classes, channels), initializer="zeros", name="beta", autocast=False)

    def call(self, inputs, training=None):
        features, labels = _split_inputs(self, inputs)
        labels = _checked_labels(self, labels)
        normalized = self.batch_norm(features, training=training)  # float32 (the sublayer's compute dtype)
        # (batch, C) → (batch, 1, …, 1, C), to broadcast over the spatial axes of x
        class_shape = (-1,) + (1,) * (self.feature_rank - 2) + (self.gamma.shape[-1],)
        gamma = ops.reshape(ops.take(self.gamma, labels, axis=0), class_shape)
        beta = ops.reshape(ops.take(self.beta, labels, axis=0), class_shape)
        return ops.cast(ops.cast(gamma, normalized.dtype) * normalized + ops.cast(beta, normalized.dtype), self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0])

    def get_config(self):
        config = super().get_config()
        config.update(num_classes=self.num_classes, momentum=self.momentum, epsilon=self.epsilon, synchronized=self.synchronized)
        return config


@keras.saving.register_keras_serializable(package="kgan")
class ProjectionDiscriminatorHead(keras.layers.Layer):
    """`[features, labels]` → logits (batch, 1) = ψ(φ) + ⟨V[labels], φ⟩ (Miyato & Koyama 2018).

    Args:
        num_classes: K, the number of classes; labels are int32 in [0, K), shape (batch,).
        spectral_norm: divide both ψ's kernel and V by their largest singular values, as SNGAN's
            projection discriminator does (Miyato et al. 2018; Miyato & Koyama 2018).

    features φ is (batch, F), the discriminator's flattened last features. ψ is `self.linear`, a
    `Dense(1)` with bias; V, the (K, F) class embedding, is the kernel of `self.projection`, a
    `Dense(F, use_bias=False)` applied to the one-hot labels: `one_hot(y) · V` is row `V[y]`
    exactly. Both use Dense's default Glorot-uniform kernel initialiser (as SNGAN's embedding).

    Why V is a Dense kernel: so that `spectral_norm=True` can wrap it, like ψ, in kgan's
    `SpectralNormalization`, which divides `reshape(kernel, (-1, F)) = V` itself by σ(V) from a
    persistent power iteration (one step per training call, `u` of shape (1, F)), with the gradient
    through σ. That is SNGAN's spectrally normalised embedding: the whole (K, F) matrix divided by its
    largest singular value, not each row by its norm. `self.linear` and `self.projection` are then the
    two wrappers, and their `spectral_norm()` gives the σ's a call divides by.

    Under a mixed precision policy ψ, the lookup and the inner product run in float32 (F products
    summed: in float16 two products of 300 × 300 = 90,000 each would already overflow), and the
    logits are cast to the compute dtype; kgan's losses cast them to float32.
    """

    def __init__(self, num_classes, spectral_norm=False, **kwargs):
        super().__init__(**kwargs)
        self.num_classes = _check_num_classes("ProjectionDiscriminatorHead", num_classes)
        if not isinstance(spectral_norm, (bool, np.bool_)):
            raise ValueError(f"ProjectionDiscriminatorHead spectral_norm must be True or False, got {spectral_norm!r}.")  # noqa: TRY004
        self.spectral_norm = bool(spectral_norm)

    def build(self, input_shape):
        features_shape, labels_shape = _split_inputs(self, input_shape, shapes=True)
        _check_label_shape(self, labels_shape)
        if len(features_shape) != 2 or features_shape[-1] is None:
            raise ValueError(
                f"ProjectionDiscriminatorHead needs flat features (batch, F) with a known F, got shape {tuple(features_shape)}."
            )
        num_features = features_shape[-1]
        policy = _full_precision_policy(self)
        linear = keras.layers.Dense(1, name="linear", dtype=policy)
        projection = keras.layers.Dense(num_features, use_bias=False, name="projection", dtype=policy)
        if self.spectral_norm:
            linear = SpectralNormalization(linear, name="sn_linear", dtype=policy)
            projection = SpectralNormalization(projection, name="sn_projection", dtype=policy)
        self.linear, self.projection = linear, projection  # tracked once each, wrapped or not
        self.linear.build(features_shape)
        self.projection.build((features_shape[0], self.num_classes))

    def call(self, inputs, training=None):
        features, labels = _split_inputs(self, inputs)
        labels = _checked_labels(self, labels)
        features = ops.cast(features, self.linear.compute_dtype)  # float32 under a mixed policy
        class_embedding = self.projection(ops.one_hot(labels, self.num_classes, dtype=features.dtype), training=training)
        logits = self.linear(features, training=training) + ops.sum(class_embedding * features, axis=-1, keepdims=True)
        return ops.cast(logits, self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return (input_shape[0][0], 1)

    def get_config(self):
        config = super().get_config()
        config.update(num_classes=self.num_classes, spectral_norm=self.spectral_norm)
        return config
