"""The `anime_faces` TFDS builder: zips and folders from the manual dir, kgan's bad-file policy, the md5
split, `tfds.load` and the `tfds build` command line. Everything is prepared under tmp_path."""

import importlib.util
import logging
import os
import pathlib
import subprocess
import sys
import zipfile

import numpy as np
import pytest
import tensorflow_datasets as tfds

import kgan.datasets
from kgan.data import DataSourceError
from tests.datasets.faces_files import expected_split, make_fixture, png, prepare, write_folder, write_zip

CLI_TIMEOUT_S = 240


def check_examples(examples, expected):
    """Exactly the expected images, each in the split the md5 rule gives, pixel for pixel, native size."""
    predicted = {split: sorted(n for n in expected if expected_split(n) == split) for split in ("train", "test")}
    assert {split: sorted(name for name, _ in items) for split, items in examples.items()} == predicted
    assert sum(len(items) for items in examples.values()) == len(expected)
    for items in examples.values():
        for name, image in items:
            assert image.dtype == np.uint8 and image.shape == expected[name].shape, name
            np.testing.assert_array_equal(image, expected[name], err_msg=name)


def skip_warnings(caplog):
    return [r.getMessage() for r in caplog.records if r.name == "kgan.datasets" and r.levelno == logging.WARNING]


def check_skip_warnings(caplog, bad, total_image_files):
    messages = [m for m in skip_warnings(caplog) if "split: skipped" in m]
    text = "\n".join(messages)
    for name in bad:
        assert name in text, f"{name} is not named in the warnings:\n{text}"
    counted = [tuple(int(x) for x in m.split("skipped ")[1].split(" image files")[0].split(" of ")) for m in messages]
    assert sum(skipped for skipped, _ in counted) == len(bad)
    assert sum(total for _, total in counted) <= total_image_files  # the splits that had a bad file
    assert "notes.txt" not in text and "__MACOSX" not in text and "._img" not in text  # ignored, not skipped


def test_zip_in_manual_dir(tmp_path, caplog):
    files, expected, bad = make_fixture()
    manual = tmp_path / "manual"
    manual.mkdir()
    write_zip(manual / "faces.zip", files, bad_crc_name="faces/badcrc.png")
    bad = sorted([*bad, "faces/badcrc.png"])

    with caplog.at_level(logging.WARNING, logger="kgan.datasets"):
        examples = prepare(manual, tmp_path / "data")

    check_examples(examples, expected)
    check_skip_warnings(caplog, bad, len(expected) + len(bad))
    reasons = dict(
        item for items in tfds.builder("anime_faces", data_dir=os.fspath(tmp_path / "data")).info.metadata["skipped"].values()
        for item in items
    )
    assert sorted(reasons) == bad
    assert reasons["faces/empty.jpg"] == "empty file"
    assert reasons["faces/text.png"].startswith("not an image")
    assert reasons["faces/truncated.jpg"].startswith("corrupt or truncated")
    assert reasons["faces/nested/huge.png"].startswith("too large")
    assert reasons["faces/badcrc.png"].startswith("unreadable (damaged zip member")


def test_folder_in_manual_dir(tmp_path, caplog):
    files, expected, bad = make_fixture()
    manual = tmp_path / "manual"
    write_folder(manual, files)
    (manual / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")

    with caplog.at_level(logging.WARNING, logger="kgan.datasets"):
        examples = prepare(manual, tmp_path / "data")

    check_examples(examples, expected)  # the same names as inside the zip: paths relative to the manual dir
    check_skip_warnings(caplog, bad, len(expected) + len(bad))


def test_zips_and_folders_together_keep_one_copy_of_a_name(tmp_path, caplog):
    rng = np.random.default_rng(1)
    first = {f"faces/{i}.png": rng.integers(0, 256, (4, 5, 3), dtype=np.uint8) for i in range(12)}
    extra = {f"more/{i}.png": rng.integers(0, 256, (6, 3, 3), dtype=np.uint8) for i in range(12)}
    clash = rng.integers(0, 256, (4, 5, 3), dtype=np.uint8)  # same name as faces/0.png, other pixels
    manual = tmp_path / "manual"
    (manual / "zips").mkdir(parents=True)
    write_zip(manual / "zips" / "A.ZIP", {name: png(p) for name, p in first.items()})
    write_folder(manual, {"faces/0.png": png(clash)})
    write_folder(tmp_path / "elsewhere", {name: png(p) for name, p in extra.items()})
    (manual / "more").symlink_to(tmp_path / "elsewhere" / "more", target_is_directory=True)  # followed

    with caplog.at_level(logging.WARNING, logger="kgan.datasets"):
        examples = prepare(manual, tmp_path / "data")

    check_examples(examples, {**first, **extra})  # zips come first, so the zip's faces/0.png is kept
    assert any("faces/0.png (duplicate name" in m for m in skip_warnings(caplog))


def test_damaged_zip_header_stops_that_zip_only(tmp_path, caplog):
    rng = np.random.default_rng(2)
    images = {f"faces/{i:02d}.png": rng.integers(0, 256, (3, 4, 3), dtype=np.uint8) for i in range(30)}
    names = sorted(images)
    manual = tmp_path / "manual"
    manual.mkdir()
    write_zip(manual / "faces.zip", {name: png(images[name]) for name in names})
    with zipfile.ZipFile(manual / "faces.zip") as archive:
        offset = archive.getinfo(names[20]).header_offset
    raw = bytearray((manual / "faces.zip").read_bytes())
    raw[offset : offset + 4] = b"XXXX"  # the 21st member's local header signature; the directory is intact
    (manual / "faces.zip").write_bytes(bytes(raw))
    loose = {f"loose/{i}.png": rng.integers(0, 256, (5, 5, 3), dtype=np.uint8) for i in range(20)}
    write_folder(manual, {name: png(pixels) for name, pixels in loose.items()})

    with caplog.at_level(logging.WARNING, logger="kgan.datasets"):
        examples = prepare(manual, tmp_path / "data")

    check_examples(examples, {**{n: images[n] for n in names[:20]}, **loose})
    assert any("faces.zip (rest of the archive) (unreadable (damaged zip archive" in m for m in skip_warnings(caplog))


def test_split_with_no_readable_image_is_left_out(tmp_path, caplog):
    names = [f"x{i}.png" for i in range(100)]
    train_name = next(n for n in names if expected_split(n) == "train")
    test_name = next(n for n in names if expected_split(n) == "test")
    pixels = np.arange(12, dtype=np.uint8).reshape(2, 2, 3)
    manual = tmp_path / "manual"
    write_folder(manual, {train_name: png(pixels), test_name: b"garbage"})

    with caplog.at_level(logging.WARNING, logger="kgan.datasets"):
        examples = prepare(manual, tmp_path / "data")

    assert list(examples) == ["train"]
    assert [name for name, _ in examples["train"]] == [train_name]
    text = "\n".join(skip_warnings(caplog))
    assert test_name in text and "test split" in text


def test_manual_dir_without_images_is_a_clear_error(tmp_path):
    manual = tmp_path / "manual"
    write_folder(manual, {"notes.txt": b"hello", "__MACOSX/._a.jpg": b"junk"})
    write_zip(manual / "empty.zip", {"readme.md": b"no images here"})
    with pytest.raises(DataSourceError) as error:
        prepare(manual, tmp_path / "data")
    message = str(error.value)
    assert str(manual) in message and "no .zip archive holding images" in message and "faces.zip" in message

    only_bad = tmp_path / "only_bad"
    write_folder(only_bad, {"a.jpg": b"", "b.png": b"text"})
    with pytest.raises(DataSourceError, match="none of the image files"):
        prepare(only_bad, tmp_path / "data2")

    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(AssertionError, match="faces.zip"):  # TFDS's own check, with our instructions
        prepare(empty, tmp_path / "data3")


def _cli_fixture(tmp_path):
    files, expected, _ = make_fixture()
    manual = tmp_path / "manual"
    manual.mkdir()
    write_zip(manual / "faces.zip", files)
    return manual, expected


def _check_cli_result(result, data_dir, expected):
    assert result.returncode == 0, result.stderr[-4000:]
    builder = tfds.builder("anime_faces", data_dir=os.fspath(data_dir))
    counts = {split: info.num_examples for split, info in builder.info.splits.items()}
    predicted = {split: sum(expected_split(n) == split for n in expected) for split in ("train", "test")}
    assert counts == predicted
    loaded = {
        split: sorted(e["filename"].decode() for e in tfds.as_numpy(builder.as_dataset(split=split)))
        for split in counts
    }
    assert loaded == {split: sorted(n for n in expected if expected_split(n) == split) for split in counts}


def _env():
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONUNBUFFERED="1")
    env.pop("TFDS_DATA_DIR", None)
    return env


def test_tfds_build_command_line(tmp_path):
    """The venv's `tfds build ... --imports kgan.datasets --manual_dir --data_dir`, run as a user would.

    tensorflow-datasets 4.9.x's CLI imports apache_beam and mlcroissant at start-up for its other
    commands (convert_format, build_croissant) even to build a plain generator dataset. Where they are
    not installed, this test puts two placeholder modules on PYTHONPATH for the subprocess, so the real
    `tfds` program still runs its real `build` command (which uses neither)."""
    tfds_program = pathlib.Path(sys.executable).parent / "tfds"
    if not tfds_program.exists():
        pytest.skip(f"no tfds program beside {sys.executable}")
    manual, expected = _cli_fixture(tmp_path)
    env = _env()
    missing = [m for m in ("apache_beam", "mlcroissant") if importlib.util.find_spec(m) is None]
    if missing:
        stubs = tmp_path / "stubs"
        for module in missing:
            (stubs / module).mkdir(parents=True)
        if "apache_beam" in missing:
            (stubs / "apache_beam" / "__init__.py").write_text("class DoFn:\n    pass\n\n\nclass PTransform:\n    pass\n")
        if "mlcroissant" in missing:
            (stubs / "mlcroissant" / "__init__.py").write_text("class Dataset:\n    pass\n")
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [os.fspath(stubs), env.get("PYTHONPATH")]))
    data_dir = tmp_path / "data"
    result = subprocess.run(
        [os.fspath(tfds_program), "build", "anime_faces", "--imports", "kgan.datasets",
         "--manual_dir", os.fspath(manual), "--data_dir", os.fspath(data_dir)],
        capture_output=True, text=True, timeout=CLI_TIMEOUT_S, env=env, cwd=tmp_path,
    )
    _check_cli_result(result, data_dir, expected)
    assert "faces/text.png" in result.stdout + result.stderr  # the skip warning reaches the terminal


def test_kgan_tfds_build_runs_tfds_build_without_beam(tmp_path):
    manual, expected = _cli_fixture(tmp_path)
    data_dir = tmp_path / "data"
    result = subprocess.run(
        [sys.executable, "-c", "import kgan.datasets as d; d.tfds_build()", "build", "anime_faces",
         "--imports", "kgan.datasets", "--manual_dir", os.fspath(manual), "--data_dir", os.fspath(data_dir)],
        capture_output=True, text=True, timeout=CLI_TIMEOUT_S, env=_env(), cwd=tmp_path,
    )
    _check_cli_result(result, data_dir, expected)
    assert "faces/text.png" in result.stdout + result.stderr


def test_split_of_is_the_md5_rule():
    names = [f"faces/{i}.jpg" for i in range(200)]
    assert [kgan.datasets.split_of(n) for n in names] == [expected_split(n) for n in names]
