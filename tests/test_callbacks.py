"""kgan.callbacks: sample grids from a fixed z, the per-step history, and step backups."""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import ops

from kgan.callbacks import SampleGrid, StepBackup, StepHistory
from kgan.images import image_grid, to_uint8
from kgan.latent import generate, sample_latent
from tests.helpers import LATENT_DIM, toy_batches
from tests.test_latent import StandIn, conditional_generator


def test_sample_grid_saves_pngs_from_a_fixed_z(make_gan, tmp_path):
    gan = make_gan()
    grids = SampleGrid(tmp_path, rows=2, cols=3, every_n_epochs=1, every_n_steps=2, seed=1)
    gan.fit(toy_batches(), epochs=2, callbacks=[grids], verbose=0)  # 4 steps per epoch
    names = [p.split("/")[-1] for p in grids.saved]
    assert names == [  # by the generator step: one grid at step 4, where a step grid and the epoch's coincide
        "samples_step_000002.png", "samples_step_000004.png", "samples_step_000006.png", "samples_step_000008.png",
    ]
    last = tf.io.decode_png(tf.io.read_file(grids.saved[-1])).numpy()
    assert last.shape == (2 * 16, 3 * 16, 3) and last.dtype == np.uint8
    z = sample_latent(6, LATENT_DIM, 1)  # the one latent draw of kgan: `kgan sample --seed 1` draws it too
    expected = image_grid(to_uint8(gan(z, training=False)), 2, 3)
    np.testing.assert_array_equal(last, expected)  # the grid is G(fixed z) in inference mode


def test_a_conditional_grid_has_one_row_per_class_and_one_code_per_column(tmp_path):
    generator = conditional_generator(num_classes=3, latent_dim=8, image_size=8)
    grids = SampleGrid(tmp_path, rows=10, cols=4, seed=1)
    grids.set_model(StandIn(generator, generator_steps=5))
    grids.on_train_begin()
    assert grids.layout == (3, 4)  # K = 3 ≤ 20 rows: every class, whatever `rows` says
    grid = tf.io.decode_png(tf.io.read_file(grids.save())).numpy()
    assert grid.shape == (3 * 8, 4 * 8, 3)
    codes = sample_latent(4, 8, 1)  # the first 4 codes of the unconditional grid's draw
    rows = []
    for label in range(3):
        # row r is G(z_c, r) for the columns' codes; generated in a batch of 4, not 12, hence ≤ 1 level
        row = image_grid(to_uint8(generate(generator, codes, label)), 1, 4)
        assert np.abs(grid[label * 8 : (label + 1) * 8].astype(int) - row.astype(int)).max() <= 1, label
        rows.append(row.astype(int))
    assert min(np.abs(rows[a] - rows[b]).mean() for a, b in ((0, 1), (0, 2), (1, 2))) > 5  # the classes differ


def test_a_grid_of_many_classes_shows_the_first_rows_classes(tmp_path):
    generator = conditional_generator(num_classes=25, latent_dim=8, image_size=8)
    grids = SampleGrid(tmp_path, rows=2, cols=3, seed=0)
    grids.set_model(StandIn(generator, generator_steps=1))
    grids.on_train_begin()
    assert grids.layout == (2, 3)  # 25 > 20 classes: the first `rows` of them
    grid = tf.io.decode_png(tf.io.read_file(grids.save())).numpy()
    expected = image_grid(to_uint8(generate(generator, tf.tile(sample_latent(3, 8, 0), [2, 1]), [0, 0, 0, 1, 1, 1])), 2, 3)
    np.testing.assert_array_equal(grid, expected)


def image_summaries(folder):
    """(step, tag, uint8 image) for every image summary in the event files under `folder`, in order."""
    found = []
    for path in sorted(tf.io.gfile.glob(f"{folder}/events.out.tfevents.*")):
        for event in tf.compat.v1.train.summary_iterator(path):
            for value in event.summary.value:
                if value.metadata.plugin_data.plugin_name == "images":
                    width, height, png = tf.make_ndarray(value.tensor)  # tf.summary.image stores [w, h, PNG]
                    image = tf.io.decode_png(png).numpy()
                    assert image.shape[:2] == (int(height), int(width))
                    found.append((event.step, value.tag, image))
    return found


def test_sample_grid_writes_each_grid_to_tensorboard_at_the_generator_step(make_gan, tmp_path):
    gan = make_gan()
    gan.fit(toy_batches(), epochs=1, verbose=0)  # 4 generator steps before the callback's fit
    grids = SampleGrid(tmp_path / "png", rows=2, cols=3, every_n_steps=2, seed=1, tensorboard_dir=tmp_path / "tb")
    gan.fit(toy_batches(), epochs=1, callbacks=[grids], verbose=0)
    assert [p.split("/")[-1] for p in grids.saved] == [  # named by the generator step, which goes on from 4
        "samples_step_000006.png", "samples_step_000008.png",
    ]
    summaries = image_summaries(tmp_path / "tb")
    assert [(step, tag) for step, tag, _ in summaries] == [(6, "samples"), (8, "samples")]
    for (_, _, image), path in zip(summaries, grids.saved, strict=True):
        np.testing.assert_array_equal(image, tf.io.decode_png(tf.io.read_file(path)).numpy())


def test_step_history_recovers_each_steps_value():
    history = StepHistory()
    history.on_epoch_begin(0)
    for batch, running_mean in enumerate([4.0, 3.0, 3.0]):  # the steps logged 4, 2, 3
        history.on_train_batch_end(batch, {"d_loss": running_mean})
    history.on_epoch_begin(1)
    history.on_train_batch_end(0, {"d_loss": 7.0})
    assert history.history["d_loss"] == pytest.approx([4.0, 2.0, 3.0, 7.0])


def test_step_history_gives_each_steps_own_value_in_a_real_fit(make_gan):
    """A penalty of weight 0 that logs the step number: Keras reports the running means 0, 0.5, 1, …;
    the history must hold 0, 1, 2, … — across the epoch boundary, where Keras restarts its means."""

    def step_number(discriminator, real, fake, *, seed, step):
        return ops.cast(step, "float32")

    gan = make_gan(compile_options={"penalties": {"step": (0.0, step_number)}})
    history = StepHistory()
    epochs = gan.fit(toy_batches(), epochs=2, callbacks=[history], verbose=0).history  # 4 steps per epoch
    assert epochs["step"] == pytest.approx([1.5, 5.5])  # Keras' epoch means
    assert history.history["step"] == pytest.approx([0, 1, 2, 3, 4, 5, 6, 7], abs=1e-5)
    assert len(history.history["d_loss"]) == 8


def test_step_backup_writes_every_n_steps_and_restores_the_step(make_gan, tmp_path):
    gan = make_gan()
    backup = StepBackup(tmp_path / "backup", every_n_steps=3)
    saved_at = []
    record = keras.callbacks.LambdaCallback(
        on_train_batch_end=lambda batch, logs: saved_at.append(json.loads((tmp_path / "backup" / "backup.json").read_text())["step"])
        if (tmp_path / "backup" / "backup.json").exists() else None
    )
    gan.fit(toy_batches(), epochs=1, callbacks=[backup, record], verbose=0)  # 4 steps: backups at 3 and at the epoch end
    assert saved_at == [3, 3]
    assert json.loads((tmp_path / "backup" / "backup.json").read_text())["step"] == 4
    assert not list((tmp_path / "backup").glob("*.tmp*"))
    fresh = make_gan(seed=7)
    assert StepBackup.restore(fresh, tmp_path / "backup") == 4
    for a, b in zip(gan.weights, fresh.weights, strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert StepBackup.restore(make_gan(), tmp_path / "nothing-here") == 0
