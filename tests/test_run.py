"""A run killed with SIGKILL mid-epoch and resumed with --resume ends where an uninterrupted run ends."""

import json
import subprocess
import sys

import keras
import numpy as np

import kgan  # noqa: F401  (registers the trainers for load_model)
from conftest import ROOT

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
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)


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
    assert len(record["steps"]["d_loss"]) == 6  # the resumed process ran steps 7–12

    a = keras.models.load_model(straight / "gan.keras")
    b = keras.models.load_model(interrupted / "gan.keras")
    assert int(a.g_optimizer.iterations) == int(b.g_optimizer.iterations) == 12
    # On CPU with a fixed seed the resumed run is the uninterrupted run, bit for bit.
    for x, y in zip(a.weights + a.d_optimizer.variables + a.g_optimizer.variables,
                    b.weights + b.d_optimizer.variables + b.g_optimizer.variables):
        np.testing.assert_array_equal(x.numpy(), y.numpy(), err_msg=x.path)
