"""kgan.metrics.swd: the Laplacian pyramid, the SWD against a from-the-paper reference, and its response to blur and noise."""

import numpy as np
import pytest

from kgan.metrics import swd
from kgan.metrics.swd import laplacian_pyramid, pyramid_down, pyramid_up, sliced_wasserstein_distance
from tests.metrics.image_sets import BLURS, NOISES, degraded, real_and_fake, strictly_increasing

BINOMIAL_5x5 = np.outer([1, 4, 6, 4, 1], [1, 4, 6, 4, 1]) / 256


def filter_5x5(images):
    """The 5×5 binomial filter with mirror boundaries (d c b | a b c d | c b a), written out tap by tap."""
    padded = np.pad(images, ((0, 0), (2, 2), (2, 2), (0, 0)), mode="reflect")
    h, w = images.shape[1:3]
    return sum(BINOMIAL_5x5[i, j] * padded[:, i : i + h, j : j + w] for i in range(5) for j in range(5))


def test_pyramid_steps_are_the_binomial_filter():
    x = np.random.default_rng(0).uniform(0, 255, (2, 16, 16, 3))
    np.testing.assert_allclose(pyramid_down(x), filter_5x5(x)[:, ::2, ::2], atol=1e-4)
    zeros_between = np.zeros((2, 32, 32, 3))
    zeros_between[:, ::2, ::2] = x
    np.testing.assert_allclose(pyramid_up(x), 4 * filter_5x5(zeros_between), atol=1e-4)
    # both keep a constant image constant, edges included (the filter's weights sum to 1 per output)
    flat = np.full((1, 16, 16, 3), 77.0)
    np.testing.assert_allclose(pyramid_down(flat), 77.0, atol=1e-5)
    np.testing.assert_allclose(pyramid_up(flat), 77.0, atol=1e-5)


def test_laplacian_pyramid_levels_rebuild_the_image_and_a_constant_image_has_no_detail():
    faces = real_and_fake(2, 64)[0]
    pyramid = laplacian_pyramid(faces)
    assert [level.shape for level in pyramid] == [(2, 64, 64, 3), (2, 32, 32, 3), (2, 16, 16, 3)]
    # the coarsest level is the Gaussian image itself
    np.testing.assert_allclose(pyramid[-1], pyramid_down(pyramid_down(faces)), atol=1e-4)
    image = pyramid[-1]
    for detail in reversed(pyramid[:-1]):
        image = detail + pyramid_up(image)
    np.testing.assert_allclose(image, faces, atol=1e-3)
    assert np.abs(pyramid[0]).max() > 10  # faces do have fine detail

    flat = laplacian_pyramid(np.full((1, 32, 32, 3), 200, np.uint8))
    assert np.abs(flat[0]).max() < 1e-4 and np.allclose(flat[1], 200.0)


def reference_swd(real, fake, seed, patches_per_image, directions):
    """The paper's recipe written out plainly (full pyramids, one matrix of descriptors), for equal-size sets.

    It draws patch positions and directions from the same seeded generators as the module.
    """
    pyramids = [[], []]
    for which, images in enumerate((real, fake)):
        gaussian = images.astype(np.float64)
        while gaussian.shape[1] > 16:
            coarser = filter_5x5(gaussian)[:, ::2, ::2]
            zeros_between = np.zeros_like(gaussian)
            zeros_between[:, ::2, ::2] = coarser
            pyramids[which].append(gaussian - 4 * filter_5x5(zeros_between))
            gaussian = coarser
        pyramids[which].append(gaussian)
    result = {}
    for index, (real_level, fake_level) in enumerate(zip(*pyramids)):
        size = real_level.shape[1]
        ys, xs = np.random.default_rng([seed, index, 0]).integers(0, size - 6, (2, len(real), patches_per_image))
        unit = np.random.default_rng([seed, index, 1]).standard_normal((directions, 147))
        unit /= np.linalg.norm(unit, axis=1, keepdims=True)
        projected = []
        for level in (real_level, fake_level):
            descriptors = np.array(
                [
                    level[i, y : y + 7, x : x + 7, :].transpose(2, 0, 1)  # (channel, y, x)
                    for i in range(len(level))
                    for y, x in zip(ys[i], xs[i])
                ]
            )
            mean = descriptors.mean(axis=(0, 2, 3), keepdims=True)
            std = descriptors.std(axis=(0, 2, 3), keepdims=True)
            projected.append(np.sort(((descriptors - mean) / std).reshape(len(descriptors), -1) @ unit.T, axis=0))
        result[size] = 1e3 * np.abs(projected[0] - projected[1]).mean()
    return result


def test_swd_matches_the_papers_recipe_written_out():
    real, fake = real_and_fake(6, 32)
    got = sliced_wasserstein_distance(real, fake, seed=3, patches_per_image=16, directions=24)
    expected = reference_swd(real, fake, seed=3, patches_per_image=16, directions=24)
    assert list(got.levels) == [32, 16]
    np.testing.assert_allclose([got.levels[32], got.levels[16]], [expected[32], expected[16]], rtol=1e-4)
    assert got.average == pytest.approx((expected[32] + expected[16]) / 2, rel=1e-4)
    assert "32:" in str(got) and "average" in str(got)


def test_swd_of_a_set_against_itself_is_zero():
    real, _ = real_and_fake(40, 64)
    result = sliced_wasserstein_distance(real, real, patches_per_image=32, directions=32)
    assert result.levels == {64: 0.0, 32: 0.0, 16: 0.0} and result.average == 0.0


def test_memory_saving_paths_give_the_same_numbers(monkeypatch):
    real, fake = real_and_fake(24, 32)
    default = sliced_wasserstein_distance(real, fake, patches_per_image=32, directions=40)
    monkeypatch.setattr(swd, "_CACHE_BYTES", 0)  # recompute the descriptors for every chunk of directions
    monkeypatch.setattr(swd, "_PROJECTION_BYTES", 7 * 4 * 24 * 32)  # 7 directions at a time
    monkeypatch.setattr(swd, "_BLOCK_DESCRIPTORS", 100)  # 3 images per block
    chunked = sliced_wasserstein_distance(real, fake, patches_per_image=32, directions=40)
    np.testing.assert_allclose(list(chunked.levels.values()), list(default.levels.values()), rtol=1e-5)


def test_unequal_sets_are_subsampled_to_the_smaller():
    real, fake = real_and_fake(120, 32)
    part = sliced_wasserstein_distance(real, real[:60], patches_per_image=32, directions=64)
    other = sliced_wasserstein_distance(real, fake, patches_per_image=32, directions=64)
    assert 0 < part.average < other.average  # half of the same set is closer than another draw
    swapped = sliced_wasserstein_distance(real[:60], real, patches_per_image=32, directions=64)
    assert swapped.average > 0


@pytest.mark.parametrize("kind, amounts", [("blur", BLURS), ("noise", NOISES)])
def test_swd_grows_monotonically_with_blur_and_noise(kind, amounts):
    real, fake = real_and_fake(256, 32)
    results = [sliced_wasserstein_distance(real, degraded(fake, kind, amount), directions=64) for amount in amounts]
    averages = [result.average for result in results]
    finest = [result.levels[32] for result in results]
    assert strictly_increasing(averages), averages
    assert strictly_increasing(finest), finest
    assert averages[-1] > 3 * averages[0]


def test_seeds_fix_the_value():
    real, fake = real_and_fake(128, 32)
    first = sliced_wasserstein_distance(real, fake, seed=5, directions=64)
    assert sliced_wasserstein_distance(real, fake, seed=5, directions=64) == first
    other = sliced_wasserstein_distance(real, fake, seed=6, directions=64)
    assert other.average != first.average and other.average == pytest.approx(first.average, rel=0.25)


@pytest.mark.parametrize(
    "real_shape, fake_shape, options, message",
    [
        ((4, 32, 32), (4, 32, 32, 3), {}, "square RGB"),
        ((4, 32, 24, 3), (4, 32, 24, 3), {}, "square RGB"),
        ((4, 48, 48, 3), (4, 48, 48, 3), {}, "power-of-two"),
        ((4, 8, 8, 3), (4, 8, 8, 3), {}, "power-of-two size ≥ 16"),
        ((4, 32, 32, 3), (4, 64, 64, 3), {}, "same size"),
        ((4, 32, 32, 3), (4, 32, 32, 3), {"min_resolution": 12}, "min_resolution"),
        ((4, 32, 32, 3), (4, 32, 32, 3), {"min_resolution": 4}, "min_resolution"),
        ((4, 32, 32, 3), (4, 32, 32, 3), {"patches_per_image": 0}, "patches_per_image"),
        ((4, 32, 32, 3), (4, 32, 32, 3), {"directions": 0}, "directions"),
        ((0, 32, 32, 3), (4, 32, 32, 3), {}, "empty"),
    ],
)
def test_bad_inputs_are_rejected(real_shape, fake_shape, options, message):
    with pytest.raises(ValueError, match=message):
        sliced_wasserstein_distance(np.zeros(real_shape, np.uint8), np.zeros(fake_shape, np.uint8), **options)


def test_float_images_are_rejected():
    with pytest.raises(ValueError, match="uint8"):
        sliced_wasserstein_distance(np.zeros((2, 16, 16, 3), np.float32), np.zeros((2, 16, 16, 3), np.uint8))
