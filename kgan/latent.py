"""Latent codes: drawing z for a seed, generating from it, and walking between codes.

`sample_latent(n, latent_dim, seed)` is the one way kgan draws z for sampling outside training: the
sample grids of a run, `generate_samples`, `kgan sample` and the exported SavedModel's
`sample(n, seed)` endpoint all draw it, so the same seed gives the same codes everywhere. (During
training the trainer draws its own stream, `GAN.sample_latent`, seeded per step and per replica.)
"""

import numpy as np
import tensorflow as tf

__all__ = ["generate_samples", "interpolate", "sample_latent", "sampling_generator", "slerp"]


def sample_latent(n, latent_dim, seed):
    """z ~ N(0, I), float32 (n, latent_dim): a stateless draw with seed (seed, 0), usable inside a graph."""
    seed = tf.stack([tf.cast(seed, tf.int64), tf.constant(0, tf.int64)])
    return tf.random.stateless_normal(tf.stack([n, latent_dim]), seed=seed)


def sampling_generator(gan):
    """The generator to sample from: a trainer's weight average (EMA) when it keeps one, else its generator.

    Sampling, evaluation and export all draw from it; the health monitor watches the raw generator,
    whose training it judges.
    """
    ema = getattr(gan, "ema_generator", None)
    return ema() if ema is not None else getattr(gan, "generator", gan)


def generate_samples(generator, num_samples=2500, seed=0, batch_size=2500):
    """`num_samples` outputs of `generator` (inference mode) for `sample_latent(num_samples, ..., seed)`, as numpy."""
    z = sample_latent(num_samples, generator.input_shape[-1], seed)
    chunks = [np.asarray(generator(z[start : start + batch_size], training=False)) for start in range(0, num_samples, batch_size)]
    return np.concatenate(chunks).astype(np.float32)


def slerp(z0, z1, t):
    """Spherical interpolation from `z0` (t = 0) to `z1` (t = 1) along the great circle between them.

    High-dimensional Gaussian codes concentrate near a sphere; the straight line between two of them
    passes through its low-density interior (ganhacks: "interpolate on the great circle").
    Falls back to linear interpolation when the two are (nearly) parallel.
    """
    z0, z1 = np.asarray(z0, np.float64), np.asarray(z1, np.float64)
    cos = np.dot(z0, z1) / (np.linalg.norm(z0) * np.linalg.norm(z1))
    omega = np.arccos(np.clip(cos, -1.0, 1.0))
    if np.sin(omega) < 1e-6:
        return (1 - t) * z0 + t * z1
    return (np.sin((1 - t) * omega) * z0 + np.sin(t * omega) * z1) / np.sin(omega)


def interpolate(z0, z1, steps):
    """`steps` codes from `z0` to `z1` (both included) by `slerp`, float32 (steps, latent_dim)."""
    return np.stack([slerp(z0, z1, t) for t in np.linspace(0.0, 1.0, steps)]).astype(np.float32)
