"""Toy distributions and the distances between them (the book's 13.7, and the 2D mode-collapse lab).

The book's example of why WGAN replaces the JS divergence: P puts its mass on the segment
x = 0, y ∈ [0, 1], and Q_θ on x = θ. For θ ≠ 0 the supports do not overlap, so JS(P, Q_θ) = log 2
whatever θ is — it gives the generator no direction to move in — while the earth mover's distance is
|θ| and shrinks smoothly as Q_θ approaches P.

The mode-collapse lab (the book's Fig. 13-17) trains GANs on 2D mixtures of Gaussians, where every
mode the generator drops can be counted: `ring_of_gaussians` and `grid_of_gaussians` are PacGAN's two
benchmarks, `sample_mixture` / `mixture_dataset` draw from them, and `mode_coverage` scores samples
the way PacGAN and VEEGAN do (modes covered, fraction of high-quality samples).
"""

from dataclasses import dataclass

import numpy as np

__all__ = [
    "parallel_lines",
    "js_divergence",
    "histogram_2d",
    "wasserstein_1d",
    "Mixture",
    "ring_of_gaussians",
    "grid_of_gaussians",
    "sample_mixture",
    "mixture_dataset",
    "Coverage",
    "mode_coverage",
    "generate_samples",
]


def parallel_lines(theta, num_samples, seed=0):
    """Samples of P (x = 0) and Q_θ (x = θ), both with y ~ U(0, 1): two arrays of shape (num_samples, 2)."""
    rng = np.random.default_rng(seed)
    p = np.stack([np.zeros(num_samples), rng.uniform(0, 1, num_samples)], axis=1)
    q = np.stack([np.full(num_samples, float(theta)), rng.uniform(0, 1, num_samples)], axis=1)
    return p, q


def histogram_2d(samples, bins, extent):
    """Normalised 2D histogram of `samples` over `extent = ((x0, x1), (y0, y1))`."""
    counts, _, _ = np.histogram2d(samples[:, 0], samples[:, 1], bins=bins, range=extent)
    return counts / counts.sum()


def js_divergence(p, q):
    """Jensen–Shannon divergence (in nats) of two discrete distributions of the same shape.

    `JS = ½ KL(p ‖ m) + ½ KL(q ‖ m)` with `m = (p + q) / 2`; 0 for p = q, log 2 for disjoint supports.
    """
    p = np.asarray(p, np.float64).ravel()
    q = np.asarray(q, np.float64).ravel()
    if p.shape != q.shape:
        raise ValueError(f"p and q must have the same shape, got {p.shape} and {q.shape}.")
    p, q = p / p.sum(), q / q.sum()
    m = (p + q) / 2

    def kl(a):
        support = a > 0
        return np.sum(a[support] * np.log(a[support] / m[support]))

    return 0.5 * kl(p) + 0.5 * kl(q)


def wasserstein_1d(a, b):
    """Earth mover's distance W1 between two 1D samples of equal size: the mean gap of their sorted values."""
    a, b = np.sort(np.asarray(a, np.float64)), np.sort(np.asarray(b, np.float64))
    if a.shape != b.shape:
        raise ValueError(f"Samples must have the same size, got {a.size} and {b.size}.")
    return float(np.mean(np.abs(a - b)))


# ---------------------------------------------------------------------------- the mode-collapse lab


@dataclass(frozen=True)
class Mixture:
    """An equal-weight mixture of isotropic 2D Gaussians: `means` (K, 2), one `std` for every mode."""

    means: np.ndarray
    std: float
    name: str = "mixture"

    @property
    def num_modes(self):
        return len(self.means)


def ring_of_gaussians(num_modes=8, radius=1.0, std=0.01):
    """`num_modes` Gaussians evenly spaced on a circle of `radius`, the first at angle 0.

    The defaults are PacGAN's (and VEEGAN's) 2D-ring: 8 modes on the unit circle with σ = 0.01.
    """
    if num_modes < 1:
        raise ValueError(f"num_modes must be at least 1, got {num_modes}.")
    angles = 2 * np.pi * np.arange(num_modes) / num_modes
    means = radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    return Mixture(means, float(std), f"ring of {num_modes}")


def grid_of_gaussians(side=5, spacing=2.0, std=0.05):
    """`side × side` Gaussians on a square grid centred on the origin, `spacing` apart.

    The defaults are PacGAN's (and VEEGAN's) 2D-grid: 25 modes at {−4, −2, 0, 2, 4}² with σ = 0.05.
    Modes are ordered row by row (x varies fastest).
    """
    if side < 1:
        raise ValueError(f"side must be at least 1, got {side}.")
    axis = spacing * (np.arange(side) - (side - 1) / 2)
    xs, ys = np.meshgrid(axis, axis)
    return Mixture(np.stack([xs.ravel(), ys.ravel()], axis=1), float(std), f"grid of {side * side}")


def sample_mixture(means, std, num_samples, seed=0):
    """`num_samples` float32 draws, shape (num_samples, 2): a mode uniformly at random, plus N(0, std²·I)."""
    means = np.asarray(means, np.float64)
    rng = np.random.default_rng(seed)
    modes = rng.integers(0, len(means), num_samples)
    return (means[modes] + std * rng.standard_normal((num_samples, means.shape[1]))).astype(np.float32)


def mixture_dataset(means, std, batch_size, seed=0, critic_batches=1):
    """An endless `tf.data.Dataset` of float32 batches drawn from the mixture, shape (batch_size, 2).

    With `critic_batches=n > 1` every element stacks `n` independent batches, shape (batch_size, n, 2),
    as `kgan.data.make_anime_dataset(..., critic_batches=n)` does for trainers with `n_critic = n`.
    Element `i` is drawn with the stateless seed `(seed, i)`, so the stream repeats exactly for a given
    `seed` (`None`: a random one) and no two elements share their draws.
    """
    import tensorflow as tf

    if batch_size < 1 or critic_batches < 1:
        raise ValueError(f"batch_size and critic_batches must be at least 1, got {batch_size} and {critic_batches}.")
    if seed is None:
        seed = int(np.random.default_rng().integers(2**31))
    table = tf.constant(np.asarray(means, np.float32))
    shape = (batch_size,) if critic_batches == 1 else (batch_size, critic_batches)  # batch axis first, as kgan.data

    def draw(index):
        mode_seed, noise_seed = tf.unstack(tf.random.experimental.stateless_split(tf.stack([tf.constant(seed, tf.int64), index]), 2))
        modes = tf.random.stateless_uniform(shape, mode_seed, 0, len(means), dtype=tf.int32)
        noise = tf.random.stateless_normal((*shape, table.shape[1]), noise_seed)
        return tf.gather(table, modes) + float(std) * noise

    options = tf.data.Options()
    options.deterministic = True
    options.autotune.enabled = False  # as kgan.data's pipelines: no wind-down stall at the end of fit
    return tf.data.Dataset.counter().map(draw).prefetch(2).with_options(options)


@dataclass(frozen=True)
class Coverage:
    """How well samples cover a mixture (see `mode_coverage`)."""

    modes_covered: int  # modes with at least `min_count` samples registered to them
    num_modes: int
    high_quality: float  # fraction of samples within 3σ of their nearest mode
    counts: np.ndarray  # (K,) samples registered to each mode
    num_samples: int

    def __str__(self):
        return f"{self.modes_covered}/{self.num_modes} modes, {100 * self.high_quality:.1f}% high quality"


def mode_coverage(samples, means, std, min_count=20):
    """Score 2D samples against a mixture the way PacGAN (Lin et al. 2018) and VEEGAN (Srivastava et al. 2017) do.

    Each sample is assigned to its nearest mode and *registers* to it only if it lies within 3σ of
    that mode's mean; such a sample is *high quality*. A mode counts as covered when at least
    `min_count` samples register to it. The papers measure 2,500 generated samples with
    `min_count = 20` (PacGAN: a mode with fewer than 20 is "lost"; a uniform 2,500-sample draw puts
    100 on each of 25 modes, 312 on each of 8).

    Returns a `Coverage`: `modes_covered`, `high_quality` (the fraction of samples that registered),
    the per-mode `counts`, `num_modes` and `num_samples`. An exact Gaussian puts 1 − e^(−9/2) ≈ 98.9 %
    of its 2D samples within 3σ, so that is the best `high_quality` the real data itself scores.
    """
    samples = np.asarray(samples, np.float64)
    means = np.asarray(means, np.float64)
    if samples.ndim != 2 or samples.shape[1] != means.shape[1]:
        raise ValueError(f"samples must have shape (N, {means.shape[1]}), got {samples.shape}.")
    distances = np.linalg.norm(samples[:, None, :] - means[None, :, :], axis=-1)  # (N, K)
    nearest = np.argmin(distances, axis=1)
    registered = distances[np.arange(len(samples)), nearest] <= 3 * std
    counts = np.bincount(nearest[registered], minlength=len(means))
    return Coverage(
        modes_covered=int(np.sum(counts >= min_count)),
        num_modes=len(means),
        high_quality=float(np.mean(registered)) if len(samples) else 0.0,
        counts=counts,
        num_samples=len(samples),
    )


def generate_samples(generator, num_samples=2500, seed=0, batch_size=2500):
    """`num_samples` outputs of `generator` (inference mode) for z ~ N(0, I) drawn with numpy from `seed`."""
    latent_dim = generator.input_shape[-1]
    z = np.random.default_rng(seed).standard_normal((num_samples, latent_dim)).astype(np.float32)
    chunks = [np.asarray(generator(z[start : start + batch_size], training=False)) for start in range(0, num_samples, batch_size)]
    return np.concatenate(chunks).astype(np.float32)
