"""The tf.data pipeline: checked, decoded uint8 images → shuffled batches in [-1, 1]."""

import numpy as np
import tensorflow as tf

from kgan.data.scan import scan_source
from kgan.data.sources import DataSourceError

__all__ = ["batches_from_images", "make_anime_dataset", "make_toy_dataset", "tfds_num_examples", "to_unit_range"]

TFDS_PREFIX = "tfds:"


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


def _tfds_split(spec, data_dir):
    """('tfds:NAME' or 'tfds:NAME:SPLIT') → (builder, split name), or a DataSourceError."""
    import tensorflow_datasets as tfds

    import kgan.datasets  # noqa: F401  (registers anime_faces)

    name, _, split = spec[len(TFDS_PREFIX):].partition(":")
    try:
        builder = tfds.builder(name, data_dir=data_dir)
        builder.info.splits[split or "train"]  # noqa: B018  (raises for an unprepared dataset or unknown split)
        return builder, split or "train"
    except (tfds.core.registered.DatasetNotFoundError, AssertionError, KeyError, ValueError) as error:
        raise DataSourceError(f"{spec}: not a prepared TFDS dataset ({error}). Build it first (see data/README.md).") from error


def tfds_num_examples(spec, data_dir=None):
    """How many examples the split named by 'tfds:NAME[:SPLIT]' holds."""
    builder, split = _tfds_split(spec, data_dir)
    return builder.info.splits[split].num_examples


def _tfds_images(spec, image_size, data_dir):
    """('tfds:NAME' or 'tfds:NAME:SPLIT') → (uint8 image dataset, count) from a prepared TFDS dataset."""
    builder, split = _tfds_split(spec, data_dir)
    info_split = builder.info.splits[split]
    dataset = builder.as_dataset(split=split, shuffle_files=False)
    images = dataset.map(
        lambda example: tf.cast(tf.round(tf.image.resize(example["image"], (image_size, image_size), antialias=True)), tf.uint8),
        num_parallel_calls=tf.data.AUTOTUNE,
    )
    return images, info_split.num_examples


def make_anime_dataset(
    source,
    batch_size,
    image_size=64,
    seed=None,
    shuffle=True,
    repeat=False,
    drop_remainder=True,
    strict=False,
    critic_batches=1,
    prefetch=2,
    tfds_data_dir=None,
):
    """A `tf.data.Dataset` of float32 image batches in [-1, 1], shape (batch, image_size, image_size, 3).

    Args:
        source: a folder (searched recursively), a glob such as "faces/*.jpg", a .zip archive such as
            the book's faces.zip (read without unpacking), a single image, a list of paths, or
            "tfds:anime_faces" (a prepared TFDS dataset; add ":test" for another split).
        batch_size: images per batch; the last partial batch is dropped unless `drop_remainder=False`.
        image_size: side length after resizing.
        seed: shuffling seed (`None`: a different order every run).
        repeat: repeat forever (use with `fit(steps_per_epoch=...)`).
        strict: raise on the first bad file instead of skipping it (see `scan_source`).
        critic_batches: stack this many batches per element, for trainers with `n_critic > 1`.

    Files are scanned and decoded once before the dataset is returned (`scan_source`): bad ones are
    skipped and counted in a logged warning, and the decoded images are held in memory
    (18,000 64×64 faces take 220 MB). TFDS sources stream from disk instead, for sets too big for that.

    Raises:
        DataSourceError: the source is missing, empty, or no image in it decodes; the message names it.
    """
    if isinstance(source, str) and source.startswith(TFDS_PREFIX):
        images, count = _tfds_images(source, image_size, tfds_data_dir)
        _check_enough(count, batch_size, drop_remainder, source)
        if shuffle:  # streamed from disk: a shuffle buffer, whose order a resumed run does not repeat
            images = images.shuffle(min(count, 10_000), seed=seed, reshuffle_each_iteration=True)
        if repeat:
            images = images.repeat()
        return _finish(images.batch(batch_size, drop_remainder=drop_remainder), critic_batches, prefetch)
    report = scan_source(source, image_size=image_size, strict=strict)
    return batches_from_images(
        report.images, batch_size, seed, shuffle, repeat, drop_remainder, critic_batches, prefetch, report.description
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
    return batches_from_images(
        images, batch_size, seed, shuffle, repeat, drop_remainder, critic_batches, prefetch, f"toy faces ({num_images})"
    )
