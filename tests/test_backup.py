"""Backups that survive what happens to them: a kill mid-write, a truncated file, a full disk, a backup
of other options, `--backup-every 0`, workers that disagree. Each case ends with nothing lost."""

import dataclasses
import errno
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from kgan.callbacks import BackupError, StepBackup, StepHistory
from kgan.run import RunConfig, train
from tests.helpers import ROOT, subprocess_env, toy_batches

TINY = RunConfig(
    epochs=3, steps_per_epoch=4, batch_size=8, image_size=16, width=4, latent_dim=8, toy_images=64, seed=1,
    backup_every=2, verbose=0, monitor=False,
)


def same_state(a, b):
    for x, y in zip(a.weights + a.d_optimizer.variables + a.g_optimizer.variables,
                    b.weights + b.d_optimizer.variables + b.g_optimizer.variables, strict=True):
        np.testing.assert_array_equal(x.numpy(), y.numpy(), err_msg=x.path)


@pytest.fixture(scope="module")
def straight(tmp_path_factory):
    """The uninterrupted run every faulty one must end identical to."""
    return train(dataclasses.replace(TINY, out=str(tmp_path_factory.mktemp("straight"))))


class Stop(Exception):
    pass


def stop_at(step):
    import keras

    def check(batch, logs):
        if model_of[0].generator_steps == step:
            raise Stop(step)

    model_of = []
    callback = keras.callbacks.LambdaCallback(on_train_begin=lambda logs: model_of.append(callback.model),
                                              on_train_batch_end=check)
    return callback


def test_backups_keep_two_generations_and_the_options(make_gan, tmp_path):
    gan = make_gan()
    gan.fit(toy_batches(), epochs=1, callbacks=[StepBackup(tmp_path, every_n_steps=3, config={"width": 4})], verbose=0)
    # 4 steps: a backup at step 3, then at the epoch's end (step 4); the previous generation is step 3's
    assert sorted(os.listdir(tmp_path)) == ["backup.json", "backup.previous.weights.h5", "backup.weights.h5"]
    assert json.loads((tmp_path / "backup.json").read_text()) == {"step": 4, "config": {"width": 4}}
    fresh = make_gan(seed=5)
    os.remove(tmp_path / "backup.weights.h5")  # as after a kill between the two renames of a backup
    assert StepBackup.restore(fresh, tmp_path) == 3


def test_every_n_steps_must_be_a_positive_count():
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="every_n_steps must be a whole number of steps, at least 1"):
            StepBackup("x", every_n_steps=bad)
    with pytest.raises(ValueError, match="RunConfig.backup_every must be a whole number, at least 1, got 0"):
        train(dataclasses.replace(TINY, backup_every=0))
    with pytest.raises(ValueError, match="RunConfig.width must be a whole number, at least 1, got 0"):
        train(dataclasses.replace(TINY, width=0))  # not "0 means the default"


def test_a_truncated_latest_backup_falls_back_to_the_previous_and_loses_nothing(straight, tmp_path, caplog):
    config = dataclasses.replace(TINY, out=str(tmp_path))
    with pytest.raises(Stop):
        train(config, callbacks=[stop_at(7)])  # backups at steps 4 (previous) and 6 (latest)
    latest = tmp_path / "backup" / "backup.weights.h5"
    latest.write_bytes(latest.read_bytes()[: latest.stat().st_size // 2])
    resumed = train(dataclasses.replace(config, resume=True))
    assert resumed.resumed_from == 4 and "backup.weights.h5 cannot be read" in caplog.text
    same_state(straight.gan, resumed.gan)
    np.testing.assert_allclose(resumed.history["d_loss"], straight.history["d_loss"], rtol=1e-5)


def test_unreadable_backups_are_a_clear_error(make_gan, tmp_path):
    (tmp_path / "backup.weights.h5").write_bytes(b"not hdf5")
    (tmp_path / "backup.previous.weights.h5").write_bytes(b"")
    with pytest.raises(BackupError, match="no backup can be read .*Delete the folder to start the run afresh"):
        StepBackup.restore(make_gan(), tmp_path)


def test_a_resume_with_other_options_is_refused_naming_each(tmp_path):
    config = dataclasses.replace(TINY, out=str(tmp_path), epochs=1)
    train(config)
    with pytest.raises(BackupError) as refused:
        train(dataclasses.replace(config, resume=True, width=8, seed=2))
    message = str(refused.value)
    assert "--seed 1 in the backup, 2 now" in message and "--width 4 in the backup, 8 now" in message
    # the run's length, its outputs and the hardware may change: a longer run resumes
    longer = train(dataclasses.replace(config, resume=True, epochs=2, sample_every=3, backup_every=5, memory_budget=0))
    assert longer.resumed_from == 4 and longer.total_steps == 8


def test_a_full_disk_is_a_clear_error_leaving_the_last_backup_intact(make_gan, tmp_path, monkeypatch):
    gan = make_gan()
    backup = StepBackup(tmp_path, every_n_steps=2)
    gan.fit(toy_batches(), epochs=1, steps_per_epoch=2, callbacks=[backup], verbose=0)
    before = {name: (tmp_path / name).read_bytes() for name in os.listdir(tmp_path)}

    original = type(gan).save_weights

    def disk_full(self, path, *args, **kwargs):  # the file is begun, then the disk fills
        with open(path, "wb") as file:
            file.write(b"\x89HDF\r\n\x1a\n partial")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), path)

    monkeypatch.setattr(type(gan), "save_weights", disk_full)
    with pytest.raises(BackupError, match=r"could not write the backup of step 4: .*No space left on device.*"
                                          r"The last backup \(step 2\) is intact"):
        gan.fit(toy_batches(), epochs=1, steps_per_epoch=2, callbacks=[backup], verbose=0)
    monkeypatch.setattr(type(gan), "save_weights", original)
    assert {name: (tmp_path / name).read_bytes() for name in os.listdir(tmp_path)} == before  # no temporary file left
    assert StepBackup.restore(make_gan(seed=3), tmp_path) == 2


def can_mount_tmpfs(path):
    path.mkdir()
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(path)], capture_output=True)
    if result.returncode == 0:
        subprocess.run(["umount", str(path)], check=True)
        return True
    return False


def test_a_real_full_disk_stops_the_run_with_a_sentence(tmp_path):
    """On a 600 KiB tmpfs the backups fill the disk after a few steps: the CLI says so, and the run resumes elsewhere."""
    disk = tmp_path / "disk"
    if not can_mount_tmpfs(disk):
        pytest.skip("cannot mount a tmpfs here (needs root)")
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=600k", "tmpfs", str(disk)], check=True)
    try:
        args = [sys.executable, "-m", "kgan.cli", "train", "dcgan", "--epochs", "3", "--steps-per-epoch", "4",
                "--batch-size", "8", "--image-size", "16", "--width", "8", "--latent-dim", "8", "--toy-images", "64",
                "--seed", "1", "--backup-every", "1", "--no-monitor", "--out", str(disk / "run")]
        full = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=300, env=subprocess_env())
        assert full.returncode == 1, full.stderr[-3000:]
        assert "could not write the backup of step" in full.stderr and "Traceback" not in full.stderr
        assert not list((disk / "run" / "backup").glob("*.tmp*"))
        step = json.loads((disk / "run" / "backup" / "backup.json").read_text())["step"]
        assert step >= 1
    finally:
        subprocess.run(["umount", str(disk)], check=True)


def test_a_kill_between_the_renames_of_a_backup_loses_nothing(straight, tmp_path):
    """SIGKILL right after the latest backup became the previous one and before the new one took its place."""
    script = r"""
import os, signal, sys
import kgan.callbacks, kgan.cli
real_replace, renames = os.replace, []
def replace(src, dst):
    real_replace(src, dst)
    if dst.endswith("backup.previous.weights.h5"):
        renames.append(dst)
        if len(renames) == 3:  # the backup of step 8: step 6's is now "previous", step 8's still temporary
            os.kill(os.getpid(), signal.SIGKILL)
kgan.callbacks.os.replace = replace
sys.exit(kgan.cli.main(sys.argv[1:]))
"""
    args = ["train", "dcgan", "--epochs", "3", "--steps-per-epoch", "4", "--batch-size", "8", "--image-size", "16",
            "--width", "4", "--latent-dim", "8", "--toy-images", "64", "--seed", "1", "--backup-every", "2",
            "--no-monitor", "--out", str(tmp_path)]
    killed = subprocess.run([sys.executable, "-c", script, *args], cwd=ROOT, capture_output=True, text=True,
                            timeout=300, env=subprocess_env())
    assert killed.returncode == -9, killed.stderr[-3000:]
    backup = tmp_path / "backup"
    assert not (backup / "backup.weights.h5").exists() and list(backup.glob("*.tmp.weights.h5"))
    resumed = train(dataclasses.replace(TINY, out=str(tmp_path), resume=True))
    assert resumed.resumed_from == 6 and not list(backup.glob("*.tmp*"))
    same_state(straight.gan, resumed.gan)


def test_three_resumes_make_one_run_one_record_and_no_overwritten_grid(straight, tmp_path):
    config = dataclasses.replace(TINY, out=str(tmp_path), sample_every=1)
    grids = {}
    for stop in (3, 6, 9):
        with pytest.raises(Stop):
            train(dataclasses.replace(config, resume=stop > 3), callbacks=[stop_at(stop)])
        for path in sorted((tmp_path / "samples").glob("*.png")):
            grids.setdefault(path.name, path.read_bytes())
    resumed = train(dataclasses.replace(config, resume=True))
    assert resumed.resumed_from == 8 and resumed.total_steps == 12
    same_state(straight.gan, resumed.gan)
    names = sorted(path.name for path in (tmp_path / "samples").glob("*.png"))
    assert names == [f"samples_step_{step:06d}.png" for step in range(1, 13)]  # by global step, none restarted at 0
    for name, first in grids.items():  # a grid written again after a resume is the same picture
        assert (tmp_path / "samples" / name).read_bytes() == first, name
    record = json.loads((tmp_path / "history.json").read_text())
    np.testing.assert_allclose(record["steps"]["d_loss"], straight.history["d_loss"], rtol=1e-5)
    assert record["epochs"]["d_loss"] == pytest.approx(straight.epochs["d_loss"], rel=1e-5)
    steps = [json.loads(line)["step"] for line in (tmp_path / "steps.jsonl").read_text().splitlines()]
    assert steps == list(range(1, 13))


def test_streamed_data_resumes_to_the_in_memory_run(straight, tmp_path):
    """Toy faces written as files, read by streaming, interrupted and resumed: the run of the images held in memory."""
    import kgan.datasets
    from tests.helpers import write_png

    images, _ = kgan.datasets.toy_faces(64, image_size=16, seed=1)
    for index, image in enumerate(images):
        write_png(tmp_path / "faces" / f"{index:03d}.png", image)
    base = dataclasses.replace(TINY, data=str(tmp_path / "faces"), image_size=16, width=4)
    held = train(dataclasses.replace(base, out=str(tmp_path / "held"), memory_budget="1G"))
    streamed = dataclasses.replace(base, out=str(tmp_path / "streamed"), memory_budget=0)
    with pytest.raises(Stop):
        train(streamed, callbacks=[stop_at(5)])
    resumed = train(dataclasses.replace(streamed, resume=True))
    assert resumed.resumed_from == 4
    same_state(held.gan, resumed.gan)


def test_step_history_reads_back_to_the_resume_step_and_drops_a_cut_line(tmp_path, caplog):
    path = tmp_path / "steps.jsonl"
    path.write_text("".join(json.dumps({"step": k, "d_loss": k / 10}) + "\n" for k in range(1, 8)) + '{"step": 8, "d_lo')
    history = StepHistory(path)
    assert history.resume(5) == 5
    assert history.history == {"d_loss": [0.1, 0.2, 0.3, 0.4, 0.5]}
    assert [json.loads(line)["step"] for line in path.read_text().splitlines()] == [1, 2, 3, 4, 5]
    assert "1 unreadable line(s) dropped" in caplog.text
    assert StepHistory(path).resume(9) == 5 and "covers 5 of the 9 steps" in caplog.text


def test_replicas_that_disagree_on_the_step_stop_with_a_message():
    script = r"""
import kgan
strategy = kgan.distribute.get_strategy("cpu:2")
import tensorflow as tf
from kgan.distribute import _same_on_every_replica, agree_on_step
assert agree_on_step(strategy, 7) == 7  # one host: nothing to compare
assert _same_on_every_replica(strategy, lambda replica: 7, "step") == 7
try:
    _same_on_every_replica(strategy, lambda replica: tf.where(replica == 0, 300, 200), "restored backup step")
except RuntimeError as error:
    print(error)
"""
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300,
                            env=subprocess_env())
    assert result.returncode == 0, result.stderr[-3000:]
    assert "disagree on the restored backup step: from 200 to 300 across the 2 replicas" in result.stdout


def test_a_resumed_run_keeps_its_scores_findings_and_one_verdict(tmp_path):
    watched = dataclasses.replace(TINY, monitor=True, evaluate_every=4)
    train(dataclasses.replace(watched, out=str(tmp_path / "straight")))
    config = dataclasses.replace(watched, out=str(tmp_path / "resumed"))
    with pytest.raises(Stop):
        train(config, callbacks=[stop_at(9)])  # after the scores of steps 4 and 8 and the backup of step 8
    resumed = train(dataclasses.replace(config, resume=True))
    assert resumed.resumed_from == 8
    records = [json.loads((tmp_path / run / "history.json").read_text()) for run in ("straight", "resumed")]
    assert [step for step, _ in records[1]["evaluations"]["swd"]] == [4, 8, 12]  # 4 and 8 read back
    np.testing.assert_allclose(records[1]["evaluations"]["swd"], records[0]["evaluations"]["swd"], rtol=1e-5)
    assert records[1]["verdict"] == records[0]["verdict"]
    verdicts = [line for line in (tmp_path / "resumed" / "monitor.jsonl").read_text().splitlines() if "verdict" in line]
    assert len(verdicts) == 1  # one run, one verdict, though the resumed part ran in two fits


def test_a_streamed_file_that_vanishes_mid_run_is_a_sentence_naming_it(tmp_path):
    import shutil

    import kgan.datasets
    from kgan.data import DataSourceError
    from tests.helpers import write_png

    images, _ = kgan.datasets.toy_faces(64, image_size=16, seed=1)
    for index, image in enumerate(images):
        write_png(tmp_path / "faces" / f"{index:03d}.png", image)

    def remove_the_files(batch, logs):
        if batch == 1:
            shutil.rmtree(tmp_path / "faces", ignore_errors=True)

    import keras

    config = dataclasses.replace(TINY, data=str(tmp_path / "faces"), memory_budget=0, out=str(tmp_path / "run"))
    with pytest.raises(DataSourceError, match=r"faces: one of .*faces/\d{3}\.png.* cannot be read any more .*"
                                              r"No such file.*Put the files back and resume"):
        train(config, callbacks=[keras.callbacks.LambdaCallback(on_train_batch_end=remove_the_files)])
