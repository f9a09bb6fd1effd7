"""Procedural anime-style cartoon faces: kgan's built-in toy dataset.

Each face is drawn from five discrete attributes (background colour, face
shape, hair colour, hair style, eye colour). The combination of attribute
values is the image's *mode*; there are ``num_modes()`` of them and every mode
is equally likely. Small continuous jitter (position, size, colour) makes the
images of one mode differ without ever crossing into another mode, so the
dataset is handy for spotting mode collapse: label generated samples with a
classifier and count how many modes they cover.

The renderer is pure numpy (`make_toy_dataset` batches the faces with
`kgan.data.load`). Drawing is vectorised over a batch of images and anti-aliased
analytically: each shape's coverage of a pixel comes from an approximate
signed distance to its edge, which gives smooth edges like supersampling at
a fraction of the cost: 2000 faces of 64x64 take about half a second.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence

import numpy as np

from kgan.data import load
from kgan.defaults import IMAGE_SIZE, TOY_IMAGES

__all__ = [
    "TOY_FACE_ATTRIBUTES",
    "make_toy_dataset",
    "toy_faces",
    "num_modes",
    "mode_index",
    "render_face",
]

MIN_IMAGE_SIZE = 16
MAX_IMAGE_SIZE = 256

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


def make_toy_dataset(batch_size, num_images=TOY_IMAGES, image_size=IMAGE_SIZE, seed=0, **options):
    """The embedded default: `num_images` toy faces batched by `kgan.data.load` (all of its options apply).

    `seed` fixes both the faces drawn and the shuffling order.
    """
    images, _ = toy_faces(num_images, image_size=image_size, seed=seed)
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
    c.paint(back_hair, hair_rgb * 0.8)
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
