"""kgan.metrics.mode_coverage: PacGAN's and VEEGAN's count, on hand-made samples and on real mixture samples."""

import numpy as np
import pytest

from kgan.datasets import grid_of_gaussians, ring_of_gaussians, sample_mixture
from kgan.metrics import mode_coverage


def test_mode_coverage_hand_made_samples():
    means = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    std = 0.1
    collapsed = mode_coverage(np.zeros((50, 2)), means, std)  # everything at one mode
    assert collapsed.modes_covered == 1 and collapsed.high_quality == 1.0
    assert collapsed.counts.tolist() == [50, 0, 0] and collapsed.num_modes == 3 and collapsed.num_samples == 50
    # 4σ from their nearest mode: nothing registers
    far = mode_coverage(np.tile([[0.4, 0.0], [10.0, -0.4]], (30, 1)), means, std)
    assert far.high_quality == 0.0 and far.modes_covered == 0 and far.counts.tolist() == [0, 0, 0]
    # 2.9σ registers, 3.1σ does not
    edge = mode_coverage(np.array([[0.29, 0.0], [0.0, 10.31]]), means, std, min_count=1)
    assert edge.counts.tolist() == [1, 0, 0] and edge.high_quality == 0.5
    # a sample registers to its *nearest* mode
    assert mode_coverage(np.array([[9.9, 0.1]]), means, std, min_count=1).counts.tolist() == [0, 1, 0]


def test_mode_coverage_min_count_is_inclusive():
    means = np.array([[0.0, 0.0], [5.0, 5.0]])
    samples = np.concatenate([np.zeros((20, 2)), np.full((19, 2), 5.0)])
    coverage = mode_coverage(samples, means, 0.1)  # default min_count=20
    assert coverage.counts.tolist() == [20, 19]
    assert coverage.modes_covered == 1  # 20 samples count, 19 do not
    assert mode_coverage(samples, means, 0.1, min_count=19).modes_covered == 2
    assert mode_coverage(samples, means, 0.1, min_count=21).modes_covered == 0
    with pytest.raises(ValueError, match="shape"):
        mode_coverage(np.zeros((4, 3)), means, 0.1)


@pytest.mark.parametrize("mixture", [ring_of_gaussians(), grid_of_gaussians()], ids=["ring", "grid"])
def test_real_samples_cover_every_mode_at_the_gaussian_rate(mixture):
    samples = sample_mixture(mixture.means, mixture.std, 2500, seed=0)
    assert samples.shape == (2500, 2) and samples.dtype == np.float32
    coverage = mode_coverage(samples, mixture.means, mixture.std)
    assert coverage.modes_covered == mixture.num_modes
    # a 2D Gaussian puts 1 − exp(−4.5) ≈ 98.9 % of its mass within 3σ
    assert coverage.high_quality == pytest.approx(1 - np.exp(-4.5), abs=0.006)
    assert coverage.counts.sum() == round(coverage.high_quality * 2500)
    # modes are drawn uniformly: each gets about 2500 / K samples
    expected = 2500 / mixture.num_modes
    assert np.all(np.abs(coverage.counts - expected) < 5 * np.sqrt(expected))
    np.testing.assert_array_equal(samples, sample_mixture(mixture.means, mixture.std, 2500, seed=0))
    assert not np.array_equal(samples, sample_mixture(mixture.means, mixture.std, 2500, seed=1))
