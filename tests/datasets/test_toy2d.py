"""kgan.datasets.toy2d: PacGAN's ring and grid, the mixture stream, and the book's two segments."""

import numpy as np

from kgan.datasets import Mixture, grid_of_gaussians, mixture_dataset, parallel_lines, ring_of_gaussians
from kgan.metrics import mode_coverage


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


def test_mixture_scale_is_the_largest_coordinate():
    assert ring_of_gaussians().scale == 1.0 and grid_of_gaussians().scale == 4.0
    assert grid_of_gaussians(side=3, spacing=1.5).scale == 1.5


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


def test_parallel_lines_are_the_books_segments():
    p, q = parallel_lines(0.3, 500, seed=2)
    assert p.shape == q.shape == (500, 2)
    np.testing.assert_array_equal(p[:, 0], 0.0)
    np.testing.assert_allclose(q[:, 0], 0.3)
    assert 0 <= p[:, 1].min() and p[:, 1].max() <= 1 and p[:, 1].std() > 0.25  # y ~ U(0, 1): std 0.289
