"""Export a generator as a TensorFlow SavedModel that anyone can load without kgan or Keras.

    kgan.export.export_generator(gan, "exported/")           # a trained GAN or a bare generator

    # later, anywhere, with TensorFlow alone:
    model = tf.saved_model.load("exported/")
    images = model.sample(16, 42)                             # uint8 (16, 64, 64, 3), same for the same seed
    pixels = model.generate_images(z)                          # uint8 from your own z (batch, latent_dim)
    floats = model.generate(z)                                 # float32 in [-1, 1]

Endpoints: `generate(z)` → float32 images in [-1, 1]; `generate_images(z)` → uint8 [0, 255];
`sample(n, seed)` → uint8 images from `kgan.latent.sample_latent(n, latent_dim, seed)`, drawn inside
the graph;
`serving_default` is `generate_images`. Every input signature is float32 `(None, latent_dim)` —
so it records the latent size — whatever dtype policy the generator was trained under (a
mixed-precision generator would otherwise export a bfloat16 signature).
"""

import keras
import tensorflow as tf

from kgan.latent import sample_latent

__all__ = ["export_generator"]


def export_generator(gan_or_generator, path, verbose=False):
    """Write the SavedModel for `gan_or_generator` (a kgan trainer or a generator model) to `path`."""
    generator = getattr(gan_or_generator, "generator", gan_or_generator)
    latent_dim = int(generator.input_shape[-1])
    z_spec = tf.TensorSpec((None, latent_dim), tf.float32, name="z")

    def generate(z):
        images = generator(tf.cast(z, generator.compute_dtype), training=False)
        return tf.cast(images, tf.float32)

    def generate_images(z):
        return tf.cast(tf.clip_by_value(tf.round((generate(z) + 1.0) * 127.5), 0.0, 255.0), tf.uint8)

    def sample(n, seed):
        return generate_images(sample_latent(n, latent_dim, seed))

    archive = keras.export.ExportArchive()
    archive.track(generator)
    archive.add_endpoint("generate", generate, input_signature=[z_spec])
    archive.add_endpoint("generate_images", generate_images, input_signature=[z_spec])
    archive.add_endpoint(
        "sample", sample,
        input_signature=[tf.TensorSpec((), tf.int32, name="n"), tf.TensorSpec((), tf.int64, name="seed")],
    )
    archive.add_endpoint("serving_default", generate_images, input_signature=[z_spec])
    archive.write_out(str(path), verbose=verbose)
    return str(path)
