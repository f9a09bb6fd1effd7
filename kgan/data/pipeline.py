"""The tf.data pipeline: checked, decoded uint8 images → shuffled batches in [-1, 1].

`load` is the one entry point: any source (a path, a list of paths, images already in memory, or a
prepared TFDS dataset) becomes `Batches`, the dataset plus what it was made from. Images are held
in memory when their decoded size fits the memory budget (`kgan.data.memory`) and streamed from
disk when it does not; either way every epoch is a new seeded permutation and step k's batch is a
pure function of (seed, k), so a resumed run sees what the uninterrupted run saw.

With `labels` (for a conditional GAN) each element is `(images, labels)`: the labels come from
class folders (`kgan.data.labels`) or with images in memory, and each batch's labels are gathered
with the very index batch that gathers its images, so they cannot drift apart, shuffled or resumed.
"""

import dataclasses
import functools
import logging
import os
import typing
import zipfile

import numpy as np
import tensorflow as tf

from kgan.data.decode import decode_image
from kgan.data.labels import class_counts, class_summary, infer_labels
from kgan.data.memory import default_memory_budget, format_size, parse_size
from kgan.data.scan import scan_source
from kgan.data.sources import DataSourceError, resolve_source
from kgan.data.tfds import is_tfds, tfds_images
from kgan.defaults import IMAGE_SIZE, MEMORY_FRACTION

__all__ = [
    "Batches", "batches_from_files", "batches_from_images", "load", "make_anime_dataset", "streamed_read_error",
    "to_unit_range",
]

log = logging.getLogger("kgan.data")


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


def _scaled(images, labels=None):
    return to_unit_range(images) if labels is None else (to_unit_range(images), labels)


def _batch_axis_first(stack, labels=None):
    """(n_critic, B, ...) → (B, n_critic, ...), for the images and the labels alike."""
    # axis 0 stays the batch: a distribution strategy splits elements along axis 0
    stack = tf.experimental.numpy.swapaxes(stack, 0, 1)
    return stack if labels is None else (stack, tf.transpose(labels))


def _finish(batches, critic_batches, prefetch):
    """Scale to [-1, 1], stack critic batches, prefetch (images alone or (images, labels) pairs)."""
    batches = batches.map(_scaled)
    if critic_batches > 1:
        # one element = n_critic fresh real batches for one WGAN-GP step, stacked on axis 1
        batches = batches.batch(critic_batches, drop_remainder=True).map(_batch_axis_first)
    return batches.prefetch(prefetch).with_options(_pipeline_options())


def _index_batches(num_images, batch_size, seed, shuffle, repeat, drop_remainder, start_batch):
    """Batches of image indices (int64 vectors), epoch by epoch, from batch `start_batch` on.

    Epoch `e` of a repeated stream visits the images in the order `stateless_shuffle(range(N), seed=(seed, e))`,
    so batch k is a pure function of (seed, k): a stream started at batch k (a resumed run, a new
    process) continues exactly where the uninterrupted one was, without computing the batches it skips.
    Without `repeat` the dataset is one epoch, and each pass over it (each `fit` epoch) is a new epoch
    with its own order: pass i is keyed by the i-th draw of a seeded random stream, the same for the same seed.
    """
    per_epoch = num_images // batch_size if drop_remainder else -(-num_images // batch_size)
    full = num_images // batch_size

    def epoch_batches(key):
        order = tf.range(num_images, dtype=tf.int64)
        if shuffle:
            order = tf.random.experimental.stateless_shuffle(order, seed=tf.stack([tf.constant(seed, tf.int64), key]))
        # batches stay within an epoch: every epoch is N // batch_size full batches, repeated or not
        batches = tf.data.Dataset.from_tensor_slices(tf.reshape(order[: full * batch_size], (full, batch_size)))
        if per_epoch > full:
            batches = batches.concatenate(tf.data.Dataset.from_tensors(order[full * batch_size :]))
        return batches

    if repeat:
        first_epoch, start_batch = divmod(start_batch, per_epoch)
        keys = tf.data.Dataset.range(first_epoch, 2**62)
    else:
        keys = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).take(1)
    indices = keys.flat_map(epoch_batches).skip(start_batch)
    if not repeat:
        indices = indices.apply(tf.data.experimental.assert_cardinality(max(per_epoch - start_batch, 0)))
    return indices


def _in_memory_pixels(images):
    """index batch → uint8 images, gathered from the array itself: a `tf.constant` would be a second copy."""
    shape = images.shape[1:]

    def gather(indices):
        pixels = tf.numpy_function(lambda rows: images[rows], [indices], tf.uint8, stateful=False)
        return tf.ensure_shape(pixels, (None, *shape))

    return gather


def _streamed_pixels(source, names, image_size):
    """index batch → uint8 images, each read from the source and decoded on the fly."""
    read = source.reader()

    def read_batch(rows):  # one Python call per batch: a call per image costs more than its decoding
        batch = [names[row] for row in rows]
        try:
            return np.array(read(batch), dtype=object)
        except (OSError, KeyError, zipfile.BadZipFile, EOFError) as error:
            # raised inside tf.data, this reaches `fit` as a TensorFlow error: `streamed_read_error` finds it again
            raise RuntimeError(
                f"{_STREAM_READ_FAILED}: {source.description}: one of {', '.join(map(str, batch[:3]))}"
                f"{' …' if len(batch) > 3 else ''} cannot be read any more ({error}); every file was readable when "
                "the data was loaded. Put the files back and resume."
            ) from error

    spec = tf.TensorSpec((image_size, image_size, 3), tf.uint8)

    def decode(indices):
        encoded = tf.ensure_shape(tf.numpy_function(read_batch, [indices], tf.string, stateful=False), (None,))
        return tf.map_fn(lambda data: decode_image(data, image_size), encoded, fn_output_signature=spec)

    return decode


_STREAM_READ_FAILED = "a streamed image could not be read"


def streamed_read_error(error):
    """The `DataSourceError` behind a TensorFlow error raised by a streamed batch whose file vanished, or None."""
    message = str(getattr(error, "message", error))
    if _STREAM_READ_FAILED not in message:
        return None
    sentence = message[message.index(_STREAM_READ_FAILED) :].splitlines()[0]
    return DataSourceError(sentence.removeprefix(_STREAM_READ_FAILED + ": "))


def _with_labels(pixels, labels):
    """index batch → (uint8 images, int32 labels): one index batch gathers both, so they stay aligned."""
    if labels is None:
        return pixels
    labels = tf.constant(labels, tf.int32)
    return lambda indices: (pixels(indices), tf.gather(labels, indices))


def _checked_labels(labels, num_images, description):
    """`labels` as int32 (N,), or a DataSourceError saying what is wrong with them."""
    if labels is None:
        return None
    labels = np.asarray(labels)
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
        raise DataSourceError(f"{description}: labels must be ints of shape (N,), got {labels.dtype} {labels.shape}.")
    if len(labels) != num_images:
        raise DataSourceError(f"{description}: {len(labels):,} labels for {num_images:,} images; give one label per image.")
    if len(labels) and labels.min() < 0:
        raise DataSourceError(
            f"{description}: labels must be class indices >= 0, got {labels.min()} (e.g. image {int(labels.argmin())})."
        )
    return labels.astype(np.int32)


def _batches(pixels, num_images, batch_size, seed, shuffle, repeat, drop_remainder, critic_batches, prefetch,
             start_step, parallel, labels=None):
    indices = _index_batches(
        num_images, batch_size, seed, shuffle, repeat, drop_remainder, start_batch=start_step * critic_batches
    )
    read = _with_labels(pixels, labels)
    batches = indices.map(read, num_parallel_calls=parallel, deterministic=True) if parallel else indices.map(read)
    return _finish(batches, critic_batches, prefetch)


def batches_from_images(
    images, batch_size, seed=None, shuffle=True, repeat=False, drop_remainder=True, critic_batches=1, prefetch=2,
    description="images", start_step=0, labels=None,
):
    """Float32 batches in [-1, 1] from an in-memory uint8 array (N, H, W, 3), epoch by epoch.

    With `labels` (ints (N,), label i for image i) each element is (images, int32 labels (B,)), or
    ((B, n, H, W, 3), (B, n)) with `critic_batches=n`.

    Without `repeat` the dataset is one epoch and knows its length (`cardinality()`), and each pass over
    it reshuffles; with it, it never ends. The last partial batch of each epoch is dropped unless
    `drop_remainder=False`. The dataset starts at step `start_step` (an element is one step:
    `critic_batches` batches).

    A repeated stream's step k is a pure function of the seed and k (see `_index_batches`), so a run
    resumed at step k sees exactly the batches the uninterrupted run saw. tf.data's own reshuffling
    keeps its state in the dataset object and would not repeat across processes.
    """
    num_images = len(images)
    _check_enough(num_images, batch_size, drop_remainder, description)
    labels = _checked_labels(labels, num_images, description)
    seed = _concrete_seed(seed)
    return _batches(
        _in_memory_pixels(images), num_images, batch_size, seed, shuffle, repeat, drop_remainder, critic_batches,
        prefetch, start_step, parallel=None, labels=labels,
    )


def batches_from_files(
    report, batch_size, image_size=IMAGE_SIZE, seed=None, shuffle=True, repeat=False, drop_remainder=True,
    critic_batches=1, prefetch=2, start_step=0, num_parallel_calls=None, labels=None,
):
    """`batches_from_images`, streamed: each batch's images are read and decoded when the batch is made.

    `report` is a `ScanReport` (kept images or not): only the names of its readable images are held.
    The batches are those `batches_from_images(report.images, ...)` would give, image for image, as
    both decode with `decode_image` and order with `_index_batches`. `labels`, if given, holds one
    label per name of `report.names`, in that order.
    """
    names = list(report.names)
    _check_enough(len(names), batch_size, drop_remainder, report.description)
    labels = _checked_labels(labels, len(names), report.description)
    seed = _concrete_seed(seed)
    return _batches(
        _streamed_pixels(report.source, names, image_size), len(names), batch_size, seed, shuffle, repeat,
        drop_remainder, critic_batches, prefetch, start_step, parallel=num_parallel_calls or os.cpu_count() or 1,
        labels=labels,
    )


@dataclasses.dataclass(frozen=True)
class Batches:
    """What `load` gives: the batches, and what they were made from.

    Attributes:
        dataset: float32 batches in [-1, 1], (batch, H, W, 3), or (batch, critic_batches, H, W, 3); with
            labels, (images, int32 labels) pairs, the labels (batch,) or (batch, critic_batches).
        num_images: images in the source (after skipping bad files).
        description: the source, for messages.
        resumable: whether step k's batch is a pure function of (seed, k), so that a run resumed at
            step k (`from_step(k)`) sees what the uninterrupted run saw.
        streamed: whether the images are read from disk batch by batch rather than held in memory.
        how: one sentence saying how the images are read and why (the memory budget's verdict).
        class_names: the name of each class, label k naming class_names[k]; None without labels.
        class_counts: readable images per class, in the same order; None without labels.
    """

    dataset: tf.data.Dataset
    num_images: int
    description: str
    resumable: bool
    streamed: bool = False
    how: str = ""
    class_names: tuple | None = None
    class_counts: tuple | None = None
    starting_at: typing.Callable = dataclasses.field(default=None, repr=False, compare=False)

    def from_step(self, step):
        """The same stream, starting at step `step` (for a resumed run), without decoding the skipped steps."""
        if step == 0:
            return self.dataset
        return self.starting_at(step) if self.starting_at else self.dataset.skip(step)


def _decoded_size(count, image_size):
    return count * image_size * image_size * 3


def _memory_plan(description, count, image_size, memory_budget, what="image files"):
    """(stream?, the sentence saying why) for `count` images of `image_size` under `memory_budget`."""
    if memory_budget is None:
        budget = default_memory_budget()
        budget_text = f"the memory budget of {format_size(budget)} ({MEMORY_FRACTION:.0%} of the available memory)"
    else:
        budget = parse_size(memory_budget)
        budget_text = f"the memory budget of {format_size(budget)}"
    size = _decoded_size(count, image_size)
    stream = size > budget
    verdict = (
        f"above {budget_text}: streaming them, each batch read and decoded on the fly" if stream
        else f"within {budget_text}: decoding them once into memory"
    )
    return stream, (
        f"{description}: {count:,} {what} × {image_size}×{image_size}×3 = {format_size(size)} decoded, {verdict}"
    )


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
    memory_budget=None,
    labels=None,
    class_names=None,
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
        repeat: repeat forever (use with `fit(steps_per_epoch=...)`); without it, one epoch per pass,
            each pass in a new order.
        strict: raise on the first bad file instead of skipping it (see `scan_source`).
        critic_batches: stack this many batches per element, for trainers with `n_critic > 1`.
        description: how messages name the source (default: the source itself).
        memory_budget: the most memory the decoded images may take, in bytes or as "512M" / "2G"
            (default: a quarter of the memory available now; 0 always streams).
        labels: None (images alone); "inferred": each image's class is its folder below the source's
            root, as Keras' `image_dataset_from_directory` (`kgan.data.labels.infer_labels`), for a
            folder, zip, glob or list; or ints (N,), image i's class, for images in memory. With labels
            the dataset yields (images, int32 labels) pairs.
        class_names: the names of the classes of a labels array (default "0", "1", ...).

    Before anything is decoded, the decoded size (image files × image_size² × 3 bytes) is estimated
    and compared with the memory budget. Within it, every file is checked and decoded once into one
    uint8 array (`scan_source`; 18,000 64×64 faces take 211 MiB). Above it, every file is still checked
    and decoded once, but only the names of the readable ones are kept, and each batch is read and
    decoded again when it is needed (in parallel), in the same order: the batches are the same either
    way, and step k's batch stays a pure function of (seed, k). Bad files are skipped and counted in a
    logged warning either way. `Batches.how` says which path was taken and why; it is also logged.
    TFDS datasets within the budget are decoded into memory the same way; above it they stream
    through a seeded shuffle buffer, so a resumed stream reads and discards the batches before its step.

    Labels inferred from folders are those of the readable images: a skipped file takes its label along.

    Raises:
        DataSourceError: the source is missing, empty, or no image in it decodes; the message names it.
            With labels: no class folders, fewer than 2 classes, labels that do not match the images,
            or a TFDS source.
        ValueError: `memory_budget` is not a size; `labels` or `class_names` is not one of the above.
    """
    options = {
        "seed": seed, "shuffle": shuffle, "repeat": repeat, "drop_remainder": drop_remainder,
        "critic_batches": critic_batches, "prefetch": prefetch,
    }
    _check_label_options(source, labels, class_names)
    if is_tfds(source):
        return _load_tfds(source, batch_size, image_size, tfds_data_dir, description, memory_budget, options)
    if isinstance(source, np.ndarray):
        if source.ndim != 4 or source.shape[-1] != 3 or source.dtype != np.uint8:
            raise DataSourceError(f"Images in memory must be uint8 (N, H, W, 3), got {source.dtype} {source.shape}.")
        description = description or f"{len(source):,} images in memory"
        classes = _array_classes(labels, class_names, len(source), description)
        return _in_memory(source, batch_size, description, f"{description}: used as they are", options, *classes)
    files = resolve_source(source)
    if labels is not None:
        infer_labels(files)  # the layout is checked before the scan, which can take minutes
    stream, how = _memory_plan(description or files.description, len(files), image_size, memory_budget)
    log.info("%s", how)
    report = scan_source(files, image_size=image_size, strict=strict, keep_images=not stream)
    description = description or report.description
    # the labels of the readable images only: scan order, so label i is report.names[i]'s
    classes = (None, None) if labels is None else _logged_classes(*infer_labels(files, report.names), description)
    if not stream:
        return _in_memory(report.images, batch_size, description, how, options, *classes)
    options["seed"] = _concrete_seed(seed)  # drawn once: every `from_step` stream must share it
    make = functools.partial(batches_from_files, report, batch_size, image_size, labels=classes[0], **options)
    return Batches(
        make(), len(report.names), description, resumable=True, streamed=True, how=how,
        **_class_fields(*classes), starting_at=lambda step: make(start_step=step),
    )


def _check_label_options(source, labels, class_names):
    """The combinations `load` takes: "inferred" with files, an array with an array, class_names with an array."""
    in_memory = isinstance(source, np.ndarray)
    if isinstance(labels, str) and labels != "inferred":
        raise ValueError(f'labels must be None, "inferred" or an int array (N,), got {labels!r}.')
    if labels is not None and is_tfds(source):
        raise DataSourceError(f"{source}: labels from TFDS are not supported yet; use a folder with one subfolder per class.")
    if labels is not None and not isinstance(labels, str) and not in_memory:
        raise DataSourceError(
            'a labels array goes with images in memory (a uint8 array); for files use labels="inferred", '
            "which reads each image's class from its folder."
        )
    if isinstance(labels, str) and in_memory:
        raise DataSourceError('labels="inferred" reads class folders; images in memory need their labels as ints (N,).')
    if class_names is not None and (labels is None or isinstance(labels, str)):
        raise ValueError(
            "class_names names the classes of a labels array given with images in memory; "
            f"got it with labels={labels!r} (inferred classes are named by their folders)."
        )


def _array_classes(labels, class_names, num_images, description):
    """(labels int32, class names) for images in memory, or (None, None) without labels."""
    labels = _checked_labels(labels, num_images, description)
    if labels is None:
        return None, None
    num_classes = int(labels.max()) + 1 if len(labels) else 0
    if class_names is None:
        class_names = tuple(str(k) for k in range(num_classes))
    class_names = tuple(str(name) for name in class_names)
    if num_classes > len(class_names):
        raise DataSourceError(
            f"{description}: label {num_classes - 1} (image {int(labels.argmax())}) has no name among the "
            f"{len(class_names)} class_names {class_names}."
        )
    if len(set(class_names)) != len(class_names):
        raise ValueError(f"class_names must be distinct, got {class_names}.")
    return _logged_classes(labels, class_names, description)


def _logged_classes(labels, class_names, description):
    """Log the images per class (and warn of a class left without images); returns (labels, class_names)."""
    counts = class_counts(labels, len(class_names))
    log.info("%s: %d classes\n%s", description, len(class_names), class_summary(class_names, counts))
    empty = [name for name, count in zip(class_names, counts) if not count]
    if empty:
        log.warning("%s: no readable image in class %s: a conditional generator cannot learn it", description, ", ".join(empty))
    return labels, class_names


def _class_fields(labels, class_names):
    if labels is None:
        return {}
    return {"class_names": class_names, "class_counts": class_counts(labels, len(class_names))}


def _concrete_seed(seed):
    """The seed, or a random one drawn now, so that one `Batches` gives the same stream from any step."""
    return int(np.random.randint(0, 2**31)) if seed is None else int(seed)


def _in_memory(images, batch_size, description, how, options, labels=None, class_names=None):
    options = dict(options, seed=_concrete_seed(options["seed"]))
    make = functools.partial(batches_from_images, images, batch_size, description=description, labels=labels, **options)
    return Batches(
        make(), len(images), description, resumable=True, how=how, **_class_fields(labels, class_names),
        starting_at=lambda step: make(start_step=step),
    )


def _load_tfds(source, batch_size, image_size, tfds_data_dir, description, memory_budget, options):
    images, count = tfds_images(source, image_size, tfds_data_dir)
    description = description or source
    _check_enough(count, batch_size, options["drop_remainder"], description)
    stream, how = _memory_plan(description, count, image_size, memory_budget, what="examples")
    log.info("%s", how)
    if not stream:
        pixels = np.empty((count, image_size, image_size, 3), np.uint8)
        filled = 0
        for batch in images.batch(256).as_numpy_iterator():
            pixels[filled : filled + len(batch)] = batch
            filled += len(batch)
        return _in_memory(pixels[:filled], batch_size, description, how, options)
    seed = _concrete_seed(options["seed"])

    def make(start_step=0):  # a fresh pipeline: a seeded buffer repeats its stream only from its start
        stream = tfds_images(source, image_size, tfds_data_dir)[0]
        if options["shuffle"]:
            stream = stream.shuffle(min(count, 10_000), seed=seed, reshuffle_each_iteration=True)
        if options["repeat"]:
            stream = stream.repeat()
        batches = stream.batch(batch_size, drop_remainder=options["drop_remainder"])
        # the batches before the start are read and dropped: a stream cannot jump
        return _finish(batches, options["critic_batches"], options["prefetch"]).skip(start_step)

    return Batches(make(), count, description, resumable=True, streamed=True, how=how, starting_at=make)


def make_anime_dataset(source, batch_size, image_size=IMAGE_SIZE, **options):
    """The book's name for reading the faces: `load(source, batch_size, image_size, ...).dataset`.

    Takes every option of `load` (seed, shuffle, repeat, drop_remainder, strict, critic_batches, ...).
    """
    return load(source, batch_size, image_size, **options).dataset
