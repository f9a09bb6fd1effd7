"""Kernel distance between two feature sets: the unbiased MMD² with a cubic polynomial kernel.

Bińkowski, Sutherland, Arbel & Gretton 2018, "Demystifying MMD GANs" (ICLR), section 4: the Kernel
Inception Distance (KID) is the squared maximum mean discrepancy between the Inception-V3 pool features of
real and generated images, with the kernel k(x, y) = (x·y / d + 1)³ (d the feature dimension), estimated
without bias and averaged over random subsets. Unlike the Fréchet distance it has an unbiased estimator,
so its expected value does not depend on the number of samples and is 0 when the two distributions agree
(a single estimate may then be negative).
"""

from typing import NamedTuple

import numpy as np

from kgan.metrics.checks import check_feature_pair

__all__ = ["KernelDistance", "kernel_distance", "mmd2_unbiased", "polynomial_kernel"]


class KernelDistance(NamedTuple):
    """`kernel_distance`'s result: the mean and standard deviation of the unbiased MMD² over subsets."""

    mean: float
    std: float


def polynomial_kernel(x, y):
    """The cubic polynomial kernel matrix k(xᵢ, yⱼ) = (xᵢ·yⱼ / d + 1)³ of (m, d) and (n, d) arrays, float64."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    kernel = x @ y.T / x.shape[1] + 1
    return kernel * kernel * kernel  # not ** 3: numpy's general power is several times slower


def mmd2_unbiased(x, y):
    """Unbiased estimate of MMD² between samples x (m, d) and y (n, d), m, n ≥ 2, with `polynomial_kernel`.

    1/(m(m−1)) Σ_{i≠j} k(xᵢ, xⱼ) + 1/(n(n−1)) Σ_{i≠j} k(yᵢ, yⱼ) − 2/(mn) Σ_{i,j} k(xᵢ, yⱼ): the diagonal terms
    k(xᵢ, xᵢ) are left out, which removes the upward bias of the plug-in (V-statistic) estimate.
    """
    m, n = len(x), len(y)
    k_xx, k_yy = polynomial_kernel(x, x), polynomial_kernel(y, y)
    within_x = (k_xx.sum() - np.trace(k_xx)) / (m * (m - 1))
    within_y = (k_yy.sum() - np.trace(k_yy)) / (n * (n - 1))
    return float(within_x + within_y - 2 * polynomial_kernel(x, y).mean())


def kernel_distance(real_features, fake_features, *, subsets=100, subset_size=1000, seed=0):
    """Mean and standard deviation of the unbiased MMD² (cubic kernel) over random subsets of two feature sets.

    This is the Kernel Inception Distance of Bińkowski et al. 2018 **only** when the features are
    Inception-V3's 2,048-dimensional pool features of the images; on other features it is the same
    statistic under another embedding, and its values are not comparable with published KIDs.

    `real_features` (N, d) and `fake_features` (M, d). Each of `subsets` estimates draws `subset_size`
    rows of each set without replacement (independently for the two sets; `subset_size` is capped at
    min(N, M)) from a numpy Generator seeded by `seed`, and computes `mmd2_unbiased` on them. Returns a
    `KernelDistance(mean, std)`: `std` is the standard deviation of the subset estimates (numpy's default
    ddof = 0, as common KID implementations report it), not the standard error of the mean. Values are
    raw MMD²; papers often quote KID ×10³ (or ×100).
    """
    unbiased = (2, "at least 2 samples for the unbiased estimate")
    real, fake = check_feature_pair(real_features, fake_features, {"real_features": unbiased, "fake_features": unbiased})
    if not isinstance(subsets, (int, np.integer)) or subsets < 1:
        raise ValueError(f"subsets must be a positive integer, got {subsets!r}.")
    if not isinstance(subset_size, (int, np.integer)) or subset_size < 2:
        raise ValueError(
            f"subset_size must be an integer ≥ 2 (the unbiased estimate needs pairs), got {subset_size!r}."
        )
    size = min(subset_size, len(real), len(fake))
    rng = np.random.default_rng(seed)
    estimates = [
        mmd2_unbiased(
            real[rng.choice(len(real), size, replace=False)], fake[rng.choice(len(fake), size, replace=False)]
        )
        for _ in range(subsets)
    ]
    return KernelDistance(mean=float(np.mean(estimates)), std=float(np.std(estimates)))

