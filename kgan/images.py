"""Image helpers shared by callbacks, the CLI and chapters: [-1, 1] floats → uint8 grids → PNG files."""

import math
import os

import numpy as np
import tensorflow as tf

__all__ = ["check_uint8_images", "to_uint8", "image_grid", "square_grid", "save_png"]


def to_uint8(images):
    """Map images in [-1, 1] (any float dtype) to uint8 [0, 255], rounding to nearest."""
    images = np.asarray(images, dtype=np.float32)
    return np.clip(np.rint((images + 1.0) * 127.5), 0, 255).astype(np.uint8)


def check_uint8_images(images, what="images", square=False, allow_empty=False):
    """`images` as a uint8 (N, H, W, 3) numpy array, or a ValueError naming `what` and the expected form.

    Metrics and extractors compare images as files hold them: uint8, so generated floats are
    quantised exactly as saving them would (`to_uint8`).
    """
    if isinstance(images, tf.Tensor):
        images = images.numpy()
    images = np.asarray(images)
    if images.dtype != np.uint8 or images.ndim != 4 or images.shape[-1] != 3 or (square and images.shape[1] != images.shape[2]):
        form = "square RGB images (N, S, S, 3)" if square else "RGB images (N, H, W, 3)"
        raise ValueError(
            f"{what} must be uint8 {form} in [0, 255], got {images.dtype} {images.shape}; "
            "map [-1, 1] floats with kgan.images.to_uint8."
        )
    if len(images) == 0 and not allow_empty:
        raise ValueError(f"{what} is empty.")
    return images


def image_grid(images, rows, cols):
    """Tile `rows * cols` images (N, H, W, C) into one (rows·H, cols·W, C) array, row by row.

    Like the book's `save_result`, tiles touch (no padding). Raises if there are too few images.
    """
    images = np.asarray(images)
    if images.ndim != 4 or len(images) < rows * cols:
        raise ValueError(f"Need at least {rows}×{cols} images of shape (N, H, W, C), got {images.shape}.")
    n, height, width, channels = images[: rows * cols].shape
    grid = images[: rows * cols].reshape(rows, cols, height, width, channels)
    return grid.transpose(0, 2, 1, 3, 4).reshape(rows * height, cols * width, channels)


def square_grid(images):
    """All `images` (N, H, W, C) in a near-square grid, ⌈√N⌉ columns, the last row padded with black."""
    images = np.asarray(images)
    cols = math.ceil(math.sqrt(len(images)))
    rows = math.ceil(len(images) / cols)
    padding = np.zeros((rows * cols - len(images), *images.shape[1:]), images.dtype)
    return image_grid(np.concatenate([images, padding]), rows, cols)


def save_png(path, image):
    """Write a uint8 (H, W, C) array as a PNG, creating the parent folder."""
    path = str(path)
    parent = os.path.dirname(path)
    if parent:
        tf.io.gfile.makedirs(parent)
    tf.io.write_file(path, tf.io.encode_png(np.asarray(image, dtype=np.uint8)))
