"""Scan a source before training: every image is checked and decoded once, bad files are counted.

`scan_source` is where the bad-file policy lives. Each file is read correctly — any size, grayscale,
RGBA, palette or 16-bit PNG, JPEG, BMP, GIF — or skipped with a reason: empty, not an image, corrupt
or truncated, too large, unreadable. Skips are logged with their count and names, `strict=True`
raises on the first one instead, and a source where nothing is readable raises before training
starts. Because the decoded images are what training then reads, no bad file can stop a run midway.
"""

import collections
import dataclasses
import logging
import os

import numpy as np
import tensorflow as tf

from kgan.data.decode import MAX_PIXELS, check_image, decode_error_reason, decode_image
from kgan.data.sources import DataSourceError, resolve_source
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
        images: their pixels, uint8 (len(names), image_size, image_size, 3).
        skipped: (name, reason) for each image file that could not be used, in order.
        ignored: non-image files found beside the images (not counted as skipped).
        sizes: Counter of the readable images' original (width, height).
    """

    description: str
    names: list
    images: np.ndarray
    skipped: list
    ignored: list
    sizes: collections.Counter

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


def _decode_all(contents, image_size, num_parallel_calls):
    """Decode in parallel with tf.data; returns {index: image} for the ones that decode."""
    indices = list(contents)
    if not indices:
        return {}
    dataset = tf.data.Dataset.from_tensor_slices((indices, [contents[i] for i in indices]))
    dataset = dataset.map(lambda i, data: (i, decode_image(data, image_size)), num_parallel_calls=num_parallel_calls)
    dataset = dataset.ignore_errors().batch(256)
    decoded = {}
    for batch_indices, batch_images in dataset.as_numpy_iterator():
        decoded.update(zip(batch_indices.tolist(), batch_images))
    return decoded


def scan_source(source, image_size=IMAGE_SIZE, strict=False, max_pixels=MAX_PIXELS, num_parallel_calls=None):
    """Check and decode every image of `source` (see `resolve_source`); returns a `ScanReport`.

    Raises:
        DataSourceError: the source is missing or has no image files; nothing in it is readable;
            or `strict=True` and some file is bad (the message names the first one).
    """
    source = resolve_source(source)
    skipped, sizes_by_index, contents = {}, {}, {}
    for index, (name, data) in enumerate(source.iter_bytes()):
        reason, size = check_image(data, max_pixels)
        if reason:
            skipped[index] = reason
        else:
            contents[index], sizes_by_index[index] = data, size
    decoded = _decode_all(contents, image_size, num_parallel_calls or os.cpu_count() or 1)
    for index in contents.keys() - decoded.keys():
        skipped[index] = decode_error_reason(contents[index]) or "could not be decoded"

    bad = [(source.names[i], skipped[i]) for i in sorted(skipped)]
    if strict and bad:
        name, reason = bad[0]
        raise DataSourceError(f"{source.description}: {name}: {reason} (strict=True; {len(bad)} bad files in all).")
    good = sorted(decoded)
    if not good:
        name, reason = bad[0]
        raise DataSourceError(
            f"{source.description}: none of its {len(source)} image files could be decoded (first failure: {name}: {reason})."
        )
    warn_skipped(log, source.description, bad, len(source))
    images = np.stack([decoded[i] for i in good])
    return ScanReport(
        description=source.description,
        names=[source.names[i] for i in good],
        images=images,
        skipped=bad,
        ignored=list(source.ignored),
        sizes=collections.Counter(tuple(sizes_by_index[i]) for i in good),
    )
