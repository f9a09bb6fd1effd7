"""Bad input never crashes a run: every kind of bad file is read correctly or skipped and counted."""

import io
import logging
import zipfile

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from conftest import write_png
from kgan import cli
from kgan.data import DataSourceError, make_anime_dataset, scan_source


def png_bytes(array, mode=None, bits16=False):
    if bits16:
        return tf.io.encode_png(array.astype(np.uint16)).numpy()
    buffer = io.BytesIO()
    image = Image.fromarray(array)
    if mode == "P":
        image = image.convert("P")
    image.save(buffer, "PNG")
    return buffer.getvalue()


def jpeg_bytes(array):
    return tf.io.encode_jpeg(array, quality=95).numpy()


RNG = np.random.default_rng(0)
RGB = RNG.integers(0, 256, (20, 20, 3), dtype=np.uint8)

# name → (bytes, how it must end up: "ok" or the start of the skip reason)
FIXTURES = {
    "good/rgb.png": (png_bytes(RGB), "ok"),
    "good/photo.jpg": (jpeg_bytes(RGB), "ok"),
    "good/gray.png": (png_bytes(RGB[..., 0]), "ok"),
    "good/rgba.png": (png_bytes(np.dstack([RGB, np.full((20, 20), 128, np.uint8)])), "ok"),
    "good/palette.png": (png_bytes(RGB, mode="P"), "ok"),
    "good/deep16.png": (png_bytes(RNG.integers(0, 65535, (20, 20, 3)), bits16=True), "ok"),
    "good/odd.png": (png_bytes(RNG.integers(0, 256, (95, 97, 3), dtype=np.uint8)), "ok"),
    "good/nested/deeper/huge.png": (png_bytes(np.zeros((2000, 3000, 3), np.uint8)), "ok"),
    "bad/empty.jpg": (b"", "empty file"),
    "bad/notes_named.png": (b"these are my notes, not a picture", "not an image"),
    "bad/truncated.jpg": (jpeg_bytes(RGB)[: len(jpeg_bytes(RGB)) * 2 // 3], "corrupt or truncated"),
    "bad/truncated.png": (png_bytes(RGB)[:200], "corrupt or truncated"),
    "bad/corrupt.jpg": (jpeg_bytes(RGB)[:4] + b"\x00" * 400, "corrupt"),
}
OTHER_FILES = {"readme.txt": b"hello", "labels.csv": b"a,b\n"}
GOOD = sorted(name for name, (_, outcome) in FIXTURES.items() if outcome == "ok")
BAD = sorted(name for name, (_, outcome) in FIXTURES.items() if outcome != "ok")


@pytest.fixture
def messy_folder(tmp_path):
    root = tmp_path / "messy"
    for name, (data, _) in {**FIXTURES, **{k: (v, None) for k, v in OTHER_FILES.items()}}.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    return root


@pytest.fixture
def messy_zip(messy_folder, tmp_path):
    archive = tmp_path / "messy.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in sorted(messy_folder.rglob("*")):
            if path.is_file():
                zf.write(path, "messy/" + path.relative_to(messy_folder).as_posix())
        zf.writestr("__MACOSX/messy/._rgb.png", b"resource fork")
    return archive


@pytest.mark.parametrize("kind", ["folder", "zip"])
def test_every_bad_kind_is_skipped_and_counted_exactly(kind, messy_folder, messy_zip, caplog):
    source = messy_folder if kind == "folder" else messy_zip
    with caplog.at_level(logging.WARNING, logger="kgan.data"):
        report = scan_source(source, image_size=16)
    strip = lambda name: name.split("messy/")[-1]  # noqa: E731
    assert [strip(n) for n in report.names] == GOOD
    assert [strip(n) for n, _ in report.skipped] == BAD
    for name, reason in report.skipped:
        assert reason.startswith(FIXTURES[strip(name)][1]), (name, reason)
    mac_junk = ["._rgb.png"] if kind == "zip" else []  # macOS metadata is ignored, not counted as a bad image
    assert sorted(strip(n) for n in report.ignored) == sorted([*OTHER_FILES, *mac_junk])
    assert report.images.shape == (len(GOOD), 16, 16, 3) and report.images.dtype == np.uint8
    assert report.sizes[(3000, 2000)] == 1 and report.sizes[(97, 95)] == 1 and report.sizes[(20, 20)] == 6
    warning = caplog.text
    assert f"skipped {len(BAD)} of {len(FIXTURES)} image files" in warning
    assert all(strip(name) in warning for name in BAD)


def test_converted_pixels_are_right(messy_folder):
    report = scan_source(messy_folder, image_size=20)
    by_name = {name.split("messy/")[-1]: image for name, image in zip(report.names, report.images)}
    np.testing.assert_array_equal(by_name["good/rgb.png"], RGB)
    np.testing.assert_array_equal(by_name["good/gray.png"], np.repeat(RGB[..., :1], 3, axis=-1))
    np.testing.assert_array_equal(by_name["good/rgba.png"], RGB)  # alpha dropped
    np.testing.assert_array_equal(by_name["good/palette.png"], np.asarray(Image.fromarray(RGB).convert("P").convert("RGB")))


def test_strict_raises_naming_the_first_bad_file(messy_folder):
    with pytest.raises(DataSourceError, match=rf"bad/corrupt.jpg: corrupt .*strict=True; {len(BAD)} bad files"):
        make_anime_dataset(messy_folder, 2, image_size=16, strict=True)


def test_too_large_images_are_skipped_by_their_header(tmp_path):
    write_png(tmp_path / "small.png", RGB)
    write_png(tmp_path / "wide.png", np.zeros((10, 400, 3), np.uint8))
    report = scan_source(tmp_path, image_size=8, max_pixels=1000)
    assert [n.split("/")[-1] for n in report.names] == ["small.png"]
    assert report.skipped[0][1].startswith("too large (400×10 pixels")


def test_training_runs_through_a_messy_source(messy_zip):
    import keras

    import kgan

    keras.utils.set_random_seed(0)
    gan = kgan.DCGAN(kgan.nets.build_generator("dcgan", 16, 4, 2), kgan.nets.build_discriminator("dcgan", 16, 2), seed=0)
    gan.compile()
    dataset = make_anime_dataset(messy_zip, 2, image_size=16, seed=0, repeat=True)
    history = gan.fit(dataset, epochs=1, steps_per_epoch=2 * len(GOOD), verbose=0).history  # several passes
    assert np.isfinite(history["d_loss"][0])


def test_nothing_readable_is_a_clear_error_before_training(tmp_path):
    (tmp_path / "a.jpg").write_bytes(b"")
    (tmp_path / "b.png").write_bytes(b"nope")
    with pytest.raises(DataSourceError, match=r"none of its 2 image files could be decoded \(first failure: .*a.jpg: empty file"):
        make_anime_dataset(tmp_path, 1)


def test_data_check_command_prints_counts(messy_zip, capsys):
    assert cli.main(["data", "check", str(messy_zip)]) == 0
    out = capsys.readouterr().out
    ignored = len(OTHER_FILES) + 1  # and the __MACOSX entry
    assert f"{len(GOOD)} readable of {len(FIXTURES)} image files; {len(BAD)} skipped; {ignored} other files ignored" in out
    assert "skipped 1 × empty file" in out and "size 20×20: 6" in out
