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
"""

import os

import keras
import numpy as np
import tensorflow as tf

from kgan.images import to_uint8
from kgan.latent import sample_latent, sampling_generator

__all__ = ["export_generator", "load_generator", "sample_images"]


def export_generator(gan_or_generator, path, verbose=False, ema=True):
    """Write the SavedModel for `gan_or_generator` (a kgan trainer or a generator model) to `path`.

    A trainer that keeps a generator weight average (EMA) exports the average (`ema=False`: the raw
    generator), as sampling and evaluation use it.
    """
    generator = sampling_generator(gan_or_generator) if ema else getattr(gan_or_generator, "generator", gan_or_generator)
    latent_dim = int(generator.input_shape[-1])
    z_spec = tf.TensorSpec((None, latent_dim), tf.float32, name="z")

    def generate(z):
        images = generator(tf.cast(z, generator.compute_dtype), training=False)
        return tf.cast(images, tf.float32)

    def generate_images(z):
        return tf.cast(tf.clip_by_value(tf.round((generate(z) + 1.0) * 127.5), 0.0, 255.0), tf.uint8)

    # One tf.function traced for every integer dtype pair: a signature fixes one dtype per argument, and
    # callers pass whichever their library defaults to. The first trace is the one `signatures` lists.
    @tf.function(autograph=False)
    def sample(n, seed):
        at_least_one = tf.debugging.assert_positive(n, message="sample(n, seed): n must be at least 1")
        with tf.control_dependencies([at_least_one]):  # the check runs before the draw, whose own error is cryptic
            n = tf.identity(n)
        return generate_images(sample_latent(n, latent_dim, seed))

    for n_dtype, seed_dtype in ((tf.int32, tf.int64), (tf.int32, tf.int32), (tf.int64, tf.int64), (tf.int64, tf.int32)):
        sample.get_concrete_function(tf.TensorSpec((), n_dtype, name="n"), tf.TensorSpec((), seed_dtype, name="seed"))

    archive = keras.export.ExportArchive()
    archive.track(generator)
    archive.add_endpoint("generate", generate, input_signature=[z_spec])
    archive.add_endpoint("generate_images", generate_images, input_signature=[z_spec])
    archive.add_endpoint("sample", sample)  # already traced: Keras saves every concrete function of it
    archive.add_endpoint("serving_default", generate_images, input_signature=[z_spec])
    archive.write_out(str(path), verbose=verbose)
    return str(path)


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


def sample_images(path, n, seed, batch_size=500):
    """n uint8 images (n, H, W, 3) for `seed` from an exported SavedModel folder, a run folder or a `.keras` file.

    Every kind draws z with `kgan.latent.sample_latent(n, latent_dim, seed)` and generates it
    `batch_size` codes at a time, so the same seed gives the same images from each, for any n.
    """
    if n < 1:
        raise ValueError(f"sample_images: n must be at least 1, got {n}.")
    if batch_size < 1:
        raise ValueError(f"sample_images: batch_size must be at least 1, got {batch_size}.")
    path = str(path)
    if os.path.exists(os.path.join(path, "saved_model.pb")):
        exported = tf.saved_model.load(path)  # keep a reference: its variables live as long as it does
        latent_dim = exported.generate_images.input_signature[0].shape[-1]
        generate = lambda z: exported.generate_images(z).numpy()
    else:
        generator = load_generator(path)
        latent_dim = generator.input_shape[-1]
        generate = lambda z: to_uint8(generator(z, training=False))
    z = sample_latent(n, latent_dim, seed)
    return np.concatenate([generate(z[start : start + batch_size]) for start in range(0, n, batch_size)])
