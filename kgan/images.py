"""Image helpers shared by callbacks, the CLI and chapters: [-1, 1] floats → uint8 grids → PNG files."""

import math
import os

import numpy as np
import tensorflow as tf

__all__ = ["to_uint8", "image_grid", "square_grid", "save_png"]


def to_uint8(images):
    """Map images in [-1, 1] (any float dtype) to uint8 [0, 255], rounding to nearest."""
    images = np.asarray(images, dtype=np.float32)
    return np.clip(np.rint((images + 1.0) * 127.5), 0, 255).astype(np.uint8)


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
