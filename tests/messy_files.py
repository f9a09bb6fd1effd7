"""A messy source: every kind of good and bad image file, with how each must end up (the `messy_folder` and
`messy_zip` fixtures of conftest.py write them)."""

import io

import numpy as np
import tensorflow as tf
from PIL import Image


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
