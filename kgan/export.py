"""Export a generator as a TensorFlow SavedModel that anyone can load without kgan or Keras.

    kgan.export.export_generator(gan, "exported/")           # a trained GAN or a bare generator

    # later, anywhere, with TensorFlow alone:
    model = tf.saved_model.load("exported/")
    images = model.sample(16, 42)                             # uint8 (16, 64, 64, 3), same for the same seed
    pixels = model.generate_images(z)                          # uint8 from your own z (batch, latent_dim)
    floats = model.generate(z)                                 # float32 in [-1, 1]

`load_generator(path)` and `sample_images(path, n, seed)` read a trained generator back from any of
kgan's files (a run folder, a `.keras` file, an exported SavedModel).

Endpoints: `generate(z)` → float32 images in [-1, 1]; `generate_images(z)` → uint8 [0, 255];
`sample(n, seed)` → uint8 images from `kgan.latent.sample_latent(n, latent_dim, seed)`, drawn inside
the graph; `serving_default` is `generate_images`. Every `z` signature is float32 `(None, latent_dim)` —
so it records the latent size — whatever dtype policy the generator was trained under (a
mixed-precision generator would otherwise export a bfloat16 signature).

`sample` takes scalar `n` and `seed` as Python ints or as int32 or int64 tensors, in any of the four
combinations (TensorFlow's default integer is int32, NumPy's is int64), and gives the same images for
the same values: it is saved traced once per combination. Its entry in `model.signatures` (for
TF-Serving, which knows one signature per name) is the int32 `n`, int64 `seed` one. An `n` below 1
raises `tf.errors.InvalidArgumentError` ("n must be at least 1").

A conditional generator G(z, y) (`kgan.latent.generator_classes`: inputs `[z, labels]`, K classes)
exports the same names, each taking the classes too:

    model.num_classes()                                        # int32 K
    model.sample(16, 42, -1)                                   # random classes, kgan.latent.class_labels(16, K, 42)
    model.sample(16, 42, 3)                                    # all of class 3
    model.generate_images(z, labels)                           # labels int32 (batch,) in 0..K-1
    model.class_names()                                        # string (K,), when export_generator had class_names

`generate(z, labels)` and `generate_images(z, labels)` take int32 `(None,)` labels (`serving_default`
is `generate_images`); a label outside 0..K−1 raises `InvalidArgumentError`. `sample(n, seed, label)`
takes a scalar `label`, -1 for classes drawn uniformly from the seed (as `generate_samples` and the
Keras side of `sample_images` draw them) or a class for all n; `n`, `seed` and `label` are each
int32 or int64, traced for all eight combinations (`signatures["sample"]`: int32, int64, int32).
"""

import os

import keras
import numpy as np
import tensorflow as tf

from kgan.images import to_uint8
from kgan.latent import class_labels, generate, generator_classes, latent_size, sample_latent, sampling_generator

__all__ = ["export_generator", "load_generator", "sample_images"]


def export_generator(gan_or_generator, path, verbose=False, ema=True, class_names=None):
    """Write the SavedModel for `gan_or_generator` (a kgan trainer or a generator model) to `path`.

    A trainer that keeps a generator weight average (EMA) exports the average (`ema=False`: the raw
    generator), as sampling and evaluation use it. A conditional generator gets the labelled
    endpoints and `num_classes()`; `class_names` (K strings, conditional only) adds `class_names()`.
    """
    generator = sampling_generator(gan_or_generator) if ema else getattr(gan_or_generator, "generator", gan_or_generator)
    num_classes = generator_classes(generator)
    if num_classes is None and class_names is not None:
        raise ValueError("export_generator: class_names were given, but the generator is unconditional.")
    if class_names is not None:
        class_names = [str(name) for name in class_names]
        if len(class_names) != num_classes:
            raise ValueError(f"export_generator: class_names holds {len(class_names)} names for {num_classes} classes.")
    latent_dim = latent_size(generator)
    archive = keras.export.ExportArchive()
    archive.track(generator)
    if num_classes is None:
        _add_unconditional_endpoints(archive, generator, latent_dim)
    else:
        _add_conditional_endpoints(archive, generator, latent_dim, num_classes, class_names)
    archive.write_out(str(path), verbose=verbose)
    return str(path)


def _to_uint8(images):
    """float32 [-1, 1] → uint8 [0, 255], in the graph, as `kgan.images.to_uint8` does in numpy."""
    return tf.cast(tf.clip_by_value(tf.round((images + 1.0) * 127.5), 0.0, 255.0), tf.uint8)


def _at_least_one(n):
    """`n`, after a check that it is at least 1 (the check runs before the draw, whose own error is cryptic)."""
    at_least_one = tf.debugging.assert_positive(n, message="sample(n, seed): n must be at least 1")
    with tf.control_dependencies([at_least_one]):
        return tf.identity(n)


# Every integer dtype pair (n, seed): a signature fixes one dtype per argument, and callers pass
# whichever their library defaults to. The first trace is the one `signatures` lists.
_SAMPLE_DTYPES = ((tf.int32, tf.int64), (tf.int32, tf.int32), (tf.int64, tf.int64), (tf.int64, tf.int32))


def _add_unconditional_endpoints(archive, generator, latent_dim):
    z_spec = tf.TensorSpec((None, latent_dim), tf.float32, name="z")

    def generate(z):
        images = generator(tf.cast(z, generator.compute_dtype), training=False)
        return tf.cast(images, tf.float32)

    def generate_images(z):
        return _to_uint8(generate(z))

    @tf.function(autograph=False)
    def sample(n, seed):
        return generate_images(sample_latent(_at_least_one(n), latent_dim, seed))

    for n_dtype, seed_dtype in _SAMPLE_DTYPES:
        sample.get_concrete_function(tf.TensorSpec((), n_dtype, name="n"), tf.TensorSpec((), seed_dtype, name="seed"))

    archive.add_endpoint("generate", generate, input_signature=[z_spec])
    archive.add_endpoint("generate_images", generate_images, input_signature=[z_spec])
    archive.add_endpoint("sample", sample)  # already traced: Keras saves every concrete function of it
    archive.add_endpoint("serving_default", generate_images, input_signature=[z_spec])


def _add_conditional_endpoints(archive, generator, latent_dim, num_classes, class_names):
    z_spec = tf.TensorSpec((None, latent_dim), tf.float32, name="z")
    labels_spec = tf.TensorSpec((None,), tf.int32, name="labels")
    label_range = f"0..{num_classes - 1}"

    def generate_from(z, labels):
        images = generate(generator, tf.cast(z, generator.compute_dtype), labels)
        return tf.cast(images, tf.float32)

    def generate_float(z, labels):
        # an embedding lookup out of range fails on a CPU but reads zeros on a GPU: refuse it everywhere
        checks = [
            tf.debugging.assert_non_negative(labels, message=f"generate(z, labels): labels must be classes in {label_range}"),
            tf.debugging.assert_less(labels, num_classes, message=f"generate(z, labels): labels must be classes in {label_range}"),
        ]
        with tf.control_dependencies(checks):
            labels = tf.identity(labels)
        return generate_from(z, labels)

    def generate_images(z, labels):
        return _to_uint8(generate_float(z, labels))

    @tf.function(autograph=False)
    def sample(n, seed, label):
        message = f"sample(n, seed, label): label must be -1 (random classes) or a class in {label_range}"
        label = tf.cast(label, tf.int32)
        checks = [
            tf.debugging.assert_greater_equal(label, -1, message=message),
            tf.debugging.assert_less(label, num_classes, message=message),
        ]
        with tf.control_dependencies(checks):
            label = tf.identity(label)
        n = _at_least_one(n)
        # -1: the uniform draw of class_labels (seed, 1); a class: that class n times
        labels = tf.where(label < 0, class_labels(n, num_classes, seed), class_labels(n, num_classes, seed, label=label))
        return _to_uint8(generate_from(sample_latent(n, latent_dim, seed), labels))

    for n_dtype, seed_dtype in _SAMPLE_DTYPES:
        for label_dtype in (tf.int32, tf.int64):
            sample.get_concrete_function(
                tf.TensorSpec((), n_dtype, name="n"), tf.TensorSpec((), seed_dtype, name="seed"),
                tf.TensorSpec((), label_dtype, name="label"),
            )

    archive.add_endpoint("generate", generate_float, input_signature=[z_spec, labels_spec])
    archive.add_endpoint("generate_images", generate_images, input_signature=[z_spec, labels_spec])
    archive.add_endpoint("sample", sample)
    archive.add_endpoint("serving_default", generate_images, input_signature=[z_spec, labels_spec])
    archive.add_endpoint("num_classes", lambda: tf.constant(num_classes, tf.int32), input_signature=[])
    if class_names is not None:
        archive.add_endpoint("class_names", lambda: tf.constant(class_names, tf.string), input_signature=[])


def load_generator(path):
    """The generator in a run folder, a trainer's `.keras` file or a generator's `.keras` file.

    From a trainer, its weight average (EMA) when it keeps one.
    """
    path = str(path)
    if os.path.isdir(path):
        for name in ("gan.keras", "generator.keras"):
            if os.path.exists(os.path.join(path, name)):
                path = os.path.join(path, name)
                break
        else:
            raise FileNotFoundError(f"{path}: no gan.keras or generator.keras in this folder.")
    return sampling_generator(keras.models.load_model(path))


def sample_images(path, n, seed, batch_size=500, label=None):
    """n uint8 images (n, H, W, 3) for `seed` from an exported SavedModel folder, a run folder or a `.keras` file.

    Every kind draws z with `kgan.latent.sample_latent(n, latent_dim, seed)` and generates it
    `batch_size` codes at a time, so the same seed gives the same images from each, for any n.
    A conditional generator takes `label`: None (or -1) for the classes `kgan.latent.class_labels(n, K,
    seed)`, the uniform draw the SavedModel's `sample(n, seed, -1)` makes too, or a class in 0..K−1 for
    all n; an unconditional one takes no label.
    """
    if n < 1:
        raise ValueError(f"sample_images: n must be at least 1, got {n}.")
    if batch_size < 1:
        raise ValueError(f"sample_images: batch_size must be at least 1, got {batch_size}.")
    path = str(path)
    if os.path.exists(os.path.join(path, "saved_model.pb")):
        exported = tf.saved_model.load(path)  # keep a reference: its variables live as long as it does
        latent_dim = exported.generate_images.input_signature[0].shape[-1]
        num_classes = int(exported.num_classes()) if hasattr(exported, "num_classes") else None
        if num_classes is None:
            generate_batch = lambda z, labels: exported.generate_images(z).numpy()
        else:
            generate_batch = lambda z, labels: exported.generate_images(z, labels).numpy()
    else:
        generator = load_generator(path)
        latent_dim = latent_size(generator)
        num_classes = generator_classes(generator)
        if num_classes is None:
            generate_batch = lambda z, labels: to_uint8(generator(z, training=False))
        else:
            generate_batch = lambda z, labels: to_uint8(generate(generator, z, labels))
    labels = [None] * n
    if num_classes is None:
        if label is not None:
            raise ValueError(f"sample_images: label={label} was given, but the generator in {path} is unconditional.")
    elif label is None or label == -1:
        labels = class_labels(n, num_classes, seed)
    elif not (isinstance(label, (int, np.integer)) and 0 <= label < num_classes):
        raise ValueError(f"sample_images: label must be -1 (random classes) or a class in 0..{num_classes - 1}, got {label!r}.")
    else:
        labels = class_labels(n, num_classes, seed, label=label)
    z = sample_latent(n, latent_dim, seed)
    return np.concatenate(
        [generate_batch(z[start : start + batch_size], labels[start : start + batch_size]) for start in range(0, n, batch_size)]
    )
