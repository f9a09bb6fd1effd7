"""Latent codes: drawing z (and class labels) for a seed, generating from them, and walking between codes.

`sample_latent(n, latent_dim, seed)` is the one way kgan draws z for sampling outside training: the
sample grids of a run, `generate_samples`, `kgan sample` and the exported SavedModel's
`sample(n, seed)` endpoint all draw it, so the same seed gives the same codes everywhere. (During
training the trainer draws its own stream, `GAN.sample_latent`, seeded per step and per replica.)

Conditional generators (Mirza & Osindero 2014) map a code and a class to an image, G(z, y). kgan's
have two inputs, `[z, labels]`: z float (None, latent_dim) named "z", labels int32 class indices
(None,) named "labels", and hold a `keras.layers.Embedding` named "class_embedding" whose
`input_dim` is the number of classes K. So that every caller handles both kinds alike:

- `generator_classes(generator)` is K for a conditional generator, None for an unconditional one;
- `latent_size(generator)` is the size of z, read from the z input (a two-input model has no single
  `input_shape[-1]`);
- `class_labels(n, K, seed)` draws n classes uniformly from the stateless seed (seed, 1) — a stream
  apart from z's (seed, 0), so adding labels does not change the codes; `class_labels(n, K, seed, label)`
  is `label` n times;
- `generate(generator, z, labels)` is the one way to call any generator (inference mode by default);
- `generate_samples(generator, n, seed, labels=None)` gives a conditional generator the classes
  `class_labels(n, K, seed)` unless `labels` names them, so a seed names the images for both kinds.
"""

import keras
import numpy as np
import tensorflow as tf

__all__ = [
    "class_labels", "generate", "generate_samples", "generator_classes", "interpolate", "latent_size", "sample_latent",
    "sampling_generator", "slerp",
]

# The name of the layer that makes a generator conditional, and whose `input_dim` is its number of classes.
CLASS_EMBEDDING = "class_embedding"


def sample_latent(n, latent_dim, seed):
    """z ~ N(0, I), float32 (n, latent_dim): a stateless draw with seed (seed, 0), usable inside a graph."""
    seed = tf.stack([tf.cast(seed, tf.int64), tf.constant(0, tf.int64)])
    return tf.random.stateless_normal(tf.stack([n, latent_dim]), seed=seed)


def sampling_generator(gan):
    """The generator to sample from: a trainer's weight average (EMA) when it keeps one, else its generator.

    Sampling, evaluation and export all draw from it; the health monitor watches the raw generator,
    whose training it judges.
    """
    ema = getattr(gan, "ema_generator", None)
    return ema() if ema is not None else getattr(gan, "generator", gan)


def _layers(model):
    """Every layer inside `model`, nested models' layers included, depth first."""
    for layer in getattr(model, "layers", ()):
        yield layer
        yield from _layers(layer)


def generator_classes(generator):
    """K, the number of classes of a conditional generator (its "class_embedding" `input_dim`); None if unconditional.

    A conditional generator G(z, y) (Mirza & Osindero 2014) takes `[z, labels]`; kgan finds K in the
    Embedding layer named "class_embedding" that turns each label into a vector.
    """
    embedding = next((layer for layer in _layers(generator) if layer.name == CLASS_EMBEDDING), None)
    if embedding is None:
        return None
    if not isinstance(embedding, keras.layers.Embedding):
        raise TypeError(
            f"The generator's layer {CLASS_EMBEDDING!r} must be a keras.layers.Embedding, got {type(embedding).__name__}."
        )
    inputs = getattr(generator, "inputs", None)
    if inputs is not None and len(inputs) != 2:
        raise ValueError(
            f"The generator holds a {CLASS_EMBEDDING!r} layer, so it is conditional, but has {len(inputs)} "
            "input(s): a conditional generator takes [z, labels]."
        )
    return int(embedding.input_dim)


def _z_input(generator):
    """The z input of a generator: its only input, or the one named "z" of [z, labels]."""
    inputs = generator.inputs
    if len(inputs) == 1:
        return inputs[0]
    named = [tensor for tensor in inputs if tensor.name == "z"]
    if len(named) != 1:
        raise ValueError(f"A generator with inputs {[tensor.name for tensor in inputs]} needs exactly one input named 'z'.")
    return named[0]


def latent_size(generator):
    """The size of z (latent_dim) a generator takes, read from its z input, for one- and two-input generators."""
    if len(getattr(generator, "inputs", None) or ()) < 2:
        return int(generator.input_shape[-1])  # as before: a one-input model's z shape
    return int(_z_input(generator).shape[-1])


def class_labels(n, num_classes, seed, label=None):
    """n class indices, int32 (n,): y ~ Uniform{0, …, K−1} drawn with stateless seed (seed, 1), or `label` n times.

    The labels' stream (seed, 1) is not z's (seed, 0): the same seed gives the same codes with or
    without labels. Usable inside a graph (n, seed and label may be tensors); a Python `label`
    outside [0, K) is a ValueError here, a tensor one is the caller's to check.
    """
    if isinstance(num_classes, (bool, np.bool_)) or not isinstance(num_classes, (int, np.integer)) or num_classes < 1:
        raise ValueError(f"class_labels: num_classes must be a whole number of classes, at least 1, got {num_classes!r}.")
    if label is not None:
        if isinstance(label, (int, np.integer)) and not 0 <= label < num_classes:
            raise ValueError(f"class_labels: label must be a class in 0..{num_classes - 1}, got {label}.")
        return tf.fill(tf.reshape(tf.cast(n, tf.int32), [1]), tf.cast(label, tf.int32))
    seed = tf.stack([tf.cast(seed, tf.int64), tf.constant(1, tf.int64)])
    return tf.random.stateless_uniform(
        tf.reshape(tf.cast(n, tf.int32), [1]), seed=seed, minval=0, maxval=int(num_classes), dtype=tf.int32
    )


def generate(generator, z, labels=None, training=False):
    """G(z) for an unconditional generator, G(z, y) for a conditional one: the one way kgan calls a generator.

    Args:
        generator: a Keras generator, z → images or [z, labels] → images.
        z: codes (batch, latent_dim).
        labels: a conditional generator's classes, int (batch,) or one class for the whole batch;
            must be None for an unconditional one.
        training: the networks' mode (inference by default: batch norm's moving statistics).
    """
    num_classes = generator_classes(generator)
    if num_classes is None:
        if labels is not None:
            raise ValueError("generate: labels were given, but the generator is unconditional (it takes z alone).")
        return generator(z, training=training)
    if labels is None:
        raise ValueError(
            f"generate: the generator is conditional ({num_classes} classes) and needs labels, e.g. "
            "kgan.latent.class_labels(n, num_classes, seed)."
        )
    if tf.executing_eagerly():  # a gather out of range fails on a CPU but gives zeros on a GPU: say it plainly
        values = np.asarray(labels)
        if values.size and (values.min() < 0 or values.max() >= num_classes):
            raise ValueError(f"generate: labels must be classes in 0..{num_classes - 1}, got values {values.min()}..{values.max()}.")
    z = tf.convert_to_tensor(z)  # Keras refuses a list that mixes numpy arrays and tensors
    labels = tf.cast(labels, tf.int32)
    if labels.shape.rank == 0:  # one class for every code
        labels = tf.fill(tf.shape(z)[:1], labels)
    return generator([z, labels], training=training)


def generate_samples(generator, num_samples=2500, seed=0, batch_size=2500, labels=None):
    """`num_samples` outputs of `generator` (inference mode) for `sample_latent(num_samples, ..., seed)`, as numpy.

    A conditional generator gets `labels` (int (num_samples,), or one class for all), or, when None,
    the uniform classes `class_labels(num_samples, K, seed)`; an unconditional one takes no labels.
    """
    z = sample_latent(num_samples, latent_size(generator), seed)
    num_classes = generator_classes(generator)
    if num_classes is None:
        if labels is not None:
            raise ValueError("generate_samples: labels were given, but the generator is unconditional (it takes z alone).")
        chunks = [np.asarray(generator(z[start : start + batch_size], training=False)) for start in range(0, num_samples, batch_size)]
        return np.concatenate(chunks).astype(np.float32)
    if labels is None:
        labels = class_labels(num_samples, num_classes, seed)
    labels = np.asarray(labels)
    if labels.shape not in ((), (num_samples,)):
        raise ValueError(f"generate_samples: labels must be one class or {num_samples} of them, got shape {labels.shape}.")
    labels = np.broadcast_to(labels, (num_samples,))
    chunks = [
        np.asarray(generate(generator, z[start : start + batch_size], labels[start : start + batch_size]))
        for start in range(0, num_samples, batch_size)
    ]
    return np.concatenate(chunks).astype(np.float32)


def slerp(z0, z1, t):
    """Spherical interpolation from `z0` (t = 0) to `z1` (t = 1) along the great circle between them.

    High-dimensional Gaussian codes concentrate near a sphere; the straight line between two of them
    passes through its low-density interior (ganhacks: "interpolate on the great circle").
    Falls back to linear interpolation when the two are (nearly) parallel.
    """
    z0, z1 = np.asarray(z0, np.float64), np.asarray(z1, np.float64)
    cos = np.dot(z0, z1) / (np.linalg.norm(z0) * np.linalg.norm(z1))
    omega = np.arccos(np.clip(cos, -1.0, 1.0))
    if np.sin(omega) < 1e-6:
        return (1 - t) * z0 + t * z1
    return (np.sin((1 - t) * omega) * z0 + np.sin(t * omega) * z1) / np.sin(omega)


def interpolate(z0, z1, steps):
    """`steps` codes from `z0` to `z1` (both included) by `slerp`, float32 (steps, latent_dim)."""
    return np.stack([slerp(z0, z1, t) for t in np.linspace(0.0, 1.0, steps)]).astype(np.float32)
