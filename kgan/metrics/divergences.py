"""Divergences between distributions given by samples: the book's 13.7 argument for the Wasserstein distance.

With an optimal discriminator the GAN loss measures the Jensen–Shannon divergence. On the book's two
parallel segments (`kgan.datasets.parallel_lines`) it is log 2 for every θ ≠ 0 — no direction for the
generator — while the earth mover's distance is |θ|.
"""

import numpy as np

__all__ = ["histogram_2d", "js_divergence", "wasserstein_1d"]


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
