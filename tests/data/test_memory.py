"""Data of any size: the memory budget, the streaming path, one decoded copy at most, and epochs that
reshuffle — each batch still a pure function of (seed, step)."""

import logging
import os
import subprocess
import sys
import tracemalloc

import numpy as np
import pytest

import kgan.data as kgan_data
from kgan.data import format_size, load, parse_size, scan_source
from tests.helpers import ROOT, subprocess_env, write_png


@pytest.fixture
def many_images(tmp_path):
    """40 distinct 8×8 PNGs in a folder and the same in a zip, plus their pixels in path order."""
    rng = np.random.default_rng(3)
    pixels = rng.integers(0, 256, (40, 8, 8, 3), dtype=np.uint8)
    folder = tmp_path / "many"
    for index, image in enumerate(pixels):
        write_png(folder / f"img{index:03d}.png", image)
    archive = tmp_path / "many.zip"
    subprocess.run(["python3", "-m", "zipfile", "-c", str(archive), str(folder)], check=True)
    return folder, archive, pixels


def arrays(dataset, steps=None):
    return [batch.numpy() for batch in (dataset.take(steps) if steps else dataset)]


def test_parse_size_reads_units_and_refuses_nonsense():
    assert parse_size(0) == 0
    assert parse_size("512") == 512
    assert parse_size("2K") == 2048
    assert parse_size("1.5 GB") == 3 * 2**29
    assert parse_size("3MiB") == 3 * 2**20
    for bad in ("-1M", "lots", "2X", True):
        with pytest.raises(ValueError, match="memory budget"):
            parse_size(bad)
    assert format_size(221_184_000) == "211 MiB" and format_size(5 * 2**30 + 2**29) == "5.5 GiB"


def test_the_budget_decides_and_the_message_says_why(many_images, caplog):
    folder, _, _ = many_images
    decoded = 40 * 8 * 8 * 3  # 7,680 bytes
    with caplog.at_level(logging.INFO, logger="kgan.data"):
        held = load(folder, 4, image_size=8, memory_budget=decoded)
        streamed = load(folder, 4, image_size=8, memory_budget=decoded - 1)
    assert not held.streamed and streamed.streamed
    assert "40 image files × 8×8×3 = 7.5 KiB decoded, within the memory budget of 7.5 KiB" in held.how
    assert "above the memory budget of 7.5 KiB: streaming" in streamed.how
    assert held.how in caplog.text and streamed.how in caplog.text
    default = load(folder, 4, image_size=8)  # a quarter of the available memory: 7.5 KiB fits
    assert not default.streamed and "25% of the available memory" in default.how


@pytest.mark.parametrize("kind", ["folder", "zip"])
def test_streamed_batches_are_the_in_memory_batches_from_any_step(many_images, kind):
    folder, archive, _ = many_images
    source = folder if kind == "folder" else archive
    options = dict(image_size=8, seed=7, repeat=True, critic_batches=2)
    held = load(source, 3, memory_budget="1G", **options)
    streamed = load(source, 3, memory_budget=0, **options)
    straight = arrays(held.dataset, 20)  # 40 // 3 = 13 batches an epoch, 2 a step: steps straddle epochs
    assert straight[0].shape == (3, 2, 8, 8, 3)
    for a, b in zip(straight, arrays(streamed.dataset, 20), strict=True):
        np.testing.assert_array_equal(a, b)
    for step in (1, 6, 7, 13):  # a resumed run starts a fresh dataset at its step
        for batches in (held, streamed):
            np.testing.assert_array_equal(arrays(batches.from_step(step), 1)[0], straight[step])


def test_every_epoch_reshuffles_without_repeat_and_the_seed_fixes_the_order(many_images):
    folder, _, pixels = many_images

    def epochs(seed, budget, count=3):
        dataset = load(folder, 5, image_size=8, seed=seed, memory_budget=budget).dataset
        return [np.concatenate(arrays(dataset)) for _ in range(count)]  # each pass is what fit's epoch sees

    first = epochs(1, "1G")
    key = lambda images: sorted(image.tobytes() for image in images)  # noqa: E731
    for epoch in first:
        assert key(epoch) == key(pixels.astype(np.float32) / 127.5 - 1)  # a permutation of all 40 images
    assert not np.array_equal(first[0], first[1]) and not np.array_equal(first[1], first[2])
    for a, b in zip(first, epochs(1, "1G")):  # a fresh load with the same seed: the same epochs
        np.testing.assert_array_equal(a, b)
    for a, b in zip(first, epochs(1, 0)):  # streamed alike
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[0], epochs(2, "1G", 1)[0])


def test_fit_sees_a_new_order_every_epoch_without_repeat(many_images):
    import keras
    import tensorflow as tf

    folder, _, _ = many_images

    class FirstPixels(keras.Model):  # records the first pixel of every image it trains on
        def __init__(self):
            super().__init__()
            self.seen = tf.Variable(tf.zeros((0,)), shape=tf.TensorShape([None]), trainable=False)

        def train_step(self, batch):
            self.seen.assign(tf.concat([self.seen, batch[:, 0, 0, 0]], 0))
            return {"seen": tf.shape(self.seen)[0]}

    model = FirstPixels()
    model.compile()
    model.fit(load(folder, 8, image_size=8, seed=0).dataset, epochs=2, verbose=0)
    seen = model.seen.numpy().reshape(2, 40)
    assert sorted(seen[0]) == sorted(seen[1]) and not np.array_equal(seen[0], seen[1])


def test_the_scan_holds_one_decoded_copy_and_the_check_none(tmp_path):
    rng = np.random.default_rng(0)
    for index in range(300):
        write_png(tmp_path / f"{index:03d}.png", rng.integers(0, 256, (48, 48, 3), dtype=np.uint8))
    decoded = 300 * 48 * 48 * 3
    tracemalloc.start()  # numpy's arrays and Python's bytes are traced; TensorFlow's own buffers are not
    try:
        report = scan_source(tmp_path, image_size=48)
        _, peak_kept = tracemalloc.get_traced_memory()
        del report
        tracemalloc.reset_peak()
        checked = scan_source(tmp_path, image_size=48, keep_images=False)
        _, peak_checked = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # before: every file's bytes + a dict of decoded images + np.stack of them ≈ 3 × decoded at the peak
    assert peak_kept < 1.3 * decoded, format_size(peak_kept)
    assert peak_checked < 0.3 * decoded, format_size(peak_checked)
    assert checked.images is None and len(checked.names) == 300


LOAD_FROM_MEMORY = r"""
import numpy as np
import kgan.data as kgan_data

def resident():
    return int(open("/proc/self/statm").read().split()[1]) * 4096

images = np.full((2400, 64, 64, 3), 7, np.uint8)  # 281 MiB
next(iter(kgan_data.load(images[:8], 4).dataset))  # TensorFlow's own start-up memory, before measuring
before = resident()
batches = kgan_data.load(images, 64, seed=0, repeat=True)
for batch, _ in zip(batches.dataset, range(3)):
    pass
print((resident() - before) / images.nbytes)
"""


def test_images_in_memory_are_not_copied_into_the_pipeline():
    result = subprocess.run(
        [sys.executable, "-c", LOAD_FROM_MEMORY], cwd=ROOT, capture_output=True, text=True, timeout=300,
        env=subprocess_env(),
    )
    assert result.returncode == 0, result.stderr[-3000:]
    growth = float(result.stdout.split()[-1])
    assert growth < 0.5, f"loading grew resident memory by {growth:.2f}× the images (a copy is 1×)"


def test_a_prepared_tfds_dataset_resumes_exactly_in_memory_and_streamed(tmp_path):
    from tests.datasets.faces_files import make_fixture, prepare, write_zip

    files, _, _ = make_fixture()
    manual = tmp_path / "manual"
    manual.mkdir()
    write_zip(manual / "faces.zip", files)
    prepare(manual, tmp_path / "data")
    options = dict(image_size=8, seed=3, repeat=True, tfds_data_dir=os.fspath(tmp_path / "data"))
    held = kgan_data.load("tfds:anime_faces", 2, memory_budget="1G", **options)
    streamed = kgan_data.load("tfds:anime_faces", 2, memory_budget=0, **options)
    assert not held.streamed and streamed.streamed and "examples × 8×8×3" in streamed.how
    for batches in (held, streamed):
        straight = arrays(batches.dataset, 12)
        resumed = arrays(batches.from_step(5), 7)
        for a, b in zip(straight[5:], resumed, strict=True):
            np.testing.assert_array_equal(a, b, err_msg=batches.how)
