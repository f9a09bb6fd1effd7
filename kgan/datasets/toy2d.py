"""2D toy distributions: the book's two parallel segments (13.7) and the mode-collapse lab's mixtures (13.6).

The book's example of why WGAN replaces the JS divergence: P puts its mass on the segment
x = 0, y ∈ [0, 1], and Q_θ on x = θ (`parallel_lines`). For θ ≠ 0 the supports do not overlap, so
JS(P, Q_θ) = log 2 whatever θ is, while the earth mover's distance is |θ| (`kgan.metrics`).

The mode-collapse lab (the book's Fig. 13-17) trains GANs on 2D mixtures of Gaussians, where every
mode the generator drops can be counted: `ring_of_gaussians` and `grid_of_gaussians` are PacGAN's two
benchmarks, `sample_mixture` / `mixture_dataset` draw from them, and `kgan.metrics.mode_coverage`
scores samples the way PacGAN and VEEGAN do.
"""

from dataclasses import dataclass

import numpy as np

__all__ = ["parallel_lines", "Mixture", "ring_of_gaussians", "grid_of_gaussians", "sample_mixture", "mixture_dataset"]


def parallel_lines(theta, num_samples, seed=0):
    """Samples of P (x = 0) and Q_θ (x = θ), both with y ~ U(0, 1): two arrays of shape (num_samples, 2)."""
    rng = np.random.default_rng(seed)
    p = np.stack([np.zeros(num_samples), rng.uniform(0, 1, num_samples)], axis=1)
    q = np.stack([np.full(num_samples, float(theta)), rng.uniform(0, 1, num_samples)], axis=1)
    return p, q


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

    @property
    def scale(self):
        """The largest |coordinate| of a mode (1 for the ring, 4 for the grid): the data's range."""
        return float(np.abs(self.means).max())


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
