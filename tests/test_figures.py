"""kgan.figures: the progress strip, the GIF, the interpolation grid and the nearest-neighbour check."""

import numpy as np
import pytest
from PIL import Image

from kgan.figures import (
    interpolation_grid,
    load_image,
    nearest_neighbours,
    progress_strip,
    save_gif,
)
from kgan.images import image_grid, to_uint8
from kgan.latent import generate, interpolate, sample_latent
from tests.helpers import IMAGE_SIZE, LATENT_DIM, write_png
from tests.test_latent import conditional_generator

TILE_H, TILE_W = 4, 5  # tiles that are not square, so a swapped height and width shows


def tiles_and_grid(seed):
    """100 known tiles and their 10×10 grid, as `SampleGrid` writes it."""
    tiles = np.random.default_rng(seed).integers(0, 256, (100, TILE_H, TILE_W, 3), dtype=np.uint8)
    return tiles, image_grid(tiles, 10, 10)


def test_progress_strip_stacks_the_top_tiles_of_each_grid(tmp_path):
    made = [tiles_and_grid(seed) for seed in range(3)]
    grids = [write_png(tmp_path / "samples_epoch_0001.png", made[0][1]), made[1][1], made[2][1]]  # a path and arrays
    strip = progress_strip(grids, rows=2, cols=3, separator=1, path=tmp_path / "strip.png")
    band = 2 * TILE_H
    assert strip.shape == (3 * band + 2 * 1, 3 * TILE_W, 3) and strip.dtype == np.uint8
    for i, (tiles, _) in enumerate(made):
        top = band * i + i  # bands, each after its separator line
        np.testing.assert_array_equal(strip[top : top + band], image_grid(tiles[[0, 1, 2, 10, 11, 12]], 2, 3))
        if i:
            assert (strip[top - 1] == 255).all()  # the separator
    np.testing.assert_array_equal(load_image(tmp_path / "strip.png"), strip)


def test_progress_strip_keeps_evenly_spaced_grids_and_checks_the_layout():
    made = [tiles_and_grid(seed) for seed in range(5)]
    strip = progress_strip([grid for _, grid in made], rows=1, cols=10, separator=0, max_bands=3)
    assert strip.shape == (3 * TILE_H, 10 * TILE_W, 3)
    for band, source in enumerate([0, 2, 4]):  # first, middle, last
        np.testing.assert_array_equal(strip[band * TILE_H : (band + 1) * TILE_H], image_grid(made[source][0][:10], 1, 10))
    with pytest.raises(ValueError, match="equal tiles"):
        progress_strip([made[0][1][:-1]])
    with pytest.raises(ValueError, match="do not fit"):
        progress_strip([made[0][1]], rows=11)


def test_save_gif_writes_every_grid_as_a_looping_frame(tmp_path):
    # At most 256 colours per frame: Pillow's per-frame palette then holds every colour exactly, so the
    # frames read back equal the grids pixel for pixel (a GAN grid with more colours loses a little depth).
    rng = np.random.default_rng(0)
    palette = rng.integers(0, 256, (12, 3), dtype=np.uint8)
    frames = [palette[rng.integers(0, 12, (10 * TILE_H, 10 * TILE_W))] for _ in range(3)]
    frames[1] = write_png(tmp_path / "grid_2.png", frames[1])  # frames may be PNG paths
    path = save_gif(frames, tmp_path / "gif" / "progress.gif", seconds_per_frame=0.3)
    with Image.open(path) as gif:
        assert gif.n_frames == 3 and gif.info["loop"] == 0
        for index, frame in enumerate(frames):
            gif.seek(index)
            assert gif.info["duration"] == 300
            np.testing.assert_array_equal(np.asarray(gif.convert("RGB")), load_image(frame))


def tiny_generator(make_gan):
    """The tiny trainers' generator with its last kernel scaled up: at DCGAN's N(0, 0.02) initialisation its
    images all sit within a level or two of grey; scaled, different codes give clearly different images."""
    generator = make_gan(compile=False).generator
    kernel = generator.get_layer("to_rgb").kernel
    kernel.assign(kernel * 1000.0)
    return generator


def test_interpolation_grid_walks_slerp_between_pairs_of_codes(make_gan):
    generator = tiny_generator(make_gan)
    grid = interpolation_grid(generator, rows=3, steps=5, seed=2)
    assert grid.shape == (3 * IMAGE_SIZE, 5 * IMAGE_SIZE, 3) and grid.dtype == np.uint8
    z = sample_latent(6, LATENT_DIM, 2).numpy()
    codes = np.concatenate([interpolate(z[2 * i], z[2 * i + 1], 5) for i in range(3)])
    np.testing.assert_array_equal(grid, image_grid(to_uint8(generator(codes, training=False)), 3, 5))

    def tile(row, column):
        return grid[row * IMAGE_SIZE : (row + 1) * IMAGE_SIZE, column * IMAGE_SIZE : (column + 1) * IMAGE_SIZE].astype(int)

    for row in range(3):
        # The ends are G's images of the pair of codes, generated on their own. A batch of 2 and the grid's
        # batch of 15 may round float32 differently (oneDNN), and the ×1000 kernel magnifies that into a few
        # levels at a few pixels, hence the tolerance; differing images differ by ~10 levels on average.
        ends = to_uint8(generator(z[2 * row : 2 * row + 2], training=False)).astype(int)
        for column, end in ((0, ends[0]), (4, ends[1])):
            assert np.abs(tile(row, column) - end).mean() < 0.5 and np.abs(tile(row, column) - end).max() <= 8
        for column in (1, 2, 3):  # the middle is neither end
            assert np.abs(tile(row, column) - ends[0]).mean() > 2 and np.abs(tile(row, column) - ends[1]).mean() > 2


def test_interpolation_grid_keeps_one_class_along_each_row_of_a_conditional_generator():
    generator = conditional_generator(num_classes=3, latent_dim=8, image_size=8)
    grid = interpolation_grid(generator, rows=4, steps=3, seed=2)
    assert grid.shape == (4 * 8, 3 * 8, 3)
    z = sample_latent(8, 8, 2).numpy()
    for row, label in enumerate((0, 1, 2, 0)):  # row r is class r mod K
        walk = interpolate(z[2 * row], z[2 * row + 1], 3)
        expected = image_grid(to_uint8(generate(generator, walk, label)), 1, 3).astype(int)
        band = grid[row * 8 : (row + 1) * 8].astype(int)
        assert np.abs(band - expected).max() <= 1, row  # a batch of 3, not 12: float32 may round apart by a level
        other = image_grid(to_uint8(generate(generator, walk, (label + 1) % 3)), 1, 3).astype(int)
        assert np.abs(band - other).mean() > 5, row  # another class would look otherwise


def grey_images(levels, size=4):
    return np.stack([np.full((size, size, 3), level, np.uint8) for level in levels])


def test_nearest_neighbours_on_a_hand_built_set():
    # 4×4 flat greys (no pooling below 16 px): the distance between levels a and b is |a − b| / 255 · √48
    real = grey_images([200, 0, 255, 100, 50])
    generated = grey_images([60, 190, 10])
    found = nearest_neighbours(generated, real, k=2)
    np.testing.assert_array_equal(found.indices, [[4, 3], [0, 2], [1, 4]])  # 60 → 50, 100; 190 → 200, 255; 10 → 0, 50
    unit = np.sqrt(48) / 255
    np.testing.assert_allclose(found.distances, np.array([[10, 40], [10, 65], [10, 40]]) * unit, rtol=1e-5)
    # each real's nearest other real: 0 → 50, 50 → 0 or 100, 100 → 50, 200 → 255, 255 → 200: median 50 levels
    assert found.real_spacing == pytest.approx(50 * unit, rel=1e-5)
    np.testing.assert_allclose(found.ratios, [0.2, 0.2, 0.2], rtol=1e-5)
    expected = image_grid(np.concatenate([np.concatenate([generated[i : i + 1], real[found.indices[i]]]) for i in range(3)]), 3, 3)
    np.testing.assert_array_equal(found.grid, expected)
    np.testing.assert_array_equal(found.shown, [0, 1, 2])


def test_nearest_neighbours_finds_a_planted_copy_in_chunks():
    rng = np.random.default_rng(0)
    real = rng.integers(0, 256, (200, IMAGE_SIZE, IMAGE_SIZE, 3), dtype=np.uint8)
    generated = rng.integers(0, 256, (6, IMAGE_SIZE, IMAGE_SIZE, 3), dtype=np.uint8)
    generated[3] = real[117]
    generated[4] = real[42]
    generated[4, 3, 3, 0] ^= 1  # one value one level off: distance 1/255 (‖a‖² − 2a·b + ‖b‖² alone gets 2/255)
    found = nearest_neighbours(generated, real, k=3, grid_rows=2, chunk_size=7, reference_size=50)
    assert found.indices[3, 0] == 117 and found.distances[3, 0] == 0.0 and found.ratios[3] == 0.0
    assert found.indices[4, 0] == 42 and found.distances[4, 0] == pytest.approx(1 / 255, rel=1e-4)
    assert (np.delete(found.ratios, [3, 4]) > 0.5).all()  # random images are no copies
    # the same as the brute-force search over the whole distance matrix
    def flat(images):  # 16 px: no pooling
        return images.reshape(len(images), -1).astype(np.float64) / 255

    brute = np.sqrt(((flat(generated)[:, None] - flat(real)[None]) ** 2).sum(-1))
    np.testing.assert_array_equal(found.indices, np.argsort(brute, axis=1)[:, :3])
    np.testing.assert_allclose(found.distances, np.sort(brute, axis=1)[:, :3], atol=1e-4)
    # grid_rows=2: the two likeliest copies, the exact one first
    np.testing.assert_array_equal(found.shown, [3, 4])
    assert found.grid.shape == (2 * IMAGE_SIZE, 4 * IMAGE_SIZE, 3)
    np.testing.assert_array_equal(found.grid[:IMAGE_SIZE, :IMAGE_SIZE], found.grid[:IMAGE_SIZE, IMAGE_SIZE : 2 * IMAGE_SIZE])


def test_nearest_neighbours_pools_so_a_shifted_copy_is_found():
    # Real 0: 64 px columns alternating black and white; real 1: flat grey 120. The sample is real 0 moved by
    # one pixel. Pixel by pixel every value is flipped, so the grey is nearer; averaged over 4×4 blocks
    # (64 px → 16 px) both stripes are 127.5 everywhere, and the source is found at distance 0.
    stripes = np.zeros((64, 64, 3), np.uint8)
    stripes[:, ::2] = 255
    real = np.stack([stripes, np.full((64, 64, 3), 120, np.uint8)])
    found = nearest_neighbours(np.roll(stripes, 1, axis=1)[None], real, k=1)
    assert found.indices[0, 0] == 0 and found.distances[0, 0] == 0.0
    assert found.grid.shape == (64, 128, 3)


def test_nearest_neighbours_searches_the_given_features():
    real = grey_images([0, 100, 200])
    generated = grey_images([0, 200])
    features = (np.array([[5.0], [0.0]]), np.array([[0.0], [4.0], [9.0]]))  # unlike the pixels
    found = nearest_neighbours(generated, real, k=1, features=features)
    np.testing.assert_array_equal(found.indices, [[1], [0]])
    np.testing.assert_allclose(found.distances, [[1.0], [0.0]])
    assert found.real_spacing == pytest.approx(4.0)  # 0 → 4, 4 → 0, 9 → 4: median 4
