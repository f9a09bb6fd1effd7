"""Metrics: how far generated samples are from the data, computed offline.

- `mode_coverage`: modes of a 2D Gaussian mixture covered, and the fraction of high-quality samples
  (PacGAN, VEEGAN);
- `js_divergence`, `wasserstein_1d`, `histogram_2d`: the book's 13.7 comparison of the JS divergence
  and the earth mover's distance.
"""

from kgan.metrics.divergences import histogram_2d, js_divergence, wasserstein_1d
from kgan.metrics.mode_coverage import Coverage, mode_coverage

__all__ = ["Coverage", "histogram_2d", "js_divergence", "mode_coverage", "wasserstein_1d"]
