"""kgan.data.scan: every kind of bad file is read correctly or skipped, counted and named; nothing readable is an error."""

import logging

import numpy as np
import pytest
from PIL import Image

from kgan.data import DataSourceError, make_anime_dataset, scan_source
from kgan.data.scan import warn_skipped
from tests.helpers import write_png
from tests.messy_files import BAD, FIXTURES, GOOD, OTHER_FILES, RGB


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


def test_nothing_readable_is_a_clear_error_before_training(tmp_path):
    (tmp_path / "a.jpg").write_bytes(b"")
    (tmp_path / "b.png").write_bytes(b"nope")
    with pytest.raises(DataSourceError, match=r"none of its 2 image files could be decoded \(first failure: .*a.jpg: empty file"):
        make_anime_dataset(tmp_path, 1)


def test_warn_skipped_names_ten_and_counts_the_rest(caplog):
    logger = logging.getLogger("kgan.tests")
    skipped = [(f"f{i}.png", "empty file") for i in range(12)]
    with caplog.at_level(logging.WARNING, logger="kgan.tests"):
        warn_skipped(logger, "src", skipped[:3], 5)
        warn_skipped(logger, "src", skipped, 20, hint=" (see the log)")
        warn_skipped(logger, "src", [], 20)
    first, second = [record.getMessage() for record in caplog.records]
    assert first == "src: skipped 3 of 5 image files: f0.png (empty file), f1.png (empty file), f2.png (empty file)"
    assert second.startswith("src: skipped 12 of 20 image files: f0.png (empty file)")
    assert "f9.png" in second and "f10.png" not in second and second.endswith(" … and 2 more (see the log)")
