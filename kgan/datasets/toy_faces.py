"""Procedural anime-style cartoon faces: kgan's built-in toy dataset.

Each face is drawn from five discrete attributes (background colour, face
shape, hair colour, hair style, eye colour). The combination of attribute
values is the image's *mode*; there are ``num_modes()`` of them and every mode
is equally likely. Small continuous jitter (position, size, colour) makes the
images of one mode differ without ever crossing into another mode, so the
dataset is handy for spotting mode collapse: `decode_toy_faces` reads the
attributes back from an image exactly (no classifier needed), so the modes
that generated samples cover can be counted.

The attributes double as class labels for conditional GANs: `toy_face_classes`
turns one attribute, or several, into one class index per image (the classes of
"hair_color+eye_color" are its 16 combinations), and `class_attributes` reads
the attribute values back from a class index.

The renderer is pure numpy (`make_toy_dataset` batches the faces with
`kgan.data.load`). Drawing is vectorised over a batch of images and anti-aliased
analytically: each shape's coverage of a pixel comes from an approximate
signed distance to its edge, which gives smooth edges like supersampling at
a fraction of the cost: 2000 faces of 64x64 take about half a second.
"""

from __future__ import annotations

import itertools
import math
import numbers
from collections.abc import Mapping, Sequence

import numpy as np

from kgan.data import load
from kgan.defaults import IMAGE_SIZE, TOY_IMAGES

__all__ = [
    "MIN_DECODE_SIZE",
    "TOY_FACE_ATTRIBUTES",
    "class_attributes",
    "decode_toy_faces",
    "read_toy_face_attributes",
    "make_toy_dataset",
    "mode_index",
    "num_modes",
    "render_face",
    "toy_face_classes",
    "toy_faces",
]

MIN_IMAGE_SIZE = 16
MAX_IMAGE_SIZE = 256
# Smallest image size `decode_toy_faces` reads exactly: below it an iris is
# only a few blended pixels and the face outline too coarse to fit.
MIN_DECODE_SIZE = 32

# Palettes (RGB 0-255). Hues are far apart so that each value stays
# recognisable at 32x32 and under colour jitter.
_BACKGROUND_COLORS = {
    "sky_blue": (130, 185, 240),
    "mint_green": (150, 220, 160),
    "lilac": (205, 165, 230),
    "slate": (75, 80, 100),
}
# Face half-width and half-height, as fractions of the image size.
_FACE_SHAPES = {
    "round": (0.285, 0.285),
    "oval": (0.245, 0.325),
    "wide": (0.33, 0.26),
}
_HAIR_COLORS = {
    "black": (40, 35, 45),
    "brown": (135, 80, 40),
    "blonde": (250, 215, 95),
    "pink": (240, 115, 170),
}
_HAIR_STYLES = ("short", "long", "twintails")
_EYE_COLORS = {
    "blue": (40, 110, 230),
    "green": (40, 170, 70),
    "amber": (220, 140, 20),
    "red": (200, 30, 45),
}

TOY_FACE_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "background": tuple(_BACKGROUND_COLORS),
    "face_shape": tuple(_FACE_SHAPES),
    "hair_color": tuple(_HAIR_COLORS),
    "hair_style": _HAIR_STYLES,
    "eye_color": tuple(_EYE_COLORS),
}

# Private copies, so that editing the public dict cannot break rendering.
_ATTRIBUTE_NAMES = tuple(TOY_FACE_ATTRIBUTES)
_CARDINALITIES = tuple(len(values) for values in TOY_FACE_ATTRIBUTES.values())
_BACKGROUND_RGB = np.array(list(_BACKGROUND_COLORS.values()), np.float32)
_FACE_RADII = np.array(list(_FACE_SHAPES.values()), np.float32)
_HAIR_RGB = np.array(list(_HAIR_COLORS.values()), np.float32)
_EYE_RGB = np.array(list(_EYE_COLORS.values()), np.float32)
_SHORT, _LONG, _TWINTAILS = range(3)

_SKIN_RGB = np.array((255, 224, 196), np.float32)
_OUTLINE_RGB = np.array((95, 55, 50), np.float32)
_LASH_RGB = np.array((45, 30, 40), np.float32)
_MOUTH_RGB = np.array((170, 50, 60), np.float32)
_BLUSH_RGB = np.array((255, 135, 150), np.float32)
_WHITE_RGB = np.array((255, 255, 255), np.float32)
_RIBBON_RGB = np.array((250, 250, 250), np.float32)

# Back hair (cap, mane, tails) is the hair colour darkened by this factor.
_BACK_HAIR_SHADE = 0.8

# Jitter limits. At 64 px the face moves by at most 2.5 px and grows or
# shrinks by 5 %; colours move by a few levels per channel. All far smaller
# than the gaps between attribute values.
_MAX_SHIFT = 0.04
_MAX_SCALE_CHANGE = 0.05
_MAX_COLOR_CHANGE = 6
_JITTERED_COLORS = 4  # background, skin, hair, eyes

# Width and depth of one pointed lock of hair (fringe and long-hair tips).
_LOCK_WIDTH = 0.1
_LOCK_DEPTH = 0.07

# Images rendered per vectorised batch: keeps temporaries small enough to
# stay in cache, whatever the image size.
_PIXELS_PER_BATCH = 1 << 17


def num_modes() -> int:
    """Number of distinct attribute combinations (product of cardinalities)."""
    return int(np.prod(_CARDINALITIES))


def mode_index(labels: np.ndarray) -> np.ndarray:
    """Map label rows ``[..., A]`` to mode ids ``[...]`` in ``[0, num_modes())``.

    Mixed-radix number with the first attribute most significant, i.e.
    ``np.ravel_multi_index`` over the attribute cardinalities.
    """
    labels = np.asarray(labels)
    if labels.ndim < 1 or labels.shape[-1] != len(_CARDINALITIES):
        raise ValueError(
            f"labels must have shape [..., {len(_CARDINALITIES)}], got {labels.shape}"
        )
    columns = tuple(labels[..., i].astype(np.int64) for i in range(labels.shape[-1]))
    return np.ravel_multi_index(columns, _CARDINALITIES).astype(np.int64)


def toy_faces(
    num_images: int, image_size: int = IMAGE_SIZE, seed: int | None = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Generate ``num_images`` random cartoon faces.

    Returns ``(images, labels)``: uint8 images ``[N, image_size, image_size, 3]``
    and int32 labels ``[N, len(TOY_FACE_ATTRIBUTES)]`` whose columns are value
    indices into ``TOY_FACE_ATTRIBUTES`` (in its order). Attribute values are
    uniform, so every mode is reachable. The same integer ``seed`` always gives
    the same data; ``seed=None`` draws fresh randomness.
    """
    _check_count(num_images)
    _check_image_size(image_size)
    rng = np.random.default_rng(seed)
    labels = np.stack(
        [rng.integers(0, k, size=num_images) for k in _CARDINALITIES], axis=1
    ).astype(np.int32)
    jitter = _sample_jitter(rng, num_images)
    return _render(labels, image_size, jitter), labels


def _chosen_attributes(attributes) -> tuple[str, ...]:
    """An attribute spec ("hair_color", "hair_color+eye_color" or a sequence of names) → the names, checked."""
    names = attributes.split("+") if isinstance(attributes, str) else list(attributes)
    names = tuple(name.strip() if isinstance(name, str) else name for name in names)
    unknown = [name for name in names if name not in _ATTRIBUTE_NAMES]
    if not names or unknown:
        raise ValueError(
            f"attributes must name toy face attributes, one or several ({', '.join(_ATTRIBUTE_NAMES)}), "
            f"got {attributes!r}" + (f"; unknown: {unknown}" if unknown else "")
        )
    if len(set(names)) != len(names):
        raise ValueError(f"attributes must not repeat a name, got {attributes!r}")
    return names


def toy_face_classes(attrs: np.ndarray, attributes="hair_color") -> tuple[np.ndarray, tuple[str, ...]]:
    """Class labels for a conditional GAN from toy-face attribute rows.

    The class of a face is the mixed-radix number of its chosen attribute values, the first attribute
    most significant, as ``mode_index`` does for all five: for ("hair_color", "eye_color"), with 4 eye
    colours, class = 4·hair_color + eye_color, and 16 classes.

    Args:
        attrs: int attribute rows ``[N, 5]``, as ``toy_faces`` returns them.
        attributes: one attribute name, several joined by "+" ("hair_color+eye_color"), or a sequence of names.

    Returns:
        ``(classes, class_names)``: int32 classes ``[N]`` in ``[0, K)``, and the K names, in class
        order, the values joined by "+" ("black+blue", "black+green", ...).
    """
    names = _chosen_attributes(attributes)
    attrs = np.asarray(attrs)
    if attrs.ndim != 2 or attrs.shape[1] != len(_ATTRIBUTE_NAMES):
        raise ValueError(f"attrs must have shape [N, {len(_ATTRIBUTE_NAMES)}], got {attrs.shape}")
    columns = [_ATTRIBUTE_NAMES.index(name) for name in names]
    radices = [_CARDINALITIES[column] for column in columns]
    values = attrs[:, columns].astype(np.int64)
    if ((values < 0) | (values >= np.array(radices))).any():
        raise ValueError(f"attrs hold values outside the ranges of {names}: {radices}")
    classes = np.ravel_multi_index(tuple(values.T), radices).astype(np.int32)
    # itertools.product runs through the values in mixed-radix order, the first attribute slowest
    class_names = tuple("+".join(combo) for combo in itertools.product(*(TOY_FACE_ATTRIBUTES[n] for n in names)))
    return classes, class_names


def class_attributes(classes: np.ndarray, attributes="hair_color") -> np.ndarray:
    """The inverse of ``toy_face_classes``: class indices ``[N]`` → int32 attribute values ``[N, A]``.

    Column a holds the value index of the a-th chosen attribute (the mixed-radix digits of the class).
    """
    names = _chosen_attributes(attributes)
    radices = [_CARDINALITIES[_ATTRIBUTE_NAMES.index(name)] for name in names]
    classes = np.asarray(classes)
    count = math.prod(radices)
    if classes.size and (not np.issubdtype(classes.dtype, np.integer) or classes.min() < 0 or classes.max() >= count):
        raise ValueError(
            f"classes must be ints in [0, {count}) for {'+'.join(names)}, got {classes.dtype} {classes.min()}..{classes.max()}"
        )
    return np.stack(np.unravel_index(classes.astype(np.int64), radices), axis=-1).astype(np.int32)


def make_toy_dataset(batch_size, num_images=TOY_IMAGES, image_size=IMAGE_SIZE, seed=0, labels=None, **options):
    """The embedded default: `num_images` toy faces batched by `kgan.data.load` (all of its options apply).

    `seed` fixes both the faces drawn and the shuffling order. With `labels`, an attribute spec as
    ``toy_face_classes`` takes ("hair_color", "hair_color+eye_color"), the dataset yields
    (images, int32 classes) pairs.
    """
    images, attrs = toy_faces(num_images, image_size=image_size, seed=seed)
    if labels is not None:
        options["labels"], options["class_names"] = toy_face_classes(attrs, labels)
    return load(images, batch_size, seed=seed, description=f"toy faces ({num_images})", **options).dataset


def render_face(
    attributes: Mapping[str, int | str] | Sequence[int],
    image_size: int = IMAGE_SIZE,
    rng: np.random.Generator | int | None = None,
) -> np.ndarray:
    """Draw one face as a uint8 ``[image_size, image_size, 3]`` array.

    ``attributes`` is either a label row (one value index per attribute, in
    ``TOY_FACE_ATTRIBUTES`` order) or a mapping from every attribute name to a
    value index or value name, e.g. ``{"hair_color": "pink", ...}``.
    With ``rng=None`` the face is drawn without jitter (centred, nominal size
    and colours); pass a Generator or seed to jitter it like ``toy_faces``.
    """
    _check_image_size(image_size)
    label = _label_row(attributes)[None, :]
    if rng is None:
        jitter = _zero_jitter(1)
    else:
        jitter = _sample_jitter(np.random.default_rng(rng), 1)
    return _render(label, image_size, jitter)[0]


def decode_toy_faces(images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Read the five attributes back from toy-face images: the inverse of `toy_faces`.

    ``images`` are uint8 ``[N, S, S, 3]`` with ``MIN_DECODE_SIZE <= S <=
    MAX_IMAGE_SIZE`` (map a generator's [-1, 1] output with
    `kgan.images.to_uint8` first). Returns ``(labels, decoded)``: int32 labels
    ``[N, len(TOY_FACE_ATTRIBUTES)]`` in the same convention as `toy_faces`,
    and a bool ``[N]`` that is True only where every measurement lies within
    a tolerance of a real attribute value: the image is recognisably a toy
    face. Labels of undecoded images are best guesses; count only decoded ones.
    Every face `toy_faces` renders (at ``S >= MIN_DECODE_SIZE`` = 32, any
    jitter) decodes exactly. Noise, flat images, shifted or half faces and
    blurred ones do not decode (a 3x3 box blur defeats nearly all, a 2x2 one
    only some); faces with mild pixel noise (a few levels) still do, the
    tolerances widening with the noise measured on the flat top row.

    How: it measures the layout `_draw_faces` draws, vectorised over the batch.

    - background: the top row, which no part of a face reaches;
    - face geometry: the skin colour is unique in the palettes, so its pixels
      give a coarse centre and size. The face boundary is then located to a
      small fraction of a pixel along rows (the sides) and columns (the chin),
      wherever the anti-aliased edge pixels are an exact blend of skin,
      outline and a known colour behind (background or back hair); an
      ellipse with each face shape's aspect ratio is fitted to those points,
      and the shape is the one whose fitted half-width falls in its own
      range (the shapes' widths differ by more than the 5 % scale jitter);
    - hair colour: a vote of the fringe pixels just above the skin;
    - eye colour: a vote of the iris pixels, each unmixed into one eye colour
      plus grey (the white, lash and pupil blended into it at small sizes);
    - hair style: back hair (the hair colour, darkened) below the chin means
      long hair, beside the face low down means twintails, neither is short.
    """
    labels, readable, clean = _read_faces(images)
    return labels, readable.all(1) & clean


def read_toy_face_attributes(images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each attribute of toy-face images on its own: ``(labels, readable)``.

    ``labels`` as `decode_toy_faces`; ``readable`` is bool ``[N, len(TOY_FACE_ATTRIBUTES)]``: whether
    each attribute's own measurement lies within its tolerance (the face shape also needs the skin
    read). One attribute can be read where the whole face does not decode: the hair colour of a
    generated face whose eyes are a blur, say — what a conditional generator's accuracy on that
    attribute needs. The background reads where the top row's median colour is near a palette colour
    (its tolerance widening with the row's noise); `decode_toy_faces` also wants that row flat, and
    every attribute readable.
    """
    labels, readable, _ = _read_faces(images)
    return labels, readable


def _read_faces(images):
    """(labels, readable per attribute, whether the top row is flat), batch by batch, after checking `images`."""
    images = np.asarray(images)
    if images.dtype != np.uint8 or images.ndim != 4 or images.shape[-1] != 3:
        raise ValueError(
            "images must be a uint8 array of shape (N, H, W, 3) (use "
            f"kgan.images.to_uint8 on [-1, 1] floats), got {images.dtype} {images.shape}"
        )
    num_images, height, width = images.shape[:3]
    if height != width:
        raise ValueError(f"toy faces are square: got images of {height}x{width}")
    if not MIN_DECODE_SIZE <= height <= MAX_IMAGE_SIZE:
        raise ValueError(
            f"decode_toy_faces reads images of {MIN_DECODE_SIZE} to "
            f"{MAX_IMAGE_SIZE} pixels, got {height}x{width}"
        )
    labels = np.zeros((num_images, len(_ATTRIBUTE_NAMES)), np.int32)
    readable = np.zeros((num_images, len(_ATTRIBUTE_NAMES)), bool)
    clean = np.zeros(num_images, bool)
    batch = max(1, _DECODE_PIXELS_PER_BATCH // (height * width))
    for start in range(0, num_images, batch):
        part = slice(start, min(start + batch, num_images))
        labels[part], readable[part], clean[part] = _decode_batch(images[part])
    return labels, readable, clean


# --------------------------------------------------------------------------
# Argument handling


def _check_count(num_images) -> None:
    if not _is_int(num_images) or num_images < 1:
        raise ValueError(f"num_images must be an integer >= 1, got {num_images!r}")


def _check_image_size(image_size) -> None:
    if not _is_int(image_size) or not MIN_IMAGE_SIZE <= image_size <= MAX_IMAGE_SIZE:
        raise ValueError(
            f"image_size must be an integer from {MIN_IMAGE_SIZE} to "
            f"{MAX_IMAGE_SIZE}, got {image_size!r}"
        )


def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _label_row(attributes) -> np.ndarray:
    """Turn a mapping or sequence of attribute values into a validated label row."""
    if isinstance(attributes, Mapping):
        unknown = set(attributes) - set(_ATTRIBUTE_NAMES)
        missing = [name for name in _ATTRIBUTE_NAMES if name not in attributes]
        if unknown or missing:
            raise ValueError(
                f"attributes must name exactly {list(_ATTRIBUTE_NAMES)}; "
                f"unknown: {sorted(unknown)}, missing: {missing}"
            )
        values = [attributes[name] for name in _ATTRIBUTE_NAMES]
    else:
        values = list(attributes)
        if len(values) != len(_ATTRIBUTE_NAMES):
            raise ValueError(
                f"expected {len(_ATTRIBUTE_NAMES)} attribute values "
                f"({', '.join(_ATTRIBUTE_NAMES)}), got {len(values)}"
            )
    row = []
    for name, value in zip(_ATTRIBUTE_NAMES, values):
        choices = TOY_FACE_ATTRIBUTES[name]
        if isinstance(value, str):
            if value not in choices:
                raise ValueError(f"{name} must be one of {choices}, got {value!r}")
            value = choices.index(value)
        elif not _is_int(value) or not 0 <= value < len(choices):
            raise ValueError(
                f"{name} must be an index in [0, {len(choices)}) or one of "
                f"{choices}, got {value!r}"
            )
        row.append(int(value))
    return np.array(row, np.int32)


# --------------------------------------------------------------------------
# Jitter


def _sample_jitter(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    return {
        "shift": rng.uniform(-_MAX_SHIFT, _MAX_SHIFT, size=(n, 2)).astype(np.float32),
        "scale": rng.uniform(
            1 - _MAX_SCALE_CHANGE, 1 + _MAX_SCALE_CHANGE, size=n
        ).astype(np.float32),
        "color": rng.integers(
            -_MAX_COLOR_CHANGE, _MAX_COLOR_CHANGE + 1, size=(n, _JITTERED_COLORS, 3)
        ).astype(np.float32),
    }


def _zero_jitter(n: int) -> dict[str, np.ndarray]:
    return {
        "shift": np.zeros((n, 2), np.float32),
        "scale": np.ones(n, np.float32),
        "color": np.zeros((n, _JITTERED_COLORS, 3), np.float32),
    }


# --------------------------------------------------------------------------
# Rendering


def _render(labels: np.ndarray, size: int, jitter: dict[str, np.ndarray]) -> np.ndarray:
    """Render label rows with their jitter, batch by batch, into uint8 images."""
    n = labels.shape[0]
    images = np.empty((n, size, size, 3), np.uint8)
    batch = max(1, _PIXELS_PER_BATCH // (size * size))
    for start in range(0, n, batch):
        part = slice(start, min(start + batch, n))
        canvas = _draw_faces(labels[part], size, {k: v[part] for k, v in jitter.items()})
        images[part] = canvas + 0.5  # round; canvas is within [0, 255]
    return images


class _Canvas:
    """A batch of float RGB images plus coverage helpers in normalised units.

    Coordinates run from 0 to 1 across the image (x right, y down). Offsets
    from per-image centres are kept separable (x: [n, 1, S], y: [n, S, 1]) and
    only broadcast to full images when two are combined, which saves work.
    Colour planes are stored channel-first so that blending touches
    contiguous [n, S, S] blocks.
    """

    def __init__(self, background_rgb: np.ndarray, size: int):
        self.size = size
        centres = (np.arange(size, dtype=np.float32) + 0.5) / size
        self.x = centres[None, None, :]
        self.y = centres[None, :, None]
        n = background_rgb.shape[0]
        self.planes = np.empty((3, n, size, size), np.float32)
        self.planes[:] = background_rgb.T[:, :, None, None]

    def coverage(self, sdf: np.ndarray) -> np.ndarray:
        """Fraction of each pixel inside a shape, from its signed distance."""
        alpha = 0.5 - sdf * self.size
        return np.clip(alpha, 0.0, 1.0, out=alpha)

    def ellipse(self, dx, dy, rx, ry) -> np.ndarray:
        """Coverage of an axis-aligned ellipse; dx, dy are offsets from its centre."""
        nx, ny = dx / rx, dy / ry
        level = nx * nx + ny * ny - 1.0
        # First-order distance: level / |grad level| (the factor 2 cancels).
        gx, gy = nx / rx, ny / ry
        grad = np.sqrt(gx * gx + gy * gy) * 2.0
        return self.coverage(level / np.maximum(grad, 1e-6))

    def paint(self, alpha: np.ndarray, color: np.ndarray) -> None:
        """Blend colour ``[n, 3]`` or ``[3]`` over the images with coverage ``alpha``."""
        # Most shapes are small: blend only the rows and columns they touch.
        touched = (alpha > 0).any(axis=0)
        rows, cols = np.flatnonzero(touched.any(axis=1)), np.flatnonzero(touched.any(axis=0))
        if rows.size == 0:
            return
        box = np.s_[:, rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
        alpha = np.broadcast_to(alpha, self.planes.shape[1:])[box]
        color = np.broadcast_to(np.asarray(color, np.float32), (alpha.shape[0], 3))
        for plane, channel in zip(self.planes, color.T):
            region = plane[box]
            region += alpha * (channel[:, None, None] - region)

    def to_images(self) -> np.ndarray:
        """The batch as float ``[n, S, S, 3]`` images."""
        return self.planes.transpose(1, 2, 3, 0)


def _per_image(values: np.ndarray) -> np.ndarray:
    return values.astype(np.float32)[:, None, None]


def _draw_faces(labels: np.ndarray, size: int, jitter: dict[str, np.ndarray]) -> np.ndarray:
    """Draw a batch of faces back to front; returns float [n, S, S, 3] in [0, 255]."""
    background, shape, hair, style, eyes = labels.T
    colors = jitter["color"]

    def jittered(base_rgb, slot):
        return np.clip(base_rgb + colors[:, slot], 0, 255)

    bg_rgb = jittered(_BACKGROUND_RGB[background], 0)
    skin_rgb = jittered(_SKIN_RGB, 1)
    hair_rgb = jittered(_HAIR_RGB[hair], 2)
    eye_rgb = jittered(_EYE_RGB[eyes], 3)

    c = _Canvas(bg_rgb, size)

    s = _per_image(jitter["scale"])
    cx = 0.5 + _per_image(jitter["shift"][:, 0])
    cy = 0.53 + _per_image(jitter["shift"][:, 1])
    rx = _per_image(_FACE_RADII[shape, 0]) * s
    ry = _per_image(_FACE_RADII[shape, 1]) * s
    dx = c.x - cx
    dy = c.y - cy
    mirrored_dx = np.abs(dx)  # draws both eyes / tails / cheeks at once
    is_long = (style == _LONG)[:, None, None]
    is_twintails = (style == _TWINTAILS)[:, None, None]

    # Back hair, behind the face: a cap around the skull, plus style extras.
    cap_dy = dy + 0.045 * s
    cap_rx, cap_ry = rx + 0.045 * s, ry + 0.05 * s
    cap = c.ellipse(dx, cap_dy, cap_rx, cap_ry)
    short_cap = cap * c.coverage(dy - 0.15 * ry)  # ends at cheek height
    long_hair = np.maximum(cap, _long_hair_coverage(c, dx, dy, rx, ry, s))
    tails, ribbons = _twintail_coverage(c, mirrored_dx, dy, rx, s)
    back_hair = np.where(
        is_long, long_hair, np.where(is_twintails, np.maximum(short_cap, tails), short_cap)
    )
    c.paint(back_hair, hair_rgb * _BACK_HAIR_SHADE)
    c.paint(np.where(is_twintails, ribbons, 0.0), _RIBBON_RGB)

    # Face with a thin outline.
    outline = 0.014 * s
    c.paint(c.ellipse(dx, dy, rx + outline, ry + outline), _OUTLINE_RGB)
    c.paint(c.ellipse(dx, dy, rx, ry), skin_rgb)
    cheek_dx, cheek_dy = mirrored_dx - 0.6 * rx, dy - 0.38 * ry
    c.paint(c.ellipse(cheek_dx, cheek_dy, 0.06 * s, 0.028 * s) * 0.45, _BLUSH_RGB)

    _draw_eyes(c, dx, mirrored_dx, dy, rx, ry, s, eye_rgb)

    mouth_dy = dy - 0.58 * ry
    mouth = c.ellipse(dx, mouth_dy, 0.04 * s, 0.026 * s) * c.coverage(-mouth_dy)
    c.paint(mouth, _MOUTH_RGB)

    # Fringe over the forehead: the cap cut off by a row of pointed locks
    # that dips lower towards the temples.
    fringe_edge = _locks(dx, s) + 0.35 * ry * (dx / rx) ** 2 - 0.66 * ry
    fringe_edge_slope = _locks_slope(dx, s) + 0.7 * ry * dx / rx**2
    fringe = cap * _above_curve(c, dy, fringe_edge, fringe_edge_slope)
    c.paint(fringe, hair_rgb)

    # Glossy band across the crown, clipped to the fringe.
    shine = c.ellipse(dx, cap_dy, 0.8 * cap_rx, 0.8 * cap_ry)
    shine *= 1 - c.ellipse(dx, cap_dy, 0.73 * cap_rx, 0.73 * cap_ry)
    shine *= c.coverage(dy + 0.6 * ry) * fringe
    c.paint(shine * 0.3, _WHITE_RGB)
    return c.to_images()


def _long_hair_coverage(c: _Canvas, dx, dy, rx, ry, s) -> np.ndarray:
    """Hair falling past the chin: a wide oval behind the head, its lower end
    cut into pointed locks."""
    mane = c.ellipse(dx, dy - 0.12 * s, rx + 0.075 * s, ry + 0.22 * s)
    tips = ry + 0.1 * s + _locks(dx, s)
    return mane * _above_curve(c, dy, tips, _locks_slope(dx, s))


def _locks(dx, s) -> np.ndarray:
    """Height profile of a row of pointed hair locks (tips at the maxima)."""
    return _LOCK_DEPTH * s * (1 - np.abs(np.sin(dx * (np.pi / (_LOCK_WIDTH * s)))))


def _locks_slope(dx, s) -> np.ndarray:
    """Derivative of ``_locks`` along x, for anti-aliasing the steep lock edges."""
    phase = dx * (np.pi / (_LOCK_WIDTH * s))
    return -_LOCK_DEPTH * np.pi / _LOCK_WIDTH * np.cos(phase) * np.sign(np.sin(phase))


def _above_curve(c: _Canvas, dy, curve, slope) -> np.ndarray:
    """Coverage of the region above (smaller y than) a curve ``dy = curve(dx)``."""
    # Dividing by the curve's steepness turns the vertical gap into a distance.
    return c.coverage((dy - curve) / np.sqrt(1 + slope * slope))


def _twintail_coverage(c: _Canvas, mirrored_dx, dy, rx, s):
    """Two tails hanging from the sides of the head, and their hair ties."""
    tilt_sin, tilt_cos = math.sin(0.3), math.cos(0.3)  # tips swing outwards
    tx = mirrored_dx - (rx + 0.055 * s)
    ty = dy - 0.1 * s
    along = tx * tilt_sin + ty * tilt_cos
    across = tx * tilt_cos - ty * tilt_sin
    tails = c.ellipse(across, along, 0.07 * s, 0.2 * s)
    tie_dist = 0.15 * s
    ribbons = c.ellipse(
        tx + tie_dist * tilt_sin, ty + tie_dist * tilt_cos, 0.035 * s, 0.035 * s
    )
    return tails, ribbons


def _draw_eyes(c: _Canvas, dx, mirrored_dx, dy, rx, ry, s, eye_rgb) -> None:
    """Two big eyes: lash line, white, coloured iris, pupil, highlight."""
    eye_x = 0.42 * rx
    eye_dx = mirrored_dx - eye_x
    eye_dy = dy - 0.1 * ry
    c.paint(c.ellipse(eye_dx, eye_dy + 0.01 * s, 0.066 * s, 0.086 * s), _LASH_RGB)
    white = c.ellipse(eye_dx, eye_dy - 0.002 * s, 0.055 * s, 0.073 * s)
    c.paint(white, _WHITE_RGB)
    iris = c.ellipse(eye_dx, eye_dy - 0.012 * s, 0.047 * s, 0.063 * s) * white
    c.paint(iris, eye_rgb)
    pupil = c.ellipse(eye_dx, eye_dy - 0.016 * s, 0.019 * s, 0.03 * s) * white
    c.paint(pupil, eye_rgb * 0.25)
    # Highlights sit on the same side of both eyes, as if lit from one lamp.
    glint_dy = eye_dy + 0.016 * s
    glint_r = 0.016 * s
    glints = np.maximum(
        c.ellipse(dx - eye_x + 0.016 * s, glint_dy, glint_r, glint_r),
        c.ellipse(dx + eye_x + 0.016 * s, glint_dy, glint_r, glint_r),
    )
    c.paint(glints, _WHITE_RGB)


# --------------------------------------------------------------------------
# Decoding
#
# Positions below are in pixels (pixel i spans [i, i + 1]); `unit` is the
# face's scale jitter times the image size, the length that the renderer's
# layout constants multiply. Every layout number here mirrors one in
# `_draw_faces` and its helpers. Colour work goes channel by channel:
# numpy reduces over a last axis of 3 slowly.

# Images decoded per vectorised batch (temporaries are a few times the batch).
_DECODE_PIXELS_PER_BATCH = 1 << 19

# Largest per-channel difference at which a colour still counts as a palette
# value: the jitter (6 levels) plus room for a generator's small errors, and
# far below the gaps between the values of one attribute (50 levels or more).
_COLOR_TOLERANCE = 16
# Pixels this close to the nominal skin colour are pure skin (jitter 6).
_SKIN_TOLERANCE = 10
# How far (image fraction) a face's fitted half-width may lie outside its
# shape's range (the 5 % scale jitter). Rendered faces stay within 0.008 at
# 32 px, while fitting with a wrong shape's aspect ratio lands 0.014 or more
# outside that shape's range.
_FACE_SIZE_TOLERANCE = 0.011
# How far (image fraction) the face centre may move beyond the position jitter.
_FACE_POSITION_TOLERANCE = 0.01
# Rendered faces are noiseless; a generator's are not. The tests that a blend
# is exact allow for the image's own noise (its standard deviation over the
# flat top row, robustly), times this factor, up to the largest noise read.
_MIN_SKIN_FRACTION = 0.05
_NOISE_ALLOWANCE = 3.0
_MAX_NOISE = 6.0

# Each iris pixel is unmixed into a * eye colour + b * (1, 1, 1) for every eye
# colour: `a` is the pixel's dot product with the first row of the basis's
# pseudo-inverse, and the unmixing misses by the pixel's component along the
# basis's normal (whose largest channel turns it into a per-channel error).
_EYE_AMOUNT = np.linalg.pinv(
    np.stack([_EYE_RGB, np.ones_like(_EYE_RGB)], axis=2)
)[:, 0, :]  # [4, 3]
_EYE_NORMALS = np.cross(_EYE_RGB, np.ones(3, np.float32))
_EYE_NORMALS /= np.linalg.norm(_EYE_NORMALS, axis=1, keepdims=True)
_EYE_MISS = _EYE_NORMALS * np.abs(_EYE_NORMALS).max(1, keepdims=True)  # [4, 3]


def _decode_batch(images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Decode one batch of uint8 images; see `decode_toy_faces`."""
    background, background_rgb, noise, background_distance, flat = _read_background(images)
    slack = _NOISE_ALLOWANCE * noise
    background_ok = background_distance <= _COLOR_TOLERANCE + slack
    skin_like = _skin_like(images)
    coarse = _coarse_face(skin_like)
    hair, hair_rgb, hair_ok = _read_hair_color(images, coarse, slack)
    skin_rgb, skin_ok = _read_skin_color(images)
    back_hair_rgb = hair_rgb * _BACK_HAIR_SHADE
    behind_rgb = np.stack([background_rgb, back_hair_rgb], axis=1)
    shape, face, shape_ok = _fit_face(images, skin_like, skin_rgb, behind_rgb, coarse, slack)
    eyes, eyes_ok = _read_eye_color(images, face, slack)
    style, style_ok = _read_hair_style(images, face, background_rgb, back_hair_rgb, slack)
    labels = np.stack([background, shape, hair, style, eyes], axis=1)
    readable = np.stack([background_ok, skin_ok & shape_ok, hair_ok, style_ok, eyes_ok], axis=1)
    # the full decode keeps its original background test: the nominal colour tolerance, on a flat row
    clean = flat & (background_distance <= _COLOR_TOLERANCE)
    return labels, readable & _face_present(skin_like, coarse)[:, None], clean


def _face_present(skin_like: np.ndarray, coarse: dict[str, np.ndarray]) -> np.ndarray:
    """Whether there is a face at all: enough skin (a rendered face shows 11 % or more of the image, noise
    under 2 %) in a patch of a face's size. An attribute read elsewhere (a "fringe" above stray skin-coloured
    pixels of noise) means nothing."""
    size = skin_like.shape[1]
    extent_ok = (coarse["rx"] >= 0.15 * size) & (coarse["rx"] <= 0.45 * size)
    extent_ok &= (coarse["ry"] >= 0.15 * size) & (coarse["ry"] <= 0.45 * size)
    return (skin_like.mean((1, 2)) >= _MIN_SKIN_FRACTION) & extent_ok


def _color_distance(pixels: np.ndarray, rgb: np.ndarray) -> np.ndarray:
    """Largest per-channel difference between ``pixels [..., 3]`` and ``rgb``
    (broadcast against them)."""
    distance = np.abs(pixels[..., 0] - rgb[..., 0])
    for channel in (1, 2):
        np.maximum(distance, np.abs(pixels[..., channel] - rgb[..., channel]), out=distance)
    return distance


def _dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Dot products over the colour axis."""
    return a[..., 0] * b[..., 0] + a[..., 1] * b[..., 1] + a[..., 2] * b[..., 2]


def _nearest_color(rgb: np.ndarray, palette: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index of the nearest palette colour to each ``[n, 3]`` colour, and the
    largest per-channel difference to it."""
    distances = np.stack([_color_distance(rgb, color) for color in palette], axis=1)
    index = distances.argmin(1)
    return index, distances[np.arange(len(rgb)), index]


def _masked_median(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Per-image, per-channel (lower) median of ``values [n, ..., 3]`` where
    ``mask [n, ...]``; 0 for an image with nothing masked."""
    n = len(values)
    ordered = np.sort(np.where(mask[..., None], values, np.inf).reshape(n, -1, 3), axis=1)
    count = mask.reshape(n, -1).sum(1)
    middle = (np.maximum(count, 1) - 1) // 2
    median = np.take_along_axis(ordered, middle[:, None, None], axis=1)[:, 0]
    return np.where(count[:, None] > 0, median, 0.0)


def _window(images, x, y, half_x, half_y):
    """Float pixels of the ``(2 half_y + 1) x (2 half_x + 1)`` window around
    each image's point ``(x, y)``, the pixel centres' coordinates, and whether
    each pixel lies inside the image (outside ones repeat the border)."""
    n, size = images.shape[:2]
    xs = np.floor(x).astype(int)[:, None] + np.arange(-half_x, half_x + 1)
    ys = np.floor(y).astype(int)[:, None] + np.arange(-half_y, half_y + 1)
    pixels = images[
        np.arange(n)[:, None, None],
        np.clip(ys, 0, size - 1)[:, :, None],
        np.clip(xs, 0, size - 1)[:, None, :],
    ].astype(np.float32)
    in_image = ((ys >= 0) & (ys < size))[:, :, None] & ((xs >= 0) & (xs < size))[:, None, :]
    return pixels, xs + 0.5, ys + 0.5, in_image


def _box_window(images, x0, x1, y0, y1, half_width, half_height):
    """Float pixels around each image's box ``[x0, x1] x [y0, y1]`` and the
    ``[n, Y, X]`` mask of those whose centres lie in it. ``half_width`` and
    ``half_height`` bound the box's half-extents over all images (pixels)."""
    half_x, half_y = math.ceil(half_width) + 1, math.ceil(half_height) + 1
    pixels, x_centres, y_centres, in_image = _window(
        images, (x0 + x1) / 2, (y0 + y1) / 2, half_x, half_y
    )
    inside_x = (x_centres >= x0[:, None]) & (x_centres <= x1[:, None])
    inside_y = (y_centres >= y0[:, None]) & (y_centres <= y1[:, None])
    return pixels, inside_y[:, :, None] & inside_x[:, None, :] & in_image


def _read_background(images: np.ndarray):
    """Background colour and the image's noise, from the top row: no part of
    any face reaches it, so it is one flat colour. Returns the nearest
    background, the row's median colour, its noise (capped), the distance
    to that background and whether the row is flat (noise within the cap)."""
    top_row = images[:, 0].astype(np.float32)
    rgb = np.median(top_row, axis=1)
    index, distance = _nearest_color(rgb, _BACKGROUND_RGB)
    # 1.4826 x median absolute deviation estimates a standard deviation.
    deviation = np.median(np.abs(top_row - rgb[:, None]), axis=1).max(1)
    noise = np.minimum(1.4826 * deviation, _MAX_NOISE)
    return index, rgb, noise, distance, 1.4826 * deviation <= _MAX_NOISE


def _skin_like(images: np.ndarray) -> np.ndarray:
    """Pixels that are mostly skin, blush over skin included. The bounds hold
    skin under any jitter and exclude every other palette colour, the
    highlight over blonde or pink hair, and half-and-half edge blends."""
    r, g, b = images[..., 0], images[..., 1], images[..., 2]
    return (r >= 225) & (g >= 170) & (g <= 245) & (b >= 155) & (b <= 220)


def _coarse_face(skin_like: np.ndarray) -> dict[str, np.ndarray]:
    """Face centre and radii to within a pixel or so, from the skin's extent."""
    n, size = skin_like.shape[:2]
    rows = np.arange(size)
    has_skin = skin_like.sum(2) >= 2  # a row with one skin-like pixel is noise (a lilac background can make one)
    top = np.where(has_skin, rows, size).min(1)
    chin = np.where(has_skin, rows + 1, 0).max(1)
    # Skin shows from the fringe, 0.66 ry above the centre, down to the chin.
    ry = np.maximum(chin - top, 1) / 1.66
    cy = chin - ry
    # The chord 0.3 ry below the centre is clear of hair in every style.
    chord = skin_like[np.arange(n), np.clip((cy + 0.3 * ry).astype(int), 0, size - 1)]
    left = chord.argmax(1)
    right = size - chord[:, ::-1].argmax(1)
    rx = np.maximum(right - left, 1) / (2 * math.sqrt(1 - 0.3**2))
    return {"top": top, "cx": (left + right) / 2, "cy": cy, "rx": rx, "ry": ry}


def _read_hair_color(images: np.ndarray, coarse: dict[str, np.ndarray], slack: np.ndarray):
    """Vote the fringe pixels just above the skin (the hair colour itself,
    apart from a thin highlight that matches no palette colour). ``slack``
    widens the tolerance with the image's noise, as the other readers do."""
    size = images.shape[1]
    depth = max(2, size // 10)
    cx, rx, top = coarse["cx"], coarse["rx"], coarse["top"]
    pixels, region = _box_window(
        images, cx - 0.5 * rx, cx + 0.5 * rx, top - depth, top.astype(float), size / 6, depth / 2
    )
    matches = np.stack(
        [(_color_distance(pixels, color) <= _COLOR_TOLERANCE + slack[:, None, None]) & region for color in _HAIR_RGB], -1
    )
    votes = matches.sum((1, 2))
    hair = votes.argmax(1)
    rgb = _masked_median(pixels, matches[np.arange(len(hair)), :, :, hair])
    ranked = np.sort(votes, 1)
    ok = (ranked[:, -1] >= 0.3 * region.sum((1, 2))) & (ranked[:, -2] <= 0.1 * ranked[:, -1])
    return hair, rgb, ok


def _read_skin_color(images: np.ndarray):
    """Mean of the pure skin pixels (jittered skin is one flat colour)."""
    n, size = images.shape[:2]
    flat = images.reshape(n, -1, 3)
    pure = np.ones(flat.shape[:2], bool)
    for channel, nominal in enumerate(_SKIN_RGB):
        pure &= np.abs(flat[..., channel].astype(np.int16) - int(nominal)) <= _SKIN_TOLERANCE
    count = pure.sum(1)
    total = np.matmul(pure[:, None, :].astype(np.float32), flat.astype(np.float32))[:, 0]
    return total / np.maximum(count, 1)[:, None], count >= 0.04 * size * size


def _fit_face(images, skin_like, skin_rgb, behind_rgb, coarse, slack):
    """Face shape, and the face's centre, radii and scale, from its boundary.

    Boundary points come from scans along rows (the sides, from the centre
    height down to near the chin, where nothing covers the edge) and along
    columns (the chin). Each is the skin's edge to a small fraction of a
    pixel, or discarded when its edge pixels are not a clean blend.
    """
    n, size = images.shape[:2]
    centres = np.arange(size) + 0.5
    left, left_ok = _boundary(images, skin_like, skin_rgb, behind_rgb, slack)
    right, right_ok = _boundary(
        images[:, :, ::-1], skin_like[:, :, ::-1], skin_rgb, behind_rgb, slack
    )
    bottom, bottom_ok = _boundary(
        images.transpose(0, 2, 1, 3)[:, :, ::-1],
        skin_like.transpose(0, 2, 1)[:, :, ::-1],
        skin_rgb,
        behind_rgb,
        slack,
    )
    rows = (centres - coarse["cy"][:, None]) / coarse["ry"][:, None]
    columns = (centres - coarse["cx"][:, None]) / coarse["rx"][:, None]
    side_rows = (rows >= 0) & (rows <= 0.85)
    chin_columns = np.abs(columns) <= 0.75
    across = np.broadcast_to(centres, (n, size))
    x = np.concatenate([left, size - right, across], 1)
    y = np.concatenate([across, across, size - bottom], 1)
    weight = np.concatenate(
        [side_rows & left_ok, side_rows & right_ok, chin_columns & bottom_ok], 1
    ).astype(np.float64)

    cx, cy, rx, ry, rms = _fit_ellipses(x, y, weight)
    # The shapes' half-widths differ by more than the scale jitter and the
    # fit's error, so the shape is the one whose fitted half-width lies in its
    # range (the best fit among those, should two qualify).
    low = _FACE_RADII[:, 0] * (1 - _MAX_SCALE_CHANGE) * size
    high = _FACE_RADII[:, 0] * (1 + _MAX_SCALE_CHANGE) * size
    outside = (np.maximum(low - rx, 0) + np.maximum(rx - high, 0)) / size
    shape = (outside + 1e-3 * rms / size).argmin(1)
    chosen = np.arange(n), shape
    face = {"cx": cx[chosen], "cy": cy[chosen], "rx": rx[chosen], "ry": ry[chosen]}
    face["unit"] = face["rx"] / _FACE_RADII[shape, 0]
    ok = (
        (outside[chosen] <= _FACE_SIZE_TOLERANCE)
        & (rms[chosen] <= 0.35 + 0.05 * slack)  # pixels; rendered faces stay below 0.2
        & (weight.sum(1) >= 8)
        & (np.abs(face["cx"] / size - 0.5) <= _MAX_SHIFT + _FACE_POSITION_TOLERANCE)
        & (np.abs(face["cy"] / size - 0.53) <= _MAX_SHIFT + _FACE_POSITION_TOLERANCE)
    )
    return shape, face, ok


def _boundary(lines, skin_like, skin_rgb, behind_rgb, slack):
    """Sub-pixel position where the skin starts along each line, scanning
    ``lines [n, L, S, 3]`` from index 0, and whether it can be trusted.

    Outside the skin lie the outline (0.014 unit thick) and then whatever is
    behind. The pixels from the first skin-like one outwards, up to the first
    one clear of the outline, are blends of skin, outline and the colour
    behind; unmixing them gives each one's skin coverage, and the coverages
    add up to the length of skin they hold (anti-aliasing ramps coverage
    linearly across an edge). A point is kept only if the colour behind is a
    known one (background or back hair) and every blend unmixes exactly:
    edges that cross other shapes (hair ends, blush, ribbons) fail that test.
    ``slack`` widens the tests for noise.
    """
    size = lines.shape[2]
    tolerance = 4 + slack[:, None]
    first = skin_like.argmax(2)
    # The first skin-like pixel is mostly skin, so the edge lies at most about
    # half a pixel outside it, the outline's outer edge up to 0.0147 size
    # further, and its anti-aliasing half a pixel beyond.
    reach = math.ceil(2 + 0.015 * size)
    index = np.clip(first[..., None] + np.arange(-reach, 1), 0, size - 1)
    pixels = np.take_along_axis(lines, index[..., None], 2).astype(np.float32)  # [n, L, reach + 1, 3]
    behind = pixels[:, :, 0]
    known = np.stack(
        [_color_distance(behind, rgb[:, None]) <= tolerance for rgb in np.moveaxis(behind_rgb, 1, 0)],
        -1,
    ).any(-1)
    coverage, residual = _skin_coverage(
        pixels[:, :, 1:], behind[:, :, None], skin_rgb[:, None, None]
    )
    clean = residual <= tolerance[..., None]
    ok = skin_like.any(2) & (first >= reach) & known & clean.all(-1)
    return first + 1.0 - coverage.sum(-1), ok


def _skin_coverage(rgb, behind_rgb, skin_rgb):
    """Unmix ``rgb`` into behind + u (skin - behind) + v (outline - behind):
    u is the pixel's skin coverage. Also returns how badly the unmixing
    misses (largest channel error; infinite where u or v is not a fraction)."""
    to_skin = skin_rgb - behind_rgb
    to_outline = _OUTLINE_RGB - behind_rgb
    offset = rgb - behind_rgb
    ss, so, oo = _dot(to_skin, to_skin), _dot(to_skin, to_outline), _dot(to_outline, to_outline)
    ps, po = _dot(offset, to_skin), _dot(offset, to_outline)
    det = np.maximum(ss * oo - so * so, 1.0)
    u = (ps * oo - po * so) / det
    v = (po * ss - ps * so) / det
    residual = offset - u[..., None] * to_skin - v[..., None] * to_outline
    miss = _color_distance(residual, np.zeros(3, np.float32))
    valid = (u >= -0.05) & (v >= -0.05) & (u + v <= 1.05)
    return np.clip(u, 0, 1), np.where(valid, miss, np.inf)


def _fit_ellipses(x, y, weight):
    """Least-squares axis-aligned ellipses through weighted points, one per face shape.

    With the aspect ratio q = rx / ry fixed, x^2 + q^2 y^2 + C x + D y + E = 0
    is linear in (C, D, E). Returns cx, cy, rx, ry and the points' rms
    distance from the ellipse, each ``[n, num_shapes]``.
    """
    basis = np.stack([x, y, np.ones_like(x)], -1)
    normal = np.einsum("np,npi,npj->nij", weight, basis, basis) + 1e-9 * np.eye(3)
    count = np.maximum(weight.sum(1), 1)
    results = []
    for q in _FACE_RADII[:, 0] / _FACE_RADII[:, 1]:
        q2 = float(q) ** 2
        target = np.einsum("np,npi->ni", weight * -(x * x + q2 * y * y), basis)
        c, d, e = np.linalg.solve(normal, target[..., None])[..., 0].T
        cx, cy = -c / 2, -d / (2 * q2)
        rx = np.sqrt(np.maximum(cx * cx + q2 * cy * cy - e, 0))
        # Algebraic residual over gradient length: the distance to first order.
        residual = x * x + q2 * y * y + c[:, None] * x + d[:, None] * y + e[:, None]
        gradient = np.hypot(2 * x + c[:, None], 2 * q2 * y + d[:, None])
        distance = residual / np.maximum(gradient, 1e-9)
        rms = np.sqrt((weight * distance * distance).sum(1) / count)
        results.append((cx, cy, rx, rx / q, rms))
    return [np.stack(values, 1) for values in zip(*results)]


def _read_eye_color(images, face, slack):
    """Vote the iris pixels of both eyes.

    At small sizes no iris pixel is pure: each blends the eye colour with
    the white, the lash, the pupil (the eye colour darkened) or the glint,
    all near grey. So a pixel votes, with weight a, for each eye colour that
    it unmixes into exactly as a * eye colour + grey with a >= 0.5 (skin is
    itself about 0.3 amber + grey).
    """
    size = images.shape[1]
    unit = face["unit"]
    largest_unit = (1 + _MAX_SCALE_CHANGE) * size
    scores = []
    for side in (-1, 1):
        # Iris centre and radii as _draw_eyes draws them.
        x = face["cx"] + side * 0.42 * face["rx"]
        y = face["cy"] + 0.1 * face["ry"] + 0.012 * unit
        pixels, iris = _box_window(
            images, x - 0.047 * unit, x + 0.047 * unit, y - 0.063 * unit, y + 0.063 * unit,
            0.047 * largest_unit, 0.063 * largest_unit,
        )
        amount = pixels @ _EYE_AMOUNT.T  # [n, Y, X, 4]
        miss = np.abs(pixels @ _EYE_MISS.T)
        votes = (miss <= 10 + slack[:, None, None, None]) & (amount >= 0.5) & iris[..., None]
        scores.append(np.where(votes, amount, 0.0).sum((1, 2)))
    scores = np.stack(scores, 1)  # [n, eye, colour]
    eyes = scores.sum(1).argmax(1)
    winner = np.take_along_axis(scores, eyes[:, None, None], 2)[..., 0]
    runner_up = np.where(np.arange(len(_EYE_RGB)) == eyes[:, None, None], 0.0, scores).max(2)
    # Both eyes must show the colour clearly (rendered eyes score 1.9 or more
    # at 32 px), and no other.
    ok = (scores.argmax(2) == eyes[:, None]).all(1) & (winner.min(1) >= 0.5)
    ok &= (runner_up <= 0.25 * winner).all(1)
    return eyes, ok


def _read_hair_style(images, face, background_rgb, back_hair_rgb, slack):
    """Back hair below the chin means long hair; beside the face low down,
    twintails; neither, short (its cap stops at cheek height)."""
    cx, cy, rx, ry, unit = (face[k] for k in ("cx", "cy", "rx", "ry", "unit"))
    largest_unit = (1 + _MAX_SCALE_CHANGE) * images.shape[1]
    # Below the chin: the long mane hangs to ry + 0.1 unit at least.
    below = _hair_or_background(
        images, background_rgb, back_hair_rgb, slack,
        (cx - 0.08 * unit, cx + 0.08 * unit, cy + ry + 0.03 * unit, cy + ry + 0.07 * unit),
        (0.08 * largest_unit, 0.02 * largest_unit),
    )
    # Beside the face, lower than the ribbons: the tails hang past the
    # mane's reach there (rx + 0.075 unit). A face near the image's edge may
    # leave no pixel in one of the two boxes; the other one then decides.
    beside = []
    for side in (-1, 1):
        inner, outer = cx + side * (rx + 0.09 * unit), cx + side * (rx + 0.13 * unit)
        beside.append(_hair_or_background(
            images, background_rgb, back_hair_rgb, slack,
            (np.minimum(inner, outer), np.maximum(inner, outer), cy + 0.15 * unit, cy + 0.25 * unit),
            (0.02 * largest_unit, 0.05 * largest_unit),
        ))
    is_long, below_clear, below_count = below
    seen = np.stack([count > 0 for *_, count in beside], 1)
    tails = np.stack([hair for hair, *_ in beside], 1) & seen
    clear = np.stack([side_clear for _, side_clear, _ in beside], 1) | ~seen
    # Twintails: every box that shows anything shows hair (and one does).
    is_twintails = (tails == seen).all(1) & seen.any(1)
    style = np.where(is_long, _LONG, np.where(is_twintails, _TWINTAILS, _SHORT))
    ok = below_clear & (below_count > 0) & seen.any(1) & clear.all(1)
    ok &= is_twintails | ~tails.any(1)  # the two sides agree
    ok &= ~(is_long & is_twintails)
    return style, ok


def _hair_or_background(images, background_rgb, back_hair_rgb, slack, box, half_extents):
    """Whether a box shows mostly back hair rather than background, whether
    it clearly shows one of the two (hardly any of the other), and how many
    pixels it holds inside the image."""
    pixels, inside = _box_window(images, *box, *half_extents)
    count = inside.sum((1, 2))
    tolerance = _COLOR_TOLERANCE / 2 + slack[:, None, None]

    def fraction(rgb):
        near = _color_distance(pixels, rgb[:, None, None]) <= tolerance
        return (near & inside).sum((1, 2)) / np.maximum(count, 1)

    hair, background = fraction(back_hair_rgb), fraction(background_rgb)
    clear = (np.maximum(hair, background) >= 0.4) & (np.minimum(hair, background) <= 0.1)
    return hair > background, clear, count
