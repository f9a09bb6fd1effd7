"""Class labels read from the folder layout, for conditional GANs.

A conditional GAN (Mirza & Osindero 2014) learns p(x | y): every real image comes with its class y,
an int in [0, K). kgan reads y the way Keras' `image_dataset_from_directory` does, from where the
image lies, so a labelled data set needs no label file:

    faces/black/0001.png   → class "black"
    faces/blonde/0002.png  → class "blonde"
    faces/pink/sub/7.png   → class "pink" (the first folder below the root decides)

The class names are sorted and a label is the index of its name in that order, so the same folders
give the same labels whether they are read as a folder, a zip of it, a glob or a list of paths.
The root is the folder the user named; for a zip, a glob or a list it is the folder all the images
share (the common parent of their folders).
"""

import os
import posixpath

import numpy as np

from kgan.data.sources import DataSourceError, resolve_source

__all__ = ["class_counts", "class_summary", "infer_labels"]

_LAYOUT = "one folder per class below the root, at least 2 classes, e.g. faces/<class>/*.png"


def _split(source, name, root):
    """The parts of `name`'s path below `root` (zip members always use "/")."""
    if source.archive is not None:
        parts = name.split("/")
        return parts[len(root.split("/")) if root else 0 :]
    return os.path.relpath(name, root).split(os.sep)


def _root(source):
    """The folder the class folders are in: the folder given, or the common parent of all image folders."""
    if source.root is not None:
        return source.root
    if source.archive is not None:
        return posixpath.commonpath([posixpath.dirname(name) for name in source.names])
    # absolute: a list may mix relative and absolute paths, which commonpath refuses
    return os.path.commonpath([os.path.abspath(os.path.dirname(name)) for name in source.names])


def infer_labels(source, names=None):
    """Class labels of `names` from the class folders of `source`, as Keras' `image_dataset_from_directory`.

    The class of an image is the first folder of its path below the source's root; the classes are
    the sorted folder names of all the source's images, and a label is an index into them. The class
    list comes from every image file of the source, not only `names`, so a class keeps its index when
    some of its files turn out unreadable.

    Args:
        source: a `kgan.data.ImageSource` (or anything `resolve_source` takes: a folder, a zip, a glob, a list).
        names: the images to label, e.g. the readable ones of a scan (default: all of the source's).

    Returns:
        (labels int32 (len(names),), class_names tuple of str).

    Raises:
        DataSourceError: some images lie directly in the root (no class folder), or there are fewer
            than 2 classes; the message names the source, the count and an example.
    """
    source = resolve_source(source)
    names = source.names if names is None else tuple(names)
    root = _root(source)
    where = f"'{root}'" if root else "the top of the archive"
    paths = [_split(source, name, root) for name in source.names]
    loose = [name for name, parts in zip(source.names, paths) if len(parts) < 2]
    if loose:
        raise DataSourceError(
            f"{source.description}: {len(loose):,} of {len(source.names):,} images lie directly in {where}, in no class "
            f"folder (e.g. {loose[0]}). Labels are read from the folders: {_LAYOUT}."
        )
    class_names = tuple(sorted({parts[0] for parts in paths}))
    if len(class_names) < 2:
        raise DataSourceError(
            f"{source.description}: all {len(source.names):,} images are in one class folder, '{class_names[0]}' "
            f"(e.g. {source.names[0]}); a conditional GAN needs at least 2 classes: {_LAYOUT}."
        )
    index = {name: i for i, name in enumerate(class_names)}
    labels = np.array([index[_split(source, name, root)[0]] for name in names], np.int32)
    return labels, class_names


def class_counts(labels, num_classes):
    """Images per class: a tuple of `num_classes` ints, entry k the number of labels equal to k."""
    labels = np.asarray(labels)
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"labels must lie in [0, {num_classes}), got {labels.min()} to {labels.max()}.")
    return tuple(int(count) for count in np.bincount(labels.astype(np.int64).ravel(), minlength=num_classes))


def class_summary(class_names, counts):
    """One line per class, e.g. "  class 0 black: 1,024 images (25.0%)", for `kgan data check` and a run's log.

    A class with no image says so: a conditional generator never learns it.
    """
    if len(class_names) != len(counts):
        raise ValueError(f"class_summary: {len(class_names)} class names but {len(counts)} counts.")
    total = sum(counts) or 1
    return "\n".join(
        f"  class {k} {name}: {count:,} image{'' if count == 1 else 's'} ({count / total:.1%}){'  ← no image: never learned' if not count else ''}"
        for k, (name, count) in enumerate(zip(class_names, counts))
    )
