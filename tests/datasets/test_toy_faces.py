"""kgan.datasets.toy_faces: the procedural cartoon faces, their modes, the batched dataset, and decoding faces back."""

import itertools
import math

import numpy as np
import pytest
import tensorflow as tf

from kgan.datasets.toy_faces import (
    MIN_DECODE_SIZE,
    TOY_FACE_ATTRIBUTES,
    class_attributes,
    decode_toy_faces,
    make_toy_dataset,
    mode_index,
    num_modes,
    render_face,
    toy_face_classes,
    toy_faces,
)

NAMES = list(TOY_FACE_ATTRIBUTES)
CARDINALITIES = [len(values) for values in TOY_FACE_ATTRIBUTES.values()]
BACKGROUND = NAMES.index("background")
FACE_SHAPE = NAMES.index("face_shape")
HAIR_COLOR = NAMES.index("hair_color")
SKIN_RGB = np.array([255, 224, 196])


@pytest.fixture(scope="module")
def faces64():
    return toy_faces(1200, 64, seed=0)


@pytest.fixture(scope="module")
def faces32():
    return toy_faces(1200, 32, seed=1)


def patch_feature(images, rows, cols, reduce=np.mean):
    """Per-image colour of a patch given as fractions of the image size."""
    size = images.shape[1]
    r0, r1 = int(rows[0] * size), int(rows[1] * size) + 1
    c0, c1 = int(cols[0] * size), int(cols[1] * size) + 1
    pixels = images[:, r0:r1, c0:c1].reshape(len(images), -1, 3).astype(np.float64)
    return reduce(pixels, axis=1)


def nearest_centroid_accuracy(features, targets):
    """Fit class centroids on the first half, report accuracy on the second."""
    half = len(features) // 2
    classes = np.unique(targets[:half])
    centroids = np.stack([features[:half][targets[:half] == k].mean(0) for k in classes])
    distances = ((features[half:, None] - centroids[None]) ** 2).sum(-1)
    predicted = classes[distances.argmin(1)]
    return (predicted == targets[half:]).mean()


# --- attribute table and modes ----------------------------------------------


def test_attribute_table_is_well_formed():
    assert NAMES == ["background", "face_shape", "hair_color", "hair_style", "eye_color"]
    for values in TOY_FACE_ATTRIBUTES.values():
        assert isinstance(values, tuple) and len(values) >= 2
        assert len(set(values)) == len(values)
        assert all(isinstance(v, str) for v in values)


def test_num_modes_is_product_of_cardinalities():
    assert num_modes() == math.prod(CARDINALITIES)
    assert 200 <= num_modes() <= 1000


def test_mode_index_is_bijection_in_lexicographic_order():
    combos = np.array(list(itertools.product(*(range(k) for k in CARDINALITIES))))
    ids = mode_index(combos)
    assert ids.shape == (num_modes(),)
    # itertools.product enumerates in mixed-radix order, first attribute slowest.
    np.testing.assert_array_equal(ids, np.arange(num_modes()))


def test_mode_index_matches_hand_computed_mixed_radix():
    assert CARDINALITIES == [4, 3, 4, 3, 4]
    # Radices 4, 3, 4, 3, 4 give place values 144, 48, 12, 4, 1:
    # 1*144 + 2*48 + 3*12 + 1*4 + 2*1 = 282.
    assert mode_index(np.array([[1, 2, 3, 1, 2]])).tolist() == [282]
    np.testing.assert_array_equal(mode_index(np.eye(5, dtype=int)), [144, 48, 12, 4, 1])
    assert mode_index(np.array([[3, 2, 3, 2, 3]]))[0] == num_modes() - 1 == 575


def test_mode_index_rejects_bad_labels():
    with pytest.raises(ValueError):
        mode_index(np.zeros((3, len(CARDINALITIES) - 1), int))
    bad = np.zeros((1, len(CARDINALITIES)), int)
    bad[0, 0] = CARDINALITIES[0]
    with pytest.raises(ValueError):
        mode_index(bad)


# --- toy_faces output ---------------------------------------------------------


@pytest.mark.parametrize("size", [16, 33, 64])
def test_shapes_dtypes_and_ranges(size):
    images, labels = toy_faces(10, size, seed=3)
    assert images.shape == (10, size, size, 3) and images.dtype == np.uint8
    assert labels.shape == (10, len(NAMES)) and labels.dtype == np.int32
    # Real drawings: dark lashes, bright highlights, not flat images.
    assert images.min() < 80 and images.max() > 230
    assert all(img.std() > 10 for img in images)


def test_largest_size_works():
    images, _ = toy_faces(2, 256, seed=0)
    assert images.shape == (2, 256, 256, 3)


def test_same_seed_same_data_different_seed_different_data():
    images_a, labels_a = toy_faces(20, 32, seed=7)
    images_b, labels_b = toy_faces(20, 32, seed=7)
    np.testing.assert_array_equal(images_a, images_b)
    np.testing.assert_array_equal(labels_a, labels_b)
    images_c, labels_c = toy_faces(20, 32, seed=8)
    assert not np.array_equal(labels_a, labels_c)
    assert not np.array_equal(images_a, images_c)


def test_seed_none_is_not_deterministic():
    images_a, _ = toy_faces(5, 32, seed=None)
    images_b, _ = toy_faces(5, 32, seed=None)
    assert not np.array_equal(images_a, images_b)


def test_labels_in_range_and_cover_every_value_uniformly(faces64):
    _, labels = faces64
    for column, cardinality in enumerate(CARDINALITIES):
        counts = np.bincount(labels[:, column], minlength=cardinality)
        assert labels[:, column].min() >= 0 and len(counts) == cardinality
        expected = len(labels) / cardinality
        assert counts.min() > 0.7 * expected and counts.max() < 1.3 * expected
    ids = mode_index(labels)
    assert ids.min() >= 0 and ids.max() < num_modes()
    # 1200 uniform draws over ~600 modes hit most of them.
    assert len(np.unique(ids)) > 0.9 * num_modes() * (1 - np.exp(-len(labels) / num_modes()))


# --- attributes are visible -----------------------------------------------------


@pytest.mark.parametrize("faces", ["faces64", "faces32"])
def test_corner_colour_identifies_background(faces, request):
    images, labels = request.getfixturevalue(faces)
    corners = np.concatenate(
        [
            patch_feature(images, (0, 0.06), (0, 0.06)),
            patch_feature(images, (0, 0.06), (0.94, 0.999)),
        ],
        axis=1,
    )
    assert nearest_centroid_accuracy(corners, labels[:, BACKGROUND]) == 1.0


@pytest.mark.parametrize("faces", ["faces64", "faces32"])
def test_hair_region_colour_identifies_hair_colour(faces, request):
    images, labels = request.getfixturevalue(faces)
    # Top of the head, above the fringe, for every shape and jitter.
    crown = patch_feature(images, (0.24, 0.32), (0.42, 0.58), reduce=np.median)
    hair = labels[:, HAIR_COLOR]
    assert nearest_centroid_accuracy(crown, hair) > 0.98
    means = np.stack([crown[hair == k].mean(0) for k in range(CARDINALITIES[HAIR_COLOR])])
    gaps = np.linalg.norm(means[:, None] - means[None], axis=-1)
    assert gaps[np.triu_indices(len(means), 1)].min() > 50


def test_skin_aspect_ratio_separates_face_shapes(faces64):
    images, labels = faces64
    skin = np.abs(images.astype(int) - SKIN_RGB).max(-1) < 25
    width = skin.any(axis=1).sum(-1)
    height = skin.any(axis=2).sum(-1)
    aspect = width / np.maximum(height, 1)
    shape = labels[:, FACE_SHAPE]
    by_shape = {name: aspect[shape == i] for i, name in enumerate(TOY_FACE_ATTRIBUTES["face_shape"])}
    # Jitter never pushes one face shape into another's range.
    assert by_shape["oval"].max() < by_shape["round"].min()
    assert by_shape["round"].max() < by_shape["wide"].min()


@pytest.mark.parametrize("size", [32, 64])
def test_changing_any_attribute_changes_pixels(size):
    for column, cardinality in enumerate(CARDINALITIES):
        for a, b in itertools.combinations(range(cardinality), 2):
            row_a = [0] * len(NAMES)
            row_b = [0] * len(NAMES)
            row_a[column], row_b[column] = a, b
            diff = np.abs(render_face(row_a, size).astype(int) - render_face(row_b, size))
            changed = (diff.max(-1) > 40).sum()
            # The eyes are the smallest feature: about 8 px per eye at 32x32.
            assert changed >= size * size / 80, (NAMES[column], a, b, changed)


@pytest.mark.parametrize("size", [32, 64])
def test_jittered_faces_are_nearest_to_their_own_attribute_values(size):
    rng = np.random.default_rng(1)
    trials = 25
    correct = np.zeros(len(NAMES))
    for _ in range(trials):
        row = [int(rng.integers(k)) for k in CARDINALITIES]
        image = render_face(row, size, rng=rng).astype(np.float64)
        for column, cardinality in enumerate(CARDINALITIES):
            distances = []
            for value in range(cardinality):
                candidate = list(row)
                candidate[column] = value
                distances.append(np.abs(render_face(candidate, size) - image).mean())
            correct[column] += np.argmin(distances) == row[column]
    # Chance level is 1/3 or 1/4; position jitter costs the small features a little.
    assert (correct / trials).min() >= 0.75, dict(zip(NAMES, correct / trials))


# --- jitter -------------------------------------------------------------------


def test_same_label_images_differ_slightly(faces64):
    images, labels = faces64
    ids = mode_index(labels)
    order = np.argsort(ids, kind="stable")
    sorted_ids = ids[order]
    first = order[:-1][sorted_ids[:-1] == sorted_ids[1:]]
    second = order[1:][sorted_ids[:-1] == sorted_ids[1:]]
    assert len(first) > 50
    diffs = np.abs(images[first].astype(int) - images[second]).mean(axis=(1, 2, 3))
    assert diffs.min() > 0  # never exact copies
    assert diffs.mean() < 30


def test_jitter_keeps_faces_closer_than_a_hair_colour_change():
    rng = np.random.default_rng(0)
    same, different = [], []
    for _ in range(30):
        row = [int(rng.integers(k)) for k in CARDINALITIES]
        other = list(row)
        other[HAIR_COLOR] = (row[HAIR_COLOR] + rng.integers(1, CARDINALITIES[HAIR_COLOR])) % CARDINALITIES[HAIR_COLOR]
        a = render_face(row, 64, rng=rng).astype(int)
        b = render_face(row, 64, rng=rng)
        c = render_face(other, 64, rng=rng)
        same.append(np.abs(a - b).mean())
        different.append(np.abs(a - c).mean())
    assert min(same) > 0
    assert np.mean(same) < 0.8 * np.mean(different)


# --- render_face ----------------------------------------------------------------


def test_render_face_accepts_names_indices_and_sequences():
    row = [1, 2, 0, 1, 3]
    row = [min(v, k - 1) for v, k in zip(row, CARDINALITIES)]
    by_index = {name: value for name, value in zip(NAMES, row)}
    by_name = {name: TOY_FACE_ATTRIBUTES[name][value] for name, value in zip(NAMES, row)}
    image = render_face(row, 48)
    assert image.shape == (48, 48, 3) and image.dtype == np.uint8
    np.testing.assert_array_equal(image, render_face(by_index, 48))
    np.testing.assert_array_equal(image, render_face(by_name, 48))
    np.testing.assert_array_equal(image, render_face(tuple(row), 48))


def test_render_face_jitter_is_seeded():
    row = [0] * len(NAMES)
    np.testing.assert_array_equal(render_face(row, rng=5), render_face(row, rng=5))
    assert not np.array_equal(render_face(row, rng=5), render_face(row, rng=6))
    assert not np.array_equal(render_face(row, rng=5), render_face(row))


@pytest.mark.parametrize(
    "attributes",
    [
        [0] * (len(CARDINALITIES) - 1),
        [0] * (len(CARDINALITIES) + 1),
        [CARDINALITIES[0]] + [0] * (len(CARDINALITIES) - 1),
        [-1] + [0] * (len(CARDINALITIES) - 1),
        {name: 0 for name in NAMES[:-1]},
        {**{name: 0 for name in NAMES}, "hat": 0},
        {**{name: 0 for name in NAMES}, "hair_color": "plaid"},
    ],
)
def test_render_face_rejects_bad_attributes(attributes):
    with pytest.raises(ValueError):
        render_face(attributes)


# --- arguments and speed ----------------------------------------------------------


@pytest.mark.parametrize("num_images", [0, -3, 2.5])
def test_bad_num_images_raises(num_images):
    with pytest.raises(ValueError, match="num_images"):
        toy_faces(num_images)


@pytest.mark.parametrize("image_size", [15, 257, 0, 64.0, True])
def test_bad_image_size_raises(image_size):
    with pytest.raises(ValueError, match="image_size"):
        toy_faces(4, image_size)
    with pytest.raises(ValueError, match="image_size"):
        render_face([0] * len(NAMES), image_size)


def test_make_toy_dataset_is_deterministic_for_a_seed():
    first = next(iter(make_toy_dataset(8, num_images=32, image_size=16, seed=2)))
    again = next(iter(make_toy_dataset(8, num_images=32, image_size=16, seed=2)))
    other = next(iter(make_toy_dataset(8, num_images=32, image_size=16, seed=3)))
    assert first.shape == (8, 16, 16, 3) and first.dtype == tf.float32
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)
    # the batch holds toy faces of that seed, scaled to [-1, 1]
    pool = {image.tobytes() for image in toy_faces(32, 16, seed=2)[0].astype(np.float32) / 127.5 - 1}
    assert all(image.tobytes() in pool for image in first.numpy())


# --- class labels for conditional GANs -------------------------------------------------

# rows: background, face_shape, hair_color, hair_style, eye_color
ATTRS = np.array([[0, 0, 3, 0, 2], [1, 2, 1, 2, 0], [3, 1, 0, 1, 3]])


def test_toy_face_classes_of_one_attribute_are_its_values():
    classes, names = toy_face_classes(ATTRS)  # hair_color by default
    np.testing.assert_array_equal(classes, [3, 1, 0])
    assert classes.dtype == np.int32
    assert names == ("black", "brown", "blonde", "pink")


@pytest.mark.parametrize("spec", ["hair_color+eye_color", ["hair_color", "eye_color"], ("hair_color", " eye_color")])
def test_toy_face_classes_of_two_attributes_are_mixed_radix(spec):
    classes, names = toy_face_classes(ATTRS, spec)
    # 4 eye colours: class = 4 · hair + eye → 4·3 + 2 = 14, 4·1 + 0 = 4, 4·0 + 3 = 3
    np.testing.assert_array_equal(classes, [14, 4, 3])
    assert len(names) == 16 and names[0] == "black+blue" and names[1] == "black+green"
    assert (names[14], names[4], names[3]) == ("pink+amber", "brown+blue", "black+red")


def test_toy_face_classes_first_attribute_most_significant():
    classes, names = toy_face_classes(ATTRS, "hair_style+background")
    # 4 backgrounds: class = 4 · hair_style + background → 4·0 + 0 = 0, 4·2 + 1 = 9, 4·1 + 3 = 7
    np.testing.assert_array_equal(classes, [0, 9, 7])
    assert (names[9], names[7]) == ("twintails+mint_green", "long+slate")
    # all five, in table order: the mode index
    rows = np.random.default_rng(0).integers(0, CARDINALITIES, (50, len(NAMES)))
    np.testing.assert_array_equal(toy_face_classes(rows, NAMES)[0], mode_index(rows))
    assert len(toy_face_classes(rows, NAMES)[1]) == num_modes()


@pytest.mark.parametrize("spec", ["hair_color", "eye_color+hair_style+face_shape", ["background", "eye_color"]])
def test_class_attributes_inverts_toy_face_classes(spec):
    rows = np.random.default_rng(1).integers(0, CARDINALITIES, (200, len(NAMES)))
    chosen = spec.split("+") if isinstance(spec, str) else spec
    classes, names = toy_face_classes(rows, spec)
    back = class_attributes(classes, spec)
    assert back.shape == (200, len(chosen)) and back.dtype == np.int32
    np.testing.assert_array_equal(back, rows[:, [NAMES.index(n) for n in chosen]])
    # and every class index round-trips, with its name spelling out its attribute values
    everyone = np.arange(len(names))
    np.testing.assert_array_equal(toy_face_classes(_rows_with(class_attributes(everyone, spec), chosen), spec)[0], everyone)
    for k in (0, len(names) - 1):
        values = class_attributes([k], spec)[0]
        assert names[k] == "+".join(TOY_FACE_ATTRIBUTES[n][v] for n, v in zip(chosen, values))


def _rows_with(values, chosen):
    rows = np.zeros((len(values), len(NAMES)), np.int32)
    rows[:, [NAMES.index(n) for n in chosen]] = values
    return rows


def test_class_attributes_by_hand():
    # hair_color+eye_color: 14 = 4·3 + 2 → (pink, amber); 5 = 4·1 + 1 → (brown, green)
    np.testing.assert_array_equal(class_attributes([14, 5], "hair_color+eye_color"), [[3, 2], [1, 1]])


def test_bad_attribute_specs_and_classes_are_clear_errors():
    with pytest.raises(ValueError, match=r"background, face_shape, hair_color, hair_style, eye_color.*unknown: \['hair'\]"):
        toy_face_classes(ATTRS, "hair")
    with pytest.raises(ValueError, match="unknown"):
        class_attributes([0], "hair_colour+eye_color")
    with pytest.raises(ValueError, match="must not repeat"):
        toy_face_classes(ATTRS, "hair_color+hair_color")
    with pytest.raises(ValueError, match="toy face attributes"):
        toy_face_classes(ATTRS, [])
    with pytest.raises(ValueError, match=r"attrs must have shape \[N, 5\]"):
        toy_face_classes(ATTRS[:, :3])
    with pytest.raises(ValueError, match=r"classes must be ints in \[0, 4\)"):
        class_attributes([4], "hair_color")


@pytest.mark.parametrize("critic_batches", [1, 2])
def test_make_toy_dataset_with_labels_yields_each_face_with_its_class(critic_batches):
    spec = "hair_color+eye_color"
    dataset = make_toy_dataset(4, num_images=32, image_size=16, seed=2, labels=spec, critic_batches=critic_batches)
    images, attrs = toy_faces(32, 16, seed=2)
    classes, _ = toy_face_classes(attrs, spec)
    class_of = {image.tobytes(): k for image, k in zip(images.astype(np.float32) / 127.5 - 1, classes)}
    seen = 0
    for batch, labels in dataset:
        assert labels.dtype == tf.int32 and labels.shape == ((4,) if critic_batches == 1 else (4, critic_batches))
        flat_images = batch.numpy().reshape(-1, 16, 16, 3)
        np.testing.assert_array_equal([class_of[image.tobytes()] for image in flat_images], labels.numpy().ravel())
        seen += len(flat_images)
    assert seen == 32  # one epoch: every face once, with its own class


# --- decode_toy_faces ---------------------------------------------------------------


def all_label_rows():
    return [list(row) for row in itertools.product(*(range(k) for k in CARDINALITIES))]


def box_blur(images, width):
    """Mean over a width x width neighbourhood (edges repeated), as uint8."""
    before, after = (width - 1) // 2, width // 2
    padded = np.pad(images.astype(np.float64), ((0, 0), (before, after), (before, after), (0, 0)), mode="edge")
    size = images.shape[1]
    total = sum(padded[:, dy : dy + size, dx : dx + size] for dy in range(width) for dx in range(width))
    return np.rint(total / width**2).astype(np.uint8)


@pytest.mark.parametrize("size, seed", [(64, 10), (32, 11)])
def test_decoding_is_exact_on_10000_jittered_faces(size, seed):
    images, labels = toy_faces(10_000, size, seed=seed)
    decoded_labels, decoded = decode_toy_faces(images)
    assert decoded_labels.shape == labels.shape and decoded_labels.dtype == np.int32
    assert decoded.shape == (10_000,) and decoded.dtype == bool
    wrong = np.flatnonzero((decoded_labels != labels).any(1))
    assert wrong.size == 0, (wrong[:5], labels[wrong[:5]], decoded_labels[wrong[:5]])
    assert decoded.all(), np.flatnonzero(~decoded)[:5]


@pytest.mark.parametrize("size", [MIN_DECODE_SIZE, 64])
def test_every_mode_decodes_to_itself(size):
    rows = all_label_rows()
    assert len(rows) == num_modes()
    labels, decoded = decode_toy_faces(np.stack([render_face(row, size) for row in rows]))
    np.testing.assert_array_equal(labels, rows)
    assert decoded.all()


@pytest.mark.parametrize("size", [MIN_DECODE_SIZE, 64])
def test_changing_one_attribute_changes_exactly_that_decoded_attribute(size):
    bases = [[0, 0, 0, 0, 0], [3, 2, 3, 2, 3], [1, 2, 0, 1, 2], [2, 0, 3, 2, 1]]
    variants = []  # (base, column, value, row)
    for base in bases:
        for column, cardinality in enumerate(CARDINALITIES):
            for value in range(cardinality):
                if value != base[column]:
                    row = list(base)
                    row[column] = value
                    variants.append((base, column, value, row))
    images = np.stack([render_face(row, size) for *_, row in variants] + [render_face(b, size) for b in bases])
    labels, decoded = decode_toy_faces(images)
    assert decoded.all()
    decoded_bases = dict(zip(map(tuple, bases), labels[len(variants) :]))
    for (base, column, value, _), got in zip(variants, labels):
        changed = np.flatnonzero(got != decoded_bases[tuple(base)])
        assert changed.tolist() == [column] and got[column] == value, (NAMES[column], base, value, got)


@pytest.mark.parametrize("size", [MIN_DECODE_SIZE, 64])
def test_non_faces_do_not_decode(size):
    rng = np.random.default_rng(0)
    faces, _ = toy_faces(40, size, seed=12)
    background = faces[:, :1, :1]  # the top-left pixel is bare background
    right_half_gone = faces.copy()
    right_half_gone[:, :, size // 2 :] = background
    lower_half_gone = faces.copy()
    lower_half_gone[:, size // 2 :] = background
    junk = {
        "uniform noise": rng.integers(0, 256, (40, size, size, 3), dtype=np.uint8),
        "noise around a background colour": np.clip(
            rng.normal(faces[:, :1, :1], 40, (40, size, size, 3)), 0, 255
        ).astype(np.uint8),
        "constant grey": np.full((1, size, size, 3), 128, np.uint8),
        "black": np.zeros((1, size, size, 3), np.uint8),
        "skin colour only": np.broadcast_to(SKIN_RGB.astype(np.uint8), (1, size, size, 3)),
        "blurred faces (5x5 box)": box_blur(faces, 5),
        "mean of 20 faces": np.stack([faces[:20].mean(0), faces[20:].mean(0)]).round().astype(np.uint8),
        "right half of the face missing": right_half_gone,
        "lower half of the face missing": lower_half_gone,
        "face upside down": faces[:, ::-1],
    }
    for name, images in junk.items():
        _, decoded = decode_toy_faces(np.ascontiguousarray(images))
        assert not decoded.any(), (name, np.flatnonzero(decoded))
    # The flags are per image: faces among junk still decode.
    mixed = np.concatenate([junk["uniform noise"][:5], faces[:5], right_half_gone[:5]])
    assert decode_toy_faces(mixed)[1].tolist() == [False] * 5 + [True] * 5 + [False] * 5


def test_decoding_tolerates_mild_noise_and_is_exact_where_it_decodes():
    # Generated images are never exactly clean: the exactness tests on edge
    # blends allow for the noise measured on the (flat) top row.
    rng = np.random.default_rng(1)
    faces, labels = toy_faces(300, 64, seed=13)
    noisy = np.clip(faces.astype(int) + rng.integers(-3, 4, faces.shape), 0, 255).astype(np.uint8)
    decoded_labels, decoded = decode_toy_faces(noisy)
    assert decoded.mean() >= 0.95
    np.testing.assert_array_equal(decoded_labels[decoded], labels[decoded])


@pytest.mark.parametrize(
    "images, problem",
    [
        (np.zeros((2, 64, 64, 3), np.float32), "uint8"),
        (np.zeros((64, 64, 3), np.uint8), r"\(N, H, W, 3\)"),
        (np.zeros((2, 64, 64, 4), np.uint8), r"\(N, H, W, 3\)"),
        (np.zeros((2, 64, 48, 3), np.uint8), "square"),
        (np.zeros((2, MIN_DECODE_SIZE - 1, MIN_DECODE_SIZE - 1, 3), np.uint8), str(MIN_DECODE_SIZE)),
        (np.zeros((1, 300, 300, 3), np.uint8), "256"),
    ],
)
def test_decode_rejects_bad_images(images, problem):
    with pytest.raises(ValueError, match=problem):
        decode_toy_faces(images)


def test_decode_of_no_images_is_empty():
    labels, decoded = decode_toy_faces(np.zeros((0, 64, 64, 3), np.uint8))
    assert labels.shape == (0, len(NAMES)) and decoded.shape == (0,)


def test_each_attribute_is_read_on_its_own():
    from kgan.datasets.toy_faces import read_toy_face_attributes

    face = render_face({"background": 1, "face_shape": "round", "hair_color": "pink", "hair_style": 0, "eye_color": 2}, 64)
    hidden = face.copy()
    hidden[30:42, 18:46] = (255, 224, 196)  # skin over both eyes: no iris to read
    labels, readable = read_toy_face_attributes(np.stack([face, hidden]))
    np.testing.assert_array_equal(readable[0], True)
    assert not readable[1, 4] and readable[1, 2] and readable[1, 0]  # eyes lost; hair and background still read
    assert labels[1, 2] == 3 and labels[1, 0] == 1  # pink, mint green
    assert decode_toy_faces(hidden[None])[1].tolist() == [False]  # the whole face does not decode
    # the hair's tolerance widens with the noise the top row shows, as the other readers' do
    noisy = np.clip(toy_faces(200, 32, seed=3)[0] + np.random.default_rng(0).normal(0, 6, (200, 32, 32, 3)), 0, 255)
    truth = toy_faces(200, 32, seed=3)[1]
    labels, readable = read_toy_face_attributes(noisy.astype(np.uint8))
    assert readable[:, 2].mean() > 0.95
    np.testing.assert_array_equal(labels[readable[:, 2], 2], truth[readable[:, 2], 2])


def test_a_noisy_background_still_reads_but_the_face_no_longer_decodes():
    from kgan.datasets.toy_faces import read_toy_face_attributes

    faces, truth = toy_faces(50, 32, seed=5)
    noisy = faces.astype(np.float64)
    noisy[:, :3] += np.random.default_rng(1).normal(0, 12, noisy[:, :3].shape)  # top rows: twice the flatness cap of 6
    noisy = np.clip(noisy, 0, 255).astype(np.uint8)
    labels, readable = read_toy_face_attributes(noisy)
    assert readable[:, 0].all()
    np.testing.assert_array_equal(labels[:, 0], truth[:, 0])  # the median colour is still the background
    assert not decode_toy_faces(noisy)[1].any()  # a face whose background is not flat does not decode
