"""Fidelity and diversity from k-nearest-neighbour balls around feature vectors: precision/recall, density/coverage.

- Improved precision and recall (Kynkäänniemi, Karras, Laine, Lehtinen & Aila 2019, "Improved Precision
  and Recall Metric for Assessing Generative Models", NeurIPS): the real manifold is the union of balls
  around the real features, each with radius the distance to its k-th nearest other real feature (k = 3).
  Precision is the fraction of generated features inside it (fidelity); recall is the fraction of real
  features inside the generated manifold, built the same way (diversity).
- Density and coverage (Naeem, Oh, Uh, Choi & Yoo 2020, "Reliable Fidelity and Diversity Metrics for
  Generative Models", ICML), k = 5, real balls only, which makes both robust to outliers among the
  generated samples: density = 1/(kM) Σⱼ Σᵢ 1[Yⱼ ∈ B(Xᵢ, NND_k(Xᵢ))] counts how many real balls hold each
  generated sample (≈ 1 when the distributions agree, and it can exceed 1); coverage =
  1/N Σᵢ 1[∃ j: Yⱼ ∈ B(Xᵢ, NND_k(Xᵢ))] is the fraction of real balls holding at least one generated sample.

Balls are closed (a point at exactly the radius is inside), as in Kynkäänniemi et al.'s definition.
Distances are Euclidean, computed in float64 a block of rows at a time (about 64 MB per block), so
10,000 × 10,000 comparisons never hold the full matrix.
"""

from typing import NamedTuple

import numpy as np

from kgan.metrics.checks import check_feature_pair

__all__ = ["DensityCoverage", "PrecisionRecall", "density_coverage", "kth_neighbour_distances", "precision_recall"]

_BLOCK_BYTES = 64 * 2**20


class PrecisionRecall(NamedTuple):
    precision: float  # fraction of fake features inside the real manifold
    recall: float  # fraction of real features inside the fake manifold


class DensityCoverage(NamedTuple):
    density: float  # mean number of real balls holding a fake feature, divided by k
    coverage: float  # fraction of real balls holding at least one fake feature


def precision_recall(real_features, fake_features, k=3):
    """Improved precision and recall (Kynkäänniemi et al. 2019) of `fake_features` (M, d) against `real_features` (N, d).

    Both sets need more than k samples. Returns `PrecisionRecall(precision, recall)`, each in [0, 1];
    a set against itself scores (1, 1).
    """
    real, fake = _check(real_features, fake_features, k, fake_needs_neighbours=True)
    precision = np.mean(_balls_holding(fake, real, _kth_neighbour_squared(real, k)) > 0)
    recall = np.mean(_balls_holding(real, fake, _kth_neighbour_squared(fake, k)) > 0)
    return PrecisionRecall(precision=float(precision), recall=float(recall))


def density_coverage(real_features, fake_features, k=5):
    """Density and coverage (Naeem et al. 2020) of `fake_features` (M, d) against `real_features` (N, d), N > k.

    Returns `DensityCoverage(density, coverage)`: density ≥ 0 (1 + 1/k for a set against itself without
    ties, since each point lies in its own ball and in k others on average), coverage in [0, 1].
    """
    real, fake = _check(real_features, fake_features, k, fake_needs_neighbours=False)
    squared_radii = _kth_neighbour_squared(real, k)
    density = _balls_holding(fake, real, squared_radii).sum() / (k * len(fake))
    nearest_fake = np.concatenate([block.min(axis=1) for _, block in _squared_distance_blocks(real, fake)])
    coverage = np.mean(nearest_fake <= squared_radii)
    return DensityCoverage(density=float(density), coverage=float(coverage))


def kth_neighbour_distances(features, k):
    """Distance from each row of `features` (N, d), N > k, to its k-th nearest *other* row (float64, (N,))."""
    features = np.asarray(features, np.float64)
    if features.ndim != 2 or len(features) <= k:
        raise ValueError(f"features must be (N, d) with N > k = {k}, got shape {features.shape}.")
    return np.sqrt(_kth_neighbour_squared(features, k))


def _kth_neighbour_squared(features, k):
    # squared radii are compared with squared distances: √ then ² would not round-trip exactly at ties
    radii = []
    for start, block in _squared_distance_blocks(features, features):
        rows = np.arange(len(block))
        block[rows, start + rows] = np.inf  # a point is not its own neighbour (duplicates of it still are)
        radii.append(np.partition(block, k - 1, axis=1)[:, k - 1])
    return np.concatenate(radii)


def _balls_holding(queries, centres, squared_radii):
    """For each query, how many of the closed balls B(centreᵢ, radiusᵢ) contain it."""
    return np.concatenate(
        [(block <= squared_radii).sum(axis=1) for _, block in _squared_distance_blocks(queries, centres)]
    )


def _squared_distance_blocks(a, b):
    """(first row, squared distances (rows, len(b))) for consecutive blocks of rows of `a`, float64, ≥ 0."""
    rows = max(1, _BLOCK_BYTES // (8 * len(b)))
    b_norms = np.einsum("ij,ij->i", b, b)
    for start in range(0, len(a), rows):
        block = a[start : start + rows]
        # ‖a‖² + ‖b‖² − 2 a·b: exact for small integer coordinates, and rounding below 0 is clipped
        squared = np.einsum("ij,ij->i", block, block)[:, None] + b_norms[None, :] - 2 * (block @ b.T)
        yield start, np.maximum(squared, 0, out=squared)


def _check(real_features, fake_features, k, fake_needs_neighbours):
    if not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}.")
    radii = (k + 1, f"more than k = {k} samples for k-th neighbour radii")
    needs = {"real_features": radii, **({"fake_features": radii} if fake_needs_neighbours else {})}
    return check_feature_pair(real_features, fake_features, needs)
