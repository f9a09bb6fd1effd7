"""Reading a prepared TensorFlow Datasets dataset named `tfds:NAME[:SPLIT]` (e.g. `tfds:anime_faces:test`).

Only reading lives here; kgan's own builder (`anime_faces`) is in `kgan.datasets`, which `import kgan`
registers with TFDS.
"""

import tensorflow as tf

from kgan.data.sources import DataSourceError

__all__ = ["TFDS_PREFIX", "is_tfds", "tfds_images", "tfds_num_examples"]

TFDS_PREFIX = "tfds:"


def is_tfds(source):
    """Whether `source` names a TFDS dataset ('tfds:NAME' or 'tfds:NAME:SPLIT')."""
    return isinstance(source, str) and source.startswith(TFDS_PREFIX)


def _builder_and_split(spec, data_dir):
    """('tfds:NAME' or 'tfds:NAME:SPLIT') → (builder, split name), or a DataSourceError."""
    import tensorflow_datasets as tfds

    name, _, split = spec[len(TFDS_PREFIX):].partition(":")
    split = split or "train"
    try:
        builder = tfds.builder(name, data_dir=data_dir)
        builder.info.splits[split]  # noqa: B018  (raises for an unprepared dataset or unknown split)
        return builder, split
    except (tfds.core.registered.DatasetNotFoundError, AssertionError, KeyError, ValueError) as error:
        raise DataSourceError(f"{spec}: not a prepared TFDS dataset ({error}). Build it first (see data/README.md).") from error


def tfds_num_examples(spec, data_dir=None):
    """How many examples the split named by 'tfds:NAME[:SPLIT]' holds."""
    builder, split = _builder_and_split(spec, data_dir)
    return builder.info.splits[split].num_examples


def tfds_images(spec, image_size, data_dir=None):
    """(uint8 (image_size, image_size, 3) image dataset in file order, count) from a prepared TFDS split."""
    builder, split = _builder_and_split(spec, data_dir)
    dataset = builder.as_dataset(split=split, shuffle_files=False)
    images = dataset.map(
        lambda example: tf.cast(tf.round(tf.image.resize(example["image"], (image_size, image_size), antialias=True)), tf.uint8),
        num_parallel_calls=tf.data.AUTOTUNE,
    )
    return images, builder.info.splits[split].num_examples
