import numpy as np
import pytest

from kgan.toy import histogram_2d, js_divergence, parallel_lines, wasserstein_1d


def test_js_divergence_hand_values():
    assert js_divergence([0.5, 0.5], [0.5, 0.5]) == pytest.approx(0.0)
    assert js_divergence([1, 0], [0, 1]) == pytest.approx(np.log(2))
    # p = (1, 0), q = (½, ½): m = (¾, ¼); ½·log(4/3) + ½·(½·log(2/3) + ½·log 2)
    expected = 0.5 * np.log(4 / 3) + 0.5 * (0.5 * np.log(0.5 / 0.75) + 0.5 * np.log(0.5 / 0.25))
    assert js_divergence([1, 0], [0.5, 0.5]) == pytest.approx(expected)
    with pytest.raises(ValueError, match="same shape"):
        js_divergence([1, 0], [1, 0, 0])


def test_wasserstein_1d_hand_values():
    assert wasserstein_1d([0, 1, 2], [2, 3, 4]) == pytest.approx(2.0)
    assert wasserstein_1d([3, 0, 1], [1, 0, 3]) == pytest.approx(0.0)  # order does not matter
    assert wasserstein_1d([0, 0], [1, -1]) == pytest.approx(1.0)


@pytest.mark.parametrize("theta", [-0.8, 0.3, 1.0])
def test_books_parallel_lines_js_is_log2_and_em_is_abs_theta(theta):
    p, q = parallel_lines(theta, 2000, seed=0)
    extent = ((-1.05, 1.05), (0, 1))
    js = js_divergence(histogram_2d(p, (42, 10), extent), histogram_2d(q, (42, 10), extent))
    assert js == pytest.approx(np.log(2))
    assert wasserstein_1d(p[:, 0], q[:, 0]) == pytest.approx(abs(theta))
    p0, q0 = parallel_lines(0.0, 2000, seed=0)
    assert js_divergence(histogram_2d(p0, (42, 10), extent), histogram_2d(q0, (42, 10), extent)) < 0.01


# ---------------------------------------------------------------------------- the mode-collapse lab

from kgan.toy import (  # noqa: E402
    Mixture,
    generate_samples,
    grid_of_gaussians,
    mixture_dataset,
    mode_coverage,
    ring_of_gaussians,
    sample_mixture,
)


def test_ring_geometry_is_pacgans():
    ring = ring_of_gaussians()
    assert isinstance(ring, Mixture) and ring.num_modes == 8 and ring.std == 0.01
    np.testing.assert_allclose(np.linalg.norm(ring.means, axis=1), 1.0)
    angles = np.sort(np.mod(np.arctan2(ring.means[:, 1], ring.means[:, 0]), 2 * np.pi))
    np.testing.assert_allclose(np.diff(angles), 2 * np.pi / 8)  # evenly spaced
    assert ring_of_gaussians(num_modes=5, radius=3.0).means.shape == (5, 2)
    np.testing.assert_allclose(np.linalg.norm(ring_of_gaussians(num_modes=5, radius=3.0).means, axis=1), 3.0)


def test_grid_geometry_is_pacgans():
    grid = grid_of_gaussians()
    assert grid.num_modes == 25 and grid.std == 0.05
    expected = {(x, y) for x in (-4, -2, 0, 2, 4) for y in (-4, -2, 0, 2, 4)}
    assert {tuple(point) for point in grid.means.round(9).tolist()} == expected
    assert grid_of_gaussians(side=2, spacing=1.0).means.tolist() == [[-0.5, -0.5], [0.5, -0.5], [-0.5, 0.5], [0.5, 0.5]]


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


def test_mixture_dataset_batches_repeat_and_stack_for_n_critic():
    grid = grid_of_gaussians()
    first = [batch.numpy() for batch in mixture_dataset(grid.means, grid.std, 64, seed=3).take(40)]
    again = [batch.numpy() for batch in mixture_dataset(grid.means, grid.std, 64, seed=3).take(2)]
    other = next(iter(mixture_dataset(grid.means, grid.std, 64, seed=4))).numpy()
    assert first[0].shape == (64, 2) and first[0].dtype == np.float32
    np.testing.assert_array_equal(first[0], again[0])  # the seed fixes the stream
    assert not np.array_equal(first[0], first[1]) and not np.array_equal(first[0], other)
    coverage = mode_coverage(np.concatenate(first), grid.means, grid.std)  # 2,560 points
    assert coverage.modes_covered == 25 and coverage.high_quality > 0.97
    stacked = next(iter(mixture_dataset(grid.means, grid.std, 16, seed=0, critic_batches=5))).numpy()
    assert stacked.shape == (16, 5, 2)  # (batch, n_critic, 2): batch axis first, as kgan.data
    assert len({stacked[:, i].tobytes() for i in range(5)}) == 5  # five different batches
    assert mixture_dataset(grid.means, grid.std, 8).element_spec.shape.as_list() == [8, 2]


def test_generate_samples_is_seeded_and_uses_the_generator():
    import keras

    inputs = keras.Input((3,))
    generator = keras.Model(inputs, keras.layers.Dense(2, use_bias=False, kernel_initializer="ones")(inputs))
    samples = generate_samples(generator, 10, seed=5)
    z = np.random.default_rng(5).standard_normal((10, 3)).astype(np.float32)
    np.testing.assert_allclose(samples, np.repeat(z.sum(axis=1, keepdims=True), 2, axis=1), rtol=1e-5)
    assert samples.shape == (10, 2)
    np.testing.assert_allclose(generate_samples(generator, 10, seed=5, batch_size=3), samples, rtol=1e-6)
