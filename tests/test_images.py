"""kgan.images: [-1, 1] floats to uint8, grids row by row, PNG files."""

import numpy as np
import pytest
import tensorflow as tf

from kgan.images import image_grid, save_png, square_grid, to_uint8


def test_to_uint8_rounds_and_clips():
    np.testing.assert_array_equal(to_uint8(np.array([-1.0, 0.0, 1.0, 2.0, -3.0])), [0, 128, 255, 255, 0])


def test_image_grid_tiles_row_by_row():
    images = np.arange(6, dtype=np.uint8).reshape(6, 1, 1, 1) * np.ones((6, 2, 3, 1), np.uint8)
    grid = image_grid(images, rows=2, cols=3)
    assert grid.shape == (4, 9, 1)
    assert grid[0, 0, 0] == 0 and grid[0, 3, 0] == 1 and grid[2, 0, 0] == 3 and grid[3, 8, 0] == 5
    with pytest.raises(ValueError, match="at least 3×3"):
        image_grid(images, 3, 3)


def test_square_grid_pads_the_last_row_with_black():
    images = np.full((5, 2, 2, 3), 200, np.uint8)
    grid = square_grid(images)
    assert grid.shape == (2 * 2, 3 * 2, 3)  # ⌈√5⌉ = 3 columns, 2 rows
    assert (grid[2:, 4:] == 0).all() and (grid[2:, :4] == 200).all() and (grid[:2] == 200).all()
    assert square_grid(images[:4]).shape == (4, 4, 3)


def test_save_png_writes_a_readable_png_and_its_folder(tmp_path):
    image = np.random.default_rng(0).integers(0, 256, (6, 5, 3), dtype=np.uint8)
    save_png(tmp_path / "sub" / "x.png", image)
    np.testing.assert_array_equal(tf.io.decode_png(tf.io.read_file(str(tmp_path / "sub" / "x.png"))).numpy(), image)


def test_check_uint8_images_names_the_argument_and_the_expected_form():
    from kgan.images import check_uint8_images

    good = np.zeros((2, 4, 4, 3), np.uint8)
    assert check_uint8_images(good) is not None and check_uint8_images(good).shape == (2, 4, 4, 3)
    with pytest.raises(ValueError, match="fakes must be uint8 RGB images .* got float32 .*to_uint8"):
        check_uint8_images(good.astype(np.float32), "fakes")
    with pytest.raises(ValueError, match="must be uint8 square RGB images"):
        check_uint8_images(np.zeros((2, 4, 6, 3), np.uint8), square=True)
    with pytest.raises(ValueError, match="reals is empty"):
        check_uint8_images(np.zeros((0, 4, 4, 3), np.uint8), "reals")
    assert len(check_uint8_images(np.zeros((0, 4, 4, 3), np.uint8), allow_empty=True)) == 0
