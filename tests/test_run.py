"""kgan.run: the training run as a library call — its files, its result, and resume that loses nothing,
after an exception in-process or a SIGKILL of the whole process."""

import dataclasses
import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

from kgan.data import DataSourceError
from kgan.run import RunConfig, train
from tests.helpers import ROOT, subprocess_env

TINY = RunConfig(
    epochs=3, steps_per_epoch=4, batch_size=8, image_size=16, width=4, latent_dim=8, toy_images=64, seed=1,
    backup_every=2, verbose=0,
)


class Interrupt(Exception):
    pass


class InterruptAt(keras.callbacks.Callback):
    """Raise at the end of generator step `step`, as a crash inside training would."""

    def __init__(self, step):
        super().__init__()
        self.step = step

    def on_train_batch_end(self, batch, logs=None):
        if self.model.generator_steps == self.step:
            raise Interrupt(f"interrupted at step {self.step}")


def state(gan):
    return gan.weights + gan.d_optimizer.variables + gan.g_optimizer.variables


def test_a_run_interrupted_in_process_and_resumed_ends_bit_identical(tmp_path):
    straight = train(dataclasses.replace(TINY, out=str(tmp_path / "straight")))
    assert straight.total_steps == 12 and straight.resumed_from == 0

    interrupted = dataclasses.replace(TINY, out=str(tmp_path / "interrupted"))
    with pytest.raises(Interrupt):
        train(interrupted, callbacks=[InterruptAt(7)])  # mid-epoch 2, one step after the backup at step 6
    resumed = train(dataclasses.replace(interrupted, resume=True))

    assert resumed.resumed_from == 6 and resumed.total_steps == 12
    # one record of the whole run: steps 1–6 read back from steps.jsonl (step 7, run before the crash, dropped)
    assert len(resumed.history["d_loss"]) == 12
    np.testing.assert_allclose(resumed.history["d_loss"], straight.history["d_loss"], rtol=1e-5)
    for x, y in zip(state(straight.gan), state(resumed.gan), strict=True):
        np.testing.assert_array_equal(x.numpy(), y.numpy(), err_msg=x.path)


def test_a_run_writes_its_folder_and_returns_what_it_did(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = train(dataclasses.replace(TINY, epochs=2, sample_every=3))
    out = tmp_path / "runs" / "dcgan-modern"  # runs/<model>-<recipe>
    assert result.out == os.path.join("runs", "dcgan-modern")
    for name in ["gan.keras", "generator.keras", "discriminator.keras", "history.json", "loss.png", "backup/backup.weights.h5",
                 "backup/backup.previous.weights.h5", "steps.jsonl"]:
        assert (out / name).is_file(), name
    assert [os.path.basename(path) for path in result.samples] == [
        "samples_step_000003.png", "samples_step_000004.png", "samples_step_000006.png", "samples_step_000008.png",
    ]
    record = json.loads((out / "history.json").read_text())
    assert record["total_steps"] == result.total_steps == int(result.gan.g_optimizer.iterations) == 8
    assert record["steps"] == {name: pytest.approx(values) for name, values in result.history.items()}
    assert record["recipe"]["batch_size"] == 8 and record["recipe"]["nets"]["width"] == 4  # the config's changes
    assert record["config"]["model"] == "dcgan" and result.images_per_second > 0
    assert result.gan.discriminator.get_layer("conv1").filters == 4


def test_a_run_rejects_a_point_recipe_and_too_little_data(tmp_path):
    with pytest.raises(ValueError, match="trains on 2D points"):
        train(dataclasses.replace(TINY, recipe="mlp", out=str(tmp_path / "a")))
    with pytest.raises(DataSourceError, match="fewer than one batch of 8"):
        train(dataclasses.replace(TINY, toy_images=5, out=str(tmp_path / "b")))
    with pytest.raises(DataSourceError, match="nothing.zip: no such file"):
        train(dataclasses.replace(TINY, data=str(tmp_path / "nothing.zip"), out=str(tmp_path / "c")))


# ---------------------------------------------------------------------------------------------- conditional runs
def test_a_conditional_run_on_toy_faces_resumes_bit_identical_and_scores_its_labels(tmp_path):
    config = dataclasses.replace(TINY, conditioning="projection", image_size=32, epochs=2)
    straight = train(dataclasses.replace(config, out=str(tmp_path / "straight")))
    interrupted = dataclasses.replace(config, out=str(tmp_path / "interrupted"))
    with pytest.raises(Interrupt):
        train(interrupted, callbacks=[InterruptAt(5)])
    resumed = train(dataclasses.replace(interrupted, resume=True))
    assert resumed.resumed_from == 4
    # the labels of every step after the resume are those of the uninterrupted run, or the weights would differ
    for x, y in zip(state(straight.gan), state(resumed.gan), strict=True):
        np.testing.assert_array_equal(x.numpy(), y.numpy(), err_msg=x.path)
    assert straight.gan.num_classes == 4 and straight.gan.class_probabilities is not None
    scores = straight.conditional  # hair colour, the default labels: 4 classes, one grid row each
    assert scores["accuracy"]["num_classes"] == 4 and scores["accuracy"]["n"] == 2000
    assert 0 <= scores["accuracy"]["accuracy"] <= 1 and "conditional accuracy (hair_color" in scores["summary"]
    record = json.loads((tmp_path / "straight" / "history.json").read_text())
    assert record["conditional"]["accuracy"] == scores["accuracy"] and record["config"]["labels"] == "hair_color"
    grid = keras.utils.load_img(straight.samples[-1])
    assert grid.size == (10 * 32, 4 * 32)  # (width, height): 10 codes × 4 classes


def test_a_conditional_run_reads_labels_from_class_folders(tmp_path):
    from tests.helpers import write_png

    rng = np.random.default_rng(0)
    for name in ("cats", "dogs", "owls"):
        for i in range(8):
            write_png(tmp_path / "data" / name / f"{i}.png", rng.integers(0, 256, (16, 16, 3)))
    result = train(dataclasses.replace(TINY, conditioning="acgan", data=str(tmp_path / "data"), image_size=16, epochs=1,
                                       out=str(tmp_path / "run")))
    assert result.gan.num_classes == 3 and result.gan.conditioning == "acgan"
    assert result.gan.generator.get_layer("class_embedding").input_dim == 3
    assert {"d_class", "g_class"} <= set(result.history)
    with pytest.raises(ValueError, match="only a projection or acgan GAN trains on labels"):
        train(dataclasses.replace(TINY, labels="hair_color", out=str(tmp_path / "x")))
    with pytest.raises(DataSourceError, match="in no class folder"):
        flat = tmp_path / "flat"
        write_png(flat / "a.png", rng.integers(0, 256, (16, 16, 3)))
        write_png(flat / "b" / "c.png", rng.integers(0, 256, (16, 16, 3)))
        train(dataclasses.replace(TINY, conditioning="projection", data=str(flat), out=str(tmp_path / "y")))


# ---------------------------------------------------------------------------------------------- a killed process

ARGS = [
    "train", "dcgan", "--epochs", "3", "--steps-per-epoch", "4", "--batch-size", "8", "--image-size", "16",
    "--width", "4", "--latent-dim", "8", "--toy-images", "64", "--seed", "1", "--backup-every", "2",
]

# Runs the CLI and kills its own process with SIGKILL at the end of step 7 (mid-epoch 2, one step
# after the backup at step 6), as a crash or a pre-empted machine would.
KILLED_AT_STEP_7 = r"""
import os, signal, sys
import kgan.callbacks, kgan.cli
original = kgan.callbacks.StepHistory.on_train_batch_end
def on_train_batch_end(self, batch, logs=None):
    original(self, batch, logs)
    if int(self.model.g_optimizer.iterations) == 7:
        os.kill(os.getpid(), signal.SIGKILL)
kgan.callbacks.StepHistory.on_train_batch_end = on_train_batch_end
sys.exit(kgan.cli.main(sys.argv[1:]))
"""


def run(*argv, script=None):
    command = [sys.executable, "-c", script, *argv] if script else [sys.executable, "-m", "kgan.cli", *argv]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600, env=subprocess_env())


def test_sigkilled_run_resumes_to_the_same_step_and_weights(tmp_path):
    straight, interrupted = tmp_path / "straight", tmp_path / "interrupted"
    assert run(*ARGS, "--out", str(straight)).returncode == 0

    killed = run(*ARGS, "--out", str(interrupted), script=KILLED_AT_STEP_7)
    assert killed.returncode == -9  # SIGKILL
    assert json.loads((interrupted / "backup" / "backup.json").read_text())["step"] == 6
    resumed = run(*ARGS, "--out", str(interrupted), "--resume")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "resuming at step 6" in resumed.stdout

    record = json.loads((interrupted / "history.json").read_text())
    assert record["total_steps"] == json.loads((straight / "history.json").read_text())["total_steps"] == 12
    assert record["resumed_from"] == 6
    # history.json covers the whole run, the steps before the kill included
    np.testing.assert_allclose(
        record["steps"]["d_loss"], json.loads((straight / "history.json").read_text())["steps"]["d_loss"], rtol=1e-5
    )

    a = keras.models.load_model(straight / "gan.keras")
    b = keras.models.load_model(interrupted / "gan.keras")
    assert int(a.g_optimizer.iterations) == int(b.g_optimizer.iterations) == 12
    # On CPU with a fixed seed the resumed run is the uninterrupted run, bit for bit.
    for x, y in zip(a.weights + a.d_optimizer.variables + a.g_optimizer.variables,
                    b.weights + b.d_optimizer.variables + b.g_optimizer.variables):
        np.testing.assert_array_equal(x.numpy(), y.numpy(), err_msg=x.path)
