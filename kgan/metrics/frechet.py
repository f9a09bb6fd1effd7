"""Fréchet distance between Gaussians fitted to two feature sets, one-shot (numpy) and streaming (a Keras metric).

Heusel, Ramsauer, Unterthiner, Nessler & Hochreiter 2017, "GANs Trained by a Two Time-Scale Update Rule
Converge to a Local Nash Equilibrium" (NeurIPS), section "Fréchet Inception Distance": fit a Gaussian
N(μ, Σ) to each feature set; the Fréchet (2-Wasserstein) distance between the two Gaussians is

    FD = ‖μ₁ − μ₂‖² + Tr(Σ₁ + Σ₂ − 2 (Σ₁ Σ₂)^½).

It is the FID **only** on Inception-V3's 2,048-dimensional pool features of the images; on other features
it is the same statistic under another embedding, not comparable with published FIDs.

The estimate is biased upward at small sample sizes, by an amount that grows like 1/n and depends on the
generator (Chong & Forsyth 2020, "Effectively Unbiased FID and Inception Score and where to find them",
CVPR): compare values only at the same n. Below 2,048 samples the covariance of 2,048-dimensional
features is singular and the values are not comparable with anything; FIDs are usually quoted at 10k–50k.

Tr (Σ₁ Σ₂)^½ is computed without scipy: Σ₁ Σ₂ = A·B with A = Σ₁^½ and B = Σ₁^½ Σ₂, and AB and BA share their
eigenvalues, so Tr (Σ₁ Σ₂)^½ = Σ √λᵢ with λᵢ the eigenvalues of Σ₁^½ Σ₂ Σ₁^½, a symmetric positive
semi-definite matrix that `eigh` diagonalises stably.
"""

import keras
import numpy as np
import tensorflow as tf

from kgan.metrics.checks import check_feature_pair

__all__ = ["FrechetDistance", "frechet_distance", "frechet_distance_from_statistics"]


def frechet_distance(real_features, fake_features):
    """Fréchet distance between Gaussians fitted to `real_features` (N, d) and `fake_features` (M, d), float64.

    Means, and covariances with the unbiased 1/(n − 1) normalisation (`np.cov`); N, M ≥ 2. For 1D features
    it is (μ₁ − μ₂)² + (σ₁ − σ₂)² with the sample means and standard deviations.
    """
    covariance = (2, "at least 2 samples for a covariance")
    real, fake = check_feature_pair(real_features, fake_features, {"real_features": covariance, "fake_features": covariance})
    return frechet_distance_from_statistics(
        real.mean(axis=0), np.cov(real, rowvar=False), fake.mean(axis=0), np.cov(fake, rowvar=False)
    )


def frechet_distance_from_statistics(mu1, sigma1, mu2, sigma2):
    """‖μ₁ − μ₂‖² + Tr(Σ₁ + Σ₂ − 2 (Σ₁ Σ₂)^½) for means (d,) and symmetric PSD covariances (d, d), as a float."""
    mu1, mu2 = np.atleast_1d(np.asarray(mu1, np.float64)), np.atleast_1d(np.asarray(mu2, np.float64))
    sigma1, sigma2 = np.atleast_2d(np.asarray(sigma1, np.float64)), np.atleast_2d(np.asarray(sigma2, np.float64))
    d = mu1.shape[0]
    if mu1.shape != (d,) or mu2.shape != (d,) or sigma1.shape != (d, d) or sigma2.shape != (d, d):
        raise ValueError(
            f"Expected means (d,) and covariances (d, d) of one d, got {mu1.shape}, {sigma1.shape}, {mu2.shape}, {sigma2.shape}."
        )
    root = _psd_sqrt(sigma1)
    product = root @ sigma2 @ root
    # symmetric in exact arithmetic; symmetrise so eigh sees exactly what it assumes. Rounding can still
    # leave tiny negative eigenvalues for a (near-)singular product: they are 0, and √ of them would be NaN
    eigenvalues = np.clip(np.linalg.eigvalsh((product + product.T) / 2), 0, None)
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2 * np.sqrt(eigenvalues).sum())


def _psd_sqrt(sigma):
    """The symmetric square root of a PSD matrix: V diag(√λ) Vᵀ, rounding-negative λ clipped to 0."""
    eigenvalues, vectors = np.linalg.eigh((sigma + sigma.T) / 2)
    return (vectors * np.sqrt(np.clip(eigenvalues, 0, None))) @ vectors.T


@keras.saving.register_keras_serializable(package="kgan")
class FrechetDistance(keras.metrics.Metric):
    """Streaming Fréchet distance between two feature sets: accumulate batches, read the distance at the end.

        metric = FrechetDistance(num_features=2048)
        for real_batch, fake_batch in batches:
            metric.update_state(embed(real_batch), embed(fake_batch))
        fd = float(metric.result())

    It is the FID only when the features are Inception-V3 pool features (see the module docstring), and
    like every FD estimate it is biased upward at small n (Chong & Forsyth 2020): compare values only at
    equal sample sizes, and none below 2,048 samples.

    Each set keeps a count, a sum and a sum of outer products in float64 variables (d² numbers each, so
    32 MB per set at d = 2,048); the means and the unbiased covariances follow exactly, and `result()`
    computes the distance in float64 TensorFlow (`tf.linalg.eigh`) — the same number `frechet_distance`
    gives on the concatenated features, up to rounding. Either argument of `update_state` may be None, to
    stream the two sets separately (e.g. the real statistics once, the generated ones per epoch).
    `result()` is NaN until both sets have at least 2 samples.
    """

    def __init__(self, num_features, name="frechet_distance", dtype="float64"):
        super().__init__(name=name, dtype=dtype)
        self.num_features = int(num_features)
        if self.num_features < 1:
            raise ValueError(f"num_features must be positive, got {num_features!r}.")
        self._sets = {}
        for role in ("real", "fake"):
            self._sets[role] = (
                self.add_variable((), "zeros", dtype="float64", name=f"{role}_count"),
                self.add_variable((self.num_features,), "zeros", dtype="float64", name=f"{role}_sum"),
                self.add_variable((self.num_features,) * 2, "zeros", dtype="float64", name=f"{role}_outer"),
            )

    def update_state(self, real_features=None, fake_features=None):
        """Add a batch of real and/or fake features, each (batch, num_features)."""
        for role, features in (("real", real_features), ("fake", fake_features)):
            if features is None:
                continue
            features = tf.cast(tf.convert_to_tensor(features), tf.float64)
            if features.shape.rank != 2 or features.shape[-1] not in (None, self.num_features):
                raise ValueError(f"{role}_features must have shape (batch, {self.num_features}), got {features.shape}.")
            count, total, outer = self._sets[role]
            count.assign_add(tf.cast(tf.shape(features)[0], tf.float64))
            total.assign_add(tf.reduce_sum(features, axis=0))
            outer.assign_add(tf.matmul(features, features, transpose_a=True))

    def result(self):
        (real_mean, real_cov), (fake_mean, fake_cov) = self._statistics("real"), self._statistics("fake")
        root = _psd_sqrt_tf(real_cov)
        product = root @ fake_cov @ root
        eigenvalues = tf.maximum(tf.linalg.eigvalsh((product + tf.transpose(product)) / 2), 0.0)  # as in numpy
        diff = real_mean - fake_mean
        distance = (
            tf.reduce_sum(diff * diff)
            + tf.linalg.trace(real_cov)
            + tf.linalg.trace(fake_cov)
            - 2 * tf.reduce_sum(tf.sqrt(eigenvalues))
        )
        enough = tf.logical_and(self._sets["real"][0] >= 2, self._sets["fake"][0] >= 2)
        return tf.where(enough, distance, tf.constant(np.nan, tf.float64))

    def _statistics(self, role):
        """Mean and unbiased covariance from the sums; with fewer than 2 samples, finite placeholders."""
        count, total, outer = (tf.convert_to_tensor(v) for v in self._sets[role])
        n = tf.maximum(count, 2.0)  # keeps eigh away from NaN/inf; `result` masks the value out
        mean = total / n
        covariance = (outer - n * mean[:, None] * mean[None, :]) / (n - 1)
        return mean, covariance

    def get_config(self):
        return {**super().get_config(), "num_features": self.num_features}


def _psd_sqrt_tf(sigma):
    eigenvalues, vectors = tf.linalg.eigh((sigma + tf.transpose(sigma)) / 2)
    return (vectors * tf.sqrt(tf.maximum(eigenvalues, 0.0))) @ tf.transpose(vectors)
