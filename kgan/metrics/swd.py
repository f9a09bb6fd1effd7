"""Multi-scale sliced Wasserstein distance (SWD) between two image sets, from the paper.

Karras, Aila, Laine & Lehtinen 2018, "Progressive Growing of GANs for Improved Quality, Stability, and
Variation" (ICLR), section 5 and appendix D. Each image becomes a Laplacian pyramid from its own size down
to 16×16; from every level, random 7×7 neighbourhoods (7·7·3 = 147 numbers each) are the *descriptors*.
Each colour channel of a level's descriptors is normalised by that set's mean and standard deviation, and
the two descriptor sets are compared with the sliced Wasserstein distance: the mean, over random unit
directions, of the 1D earth mover's distance between the sets projected on the direction (sort both, take
the mean absolute difference). The finest level measures fine detail, the coarsest the overall layout
and colours. As in the paper the values are reported ×10³, one per resolution, with their average.
"""

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from kgan.images import check_uint8_images

__all__ = ["SlicedWasserstein", "laplacian_pyramid", "pyramid_down", "pyramid_up", "sliced_wasserstein_distance"]

PATCH_SIZE = 7
_BINOMIAL = np.array([1, 4, 6, 4, 1], np.float32) / 16  # the 5×5 filter is its outer product with itself
_BLOCK_DESCRIPTORS = 32768  # descriptors per image chunk (~19 MB float32): the working set stays in cache
_PROJECTION_BYTES = 64 * 2**20  # per set: projections are held for a chunk of directions at a time
_CACHE_BYTES = 256 * 2**20  # per set: larger descriptor sets are recomputed for each chunk of directions


@dataclass(frozen=True)
class SlicedWasserstein:
    """Multi-scale SWD (see `sliced_wasserstein_distance`), reported ×10³ as in the paper."""

    levels: dict  # resolution → SWD ×10³ at that pyramid level, finest first
    average: float  # mean of `levels`

    def __str__(self):
        levels = ", ".join(f"{resolution}: {value:.2f}" for resolution, value in self.levels.items())
        return f"SWD×10³ {levels}; average {self.average:.2f}"


def pyramid_down(images):
    """One Gaussian-pyramid step: the 5×5 binomial filter [1, 4, 6, 4, 1]/16 (mirror boundaries), every other pixel.

    `images` (N, H, W, C) with even H and W; returns float32 (N, H/2, W/2, C).
    """
    images = np.asarray(images, np.float32)
    return _down_axis(_down_axis(images, 1), 2)


def pyramid_up(images):
    """Upsample ×2: insert zeros between pixels, then filter with 4× the binomial filter (mirror boundaries).

    `images` (N, H, W, C); returns float32 (N, 2H, 2W, C). Computed polyphase, without the zeros.
    """
    images = np.asarray(images, np.float32)
    return _up_axis(_up_axis(images, 1), 2)


def laplacian_pyramid(images, min_resolution=16):
    """Laplacian pyramid of square images, finest level first, down to `min_resolution` pixels.

    `images` (N, S, S, C) with S a power-of-two multiple of `min_resolution`. Level ℓ is the Gaussian level
    G_ℓ minus `pyramid_up(G_ℓ₊₁)`; the coarsest level is the Gaussian image itself, so the image is
    rebuilt exactly by upsampling and adding from the coarsest level up. Returns float32 arrays.
    """
    gaussian = np.asarray(images, np.float32)
    _resolutions(gaussian.shape[1], min_resolution)  # validates
    pyramid = []
    while gaussian.shape[1] > min_resolution:
        coarser = pyramid_down(gaussian)
        pyramid.append(gaussian - pyramid_up(coarser))
        gaussian = coarser
    return pyramid + [gaussian]


def sliced_wasserstein_distance(real, fake, *, seed=0, patches_per_image=128, directions=512, min_resolution=16):
    """Multi-scale sliced Wasserstein distance between two uint8 image sets (Karras et al. 2018, appendix D).

    `real` and `fake` are uint8 arrays (N, S, S, 3) of the same S, a power of two ≥ `min_resolution`; the
    sets may differ in size. At every Laplacian level (S, S/2, …, `min_resolution`) each image gives
    `patches_per_image` random 7×7×3 descriptors; each set's descriptors are normalised per colour channel by
    their own mean and standard deviation; and the level's SWD is the mean, over `directions` random unit
    directions in the 147-dimensional descriptor space, of the mean absolute difference between the sorted
    projections of the two sets. If the sets give different numbers of descriptors the larger is randomly
    subsampled to the smaller. The paper uses 16,384 images, 128 descriptors per image and 512 directions
    (4 repeats of 128); the values depend on all three, so compare SWDs computed with the same settings.

    Patch positions and directions come from numpy Generators seeded by `seed` and the level; patch j of
    image i lies at the same place in both sets (the positions are independent of the images, so this
    biases nothing), which makes the SWD of a set against itself exactly 0.

    Returns a `SlicedWasserstein`: `levels`, {resolution: SWD ×10³} finest first, and their `average`.
    Cost: the sorting dominates (levels × 2 sets × `directions` sorts of N·`patches_per_image` numbers).
    Memory: one level at a time, projections held for a chunk of directions (about 64 MB per set); a
    set's descriptors (N·`patches_per_image`·147 float32) are kept up to 256 MB, and beyond that
    recomputed from the pyramid for every chunk of directions, so the peak stays a few hundred MB.
    """
    real = check_uint8_images(real, "real", square=True)
    fake = check_uint8_images(fake, "fake", square=True)
    if real.shape[1:] != fake.shape[1:]:
        raise ValueError(f"real and fake images must have the same size, got {real.shape[1:]} and {fake.shape[1:]}.")
    if not isinstance(patches_per_image, (int, np.integer)) or patches_per_image < 1:
        raise ValueError(f"patches_per_image must be a positive integer, got {patches_per_image!r}.")
    if not isinstance(directions, (int, np.integer)) or directions < 1:
        raise ValueError(f"directions must be a positive integer, got {directions!r}.")
    resolutions = _resolutions(real.shape[1], min_resolution)

    levels = {}
    real_gaussian, fake_gaussian = real, fake  # uint8 at the top: converted a chunk at a time
    for index, resolution in enumerate(resolutions):
        coarsest = index == len(resolutions) - 1
        real_coarser = None if coarsest else _chunked(pyramid_down, real_gaussian)
        fake_coarser = None if coarsest else _chunked(pyramid_down, fake_gaussian)
        # one position stream for both sets: patch j of image i sits at the same place in real and fake
        positions = np.random.default_rng([seed, index, 0]).integers(
            0, resolution - PATCH_SIZE + 1, size=(2, max(len(real), len(fake)), patches_per_image)
        )
        real_level = _Level(real_gaussian, real_coarser, positions[:, : len(real)])
        fake_level = _Level(fake_gaussian, fake_coarser, positions[:, : len(fake)])
        unit = np.random.default_rng([seed, index, 1]).standard_normal((directions, 3 * PATCH_SIZE**2))
        unit = (unit / np.linalg.norm(unit, axis=1, keepdims=True)).astype(np.float32)
        subsample = np.random.default_rng([seed, index, 2])
        levels[resolution] = float(1e3 * _sliced_wasserstein(real_level, fake_level, unit, subsample))
        real_gaussian, fake_gaussian = real_coarser, fake_coarser
    return SlicedWasserstein(levels=levels, average=float(np.mean(list(levels.values()))))


class _Level:
    """One Laplacian level of one image set: its descriptors, their channel statistics, their projections."""

    def __init__(self, gaussian, coarser, positions):
        self.gaussian, self.coarser = gaussian, coarser
        self.ys, self.xs = positions  # (N, patches) top-left corners
        self.patches = self.ys.shape[1]
        self.count = len(gaussian) * self.patches
        self.images_per_block = max(1, _BLOCK_DESCRIPTORS // self.patches)
        # keep the descriptors if they are small enough, else recompute them for every chunk of directions
        cache = self.count * 3 * PATCH_SIZE**2 * 4 <= _CACHE_BYTES
        total, squares, blocks = np.zeros(3), np.zeros(3), []
        for block in self._blocks():
            channels = block.reshape(len(block), 3, PATCH_SIZE**2)
            total += channels.sum(axis=(0, 2), dtype=np.float64)
            squares += np.square(channels, dtype=np.float64).sum(axis=(0, 2))
            if cache:
                blocks.append(block)
        self.cache = blocks if cache else None
        values = self.count * PATCH_SIZE**2
        self.mean = total / values
        std = np.sqrt(np.maximum(squares / values - self.mean**2, 0.0))
        # a constant channel (e.g. no detail at all) has nothing to normalise: leave it at zero, not NaN
        self.std = np.where(std > 0, std, 1.0)

    def _blocks(self):
        """Raw descriptors (m, 147) float32, components in (channel, y, x) order, for chunks of images."""
        for start in range(0, len(self.gaussian), self.images_per_block):
            stop = min(start + self.images_per_block, len(self.gaussian))
            level = self.gaussian[start:stop].astype(np.float32)
            if self.coarser is not None:
                level -= pyramid_up(self.coarser[start:stop])
            windows = sliding_window_view(level, (PATCH_SIZE, PATCH_SIZE), axis=(1, 2))  # (n, y, x, 3, 7, 7)
            image = np.repeat(np.arange(stop - start), self.patches)
            patches = windows[image, self.ys[start:stop].ravel(), self.xs[start:stop].ravel()]  # (m, 3, 7, 7)
            yield np.ascontiguousarray(patches).reshape(len(patches), -1)

    def project(self, directions):
        """Projections (len(directions), count) of the normalised descriptors on unit `directions` (D, 147)."""
        # w · (d - mean) / std  =  (w / std) · d  -  (w / std) · mean: normalise the directions, not the data
        scale = np.repeat(1 / self.std, PATCH_SIZE**2)  # component order (channel, y, x)
        scaled = (directions * scale).astype(np.float32)
        offset = (scaled @ np.repeat(self.mean, PATCH_SIZE**2).astype(np.float32))[:, None]
        projections = np.empty((len(directions), self.count), np.float32)
        row = 0
        for block in self.cache if self.cache is not None else self._blocks():
            end = row + len(block)
            np.matmul(scaled, block.T, out=projections[:, row:end])
            projections[:, row:end] -= offset
            row = end
        return projections


def _sliced_wasserstein(a, b, directions, rng):
    """Mean over `directions` (D, 147) of the 1D earth mover's distance between the projected descriptor sets."""
    count = min(a.count, b.count)
    keep = [np.sort(rng.choice(level.count, count, replace=False)) if level.count > count else None for level in (a, b)]
    chunk = max(1, min(len(directions), _PROJECTION_BYTES // (4 * max(a.count, b.count))))
    total = 0.0
    for start in range(0, len(directions), chunk):
        sorted_projections = []
        for level, subset in zip((a, b), keep):
            projections = level.project(directions[start : start + chunk])
            if subset is not None:
                projections = projections[:, subset]
            projections.sort(axis=1)
            sorted_projections.append(projections)
        gap = np.subtract(*sorted_projections, out=sorted_projections[0])
        total += np.abs(gap, out=gap).mean(axis=1, dtype=np.float64).sum()
    return total / len(directions)


def _down_axis(x, axis):
    """Filter along `axis` with the binomial taps (mirror boundaries) and keep the even samples."""
    n = x.shape[axis]
    padding = [(0, 0)] * x.ndim
    padding[axis] = (2, 2)
    padded = np.pad(x, padding, mode="reflect")  # numpy's "reflect" is the mirror d c b | a b c d | c b a
    index = [slice(None)] * x.ndim
    out = None
    for k, weight in enumerate(_BINOMIAL):
        index[axis] = slice(k, k + n, 2)
        term = weight * padded[tuple(index)]
        out = term if out is None else np.add(out, term, out=out)
    return out


def _up_axis(x, axis):
    """Zero insertion then 2× the binomial taps along `axis`, computed per phase.

    Even outputs are (x[i-1] + 6 x[i] + x[i+1]) / 8 and odd ones (x[i] + x[i+1]) / 2. Mirroring the
    zero-inserted signal makes x[-1] = x[1] on the left but x[n] = x[n-1] on the right.
    """
    n = x.shape[axis]
    previous = np.take(x, np.r_[min(1, n - 1), 0 : n - 1], axis=axis)  # x[i-1], with x[-1] = x[1]
    following = np.take(x, np.r_[1:n, n - 1], axis=axis)  # x[i+1], with x[n] = x[n-1]
    shape = list(x.shape)
    shape[axis] = 2 * n
    out = np.empty(shape, np.float32)
    even, odd = [slice(None)] * x.ndim, [slice(None)] * x.ndim
    even[axis], odd[axis] = slice(0, None, 2), slice(1, None, 2)
    out[tuple(even)] = (previous + 6 * x + following) * 0.125
    out[tuple(odd)] = (x + following) * 0.5
    return out


def _chunked(function, images, chunk=256):
    """`function` over chunks of images, so a uint8 set is never converted to float32 all at once."""
    first = function(images[:chunk])
    out = np.empty((len(images),) + first.shape[1:], first.dtype)
    out[:chunk] = first
    for start in range(chunk, len(images), chunk):
        out[start : start + chunk] = function(images[start : start + chunk])
    return out


def _resolutions(size, min_resolution):
    """[size, size/2, …, min_resolution], after checking both are powers of two that a 7×7 patch fits."""
    if not isinstance(min_resolution, (int, np.integer)) or min_resolution < 8 or min_resolution & (min_resolution - 1):
        raise ValueError(f"min_resolution must be a power of two ≥ 8 (a 7×7 patch must fit), got {min_resolution!r}.")
    if size < min_resolution or size & (size - 1):
        raise ValueError(f"Images must be square with a power-of-two size ≥ {min_resolution}, got {size}.")
    return [size >> level for level in range(int(np.log2(size // min_resolution)) + 1)]


