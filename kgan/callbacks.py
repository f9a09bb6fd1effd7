"""Callbacks for GAN training with `fit`.

- `SampleGrid` saves a PNG grid of samples from a fixed z, so successive grids show one set of
  latent codes evolving (the book's 10×10 `save_result`).
- `StepHistory` keeps every step's logged values (Keras' `History` keeps one per epoch) and plots
  them with `kgan.plots.plot_history`.

- `StepBackup` backs the whole training state up every N steps so a killed run resumes at the step
  it reached (Keras' `BackupAndRestore` restarts the interrupted epoch).

Checkpoints of the best/last weights use Keras' own `keras.callbacks.ModelCheckpoint`; the trainers
build both optimizers in `compile`, so their state is saved and restored with the weights.
"""

import json
import os

import keras
import numpy as np
import tensorflow as tf

from kgan.images import image_grid, save_png, to_uint8
from kgan.latent import sample_latent, sampling_generator

__all__ = ["SampleGrid", "StepBackup", "StepHistory"]



class SampleGrid(keras.callbacks.Callback):
    """Save `rows × cols` generated images as one PNG every `every_n_epochs` epochs or `every_n_steps` steps.

    The latent codes are drawn once, `kgan.latent.sample_latent(rows · cols, latent_dim, seed)`, so
    every grid shows the same z, and `kgan sample RUN --n 100 --seed SEED` draws it again. Files are named
    `{prefix}_epoch_0003.png` or `{prefix}_step_000200.png` in `directory`.

    With `tensorboard_dir`, each grid is also written there as a TensorBoard image summary tagged
    `prefix` ("samples") at the trainer's generator step, so TensorBoard's Images tab slides through
    the grids over training (`tensorboard --logdir tensorboard_dir`).
    """

    def __init__(
        self, directory, rows=10, cols=10, every_n_epochs=1, every_n_steps=None, seed=0, prefix="samples",
        tensorboard_dir=None,
    ):
        super().__init__()
        self.directory = str(directory)
        self.rows, self.cols = rows, cols
        self.every_n_epochs = every_n_epochs
        self.every_n_steps = every_n_steps
        self.seed = seed
        self.prefix = prefix
        self.tensorboard_dir = None if tensorboard_dir is None else str(tensorboard_dir)
        self.saved = []  # paths written, in order
        self._writer = None
        self._z = None
        self._step = 0

    def on_train_begin(self, logs=None):
        if self._z is None:
            self._z = sample_latent(self.rows * self.cols, self.model.latent_dim, self.seed)

    def on_train_batch_end(self, batch, logs=None):
        self._step += 1
        if self.every_n_steps and self._step % self.every_n_steps == 0:
            self.save(f"step_{self._step:06d}")

    def on_epoch_end(self, epoch, logs=None):
        if self.every_n_epochs and (epoch + 1) % self.every_n_epochs == 0:
            self.save(f"epoch_{epoch + 1:04d}")

    def save(self, tag):
        """Generate from the fixed z (inference mode; the generator average when there is one) and write the grid."""
        images = to_uint8(sampling_generator(self.model)(self._z, training=False))
        path = os.path.join(self.directory, f"{self.prefix}_{tag}.png")
        grid = image_grid(images, self.rows, self.cols)
        save_png(path, grid)
        self.saved.append(path)
        if self.tensorboard_dir is not None:
            if self._writer is None:
                self._writer = tf.summary.create_file_writer(self.tensorboard_dir)
            with self._writer.as_default():
                tf.summary.image(self.prefix, grid[None], step=self.model.generator_steps)
            self._writer.flush()
        return path


class StepHistory(keras.callbacks.Callback):
    """Record the value each training step logged, for loss curves finer than one point per epoch.

    Keras logs running means over the epoch (`m_k` after `k` steps), so step `k`'s own value is
    recovered exactly as `k·m_k − (k−1)·m_{k−1}`. `history[name]` is a list over all steps.
    """

    def __init__(self):
        super().__init__()
        self.history = {}
        self._previous_means = {}

    def on_epoch_begin(self, epoch, logs=None):
        self._previous_means = {}

    def on_train_batch_end(self, batch, logs=None):
        steps = batch + 1
        for name, mean in (logs or {}).items():
            mean = float(np.asarray(mean).mean())
            value = steps * mean - (steps - 1) * self._previous_means.get(name, 0.0)
            self._previous_means[name] = mean
            self.history.setdefault(name, []).append(value)


class StepBackup(keras.callbacks.Callback):
    """Back the whole training state up every `every_n_steps` steps, so a killed run resumes exactly.

    Keras' `BackupAndRestore` resumes at the start of the interrupted epoch; this backup records the
    step itself. The weights file holds both networks, both optimizers' state and the trainer's
    latent stream, and is written to a temporary name then renamed, so a kill mid-write leaves the
    previous backup intact. `StepBackup.restore(gan, directory)` loads it and returns the number of
    generator steps already taken (0 when there is no backup); the caller then feeds the data from
    that step on (see `kgan.cli`).
    """

    WEIGHTS = "backup.weights.h5"
    STATE = "backup.json"

    def __init__(self, directory, every_n_steps=100):
        super().__init__()
        self.directory = str(directory)
        self.every_n_steps = every_n_steps

    def on_train_batch_end(self, batch, logs=None):
        if self.model.generator_steps % self.every_n_steps == 0 and _finite(logs):
            self.save()

    def on_epoch_end(self, epoch, logs=None):
        if _finite(logs):  # a NaN step must not overwrite the last good backup
            self.save()

    def save(self):
        os.makedirs(self.directory, exist_ok=True)
        weights = os.path.join(self.directory, self.WEIGHTS)
        self.model.save_weights(weights + ".tmp.weights.h5")
        os.replace(weights + ".tmp.weights.h5", weights)
        state = os.path.join(self.directory, self.STATE)
        with open(state + ".tmp", "w") as file:
            json.dump({"step": self.model.generator_steps}, file)
        os.replace(state + ".tmp", state)

    @classmethod
    def restore(cls, gan, directory):
        """Load the backup in `directory` into the compiled `gan`; the generator steps it had taken."""
        weights = os.path.join(str(directory), cls.WEIGHTS)
        if not os.path.exists(weights):
            return 0
        gan.load_weights(weights)
        return gan.generator_steps


def _finite(logs):
    """Every logged value is finite (NaN/Inf means the weights may be broken too)."""
    return all(np.all(np.isfinite(np.asarray(value, np.float64))) for value in (logs or {}).values())
