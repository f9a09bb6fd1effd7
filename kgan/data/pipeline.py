"""The tf.data pipeline: checked, decoded uint8 images → shuffled batches in [-1, 1]."""

import tensorflow as tf

from kgan.data.scan import scan_source
from kgan.data.sources import DataSourceError

__all__ = ["make_anime_dataset", "make_toy_dataset", "to_unit_range"]

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


def _batched(images, num_images, batch_size, seed, shuffle, repeat, drop_remainder, critic_batches, prefetch, description):
    """Shared tail of every pipeline: shuffle, repeat, batch, scale to [-1, 1], prefetch."""
    if drop_remainder and num_images < batch_size:
        raise DataSourceError(
            f"{description}: {num_images} images, fewer than one batch of {batch_size} (use a smaller batch size)."
        )
    if shuffle:
        images = images.shuffle(min(num_images, 50_000), seed=seed, reshuffle_each_iteration=True)
    if repeat:
        images = images.repeat()
    batches = images.batch(batch_size, drop_remainder=drop_remainder).map(to_unit_range)
    if critic_batches > 1:  # one element = n_critic fresh real batches for one WGAN-GP step
        batches = batches.batch(critic_batches, drop_remainder=True)
    return batches.prefetch(prefetch).with_options(_pipeline_options())


def _tfds_images(spec, image_size, data_dir):
    """('tfds:NAME' or 'tfds:NAME:SPLIT') → (uint8 image dataset, count) from a prepared TFDS dataset."""
    import tensorflow_datasets as tfds

    import kgan.datasets  # noqa: F401  (registers anime_faces)

    name, _, split = spec[len(TFDS_PREFIX):].partition(":")
    try:
        builder = tfds.builder(name, data_dir=data_dir)
        info_split = builder.info.splits[split or "train"]
        dataset = builder.as_dataset(split=split or "train", shuffle_files=False)
    except (tfds.core.registered.DatasetNotFoundError, AssertionError, KeyError, ValueError) as error:
        raise DataSourceError(f"{spec}: not a prepared TFDS dataset ({error}). Build it first (see data/README.md).") from error
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
        description = source
    else:
        report = scan_source(source, image_size=image_size, strict=strict)
        images, count, description = tf.data.Dataset.from_tensor_slices(report.images), len(report.names), report.description
    return _batched(images, count, batch_size, seed, shuffle, repeat, drop_remainder, critic_batches, prefetch, description)


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
