"""Image sets and a fixed feature map shared by the image-metric tests (SWD, FD, KID, precision/recall, density/coverage).

"Real" and "fake" are toy faces drawn with two different seeds, so a metric's baseline is a genuine
two-sample comparison; the fake set is then degraded with Gaussian blur or additive Gaussian noise.
`features` stands in for an Inception network: a fixed, deterministic map that sees layout, colour and
fine detail, so it responds to blur (less detail) and to noise (spurious detail).
"""

import functools
import itertools

import numpy as np

from kgan.datasets import toy_faces

REAL_SEED, FAKE_SEED = 1, 2
BLURS = (0.0, 0.5, 1.0, 2.0)  # Gaussian σ in pixels
NOISES = (0.0, 8.0, 16.0, 32.0)  # Gaussian σ in 8-bit levels


@functools.lru_cache(maxsize=8)
def faces(n, image_size, seed):
    """`n` toy faces (uint8, read-only so the cache cannot be corrupted)."""
    images, _ = toy_faces(n, image_size=image_size, seed=seed)
    images.flags.writeable = False
    return images


def real_and_fake(n, image_size=32):
    """Two independent toy-face sets of `n` images: 'real' (seed 1) and 'fake' (seed 2)."""
    return faces(n, image_size, REAL_SEED), faces(n, image_size, FAKE_SEED)


def blur(images, sigma):
    """Gaussian blur of uint8 images (N, H, W, C) with σ = `sigma` pixels (separable, mirror edges), uint8."""
    if sigma == 0:
        return images
    radius = int(np.ceil(3 * sigma))
    taps = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    taps /= taps.sum()
    out = images.astype(np.float64)
    for axis in (1, 2):
        padding = [(0, 0)] * 4
        padding[axis] = (radius, radius)
        padded = np.pad(out, padding, mode="reflect")
        size = out.shape[axis]
        out = sum(w * np.take(padded, np.arange(i, i + size), axis=axis) for i, w in enumerate(taps))
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def add_noise(images, sigma, seed=0):
    """Add Gaussian noise of σ = `sigma` levels to uint8 images, rounded and clipped to uint8."""
    if sigma == 0:
        return images
    noise = np.random.default_rng(seed).normal(0.0, sigma, images.shape)
    return np.clip(np.rint(images + noise), 0, 255).astype(np.uint8)


def strictly_increasing(values):
    """Whether every value is larger than the one before."""
    return all(a < b for a, b in itertools.pairwise(values))


def degraded(images, kind, amount):
    return blur(images, amount) if kind == "blur" else add_noise(images, amount)


FEATURE_DIM = 64


def features(images):
    """A fixed feature map for uint8 images (N, S, S, 3), S a multiple of 8: float64 (N, FEATURE_DIM).

    The inputs are the colours averaged over the cells of an 8×8 grid (layout and colour) and, over the
    same cells, the mean absolute horizontal and vertical differences of the grey image (fine detail:
    blur lowers them, noise raises them), centred and scaled by fixed constants; then a fixed random
    projection (seed 0) and tanh. The detail weight (4) is small enough that precision and recall do not
    reach 0 before the last step of the tests' blur and noise ladders, so every step shows.
    """
    x = np.asarray(images, np.float64) / 255.0
    n, s = len(x), x.shape[1]
    cell = s // 8

    def pool(maps):  # (N, S, S, C) → (N, 8·8·C): means over the cells of an 8×8 grid
        return maps.reshape(n, 8, cell, 8, cell, -1).mean(axis=(2, 4)).reshape(n, -1)

    grey = x.mean(axis=-1, keepdims=True)
    dx = np.abs(np.diff(grey, axis=2, append=grey[:, :, -1:]))  # 0 in the last column
    dy = np.abs(np.diff(grey, axis=1, append=grey[:, -1:]))
    inputs = np.concatenate([(pool(x) - 0.5) * 2, (pool(dx) - 0.05) * 4, (pool(dy) - 0.05) * 4], axis=1)
    projection = np.random.default_rng(0).normal(0.0, 1.0 / np.sqrt(inputs.shape[1]), (inputs.shape[1], FEATURE_DIM))
    return np.tanh(inputs @ projection)
