"""Files for the TFDS builder's tests: images of every kind, in a zip or a folder, with what each must become."""

import hashlib
import os
import pathlib
import struct
import zipfile
import zlib

import numpy as np
import tensorflow as tf
import tensorflow_datasets as tfds


def expected_split(name):
    """The documented rule, written out again here: md5 of the name, as an integer, % 10 == 0 → test."""
    return "test" if int(hashlib.md5(name.encode("utf-8")).hexdigest(), 16) % 10 == 0 else "train"


def png(image):
    return tf.io.encode_png(np.asarray(image)).numpy()


def palette_png(indices, palette):
    """A colour-type-3 (palette) PNG, which TensorFlow cannot write."""

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    height, width = indices.shape
    rows = b"".join(b"\x00" + row.astype(np.uint8).tobytes() for row in indices)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 3, 0, 0, 0))
        + chunk(b"PLTE", palette.astype(np.uint8).tobytes())
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def make_fixture():
    """(files, expected, bad): every file as name → bytes; the readable images as name → uint8 (h, w, 3)
    pixels; the bad image files' names. Names are as they appear inside the zip / below the manual dir."""
    rng = np.random.default_rng(0)
    files, expected = {}, {}
    sizes = [(8, 10), (9, 7), (12, 12)]
    for i in range(24):
        folder = "faces/nested/deeper" if i % 4 == 0 else "faces"
        name = f"{folder}/img_{i:02d}.png"
        pixels = rng.integers(0, 256, (*sizes[i % 3], 3), dtype=np.uint8)
        files[name], expected[name] = png(pixels), pixels
    gray = rng.integers(0, 256, (6, 5, 1), dtype=np.uint8)
    files["faces/gray.png"], expected["faces/gray.png"] = png(gray), np.repeat(gray, 3, axis=2)
    rgba = rng.integers(0, 256, (7, 6, 4), dtype=np.uint8)
    files["faces/rgba.png"], expected["faces/rgba.png"] = png(rgba), rgba[..., :3]
    deep = rng.integers(0, 65536, (5, 4, 3), dtype=np.uint16)
    files["faces/deep16.png"], expected["faces/deep16.png"] = png(deep), (deep >> 8).astype(np.uint8)
    palette = rng.integers(0, 256, (4, 3), dtype=np.uint8)
    indices = rng.integers(0, 4, (5, 6), dtype=np.uint8)
    files["faces/palette.png"], expected["faces/palette.png"] = palette_png(indices, palette), palette[indices]
    upper = rng.integers(0, 256, (4, 4, 3), dtype=np.uint8)
    files["faces/UPPER.PNG"], expected["faces/UPPER.PNG"] = png(upper), upper
    for name, shape in [("faces/photo_a.jpg", (16, 16, 3)), ("faces/photo_b.jpeg", (20, 12, 3)), ("faces/gray.jpg", (10, 9, 1))]:
        data = tf.io.encode_jpeg(rng.integers(0, 256, shape, dtype=np.uint8)).numpy()
        files[name], expected[name] = data, tf.io.decode_jpeg(data, channels=3).numpy()  # what TF's decoder gives

    good_jpeg = tf.io.encode_jpeg(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)).numpy()
    huge = bytearray(png(upper))
    huge[16:24] = struct.pack(">II", 9000, 9000)  # the header announces 81 M pixels
    bad = {
        "faces/empty.jpg": b"",
        "faces/text.png": b"this is not a picture\n",
        "faces/truncated.jpg": good_jpeg[: len(good_jpeg) // 2],
        "faces/nested/huge.png": bytes(huge),
    }
    files.update(bad)
    files["notes.txt"] = b"where these came from"
    files["__MACOSX/faces/._img_00.png"] = b"\x00\x05\x16\x07 AppleDouble"
    files["__MACOSX/faces/thumb.png"] = png(upper)  # a readable image, but in macOS metadata: ignored
    files["faces/._img_01.png"] = b"\x00\x05\x16\x07 AppleDouble"
    assert {expected_split(n) for n in expected} == {"train", "test"}, "the fixture must fill both splits"
    return files, expected, sorted(bad)


def write_zip(path, files, bad_crc_name=None):
    """Zip `files`; with `bad_crc_name`, add that valid PNG stored uncompressed, then flip one of its bytes."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
        if bad_crc_name:
            archive.writestr(zipfile.ZipInfo(bad_crc_name), png(np.zeros((8, 8, 3), np.uint8)), zipfile.ZIP_STORED)
    if bad_crc_name:
        with zipfile.ZipFile(path) as archive:
            info = archive.getinfo(bad_crc_name)
        raw = bytearray(pathlib.Path(path).read_bytes())
        name_len, extra_len = struct.unpack("<HH", raw[info.header_offset + 26 : info.header_offset + 30])
        raw[info.header_offset + 30 + name_len + extra_len + info.compress_size // 2] ^= 0xFF
        pathlib.Path(path).write_bytes(bytes(raw))


def write_folder(root, files):
    for name, data in files.items():
        path = pathlib.Path(root, name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def prepare(manual_dir, data_dir):
    """tfds.load as a user would call it; returns {split: [(filename, image), ...]}."""
    splits = tfds.load(
        "anime_faces",
        data_dir=os.fspath(data_dir),
        download_and_prepare_kwargs={"download_config": tfds.download.DownloadConfig(manual_dir=os.fspath(manual_dir))},
    )
    return {
        split: [(example["filename"].decode(), example["image"]) for example in tfds.as_numpy(dataset)]
        for split, dataset in splits.items()
    }
