"""What counts as a readable image, in one place for every reader (the scan behind `kgan.data.load`
and `kgan data check`, and the TFDS builder `anime_faces`).

`check_image` comes first, on the bytes alone: a file that could not be read, an empty file, a file
whose first bytes are no known image signature (a text file named `.jpg`), or a header announcing an
image larger than `MAX_PIXELS`. What passes is decoded by TensorFlow (`decode_image` resized for
training, `decode_native` at its own size), which also rejects corrupt and truncated data; the
reason it gives is `decode_error_reason`'s.
"""

import struct

import tensorflow as tf

__all__ = [
    "MAX_PIXELS", "sniff_format", "header_size", "cheap_check", "check_image", "decode_image", "decode_native",
    "decode_error_reason",
]

# 8,000 × 8,000: far above any face dataset, below what would strain memory when decoding in parallel.
MAX_PIXELS = 64_000_000

_SIGNATURES = {
    b"\xff\xd8\xff": "jpeg",
    b"\x89PNG\r\n\x1a\n": "png",
    b"GIF87a": "gif",
    b"GIF89a": "gif",
    b"BM": "bmp",
}


def sniff_format(data):
    """"jpeg", "png", "gif" or "bmp" from the first bytes, or None."""
    for signature, name in _SIGNATURES.items():
        if data.startswith(signature):
            return name
    return None


def header_size(data, image_format):
    """(width, height) read from the header without decoding, or None when the header is unreadable."""
    try:
        if image_format == "png":
            return struct.unpack(">II", data[16:24])
        if image_format == "gif":
            return struct.unpack("<HH", data[6:10])
        if image_format == "bmp":
            width, height = struct.unpack("<ii", data[18:26])
            return width, abs(height)
        if image_format == "jpeg":
            return _jpeg_size(data)
    except struct.error:
        return None
    return None


# Start-of-frame markers carry the size; C4 (Huffman tables), C8 and CC (arithmetic coding) do not.
_JPEG_FRAME_MARKERS = set(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


def _jpeg_size(data):
    """Walk the JPEG segments to the start-of-frame header: (width, height), or None."""
    offset = 2  # after the FFD8 start-of-image marker
    while offset + 9 <= len(data):
        if data[offset] != 0xFF:
            return None
        marker = data[offset + 1]
        if marker == 0xFF:  # fill byte
            offset += 1
            continue
        length = struct.unpack(">H", data[offset + 2 : offset + 4])[0]
        if marker in _JPEG_FRAME_MARKERS:
            height, width = struct.unpack(">HH", data[offset + 5 : offset + 9])
            return width, height
        offset += 2 + length
    return None


def cheap_check(data, max_pixels=MAX_PIXELS):
    """(reason, (width, height) or None): reason is None when the bytes may be decoded."""
    if not data:
        return "empty file", None
    image_format = sniff_format(data)
    if image_format is None:
        return "not an image (unknown file signature)", None
    size = header_size(data, image_format)
    if size is None:
        return f"corrupt {image_format} header", None
    if size[0] * size[1] > max_pixels:
        return f"too large ({size[0]}×{size[1]} pixels > {max_pixels:,})", size
    return None, size


def check_image(data, max_pixels=MAX_PIXELS):
    """(reason, (width, height) or None) for a file's bytes, or for the OSError raised reading it.

    The reason is None when the bytes may be decoded; otherwise it says why the file is skipped.
    """
    if isinstance(data, OSError):
        return f"unreadable ({data})", None
    return cheap_check(data, max_pixels)


@tf.autograph.experimental.do_not_convert  # plain TF ops: nothing for AutoGraph to rewrite
def decode_image(encoded, image_size):
    """JPEG/PNG/BMP/GIF bytes → uint8 (image_size, image_size, 3).

    Grayscale is repeated to RGB, alpha is dropped, palette PNGs are expanded, 16-bit PNGs are
    scaled to 8 bits, and any size is resized with antialiasing (the book's 96×96 faces, the 64×64
    sets, anything else).
    """
    image = tf.io.decode_image(encoded, channels=3, expand_animations=False, dtype=tf.uint8)

    def resize():
        resized = tf.image.resize(image, (image_size, image_size), antialias=True)
        return tf.cast(tf.round(tf.clip_by_value(resized, 0.0, 255.0)), tf.uint8)

    # an image already at the size is kept as it is (resizing to the same size gives the same pixels, slower)
    same_size = tf.reduce_all(tf.equal(tf.shape(image)[:2], image_size))
    return tf.ensure_shape(tf.cond(same_size, lambda: image, resize), (image_size, image_size, 3))


def decode_native(data):
    """(uint8 (height, width, 3) image, None) at the file's own size, or (None, why it cannot be decoded)."""
    try:
        return tf.io.decode_image(data, channels=3, expand_animations=False, dtype=tf.uint8).numpy(), None
    except tf.errors.OpError as error:
        return None, _reason(error)


def decode_error_reason(data):
    """Why TensorFlow cannot decode `data` (one line), or None if it can."""
    try:
        tf.io.decode_image(data, channels=3, expand_animations=False)
        return None
    except tf.errors.OpError as error:
        return _reason(error)


def _reason(error):
    message = str(error.message).split("}}")[-1].split(" [Op:")[0].strip().splitlines()
    return f"corrupt or truncated ({message[0]})" if message else "could not be decoded"
