"""The tf.data pipeline: encoded images → decoded, resized uint8 → shuffled batches in [-1, 1]."""

import logging
import os

import numpy as np
import tensorflow as tf

from kgan.data.sources import DataSourceError, resolve_source

__all__ = ["make_anime_dataset", "make_toy_dataset", "decode_image", "to_unit_range"]

log = logging.getLogger(__name__)


def decode_image(encoded, image_size):
    """JPEG/PNG/BMP/GIF bytes → uint8 (image_size, image_size, 3).

    Grayscale is repeated to RGB, alpha is dropped, 16-bit PNGs are scaled to 8 bits, and any size is
    resized with antialiasing (the book's 96×96 faces, the 64×64 sets, anything else).
    """
    image = tf.io.decode_image(encoded, channels=3, expand_animations=False, dtype=tf.uint8)
    image = tf.image.resize(image, (image_size, image_size), antialias=True)
    return tf.cast(tf.round(tf.clip_by_value(image, 0.0, 255.0)), tf.uint8)


def to_unit_range(images):
    """uint8 [0, 255] → float32 [-1, 1], as the book's `img / 127.5 - 1`."""
    return tf.cast(images, tf.float32) / 127.5 - 1.0


def _first_readable(source):
    """Index of the first image that decodes, or a DataSourceError naming the source and the first failure."""
    first_error = None
    for index, name in enumerate(source.names):
        try:
            tf.io.decode_image(source.read(index), channels=3, expand_animations=False)
            return index
        except (tf.errors.InvalidArgumentError, OSError) as error:
            first_error = first_error or f"{name}: {str(error).splitlines()[0]}"
    raise DataSourceError(
        f"{source.description}: none of its {len(source)} image files could be decoded (first failure: {first_error})."
    )


def _pipeline_options():
    options = tf.data.Options()
    options.deterministic = True
    # The autotuner makes every fit() end with a stall of seconds while it winds down; fixed
    # parallelism (set explicitly below) keeps short runs and timings honest.
    options.autotune.enabled = False
    return options


def _batched(images, num_images, batch_size, seed, shuffle, repeat, drop_remainder, critic_batches, prefetch, description):
    """Shared tail of every pipeline: shuffle, repeat, batch, scale to [-1, 1], prefetch."""
    if drop_remainder and num_images < batch_size:
        raise DataSourceError(
            f"{description}: {num_images} images, fewer than one batch of {batch_size} (use a smaller batch size)."
        )
    if shuffle:
        images = images.shuffle(num_images, seed=seed, reshuffle_each_iteration=True)
    if repeat:
        images = images.repeat()
    batches = images.batch(batch_size, drop_remainder=drop_remainder).map(to_unit_range)
    if critic_batches > 1:  # one element = n_critic fresh real batches for one WGAN-GP step
        batches = batches.batch(critic_batches, drop_remainder=True)
    return batches.prefetch(prefetch).with_options(_pipeline_options())


def make_anime_dataset(
    source,
    batch_size,
    image_size=64,
    seed=None,
    shuffle=True,
    repeat=False,
    drop_remainder=True,
    cache=True,
    critic_batches=1,
    num_parallel_calls=None,
    prefetch=2,
):
    """A `tf.data.Dataset` of float32 image batches in [-1, 1], shape (batch, image_size, image_size, 3).

    Args:
        source: a folder (searched recursively), a glob such as "faces/*.jpg", a .zip archive such as
            the book's faces.zip (read without unpacking), a single image, or a list of paths.
        batch_size: images per batch; the last partial batch is dropped unless `drop_remainder=False`.
        image_size: side length after resizing.
        seed: shuffling seed (`None`: a different order every run).
        repeat: repeat forever (use with `fit(steps_per_epoch=...)`).
        cache: keep the decoded uint8 images in memory after the first pass (18,000 64×64 faces
            take 220 MB), so later epochs skip decoding.
        critic_batches: stack this many batches per element, for trainers with `n_critic > 1`.
        num_parallel_calls: decoding threads (default: the CPU count).

    Raises:
        DataSourceError: the source is missing, empty, or no image in it decodes; the message names it.

    A file that fails to decode mid-stream is skipped with a logged warning rather than ending training.
    """
    source = resolve_source(source)
    _first_readable(source)
    parallel = num_parallel_calls or os.cpu_count() or 1
    if source.archive is None:
        encoded = tf.data.Dataset.from_tensor_slices(list(source.names))
        if shuffle and not cache:
            encoded = encoded.shuffle(len(source), seed=seed, reshuffle_each_iteration=True)
        encoded = encoded.map(tf.io.read_file, num_parallel_calls=parallel)
    else:
        encoded = tf.data.Dataset.from_tensor_slices(np.array(source.read_all(), dtype=object))
        if shuffle and not cache:
            encoded = encoded.shuffle(len(source), seed=seed, reshuffle_each_iteration=True)
    images = encoded.map(lambda data: decode_image(data, image_size), num_parallel_calls=parallel)
    images = images.ignore_errors(log_warning=True)
    if cache:
        images = images.cache()
    return _batched(
        images, len(source), batch_size, seed, shuffle and cache, repeat, drop_remainder, critic_batches, prefetch,
        source.description,
    )


def make_toy_dataset(
    batch_size,
    num_images=4096,
    image_size=64,
    seed=0,
    shuffle=True,
    repeat=False,
    drop_remainder=True,
    critic_batches=1,
    prefetch=2,
):
    """The embedded default: procedural cartoon faces (`toy_faces`) batched like `make_anime_dataset`.

    `seed` fixes both the faces drawn and the shuffling order.
    """
    from kgan.data.toy_faces import toy_faces

    images, _ = toy_faces(num_images, image_size=image_size, seed=seed)
    dataset = tf.data.Dataset.from_tensor_slices(images)
    return _batched(
        dataset, num_images, batch_size, seed, shuffle, repeat, drop_remainder, critic_batches, prefetch,
        f"toy faces ({num_images})",
    )
