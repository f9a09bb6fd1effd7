"""Callbacks for GAN training with `fit`.

- `SampleGrid` saves a PNG grid of samples from a fixed z, so successive grids show one set of
  latent codes evolving (the book's 10×10 `save_result`); for a conditional generator, one row per
  class with the same codes in every row.
- `StepHistory` keeps every step's logged values (Keras' `History` keeps one per epoch), optionally
  in a JSON-lines file that a resumed run continues, so one record covers the whole run.
- `StepBackup` backs the whole training state up every N steps so a killed run resumes at the step
  it reached (Keras' `BackupAndRestore` restarts the interrupted epoch): crash-safe (write, fsync,
  atomic rename), two generations, the run's options stored beside the weights.

The trainers build both optimizers in `compile`, so their state is saved and restored with the weights.
"""

import contextlib
import glob
import json
import logging
import os

import keras
import numpy as np
import tensorflow as tf

from kgan.images import image_grid, save_png, to_uint8
from kgan.latent import generate, generator_classes, sample_latent, sampling_generator

__all__ = ["BackupError", "SampleGrid", "StepBackup", "StepHistory", "truncate_jsonl"]

log = logging.getLogger("kgan.callbacks")

class SampleGrid(keras.callbacks.Callback):
    """Save `rows × cols` generated images as one PNG every `every_n_epochs` epochs or `every_n_steps` steps.

    The latent codes are drawn once, `kgan.latent.sample_latent(rows · cols, latent_dim, seed)`, so
    every grid shows the same z, and `kgan sample RUN --n 100 --seed SEED` draws it again. Files are named
    by the trainer's generator step, `{prefix}_step_000200.png` in `directory`, so a resumed run goes on
    numbering where the interrupted one stopped and never overwrites an earlier grid.

    With `tensorboard_dir`, each grid is also written there as a TensorBoard image summary tagged
    `prefix` ("samples") at the trainer's generator step, so TensorBoard's Images tab slides through
    the grids over training (`tensorboard --logdir tensorboard_dir`).

    A conditional trainer (its generator takes `[z, labels]`, `kgan.latent.generator_classes`) gets a
    class-by-code grid instead: row r is class r, column c the code z_c of
    `sample_latent(cols, latent_dim, seed)` (the first `cols` codes of the unconditional draw), so a
    column shows one noise vector across the classes and a row one class across the codes. With
    K ≤ 20 classes the grid has K rows, whatever `rows` says; with more, the first `rows` classes
    (0 … rows−1), since a grid of hundreds of rows is no longer a picture. `layout` is the
    (rows, cols) of the grids written, once training has begun.
    """

    MAX_CLASS_ROWS = 20  # at most this many classes shown all together, one row each

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
        self.layout = None  # (rows, cols) of the grids, known once the generator is
        self._writer = None
        self._z = None
        self._labels = None

    def on_train_begin(self, logs=None):
        if self._z is not None:
            return
        num_classes = generator_classes(self.model.generator)
        if num_classes is None:
            self.layout = (self.rows, self.cols)
            self._z = sample_latent(self.rows * self.cols, self.model.latent_dim, self.seed)
            return
        rows = num_classes if num_classes <= self.MAX_CLASS_ROWS else min(self.rows, num_classes)
        self.layout = (rows, self.cols)
        codes = sample_latent(self.cols, self.model.latent_dim, self.seed)
        self._z = tf.tile(codes, [rows, 1])  # tile r·cols + c is code c …
        self._labels = tf.repeat(tf.range(rows, dtype=tf.int32), self.cols)  # … of class r

    def on_train_batch_end(self, batch, logs=None):
        if self.every_n_steps and self.model.generator_steps % self.every_n_steps == 0:
            self.save()

    def on_epoch_end(self, epoch, logs=None):
        if self.every_n_epochs and (epoch + 1) % self.every_n_epochs == 0:
            self.save()

    def save(self):
        """Generate from the fixed z (inference mode; the generator average when there is one) and write the grid.

        Once per step: the epoch's grid at a step that already has one is the same grid.
        """
        step = self.model.generator_steps
        path = os.path.join(self.directory, f"{self.prefix}_step_{step:06d}.png")
        if self.saved and self.saved[-1] == path:
            return path
        generator = sampling_generator(self.model)
        if self._labels is None:
            images = to_uint8(generator(self._z, training=False))
        else:
            images = to_uint8(generate(generator, self._z, self._labels))
        grid = image_grid(images, *self.layout)
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

    With `path`, every step is also appended to that JSON-lines file (`{"step": 12, "d_loss": …}`) as it
    ends. `resume(step)` reads the file back up to `step` — the step a resumed run restarts from —
    dropping the steps after it (they will be run again), so the file and `history` cover the whole
    run however often it was interrupted. A line cut short by a kill is dropped, and said so.
    """

    def __init__(self, path=None):
        super().__init__()
        self.path = None if path is None else str(path)
        self.history = {}
        self._previous_means = {}
        self._file = None

    def resume(self, step):
        """Load the recorded steps 1…`step` into `history` and cut the file there; returns how many were found."""
        self.history = {}
        if self.path is None or not os.path.exists(self.path):
            return 0
        records = read_jsonl(self.path, until_step=step)
        for record in records:
            for name, value in record.items():
                if name != "step":
                    self.history.setdefault(name, []).append(value)
        _write_jsonl(self.path, records)
        if len(records) != step:
            log.warning("%s: the recorded history covers %d of the %d steps before the resume.", self.path, len(records), step)
        return len(records)

    def on_epoch_begin(self, epoch, logs=None):
        self._previous_means = {}

    def on_train_batch_end(self, batch, logs=None):
        steps = batch + 1
        record = {}
        for name, mean in (logs or {}).items():
            mean = float(np.asarray(mean).mean())
            value = steps * mean - (steps - 1) * self._previous_means.get(name, 0.0)
            self._previous_means[name] = mean
            self.history.setdefault(name, []).append(value)
            record[name] = value
        if self.path is not None:
            if self._file is None:
                os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
                self._file = open(self.path, "a")  # noqa: SIM115  (open across steps; closed at the end of training)
            self._file.write(json.dumps({"step": int(self.model.generator_steps), **record}) + "\n")
            self._file.flush()  # in the OS's hands: a killed process loses nothing written

    def sync(self):
        """Make the recorded steps durable (a backup calls this before it writes)."""
        if self._file is not None:
            self._file.flush()
            os.fsync(self._file.fileno())

    def on_train_end(self, logs=None):
        if self._file is not None:
            self._file.close()
            self._file = None


def read_jsonl(path, until_step=None):
    """The records of a JSON-lines file, up to `until_step` (by their "step"); a line cut short is dropped and logged."""
    records, broken = [], 0
    with open(path) as file:
        for line in file:
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                broken += 1
                continue
            if until_step is None or record.get("step", 0) <= until_step:
                records.append(record)
    if broken:
        log.warning("%s: %d unreadable line(s) dropped (a write cut short by a kill).", path, broken)
    return records


def _write_jsonl(path, records):
    with _atomic_file(path) as file:
        file.writelines(json.dumps(record) + "\n" for record in records)


def truncate_jsonl(path, step):
    """Drop the records of a JSON-lines log (monitor.jsonl, metrics.jsonl) after `step`: a resumed run writes them again."""
    if os.path.exists(path):
        _write_jsonl(path, [record for record in read_jsonl(path) if record.get("step", 0) <= step])


@contextlib.contextmanager
def _atomic_file(path):
    """Write `path` whole or not at all: a temporary file, flushed and fsynced, then renamed over it."""
    temporary = path + ".tmp"
    try:
        with open(temporary, "w") as file:
            yield file
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.remove(temporary)
    _fsync_directory(os.path.dirname(os.path.abspath(path)))


def _fsync(path):
    with open(path, "rb") as file:
        os.fsync(file.fileno())


def _fsync_directory(directory):
    """Make renames in `directory` durable (a no-op where directories cannot be opened)."""
    with contextlib.suppress(OSError):
        descriptor = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


class BackupError(RuntimeError):
    """A backup could not be written or read, or does not belong to this run; the message says what to do."""


class StepBackup(keras.callbacks.Callback):
    """Back the whole training state up every `every_n_steps` steps, so a killed run resumes exactly.

    Keras' `BackupAndRestore` resumes at the start of the interrupted epoch; this backup records the
    step itself. The weights file holds both networks, both optimizers' state and the trainer's
    latent stream. Each backup is crash-safe:

    - written to a temporary file, flushed and fsynced, then renamed into place, so a kill or a power
      cut mid-write leaves the last backup intact;
    - two generations are kept (`backup.weights.h5`, `backup.previous.weights.h5`): `restore` falls back
      to the previous one, with a warning, when the latest cannot be read (truncated, corrupt);
    - `backup.json` stores the step and the run's options (`config`), which `check_config` compares
      with a resumed run's;
    - a write that fails (a full disk) raises `BackupError` saying so; the temporary file is removed
      and the previous backups are untouched.

    Under a multi-worker strategy each worker keeps its own copy in its own run folder (`kgan.run`:
    the chief in `<out>`, worker i in `<out>/worker-i`), as workers may not share a file system;
    `kgan.distribute.agree_on_step` checks that they all restored the same step.

    `StepBackup.restore(gan, directory)` loads the latest readable backup and returns the number of
    generator steps already taken (0 when there is no backup); the caller then feeds the data from
    that step on (see `kgan.run`).
    """

    WEIGHTS = "backup.weights.h5"
    PREVIOUS = "backup.previous.weights.h5"
    STATE = "backup.json"
    _TEMPORARY = ".tmp.weights.h5"

    def __init__(self, directory, every_n_steps=100, config=None, history=None):
        super().__init__()
        if isinstance(every_n_steps, bool) or not isinstance(every_n_steps, (int, np.integer)) or every_n_steps < 1:
            raise ValueError(f"StepBackup: every_n_steps must be a whole number of steps, at least 1, got {every_n_steps!r}.")
        self.directory = str(directory)
        self.every_n_steps = int(every_n_steps)
        self.config = config
        self.history = history
        self._saved_step = None

    def on_train_batch_end(self, batch, logs=None):
        if self.model.generator_steps % self.every_n_steps == 0 and _finite(logs):
            self.save()

    def on_epoch_end(self, epoch, logs=None):
        if _finite(logs):  # a NaN step must not overwrite the last good backup
            self.save()

    def save(self):
        """Write the backup of the current step (once per step); raises `BackupError` if it cannot be written."""
        step = int(self.model.generator_steps)
        if step == self._saved_step:
            return
        os.makedirs(self.directory, exist_ok=True)
        latest, previous = (os.path.join(self.directory, name) for name in (self.WEIGHTS, self.PREVIOUS))
        temporary = latest + self._TEMPORARY
        state = {"step": step, "config": self.config}
        try:
            if self.history is not None:
                self.history.sync()
            self.model.save_weights(temporary)
            _fsync(temporary)
            if os.path.exists(latest):
                os.replace(latest, previous)
            os.replace(temporary, latest)
            _fsync_directory(self.directory)
            with _atomic_file(os.path.join(self.directory, self.STATE)) as file:
                json.dump(state, file)
        except Exception as error:  # a full disk, a read-only folder, a quota: h5py and os raise many kinds
            with contextlib.suppress(FileNotFoundError):
                os.remove(temporary)
            kept = self.last_step(self.directory)
            raise BackupError(
                f"{self.directory}: could not write the backup of step {step}: {error}. "
                + (f"The last backup (step {kept}) is intact." if kept is not None else "There is no earlier backup.")
                + " Free some space (or choose another --out) and resume."
            ) from error
        self._saved_step = step

    @classmethod
    def last_step(cls, directory):
        """The step of the newest backup in `directory` as `backup.json` records it, or None."""
        try:
            with open(os.path.join(str(directory), cls.STATE)) as file:
                return json.load(file).get("step")
        except (OSError, ValueError):
            return None

    @classmethod
    def check_config(cls, directory, config, ignore=()):
        """Refuse to resume from a backup made with other options: `BackupError` naming each difference.

        `config` is the resuming run's options (a dict); options in `ignore` may differ (the length of
        the run, where files go, how often to back up). A backup without stored options passes.
        """
        path = os.path.join(str(directory), cls.STATE)
        try:
            with open(path) as file:
                stored = json.load(file).get("config")
        except FileNotFoundError:
            return
        except (OSError, ValueError) as error:
            log.warning("%s: unreadable (%s); the backup's options cannot be checked.", path, error)
            return
        if not stored:
            return
        differences = [
            f"{_option(name)} {stored[name]!r} in the backup, {config.get(name)!r} now"
            for name in sorted(stored) if name not in ignore and stored[name] != config.get(name)
        ]
        if differences:
            raise BackupError(
                f"cannot resume from {directory}: the backup was made with other options: " + "; ".join(differences)
                + ". Resume with the backup's options, or start a new run in another folder."
            )

    @classmethod
    def restore(cls, gan, directory):
        """Load the latest readable backup in `directory` into the compiled `gan`; the generator steps it had taken.

        A latest backup that cannot be read (truncated, corrupt) is reported in a warning and the
        previous generation is loaded instead. 0 when there is no backup.

        Raises:
            BackupError: backups exist but none can be read.
        """
        directory = str(directory)
        for stale in glob.glob(os.path.join(directory, "*" + cls._TEMPORARY)):  # left by a kill mid-write
            os.remove(stale)
        candidates = [os.path.join(directory, name) for name in (cls.WEIGHTS, cls.PREVIOUS)]
        candidates = [path for path in candidates if os.path.exists(path)]
        failures = []
        for path in candidates:
            try:
                gan.load_weights(path)
            except Exception as error:  # noqa: BLE001  (h5py raises OSError, KeyError, ValueError… for a damaged file)
                failures.append(f"{os.path.basename(path)}: {error}")
                log.warning("%s cannot be read (%s)%s", path, error,
                            "; falling back to the previous backup." if path != candidates[-1] else ".")
                continue
            return int(gan.generator_steps)
        if failures:
            raise BackupError(
                f"{directory}: no backup can be read ({'; '.join(failures)}). Delete the folder to start the run afresh."
            )
        return 0


def _option(name):
    """A RunConfig field as the command line spells it."""
    return "--" + name.replace("_", "-")


def _finite(logs):
    """Every logged value is finite (NaN/Inf means the weights may be broken too)."""
    return all(np.all(np.isfinite(np.asarray(value, np.float64))) for value in (logs or {}).values())
