"""Scan a source before training: every image is checked and decoded once, bad files are counted.

`scan_source` is where the bad-file policy lives. Each file is read correctly — any size, grayscale,
RGBA, palette or 16-bit PNG, JPEG, BMP, GIF — or skipped with a reason: empty, not an image, corrupt
or truncated, too large, unreadable. Skips are logged with their count and names, `strict=True`
raises on the first one instead, and a source where nothing is readable raises before training
starts. Training then reads only the images that decoded here, whether it holds them in memory or
decodes them again batch by batch (`kgan.data.load`), so no bad file can stop a run midway.
"""

import collections
import dataclasses
import logging
import os

import numpy as np
import tensorflow as tf

from kgan.data.decode import MAX_PIXELS, check_image, decode_error_reason, decode_image
from kgan.data.sources import DataSourceError, ImageSource, resolve_source
from kgan.defaults import IMAGE_SIZE

__all__ = ["ScanReport", "scan_source", "warn_skipped"]

log = logging.getLogger("kgan.data")
_NAMED_IN_WARNING = 10


@dataclasses.dataclass
class ScanReport:
    """What a scan found.

    Attributes:
        description: the source, as given.
        names: the readable images, in order.
        images: their pixels, uint8 (len(names), image_size, image_size, 3), or None when the scan did
            not keep them (`keep_images=False`).
        skipped: (name, reason) for each image file that could not be used, in order.
        ignored: non-image files found beside the images (not counted as skipped).
        sizes: Counter of the readable images' original (width, height).
        source: the `ImageSource` scanned, to read the images again by name.
    """

    description: str
    names: list
    images: np.ndarray
    skipped: list
    ignored: list
    sizes: collections.Counter
    source: ImageSource | None = None

    @property
    def num_files(self):
        return len(self.names) + len(self.skipped)

    def reasons(self):
        """Counter of skip reasons, with the details in brackets folded together."""
        return collections.Counter(reason.split(" (")[0] for _, reason in self.skipped)

    def summary(self):
        """A few lines for people: counts, reasons, sizes."""
        lines = [
            f"{self.description}: {len(self.names):,} readable of {self.num_files:,} image files; "
            f"{len(self.skipped):,} skipped; {len(self.ignored):,} other files ignored"
        ]
        for reason, count in self.reasons().most_common():
            examples = [name for name, why in self.skipped if why.startswith(reason)][:3]
            lines.append(f"  skipped {count:,} × {reason}: {', '.join(examples)}{' …' if count > 3 else ''}")
        for (width, height), count in self.sizes.most_common(5):
            lines.append(f"  size {width}×{height}: {count:,}")
        if len(self.sizes) > 5:
            lines.append(f"  … and {len(self.sizes) - 5} other sizes")
        return "\n".join(lines)


def warn_skipped(logger, description, skipped, total, hint=""):
    """Log one warning naming the (name, reason) pairs in `skipped` out of `total` image files (none: no warning)."""
    if not skipped:
        return
    listed = ", ".join(f"{name} ({reason})" for name, reason in skipped[:_NAMED_IN_WARNING])
    more = len(skipped) - _NAMED_IN_WARNING
    logger.warning(
        "%s: skipped %d of %d image files: %s%s", description, len(skipped), total, listed,
        f" … and {more} more{hint}" if more > 0 else "",
    )


def _decode_in_order(checked, image_size, num_parallel_calls):
    """(indices, images) batches of the (index, bytes) pairs `checked()` yields, decoded in parallel, in order.

    The bytes stream through: only those being decoded are held, never the whole source's. Pairs
    that do not decode are left out (their indices are missing from the batches).
    """
    dataset = tf.data.Dataset.from_generator(
        checked, output_signature=(tf.TensorSpec((), tf.int64), tf.TensorSpec((), tf.string))
    )
    dataset = dataset.map(
        lambda index, data: (index, decode_image(data, image_size)), num_parallel_calls=num_parallel_calls,
        deterministic=True,
    )
    return dataset.ignore_errors().batch(256).prefetch(1).as_numpy_iterator()


def scan_source(
    source, image_size=IMAGE_SIZE, strict=False, max_pixels=MAX_PIXELS, num_parallel_calls=None, keep_images=True
):
    """Check and decode every image of `source` (see `resolve_source`); returns a `ScanReport`.

    Each file's bytes are read, checked and decoded once, in parallel, and then dropped. With
    `keep_images` the decoded images are written into one uint8 array as they come (that array is the
    only copy); without, nothing is kept but the names of the readable images (what `kgan data check`
    and the streaming path of `kgan.data.load` need).

    Raises:
        DataSourceError: the source is missing or has no image files; nothing in it is readable;
            or `strict=True` and some file is bad (the message names the first one).
    """
    source = resolve_source(source)
    skipped, sizes_by_index = {}, {}

    def checked():
        for index, (name, data) in enumerate(source.iter_bytes()):
            reason, size = check_image(data, max_pixels)
            if reason:
                skipped[index] = reason
            else:
                sizes_by_index[index] = size
                yield index, data

    # np.empty reserves address space only: pages count against memory once an image is written there
    images = np.empty((len(source), image_size, image_size, 3), np.uint8) if keep_images else None
    good = []
    for indices, decoded in _decode_in_order(checked, image_size, num_parallel_calls or os.cpu_count() or 1):
        if keep_images:
            images[len(good) : len(good) + len(indices)] = decoded
        good.extend(indices.tolist())
    for index in sorted(sizes_by_index.keys() - set(good)):  # passed the header check, failed to decode
        try:
            skipped[index] = decode_error_reason(source.read(source.names[index])) or "could not be decoded"
        except OSError as error:
            skipped[index] = f"unreadable ({error})"

    bad = [(source.names[i], skipped[i]) for i in sorted(skipped)]
    if strict and bad:
        name, reason = bad[0]
        raise DataSourceError(f"{source.description}: {name}: {reason} (strict=True; {len(bad)} bad files in all).")
    if not good:
        name, reason = bad[0]
        raise DataSourceError(
            f"{source.description}: none of its {len(source)} image files could be decoded (first failure: {name}: {reason})."
        )
    warn_skipped(log, source.description, bad, len(source))
    return ScanReport(
        description=source.description,
        names=[source.names[i] for i in good],
        images=None if images is None else images[: len(good)],
        skipped=bad,
        ignored=list(source.ignored),
        sizes=collections.Counter(tuple(sizes_by_index[i]) for i in good),
        source=source,
    )
