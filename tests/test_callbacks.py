import keras
import numpy as np
import pytest
import tensorflow as tf

import kgan
from kgan.callbacks import SampleGrid, StepHistory
from kgan.images import image_grid, to_uint8


def tiny_gan():
    keras.utils.set_random_seed(0)
    gan = kgan.DCGAN(
        kgan.nets.build_generator("dcgan", 16, 8, 4), kgan.nets.build_discriminator("dcgan", 16, 4), seed=0
    )
    gan.compile()
    return gan


def test_to_uint8_and_image_grid_tile_row_by_row():
    np.testing.assert_array_equal(to_uint8(np.array([-1.0, 0.0, 1.0, 2.0])), [0, 128, 255, 255])
    images = np.arange(6, dtype=np.uint8).reshape(6, 1, 1, 1) * np.ones((6, 2, 3, 1), np.uint8)
    grid = image_grid(images, rows=2, cols=3)
    assert grid.shape == (4, 9, 1)
    assert grid[0, 0, 0] == 0 and grid[0, 3, 0] == 1 and grid[2, 0, 0] == 3 and grid[3, 8, 0] == 5
    with pytest.raises(ValueError, match="at least 3×3"):
        image_grid(images, 3, 3)


def test_sample_grid_saves_pngs_from_a_fixed_z(tmp_path):
    gan = tiny_gan()
    grids = SampleGrid(tmp_path, rows=2, cols=3, every_n_epochs=1, every_n_steps=2, seed=1)
    data = kgan.data.make_toy_dataset(8, num_images=32, image_size=16, seed=0)
    gan.fit(data, epochs=2, callbacks=[grids], verbose=0)  # 4 steps per epoch
    names = [p.split("/")[-1] for p in grids.saved]
    assert names == [
        "samples_step_000002.png", "samples_step_000004.png", "samples_epoch_0001.png",
        "samples_step_000006.png", "samples_step_000008.png", "samples_epoch_0002.png",
    ]
    last = tf.io.decode_png(tf.io.read_file(grids.saved[-1])).numpy()
    assert last.shape == (2 * 16, 3 * 16, 3) and last.dtype == np.uint8
    expected = image_grid(to_uint8(gan(grids._z, training=False)), 2, 3)
    np.testing.assert_array_equal(last, expected)  # the grid is G(fixed z) in inference mode


def test_step_history_recovers_each_steps_value():
    history = StepHistory()
    history.on_epoch_begin(0)
    for batch, running_mean in enumerate([4.0, 3.0, 3.0]):  # the steps logged 4, 2, 3
        history.on_train_batch_end(batch, {"d_loss": running_mean})
    history.on_epoch_begin(1)
    history.on_train_batch_end(0, {"d_loss": 7.0})
    assert history.history["d_loss"] == pytest.approx([4.0, 2.0, 3.0, 7.0])


def test_step_history_matches_epoch_means_in_a_real_fit():
    gan = tiny_gan()
    steps = StepHistory()
    data = kgan.data.make_toy_dataset(8, num_images=32, image_size=16, seed=0)
    epochs = gan.fit(data, epochs=2, callbacks=[steps], verbose=0).history
    assert len(steps.history["g_loss"]) == 8
    for epoch in range(2):
        assert np.mean(steps.history["g_loss"][4 * epoch : 4 * epoch + 4]) == pytest.approx(epochs["g_loss"][epoch], rel=1e-4)


def test_plot_history_writes_a_png(tmp_path):
    from kgan.plots import plot_history

    path = plot_history({"d_loss": [1.0, 0.8, 0.9], "g_loss": [2, 3, 2.5], "d_real": [0.5, 0.6, 0.7]}, tmp_path / "loss.png")
    image = tf.io.decode_png(tf.io.read_file(str(path))).numpy()
    assert image.shape[0] > 100 and image.shape[1] > 100
