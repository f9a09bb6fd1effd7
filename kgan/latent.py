"""Walking the latent space: spherical interpolation between latent codes."""

import numpy as np

__all__ = ["slerp", "interpolate"]


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
