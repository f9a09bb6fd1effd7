"""kgan.data.decode: the bad-file policy on bytes, and the decoders' conversions."""

import numpy as np
import pytest
import tensorflow as tf

from kgan.data import check_image, decode_image, decode_native
from kgan.data.decode import decode_error_reason, header_size, sniff_format
from tests.messy_files import FIXTURES, RGB


def test_sniff_format_and_header_size_without_decoding():
    png = FIXTURES["good/odd.png"][0]
    jpeg = FIXTURES["good/photo.jpg"][0]
    assert sniff_format(png) == "png" and sniff_format(jpeg) == "jpeg" and sniff_format(b"hello") is None
    assert header_size(png, "png") == (97, 95)  # (width, height) from the IHDR chunk
    assert header_size(jpeg, "jpeg") == (20, 20)  # from the start-of-frame segment


@pytest.mark.parametrize(
    "data, reason",
    [
        (b"", "empty file"),
        (b"these are my notes", "not an image (unknown file signature)"),
        (b"\x89PNG\r\n\x1a\n", "corrupt png header"),
        (OSError("permission denied"), "unreadable (permission denied)"),
    ],
)
def test_check_image_says_why_a_file_is_skipped(data, reason):
    assert check_image(data) == (reason, None)


def test_check_image_passes_good_bytes_and_refuses_oversized_headers():
    assert check_image(FIXTURES["good/rgb.png"][0]) == (None, (20, 20))
    reason, size = check_image(FIXTURES["good/nested/deeper/huge.png"][0], max_pixels=1000)
    assert reason == "too large (3000×2000 pixels > 1,000)" and size == (3000, 2000)


def test_decode_native_keeps_the_size_and_gives_rgb():
    image, reason = decode_native(FIXTURES["good/odd.png"][0])
    assert reason is None and image.shape == (95, 97, 3) and image.dtype == np.uint8
    gray, _ = decode_native(FIXTURES["good/gray.png"][0])
    np.testing.assert_array_equal(gray, np.repeat(RGB[..., :1], 3, axis=-1))
    rgba, _ = decode_native(FIXTURES["good/rgba.png"][0])
    np.testing.assert_array_equal(rgba, RGB)  # alpha dropped, not blended


@pytest.mark.parametrize("name", ["bad/truncated.jpg", "bad/truncated.png", "bad/corrupt.jpg"])
def test_undecodable_bytes_give_a_one_line_reason(name):
    data = FIXTURES[name][0]
    image, reason = decode_native(data)
    assert image is None and reason.startswith("corrupt") and "\n" not in reason
    assert decode_error_reason(data) == reason
    assert decode_error_reason(FIXTURES["good/rgb.png"][0]) is None


def test_decode_image_resizes_any_size_to_a_square_uint8_image():
    image = decode_image(FIXTURES["good/odd.png"][0], 16).numpy()
    assert image.shape == (16, 16, 3) and image.dtype == np.uint8
    flat = tf.io.encode_png(np.full((96, 96, 3), 77, np.uint8)).numpy()  # the book's 96×96 faces
    np.testing.assert_array_equal(decode_image(flat, 64).numpy(), 77)
