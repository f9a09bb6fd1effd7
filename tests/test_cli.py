"""kgan.cli: help generated from the recipe registry, and every command run as a user would."""

import dataclasses
import hashlib
import json
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from kgan import cli, recipes
from tests.helpers import ROOT, subprocess_env
from tests.messy_files import BAD, FIXTURES, GOOD, OTHER_FILES


def help_text(capsys, *argv):
    with pytest.raises(SystemExit):
        cli.main([*argv, "--help"])
    return " ".join(capsys.readouterr().out.split())  # argparse wraps lines


def test_train_help_is_generated_from_the_registry(capsys):
    text = help_text(capsys, "train")
    for entry in recipes.MODELS.values():
        assert " ".join(entry.summary.split()) in text
    dcgan = help_text(capsys, "train", "dcgan")
    for option in ["--data", "--epochs", "--steps-per-epoch", "--batch-size", "--recipe", "--out", "--seed", "--resume"]:
        assert option in dcgan
    assert "'book': chapter 13.3 as written" in dcgan and "(default: modern)" in dcgan
    assert "--n-critic" not in dcgan and "--gp-weight" not in dcgan  # no dcgan recipe has a critic ratio or a gp
    assert "mlp" not in dcgan  # 2D recipes are not offered for images
    wgan = help_text(capsys, "train", "wgan-gp")
    assert "--n-critic" in wgan and "--gp-weight" in wgan and "(default: gulrajani)" in wgan
    assert "the recipe's: book 512, gulrajani 64" in wgan and "book 0.0005, gulrajani 0.0001" in wgan


def test_a_recipe_added_to_the_registry_appears_in_the_help(capsys, monkeypatch):
    entry = recipes.MODELS["dcgan"]
    mine = recipes.get_recipe("dcgan").override(batch_size=32, description="my own variant")
    monkeypatch.setitem(recipes.MODELS, "dcgan", dataclasses.replace(entry, recipes={**entry.recipes, "mine": mine}))
    text = help_text(capsys, "train", "dcgan")
    assert "'mine': my own variant" in text and "dcgan 64, modern 64, mine 32" in text


def test_train_maps_its_options_onto_a_run_config(monkeypatch):
    import kgan.run

    seen = []
    monkeypatch.setattr(kgan.run, "train", seen.append)
    assert cli.main(["train", "dcgan"]) == 0
    assert seen[-1] == kgan.run.RunConfig(model="dcgan", recipe="modern")  # the run's defaults are the CLI's
    cli.main([
        "train", "wgan-gp", "--recipe", "book", "--data", "faces.zip", "--image-size", "32", "--epochs", "7",
        "--steps-per-epoch", "9", "--batch-size", "16", "--learning-rate", "0.001", "--n-critic", "3",
        "--gp-weight", "2", "--latent-dim", "12", "--width", "8", "--seed", "4", "--strategy", "cpu:2", "--sync-bn",
        "--out", "x", "--resume", "--backup-every", "5", "--sample-every", "6", "--toy-images", "99",
    ])
    assert seen[-1] == kgan.run.RunConfig(
        model="wgan-gp", recipe="book", data="faces.zip", toy_images=99, image_size=32, epochs=7, steps_per_epoch=9,
        seed=4, strategy="cpu:2", sync_bn=True, out="x", resume=True, backup_every=5, sample_every=6, batch_size=16,
        learning_rate=0.001, n_critic=3, gp_weight=2.0, latent_dim=12, width=8,
    )


def test_train_maps_the_tricks_onto_the_recipe(monkeypatch, capsys):
    import kgan.run
    from kgan.recipes import PenaltyTerm

    seen = []
    monkeypatch.setattr(kgan.run, "train", seen.append)
    cli.main([
        "train", "dcgan", "--precision", "mixed_bfloat16", "--loss", "least_squares", "--d-learning-rate", "4e-4",
        "--g-learning-rate", "1e-4", "--augment", "ada", "--ema", "0.99", "--label-smoothing", "0.1", "--label-flip",
        "0.05", "--instance-noise", "0.2", "--penalty", "r1:0.5:every=4", "--penalty", "lecam:0.01", "--one-step",
    ])
    recipe = seen[-1].resolved_recipe()
    assert (recipe.precision, recipe.loss, recipe.augment, recipe.ema, recipe.one_step) == (
        "mixed_bfloat16", "least_squares", "ada", 0.99, True,
    )
    assert (recipe.d_optimizer.learning_rate, recipe.g_optimizer.learning_rate) == (4e-4, 1e-4)
    assert (recipe.label_smoothing, recipe.label_flip, recipe.instance_noise) == (0.1, 0.05, 0.2)
    assert recipe.penalties == {"r1": PenaltyTerm("r1", 0.5, every=4), "lecam": PenaltyTerm("lecam", 0.01)}
    assert "--one-step" not in cli.build_parser().parse_args(["train", "wgan-gp"]).__dict__  # a dcgan-only option

    assert cli.main(["train", "dcgan", "--penalty", "r1"]) == 2
    assert "--penalty 'r1': write NAME:WEIGHT" in capsys.readouterr().err
    assert cli.main(["train", "dcgan", "--penalty", "r9:1"]) == 2
    assert "Unknown penalty 'r9'" in capsys.readouterr().err


BAD_VALUES = [  # (argv, the option, what argparse must say about it)
    (["train", "dcgan", "--batch-size", "0"], "--batch-size", "must be at least 1, got 0"),
    (["train", "dcgan", "--batch-size", "-8"], "--batch-size", "must be at least 1, got -8"),
    (["train", "wgan-gp", "--n-critic", "0"], "--n-critic", "must be at least 1, got 0"),
    (["train", "dcgan", "--latent-dim", "0"], "--latent-dim", "must be at least 1, got 0"),
    (["train", "dcgan", "--width", "-4"], "--width", "must be at least 1, got -4"),
    (["train", "dcgan", "--epochs", "0"], "--epochs", "must be at least 1, got 0"),
    (["train", "dcgan", "--steps-per-epoch", "0"], "--steps-per-epoch", "must be at least 1, got 0"),
    (["train", "dcgan", "--image-size", "0"], "--image-size", "must be at least 1, got 0"),
    (["train", "dcgan", "--toy-images", "0"], "--toy-images", "must be at least 1, got 0"),
    (["train", "dcgan", "--backup-every", "0"], "--backup-every", "must be at least 1, got 0"),
    (["train", "dcgan", "--sample-every", "0"], "--sample-every", "must be at least 1, got 0"),
    (["train", "dcgan", "--evaluate-every", "-1"], "--evaluate-every", "must be at least 1, got -1"),
    (["train", "dcgan", "--epochs", "2.5"], "--epochs", "must be a whole number, got '2.5'"),
    (["train", "dcgan", "--learning-rate", "0"], "--learning-rate", "must be above 0, got 0"),
    (["train", "dcgan", "--d-learning-rate=-1e-4"], "--d-learning-rate", "must be above 0, got -0.0001"),
    (["train", "dcgan", "--g-learning-rate", "nan"], "--g-learning-rate", "must be a finite number, got 'nan'"),
    (["train", "dcgan", "--ema", "1"], "--ema", "must be in [0, 1), got 1"),
    (["train", "dcgan", "--ema", "-0.5"], "--ema", "must be in [0, 1), got -0.5"),
    (["train", "dcgan", "--label-smoothing", "1.5"], "--label-smoothing", "must be in [0, 1), got 1.5"),
    (["train", "dcgan", "--label-flip", "0.5"], "--label-flip", "must be in [0, 0.5), got 0.5"),
    (["train", "dcgan", "--instance-noise", "-0.1"], "--instance-noise", "must be at least 0, got -0.1"),
    (["train", "wgan-gp", "--gp-weight", "-10"], "--gp-weight", "must be at least 0, got -10"),
    (["train", "wgan-gp", "--gp-weight", "ten"], "--gp-weight", "must be a number, got 'ten'"),
    (["sample", "model.keras", "--n", "0"], "--n", "must be at least 1, got 0"),
    (["evaluate", "run", "--data", "real", "--n", "0"], "--n", "must be at least 1, got 0"),
    (["metrics", "train-features", "--data", "real", "--out", "e.keras", "--steps", "0"], "--steps", "must be at least 1, got 0"),
    (["metrics", "train-features", "--data", "real", "--out", "e.keras", "--image-size", "-16"], "--image-size",
     "must be at least 1, got -16"),
    (["data", "check", "faces.zip", "--image-size", "0"], "--image-size", "must be at least 1, got 0"),
    (["data", "split", "faces.zip", "--out", "x", "--holdout", "0"], "--holdout", "must be above 0, got 0"),
    (["data", "split", "faces.zip", "--out", "x", "--holdout", "2.5"], "--holdout",
     "must be a fraction below 1 or a whole count of images, got 2.5"),
]


@pytest.mark.parametrize("argv, option, problem", BAD_VALUES, ids=[" ".join(argv[-2:]) for argv, _, _ in BAD_VALUES])
def test_bad_option_values_stop_in_argparse_naming_the_option(argv, option, problem, capsys, monkeypatch):
    import kgan.run

    monkeypatch.setattr(kgan.run, "train", lambda config: pytest.fail("training started"))
    with pytest.raises(SystemExit) as stopped:
        cli.main(argv)
    assert stopped.value.code == 2
    err = " ".join(capsys.readouterr().err.split())
    assert f"error: argument {option}: {problem}" in err, err


def test_good_edge_values_pass_the_option_types(monkeypatch):
    import kgan.run

    seen = []
    monkeypatch.setattr(kgan.run, "train", seen.append)
    cli.main([
        "train", "wgan-gp", "--batch-size", "1", "--n-critic", "1", "--gp-weight", "0", "--ema", "0", "--learning-rate",
        "1e-9", "--instance-noise", "0", "--backup-every", "1",
    ])
    config = seen[-1]
    assert (config.batch_size, config.n_critic, config.gp_weight, config.ema, config.instance_noise) == (1, 1, 0.0, 0.0, 0.0)
    assert (config.learning_rate, config.backup_every) == (1e-9, 1)
    assert cli.fraction_below(0.5)("0.49") == 0.49 and cli.positive_int("7") == 7 and cli.positive_float("2") == 2.0


def test_a_zero_critic_ratio_is_refused_by_the_recipe_too(capsys):
    # the library's own check, for callers that skip the CLI (kgan.run.RunConfig, build_gan): never the recipe's 5
    with pytest.raises(ValueError, match="n_critic must be a whole number of at least 1, got 0"):
        recipes.get_recipe("wgan-gp").override(n_critic=0)
    with pytest.raises(SystemExit):
        cli.main(["train", "wgan-gp", "--n-critic", "0"])
    assert "kgan train wgan-gp: error: argument --n-critic: must be at least 1, got 0" in capsys.readouterr().err


def test_sample_with_no_images_stops_before_loading_the_model(tmp_path, capsys):
    # `--n 0` used to load the model, then fail with an IndexError tiling an empty grid
    with pytest.raises(SystemExit) as stopped:
        cli.main(["sample", str(tmp_path / "missing"), "--n", "0", "--out", str(tmp_path / "grid.png")])
    assert stopped.value.code == 2 and "argument --n: must be at least 1, got 0" in capsys.readouterr().err
    assert not (tmp_path / "grid.png").exists()


def test_console_script_help_runs():
    result = subprocess.run(
        [sys.executable, "-m", "kgan.cli", "--help"], capture_output=True, text=True, cwd=ROOT, env=subprocess_env(),
        check=False,
    )
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
                 "samples/samples_step_000003.png", "samples/samples_step_000006.png", "steps.jsonl"]:
        assert (out / name).is_file(), name
    record = json.loads((out / "history.json").read_text())
    assert len(record["steps"]["d_loss"]) == 6 and np.all(np.isfinite(record["steps"]["g_loss"]))
    if model == "wgan-gp":  # the options reached the recipe the run trained with
        assert record["recipe"]["n_critic"] == 2 and record["recipe"]["penalties"]["gp"]["weight"] == 5.0
    grid = tf.io.decode_png(tf.io.read_file(str(out / "samples/samples_step_000006.png"))).numpy()
    assert grid.shape == (160, 160, 3)  # the book's 10×10 tiling of 16×16 samples


def test_train_with_a_missing_data_path_fails_cleanly(tmp_path, capsys):
    assert cli.main(["train", "dcgan", "--data", str(tmp_path / "missing.zip"), "--out", str(tmp_path / "run")]) == 1
    err = capsys.readouterr().err  # a sentence, no traceback
    assert "kgan train dcgan: error: " in err and "missing.zip: no such file" in err and "Traceback" not in err


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
    read = lambda name: tf.io.decode_png(tf.io.read_file(str(tmp_path / name))).numpy().astype(int)
    a, b, c = read("a.png"), read("b.png"), read("c.png")
    assert a.shape == (2 * 16, 3 * 16, 3)  # 6 samples in a 2×3 grid
    assert np.abs(a - b).max() <= 1  # the SavedModel and the Keras model draw the same samples for a seed
    assert not np.array_equal(a, c)  # another seed, other samples (an untrained G varies little)
    # the run's sample grids draw the same z: the last epoch's grid is `kgan sample RUN --n 100 --seed <its seed>`
    assert cli.main(["sample", str(run), "--n", "100", "--seed", "0", "--out", str(tmp_path / "grid.png")]) == 0
    np.testing.assert_array_equal(read("grid.png"), read("run/samples/samples_step_000002.png"))


def test_data_check_command_prints_counts(messy_zip, capsys):
    assert cli.main(["data", "check", str(messy_zip)]) == 0
    out = capsys.readouterr().out
    ignored = len(OTHER_FILES) + 1  # and the __MACOSX entry
    assert f"{len(GOOD)} readable of {len(FIXTURES)} image files; {len(BAD)} skipped; {ignored} other files ignored" in out
    assert "skipped 1 × empty file" in out and "size 20×20: 6" in out


def test_data_split_command_writes_disjoint_seeded_parts(image_folder, tmp_path, capsys):
    import zipfile

    folder, _ = image_folder
    assert cli.main(["data", "split", str(folder), "--holdout", "2", "--out", str(tmp_path / "a"), "--seed", "1"]) == 0
    assert "holdout: 2 images" in capsys.readouterr().out
    names = {part: set(zipfile.ZipFile(tmp_path / "a" / f"faces-{part}.zip").namelist()) for part in ("train", "holdout")}
    assert len(names["holdout"]) == 2 and not names["train"] & names["holdout"]
    assert names["train"] | names["holdout"] == {"a.png", "b.png", "c.png", "d.png", "sub/e.png", "sub/f.png"}
    cli.main(["data", "split", str(folder), "--holdout", "0.34", "--out", str(tmp_path / "b"), "--seed", "1"])
    assert set(zipfile.ZipFile(tmp_path / "b" / "faces-holdout.zip").namelist()) == names["holdout"]  # same seed, same split
    capsys.readouterr()
    assert cli.main(["data", "split", str(folder), "--holdout", "6", "--out", str(tmp_path / "c")]) == 1
    assert "kgan data: error: " in (err := capsys.readouterr().err) and "cannot hold out 6 of 6" in err


def test_evaluate_command_scores_samples_with_trained_features_and_writes_the_card(tmp_path, capsys):
    from tests.helpers import write_png

    real, _ = kgan_toy(64, seed=1)
    for index, image in enumerate(real):
        write_png(tmp_path / "real" / f"{index:02d}.png", image)
    np.savez(tmp_path / "samples.npz", images=kgan_toy(64, seed=2)[0])
    encoder = tmp_path / "encoder.keras"
    assert cli.main([
        "metrics", "train-features", "--data", str(tmp_path / "real"), "--out", str(encoder), "--image-size", "16",
        "--steps", "3",
    ]) == 0
    out = tmp_path / "scores.json"
    assert cli.main([
        "evaluate", str(tmp_path / "samples.npz"), "--data", str(tmp_path / "real"), "--n", "50", "--features",
        str(encoder), "--out", str(out),
    ]) == 0
    printed = capsys.readouterr().out
    record = json.loads(out.read_text())
    assert set(record["scores"]) >= {"swd", "kid", "fd", "precision", "recall", "density", "coverage"}
    card = record["protocol"]
    assert (card["n_real"], card["n_generated"]) == (50, 50)
    assert card["extractor"]["sha256"] == hashlib.sha256(encoder.read_bytes()).hexdigest()
    assert f"fd {record['scores']['fd']:.4g}" in " ".join(printed.split()) and "WARNING" in printed


def kgan_toy(n, seed):
    from kgan.datasets import toy_faces

    return toy_faces(n, image_size=16, seed=seed)


def test_conditional_options_reach_the_run_config_and_bad_ones_stop(monkeypatch, capsys):
    import kgan.run

    seen = []
    monkeypatch.setattr(kgan.run, "train", seen.append)
    assert cli.main(["train", "dcgan", "--conditional"]) == 0
    assert seen[-1].conditioning == "projection" and seen[-1].labels is None  # hair colour, once resolved
    assert seen[-1].resolved().labels == "hair_color"
    cli.main(["train", "wgan-gp", "--conditional", "infogan", "--info-codes", "6", "--continuous-codes", "2",
              "--class-loss-weight", "0.5"])
    assert (seen[-1].conditioning, seen[-1].info_codes, seen[-1].continuous_codes, seen[-1].class_loss_weight) == (
        "infogan", 6, 2, 0.5)
    assert cli.main(["train", "dcgan", "--conditional", "acgan", "--labels", "hair_color+eye_color"]) == 0
    assert seen[-1].labels == "hair_color+eye_color"
    assert cli.main(["train", "dcgan", "--data", "faces/", "--conditional", "--labels", "hair_color"]) == 2
    assert "labelled by its class subfolders" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["train", "dcgan", "--conditional", "biggan"])
    assert "invalid choice: 'biggan'" in capsys.readouterr().err


def test_data_check_counts_the_images_of_each_class_folder(tmp_path, capsys):
    from tests.helpers import write_png

    for name, count in (("black", 3), ("pink", 1)):
        for i in range(count):
            write_png(tmp_path / "faces" / name / f"{i}.png", np.full((8, 8, 3), 40 * i, np.uint8))
    assert cli.main(["data", "check", str(tmp_path / "faces"), "--labels"]) == 0
    out = capsys.readouterr().out
    assert "2 classes (class subfolders):" in out
    assert "class 0 black: 3 images (75.0%)" in out and "class 1 pink: 1 image (25.0%)" in out


def test_a_conditional_run_exports_and_samples_one_class(tmp_path, capsys):
    run = tmp_path / "run"
    assert cli.main([
        "train", "dcgan", "--conditional", "--epochs", "1", "--steps-per-epoch", "2", "--batch-size", "8",
        "--image-size", "16", "--width", "4", "--latent-dim", "8", "--toy-images", "32", "--out", str(run),
    ]) == 0
    assert cli.main(["export", str(run), "--out", str(tmp_path / "saved")]) == 0
    for source, name in ((tmp_path / "saved", "a.png"), (run, "b.png")):
        assert cli.main(["sample", str(source), "--n", "4", "--seed", "3", "--label", "2", "--out", str(tmp_path / name)]) == 0
    read = lambda name: tf.io.decode_png(tf.io.read_file(str(tmp_path / name))).numpy().astype(int)
    assert np.abs(read("a.png") - read("b.png")).max() <= 1  # SavedModel and Keras draw the same class-2 samples
    exported = tf.saved_model.load(str(tmp_path / "saved"))
    assert int(exported.num_classes()) == 4
    assert [name.decode() for name in exported.class_names().numpy()] == ["black", "brown", "blonde", "pink"]
    assert cli.main(["sample", str(run), "--label", "4", "--out", str(tmp_path / "c.png")]) == 2
    assert "label must be -1 (random classes) or a class in 0..3, got 4" in capsys.readouterr().err
