"""The tf.data pipeline: checked, decoded uint8 images → shuffled batches in [-1, 1].

`load` is the one entry point: any source (a path, a list of paths, images already in memory, or a
prepared TFDS dataset) becomes `Batches`, the dataset plus what it was made from.
"""

import dataclasses

import numpy as np
import tensorflow as tf

from kgan.data.scan import scan_source
from kgan.data.sources import DataSourceError
from kgan.data.tfds import is_tfds, tfds_images
from kgan.defaults import IMAGE_SIZE

__all__ = ["Batches", "batches_from_images", "load", "make_anime_dataset", "to_unit_range"]


def to_unit_range(images):
    """uint8 [0, 255] → float32 [-1, 1], as the book's `img / 127.5 - 1`."""
    return tf.cast(images, tf.float32) / 127.5 - 1.0


def _pipeline_options():
    options = tf.data.Options()
    options.deterministic = True
    # The autotuner makes every fit() end with a stall of seconds while it winds down; the
    # pipeline is far faster than any training step without it.
    options.autotune.enabled = False
    return options


def _check_enough(num_images, batch_size, drop_remainder, description):
    if drop_remainder and num_images < batch_size:
        raise DataSourceError(
            f"{description}: {num_images} images, fewer than one batch of {batch_size} (use a smaller batch size)."
        )


def _finish(batches, critic_batches, prefetch):
    """Scale to [-1, 1], stack critic batches, prefetch."""
    batches = batches.map(to_unit_range)
    if critic_batches > 1:
        # one element = n_critic fresh real batches for one WGAN-GP step, stacked on axis 1 so that
        # axis 0 stays the batch: a distribution strategy splits elements along axis 0
        batches = batches.batch(critic_batches, drop_remainder=True).map(
            lambda stack: tf.experimental.numpy.swapaxes(stack, 0, 1)
        )
    return batches.prefetch(prefetch).with_options(_pipeline_options())


def batches_from_images(
    images, batch_size, seed=None, shuffle=True, repeat=False, drop_remainder=True, critic_batches=1, prefetch=2,
    description="images",
):
    """Float32 batches in [-1, 1] from an in-memory uint8 array (N, H, W, 3), epoch by epoch.

    Without `repeat` the dataset is one epoch and knows its length (`cardinality()`); with it, it
    never ends. The last partial batch of each epoch is dropped unless `drop_remainder=False`.

    Epoch `e` visits the images in the order `stateless_shuffle(range(N), seed=(seed, e))`: the batch
    at any step is a pure function of the seed and the step, so a run resumed at step k (by skipping
    k batches) sees exactly the batches the uninterrupted run saw. tf.data's own reshuffling keeps its
    state in the dataset object and would not repeat across processes.
    """
    num_images = len(images)
    _check_enough(num_images, batch_size, drop_remainder, description)
    seed = int(np.random.randint(0, 2**31)) if seed is None else int(seed)
    pixels = tf.constant(images)  # captured by reference, not copied into the graph

    def epoch_order(epoch):
        order = tf.range(num_images, dtype=tf.int64)
        if shuffle:
            order = tf.random.experimental.stateless_shuffle(order, seed=tf.stack([tf.constant(seed, tf.int64), epoch]))
        return tf.data.Dataset.from_tensor_slices(order)

    epochs = tf.data.Dataset.range(2**62 if repeat else 1)
    # batches stay within an epoch: every epoch is N // batch_size full batches, repeated or not
    indices = epochs.flat_map(lambda epoch: epoch_order(epoch).batch(batch_size, drop_remainder=drop_remainder))
    if not repeat:
        batches = num_images // batch_size if drop_remainder else -(-num_images // batch_size)
        indices = indices.apply(tf.data.experimental.assert_cardinality(batches))
    return _finish(indices.map(lambda batch: tf.gather(pixels, batch)), critic_batches, prefetch)


@dataclasses.dataclass(frozen=True)
class Batches:
    """What `load` gives: the batches, and what they were made from.

    Attributes:
        dataset: float32 batches in [-1, 1], (batch, H, W, 3), or (batch, critic_batches, H, W, 3).
        num_images: images in the source (after skipping bad files).
        description: the source, for messages.
        resumable: whether step k's batch is a pure function of (seed, k), so that a run resumed by
            skipping k batches sees what the uninterrupted run saw: true for images held in memory,
            false for TFDS streams (their shuffle buffer does not repeat).
    """

    dataset: tf.data.Dataset
    num_images: int
    description: str
    resumable: bool


def load(
    source,
    batch_size,
    image_size=IMAGE_SIZE,
    seed=None,
    shuffle=True,
    repeat=False,
    drop_remainder=True,
    strict=False,
    critic_batches=1,
    prefetch=2,
    tfds_data_dir=None,
    description=None,
):
    """Batches of float32 images in [-1, 1], shape (batch, image_size, image_size, 3), from any source.

    Args:
        source: a folder (searched recursively), a glob such as "faces/*.jpg", a .zip archive such as
            the book's faces.zip (read without unpacking), a single image, a list of paths, a uint8
            array (N, H, W, 3) of images already in memory, or "tfds:anime_faces" (a prepared TFDS
            dataset; add ":test" for another split).
        batch_size: images per batch; the last partial batch is dropped unless `drop_remainder=False`.
        image_size: side length after resizing (an in-memory array is used at its own size).
        seed: shuffling seed (`None`: a different order every run).
        repeat: repeat forever (use with `fit(steps_per_epoch=...)`).
        strict: raise on the first bad file instead of skipping it (see `scan_source`).
        critic_batches: stack this many batches per element, for trainers with `n_critic > 1`.
        description: how messages name the source (default: the source itself).

    Files are scanned and decoded once, before the dataset is returned (`scan_source`): bad ones are
    skipped and counted in a logged warning, and the decoded images are held in memory
    (18,000 64×64 faces take 220 MB). TFDS sources stream from disk instead, for sets too big for that.

    Raises:
        DataSourceError: the source is missing, empty, or no image in it decodes; the message names it.
    """
    if is_tfds(source):
        images, count = tfds_images(source, image_size, tfds_data_dir)
        description = description or source
        _check_enough(count, batch_size, drop_remainder, description)
        if shuffle:  # streamed from disk: a shuffle buffer, whose order a resumed run does not repeat
            images = images.shuffle(min(count, 10_000), seed=seed, reshuffle_each_iteration=True)
        if repeat:
            images = images.repeat()
        dataset = _finish(images.batch(batch_size, drop_remainder=drop_remainder), critic_batches, prefetch)
        return Batches(dataset, count, description, resumable=False)
    if isinstance(source, np.ndarray):
        if source.ndim != 4 or source.shape[-1] != 3 or source.dtype != np.uint8:
            raise DataSourceError(f"Images in memory must be uint8 (N, H, W, 3), got {source.dtype} {source.shape}.")
        images, description = source, description or f"{len(source):,} images in memory"
    else:
        report = scan_source(source, image_size=image_size, strict=strict)
        images, description = report.images, description or report.description
    dataset = batches_from_images(
        images, batch_size, seed, shuffle, repeat, drop_remainder, critic_batches, prefetch, description
    )
    return Batches(dataset, len(images), description, resumable=True)


def make_anime_dataset(source, batch_size, image_size=IMAGE_SIZE, **options):
    """The book's name for reading the faces: `load(source, batch_size, image_size, ...).dataset`.

    Takes every option of `load` (seed, shuffle, repeat, drop_remainder, strict, critic_batches, ...).
    """
    return load(source, batch_size, image_size, **options).dataset
