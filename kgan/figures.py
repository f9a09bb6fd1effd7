"""Pictures that show how a run went, each answering one question.

- `progress_strip`: *how did the same latent codes change over training?* The first rows of every
  fixed-z sample grid of a run (`samples_step_000064.png`, …), stacked one band per grid, oldest on
  top, so each column follows one z from noise to face.
- `save_gif`: *the same, as a film*: the full grids in order, as an animated GIF that loops.
- `interpolation_grid`: *is the latent space smooth, or did the generator memorise points?* Each
  row walks the great circle (`kgan.latent.interpolate`) between two codes; a good generator morphs
  gradually, a memorising one jumps between a few images. A conditional generator keeps one class
  along each row, so the walk changes the code alone.
- `nearest_neighbours`: *are the samples copies of training images?* Each generated image beside
  its nearest real images, with the distances and a copy ratio: the distance to the nearest real
  over the distance a typical real image has to its own nearest other real (≪ 1 flags a copy).

All take and return uint8 images (H, W, C), as `kgan.images` writes them; `save_png` writes any
of them where a `path` is given.
"""

import os
import typing

import numpy as np
import tensorflow as tf

from kgan.images import image_grid, save_png, to_uint8
from kgan.latent import generate, generator_classes, interpolate, latent_size, sample_latent

__all__ = ["Neighbours", "interpolation_grid", "load_image", "nearest_neighbours", "progress_strip", "save_gif"]


def load_image(image):
    """A uint8 (H, W, C) array from a PNG path (or any file `tf.io.decode_image` reads) or an array."""
    if isinstance(image, (str, os.PathLike)):
        image = tf.io.decode_image(tf.io.read_file(str(image)), expand_animations=False).numpy()
    image = np.asarray(image)
    if image.dtype != np.uint8:
        raise ValueError(f"Expected uint8 images, got {image.dtype}; map [-1, 1] floats with kgan.images.to_uint8.")
    if image.ndim == 2:
        image = image[..., None]
    if image.ndim != 3:
        raise ValueError(f"Expected one image (H, W, C), got shape {image.shape}.")
    return image


def _evenly_spaced(items, n):
    """At most `n` of `items`, evenly spaced, always the first and the last."""
    items = list(items)
    if n is None or len(items) <= n:
        return items
    if n < 2:
        return items[-1:] if n == 1 else []
    return [items[i] for i in np.unique(np.round(np.linspace(0, len(items) - 1, n)).astype(int))]


def progress_strip(grids, rows=2, cols=10, tiles=(10, 10), separator=2, separator_value=255, max_bands=None, path=None):
    """The first `rows` × `cols` tiles of each sample grid, stacked vertically, one band per grid.

    Args:
        grids: a run's successive fixed-z grids, in training order: PNG paths or uint8 arrays
            (H, W, C), all of one shape, each `tiles` = (rows, columns) of equal tiles.
        rows, cols: how many tile rows and columns of each grid to keep (from the top left).
        tiles: the grids' layout, from which the tile size is inferred (`SampleGrid` writes 10 × 10).
        separator: the height in pixels of the line between two bands (0: none).
        separator_value: its grey level.
        max_bands: keep at most this many grids, evenly spaced, first and last included (None: all).
        path: where to write the strip as a PNG (None: nowhere).

    Returns:
        uint8 (n·rows·h + (n−1)·separator, cols·w, C) for n grids of h × w tiles: band i is
        `grids[i][:rows·h, :cols·w]`, so column j of every band is the same latent code.
    """
    images = [load_image(grid) for grid in _evenly_spaced(grids, max_bands)]
    if not images:
        raise ValueError("progress_strip needs at least one grid.")
    height, width, channels = images[0].shape
    tile_rows, tile_cols = tiles
    if height % tile_rows or width % tile_cols:
        raise ValueError(f"A {height}×{width} grid does not split into {tile_rows}×{tile_cols} equal tiles.")
    if not (1 <= rows <= tile_rows and 1 <= cols <= tile_cols):
        raise ValueError(f"rows={rows}, cols={cols} do not fit in grids of {tile_rows}×{tile_cols} tiles.")
    tile_height, tile_width = height // tile_rows, width // tile_cols
    line = np.full((separator, cols * tile_width, channels), separator_value, np.uint8)
    parts = []
    for index, image in enumerate(images):
        if image.shape != images[0].shape:
            raise ValueError(f"Grid {index} has shape {image.shape}, the first {images[0].shape}.")
        if index and separator:
            parts.append(line)
        parts.append(image[: rows * tile_height, : cols * tile_width])
    strip = np.concatenate(parts)
    if path is not None:
        save_png(path, strip)
    return strip


def save_gif(frames, path, seconds_per_frame=0.5, last_seconds=None):
    """Write `frames` (uint8 arrays (H, W, C) or PNG paths, all one size) as a GIF that loops forever.

    Pillow maps each frame to its own 256-colour palette (median cut, no dithering): a frame with at
    most 256 colours is kept exactly, a sample grid with more loses a little colour depth. A frame
    identical to the one before it is merged into it (its time is added), so the GIF may hold fewer
    frames than given. `last_seconds` holds the last frame longer (None: `seconds_per_frame`).
    Returns `path`.
    """
    from PIL import Image

    images = [load_image(frame) for frame in frames]
    if not images:
        raise ValueError("save_gif needs at least one frame.")
    pictures = [Image.fromarray(image[..., 0] if image.shape[-1] == 1 else image) for image in images]
    milliseconds = [round(1000 * seconds_per_frame)] * len(pictures)
    if last_seconds is not None:
        milliseconds[-1] = round(1000 * last_seconds)
    path = str(path)
    if os.path.dirname(path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
    pictures[0].save(path, format="GIF", save_all=True, append_images=pictures[1:], duration=milliseconds, loop=0)
    return path


def interpolation_grid(generator, rows=8, steps=10, seed=0, path=None):
    """Rows of the generator's images along the great circle between pairs of latent codes.

    The codes are `kgan.latent.sample_latent(2 · rows, latent_dim, seed)`; row i runs from code 2i
    (first column) to code 2i + 1 (last column) in `steps` slerp steps (`kgan.latent.interpolate`).
    The generator (a Keras model z → images in [-1, 1], e.g. `gan.generator` or
    `gan.ema_generator()`) runs in inference mode, all rows in one batch. A conditional generator
    ([z, labels] → images, K classes) draws row i as class i mod K, the same class along the row, so
    every change in a row comes from the code.

    Returns uint8 (rows·H, steps·W, C), written to `path` as a PNG where given.
    """
    codes = sample_latent(2 * rows, latent_size(generator), seed).numpy()
    walks = np.concatenate([interpolate(codes[2 * i], codes[2 * i + 1], steps) for i in range(rows)])
    num_classes = generator_classes(generator)
    if num_classes is None:
        images = to_uint8(generator(walks, training=False))
    else:
        labels = np.repeat(np.arange(rows) % num_classes, steps).astype(np.int32)
        images = to_uint8(generate(generator, walks, labels))
    grid = image_grid(images, rows, steps)
    if path is not None:
        save_png(path, grid)
    return grid


class Neighbours(typing.NamedTuple):
    """What `nearest_neighbours` found, for N generated images and k neighbours each.

    Attributes:
        grid: uint8 image, one row per shown generated image: that image, then its k nearest reals.
        distances: float (N, k), L2 distances to the neighbours, nearest first, in the space searched.
        indices: int (N, k), the neighbours' indices into `real`.
        ratios: float (N,), `distances[:, 0] / real_spacing`: ≈ 1 or more, as far from the training
            set as real images are from each other; ≪ 1, a (near-)copy; 0, an exact copy.
        real_spacing: the median, over up to `reference_size` real images, of each one's distance to
            its nearest other real image: how close two training images typically get.
        shown: int, the generated indices of the grid's rows, top to bottom.
    """

    grid: np.ndarray
    distances: np.ndarray
    indices: np.ndarray
    ratios: np.ndarray
    real_spacing: float
    shown: np.ndarray


def _pooled(images, size, chunk_size):
    """uint8 (N, H, W, C) → float32 (N, D): each image averaged over blocks to about `size` pixels, in [0, 1]."""
    n, height, width, channels = images.shape
    factor = max(1, min(height, width) // size)
    h, w = height // factor, width // factor
    out = np.empty((n, h * w * channels), np.float32)
    for start in range(0, n, chunk_size):
        chunk = images[start : start + chunk_size, : h * factor, : w * factor].astype(np.float32) / 255.0
        blocks = chunk.reshape(len(chunk), h, factor, w, factor, channels).mean(axis=(2, 4))
        out[start : start + chunk_size] = blocks.reshape(len(chunk), -1)
    return out


def _search(queries, base, k, chunk_size, exclude=None):
    """The `k` nearest rows of `base` to each row of `queries` (L2): exact distances (N, k), indices (N, k).

    Candidates come from ‖q‖² − 2q·b + ‖b‖² over chunks of `base` (so its distance matrix is never
    whole), a few more than k; their distances are then recomputed as ‖q − b‖ directly, so an exact
    copy is at distance 0 exactly, and re-sorted. `exclude[i]`: an index of `base` query i may not
    match (itself, when `queries` is a subset of `base`).
    """
    queries, base = np.asarray(queries, np.float32), np.asarray(base, np.float32)
    k = min(k, len(base) - (1 if exclude is not None else 0))
    pool = min(k + 8, len(base))
    query_norms = np.einsum("ij,ij->i", queries, queries)[:, None]
    best_d = np.full((len(queries), 0), np.inf, np.float32)
    best_i = np.zeros((len(queries), 0), np.int64)
    for start in range(0, len(base), chunk_size):
        chunk = base[start : start + chunk_size]
        d = query_norms - 2.0 * queries @ chunk.T + np.einsum("ij,ij->i", chunk, chunk)[None, :]
        if exclude is not None:
            own = exclude - start
            inside = (own >= 0) & (own < len(chunk))
            d[np.flatnonzero(inside), own[inside]] = np.inf
        d = np.concatenate([best_d, d], axis=1)
        i = np.concatenate([best_i, np.broadcast_to(np.arange(start, start + len(chunk)), (len(queries), len(chunk)))], axis=1)
        keep = np.argpartition(d, pool - 1, axis=1)[:, :pool] if d.shape[1] > pool else np.argsort(d, axis=1)
        best_d, best_i = np.take_along_axis(d, keep, axis=1), np.take_along_axis(i, keep, axis=1)
    exact = np.empty(best_d.shape, np.float32)
    for start in range(0, len(queries), chunk_size):  # (chunk, pool, D) differences, a few MB at a time
        difference = base[best_i[start : start + chunk_size]] - queries[start : start + chunk_size, None, :]
        exact[start : start + chunk_size] = np.sqrt(np.einsum("ijk,ijk->ij", difference, difference))
    if exclude is not None:
        exact[best_i == np.asarray(exclude)[:, None]] = np.inf
    order = np.argsort(exact, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(exact, order, axis=1), np.take_along_axis(best_i, order, axis=1)


def nearest_neighbours(
    generated, real, k=3, pool_size=16, features=None, grid_rows=None, reference_size=1000, chunk_size=1024, seed=0,
    path=None,
):
    """The memorisation check: each generated image beside its `k` nearest real images.

    Distances are L2 between images average-pooled to about `pool_size` pixels a side (64 px → 4×4
    blocks → 16 px), in [0, 1] units. Pooling because a copy shares a training image's layout and
    colours, not its every pixel: at full resolution L2 is dominated by fine texture and one-pixel
    shifts, so a slightly noisy copy can land farther than an unrelated image of similar tone;
    16 px keeps what a copy keeps and drops the grain, and a 64 px image becomes 768 numbers, so
    10,000 reals take 30 MB. It is a copy detector, not a perceptual similarity: for "looks like
    the same character", pass `features=(generated_features, real_features)`, two float arrays
    (N, D) and (M, D) (e.g. Inception pool features from `kgan.metrics`), and the search runs there.

    The search runs over chunks of `chunk_size` real images, so 10,000 or more are fine.

    The copy ratio: `ratios[i]` = generated i's distance to its nearest real / `real_spacing`, the
    median distance from a real image to its nearest *other* real (over `reference_size` reals drawn
    with `seed`; an image is never its own neighbour, duplicates in the data do count). A ratio near
    or above 1 means sample i is as far from the training set as the training images are from each
    other; a ratio ≪ 1 means it is closer to one training image than training images ever get to
    each other: look at that row, it is likely a copy (0: an exact copy).

    Args:
        generated: uint8 (N, H, W, C) samples.
        real: uint8 (M, H, W, C) training images, the same size (M ≥ 2).
        k: neighbours per sample.
        grid_rows: None: every generated image, in order; an int: only that many, those with the
            smallest ratio (the likeliest copies) first.
        path: where to write the grid as a PNG (None: nowhere).

    Returns:
        a `Neighbours` (grid, distances, indices, ratios, real_spacing, shown).
    """
    generated, real = np.asarray(generated), np.asarray(real)
    if generated.ndim != 4 or real.ndim != 4 or generated.shape[1:] != real.shape[1:]:
        raise ValueError(f"Need generated and real images (N, H, W, C) of one size, got {generated.shape} and {real.shape}.")
    if generated.dtype != np.uint8 or real.dtype != np.uint8:
        raise ValueError("nearest_neighbours compares uint8 images; map [-1, 1] floats with kgan.images.to_uint8.")
    if len(real) < 2 or not 1 <= k <= len(real) - 1:
        raise ValueError(f"Need 1 ≤ k < number of real images, got k={k} and {len(real)} real images.")
    if features is None:
        queries, base = _pooled(generated, pool_size, chunk_size), _pooled(real, pool_size, chunk_size)
    else:
        queries, base = (np.asarray(f, np.float32).reshape(len(f), -1) for f in features)
        if len(queries) != len(generated) or len(base) != len(real):
            raise ValueError("features must hold one row per generated and per real image.")

    distances, indices = _search(queries, base, k, chunk_size)
    reference = np.sort(np.random.default_rng(seed).permutation(len(real))[: min(reference_size, len(real))])
    spacing, _ = _search(base[reference], base, 1, chunk_size, exclude=reference)
    real_spacing = float(np.median(spacing[:, 0]))
    ratios = distances[:, 0] / real_spacing if real_spacing > 0 else np.where(distances[:, 0] > 0, np.inf, 0.0)

    shown = np.arange(len(generated)) if grid_rows is None else np.argsort(ratios, kind="stable")[:grid_rows]
    tiles = np.concatenate([np.concatenate([generated[i : i + 1], real[indices[i]]]) for i in shown])
    grid = image_grid(tiles, len(shown), k + 1)
    if path is not None:
        save_png(path, grid)
    return Neighbours(grid, distances, indices, ratios, real_spacing, shown)
