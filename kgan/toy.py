"""Toy distributions and the distances between them (the book's 13.7, and later the 2D mode lab).

The book's example of why WGAN replaces the JS divergence: P puts its mass on the segment
x = 0, y ∈ [0, 1], and Q_θ on x = θ. For θ ≠ 0 the supports do not overlap, so JS(P, Q_θ) = log 2
whatever θ is — it gives the generator no direction to move in — while the earth mover's distance is
|θ| and shrinks smoothly as Q_θ approaches P.
"""

import numpy as np

__all__ = ["parallel_lines", "js_divergence", "histogram_2d", "wasserstein_1d"]


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
