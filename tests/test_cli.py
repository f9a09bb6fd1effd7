import json
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from conftest import ROOT
from kgan import cli


def test_help_explains_every_option(capsys):
    with pytest.raises(SystemExit):
        cli.main(["train", "dcgan", "--help"])
    text = capsys.readouterr().out
    for option in ["--data", "--epochs", "--steps-per-epoch", "--batch-size", "--profile", "--out", "--seed"]:
        assert option in text
    with pytest.raises(SystemExit):
        cli.main(["train", "wgan-gp", "--help"])
    text = capsys.readouterr().out
    assert "--n-critic" in text and "--gp-weight" in text and "gulrajani" in text


def test_console_script_help_runs():
    result = subprocess.run([sys.executable, "-m", "kgan.cli", "--help"], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0 and "train" in result.stdout


@pytest.mark.parametrize("model, extra", [("dcgan", []), ("wgan-gp", ["--n-critic", "2", "--gp-weight", "5"])])
def test_train_on_the_embedded_toy_faces_writes_a_run(tmp_path, model, extra):
    out = tmp_path / "run"
    code = cli.main([
        "train", model, "--epochs", "2", "--steps-per-epoch", "3", "--batch-size", "8", "--image-size", "16",
        "--width", "4", "--latent-dim", "8", "--toy-images", "64", "--out", str(out), "--seed", "1", *extra,
    ])
    assert code == 0
    for name in ["generator.keras", "discriminator.keras", "loss.png", "history.json",
                 "samples/samples_epoch_0001.png", "samples/samples_epoch_0002.png", "checkpoints/last.weights.h5"]:
        assert (out / name).is_file(), name
    record = json.loads((out / "history.json").read_text())
    assert len(record["steps"]["d_loss"]) == 6 and np.all(np.isfinite(record["steps"]["g_loss"]))
    grid = tf.io.decode_png(tf.io.read_file(str(out / "samples/samples_epoch_0002.png"))).numpy()
    assert grid.shape == (160, 160, 3)  # the book's 10×10 tiling of 16×16 samples


def test_train_with_a_missing_data_path_fails_cleanly(tmp_path):
    from kgan.data import DataSourceError

    with pytest.raises(DataSourceError, match="missing.zip"):
        cli.main(["train", "dcgan", "--data", str(tmp_path / "missing.zip"), "--out", str(tmp_path / "run")])


def test_export_and_sample_commands_agree(tmp_path):
    run = tmp_path / "run"
    cli.main([
        "train", "dcgan", "--epochs", "1", "--steps-per-epoch", "2", "--batch-size", "8", "--image-size", "16",
        "--width", "4", "--latent-dim", "8", "--toy-images", "32", "--out", str(run),
    ])
    assert cli.main(["export", str(run), "--out", str(tmp_path / "saved")]) == 0
    assert cli.main(["sample", str(tmp_path / "saved"), "--n", "6", "--seed", "3", "--out", str(tmp_path / "a.png")]) == 0
    assert cli.main(["sample", str(run / "gan.keras"), "--n", "6", "--seed", "3", "--out", str(tmp_path / "b.png")]) == 0
    assert cli.main(["sample", str(run), "--n", "6", "--seed", "4", "--out", str(tmp_path / "c.png")]) == 0
    read = lambda name: tf.io.decode_png(tf.io.read_file(str(tmp_path / name))).numpy().astype(int)  # noqa: E731
    a, b, c = read("a.png"), read("b.png"), read("c.png")
    assert a.shape == (2 * 16, 3 * 16, 3)  # 6 samples in a 2×3 grid
    assert np.abs(a - b).max() <= 1  # the SavedModel and the Keras model draw the same samples for a seed
    assert not np.array_equal(a, c)  # another seed, other samples (an untrained G varies little)
