"""kgan.data.labels and labelled `load`: classes from folders, clear layout errors, labels aligned with their images."""

import zipfile

import numpy as np
import pytest
import tensorflow as tf

from kgan.data import DataSourceError, load, resolve_source
from kgan.data.labels import class_counts, class_summary, infer_labels
from tests.helpers import write_png

SIZE = 8
# the labels follow the sorted class names: black 0, brown 1, pink 2
LAYOUT = {
    "pink": ["p0.png", "p1.png", "sub/p2.png"], "black": ["b0.png", "b1.png"], "brown": ["r0.png", "r1.png", "r2.png", "r3.png"],
}
CLASSES = ("black", "brown", "pink")
COUNTS = (2, 4, 3)


def red_of(label):
    """Each class is one flat red level (30, 120, 210): a batch's pixels say which class each image is."""
    return 30 + 90 * label


def label_of(images):
    """The class a batch of [-1, 1] images shows: red = (x + 1) · 127.5, class = (red - 30) / 90."""
    red = (np.asarray(images)[..., 0].mean(axis=(-1, -2)) + 1) * 127.5
    return np.rint((red - 30) / 90).astype(np.int32)


@pytest.fixture
def class_folder(tmp_path):
    """faces/<class>/*.png: red tells the class, green numbers the image (so that images differ within a class)."""
    folder = tmp_path / "faces"
    number = 0
    for name in CLASSES:  # numbered in path order
        for file in LAYOUT[name]:
            pixels = np.zeros((SIZE, SIZE, 3), np.uint8)
            pixels[..., 0] = red_of(CLASSES.index(name))
            pixels[..., 1] = 20 * number
            write_png(folder / name / file, pixels)
            number += 1
    (folder / "black" / "notes.txt").write_text("not an image, not counted")
    return folder


def zipped(folder, archive):
    with zipfile.ZipFile(archive, "w") as zf:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                zf.write(path, "faces/" + path.relative_to(folder).as_posix())
    return archive


def elements(dataset, count):
    """The first `count` elements as (images, labels) numpy pairs."""
    return [(images.numpy(), labels.numpy()) for images, labels in dataset.take(count)]


# --- infer_labels -------------------------------------------------------------------------------


def test_classes_are_the_sorted_first_folders_below_the_root(class_folder):
    source = resolve_source(class_folder)
    labels, names = infer_labels(source, source.names)
    assert names == CLASSES
    # names sorted by path: black/b0 b1, brown/r0..r3, pink/p0 p1 sub/p2 (a deeper folder still counts as pink)
    np.testing.assert_array_equal(labels, [0, 0, 1, 1, 1, 1, 2, 2, 2])
    assert labels.dtype == np.int32
    # labels for a subset of the names keep the source's classes
    subset, subset_names = infer_labels(source, [source.names[8], source.names[0]])
    np.testing.assert_array_equal(subset, [2, 0])
    assert subset_names == CLASSES


def test_a_zip_a_glob_and_a_list_of_the_folder_give_the_same_labels(class_folder, tmp_path):
    expected = infer_labels(resolve_source(class_folder))
    archive = zipped(class_folder, tmp_path / "faces.zip")  # members faces/black/b0.png ...: the root is "faces"
    for other in (archive, str(class_folder / "**" / "*.png"), sorted(class_folder.rglob("*.png"))):
        labels, names = infer_labels(resolve_source(other))
        np.testing.assert_array_equal(labels, expected[0])
        assert names == expected[1]


def test_a_zip_without_a_top_folder_has_its_classes_at_the_top(tmp_path, class_folder):
    archive = tmp_path / "flat.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in sorted(class_folder.rglob("*.png")):
            zf.write(path, path.relative_to(class_folder).as_posix())  # black/b0.png, ...
    labels, names = infer_labels(resolve_source(archive))
    assert names == CLASSES
    np.testing.assert_array_equal(labels, [0, 0, 1, 1, 1, 1, 2, 2, 2])


def test_images_directly_in_the_root_are_a_clear_error(class_folder, tmp_path):
    write_png(class_folder / "loose.png", np.zeros((SIZE, SIZE, 3), np.uint8))
    message = r"faces: 1 of 10 images lie directly in .*faces', in no class folder \(e\.g\. .*loose\.png\).*faces/<class>/\*\.png"
    with pytest.raises(DataSourceError, match=message):
        infer_labels(resolve_source(class_folder))
    with pytest.raises(DataSourceError, match="loose.png"):  # load checks the layout, before its scan
        load(class_folder, 2, image_size=SIZE, labels="inferred")
    flat = tmp_path / "flat.zip"
    with zipfile.ZipFile(flat, "w") as zf:
        zf.writestr("a.png", (class_folder / "loose.png").read_bytes())
        zf.writestr("b/c.png", (class_folder / "loose.png").read_bytes())
    with pytest.raises(DataSourceError, match="1 of 2 images lie directly in the top of the archive"):
        infer_labels(resolve_source(flat))


def test_one_class_is_a_clear_error(class_folder, tmp_path):
    for name in ("a.png", "b.png", "c.png"):
        write_png(tmp_path / "single" / "only" / name, np.zeros((SIZE, SIZE, 3), np.uint8))
    with pytest.raises(DataSourceError, match=r"all 3 images are in one class folder, 'only'.*at least 2 classes.*faces/<class>"):
        infer_labels(resolve_source(tmp_path / "single"))
    # a glob of one class folder: the images meet in that folder, so they lie in its root, no class below
    with pytest.raises(DataSourceError, match="2 of 2 images lie directly in .*black'.*at least 2 classes"):
        infer_labels(resolve_source(str(class_folder / "black" / "*.png")))


def test_a_bad_file_drops_exactly_its_image_and_its_label(class_folder):
    (class_folder / "brown" / "r1b.png").write_bytes(b"\x89PNG broken")  # sorts between r1 and r2
    for budget in ("1G", 0):
        batches = load(
            class_folder, 4, image_size=SIZE, shuffle=False, drop_remainder=False, labels="inferred", memory_budget=budget
        )
        assert batches.num_images == 9 and batches.streamed == (budget == 0)
        assert (batches.class_names, batches.class_counts) == (CLASSES, COUNTS)  # brown keeps 4 readable
        images = np.concatenate([x for x, _ in elements(batches.dataset, 3)])
        labels = np.concatenate([y for _, y in elements(batches.dataset, 3)])
        np.testing.assert_array_equal(labels, [0, 0, 1, 1, 1, 1, 2, 2, 2])
        np.testing.assert_array_equal(label_of(images), labels)
        # green numbers the good images 0..8 in path order: none missing, none shifted by the bad file
        np.testing.assert_allclose((images[:, 0, 0, 1] + 1) * 127.5, 20 * np.arange(9), atol=1e-3)


# --- labels aligned with images through shuffling, streaming and resuming -----------------------


@pytest.mark.parametrize("critic_batches", [1, 2])
def test_labels_stay_with_their_images_in_memory_streamed_and_resumed(class_folder, critic_batches):
    steps, batch = 9, 2  # 9 images: 4 batches an epoch, so 9 steps of 2 critic batches cross 4 epochs
    streams = {}
    for budget in ("1G", 0):
        batches = load(class_folder, batch, image_size=SIZE, seed=3, repeat=True, critic_batches=critic_batches,
                       labels="inferred", memory_budget=budget)
        assert batches.streamed == (budget == 0) and batches.class_counts == COUNTS
        label_shape = (None,) if critic_batches == 1 else (None, critic_batches)
        assert tf.TensorSpec(label_shape, tf.int32).is_compatible_with(batches.dataset.element_spec[1])
        stream = elements(batches.dataset, steps)
        for images, labels in stream:
            assert labels.shape == ((batch,) if critic_batches == 1 else (batch, critic_batches))
            assert images.shape == (*labels.shape, SIZE, SIZE, 3)
            np.testing.assert_array_equal(label_of(images), labels)  # every image with its own label
        for k in (1, 5):  # resumed at step k: the same images and the same labels as the straight stream's step k
            resumed = elements(batches.from_step(k), 3)
            for (images, labels), (want_images, want_labels) in zip(resumed, stream[k : k + 3], strict=True):
                np.testing.assert_array_equal(images, want_images)
                np.testing.assert_array_equal(labels, want_labels)
        streams[budget] = stream
    for (held, held_labels), (streamed, streamed_labels) in zip(streams["1G"], streams[0], strict=True):
        np.testing.assert_array_equal(held, streamed)  # both paths: the same batches
        np.testing.assert_array_equal(held_labels, streamed_labels)
    order = np.concatenate([labels.ravel() for _, labels in streams[0]])
    assert not np.array_equal(order[:9], [0, 0, 1, 1, 1, 1, 2, 2, 2])  # it did shuffle


def test_labels_in_memory_are_gathered_with_their_images():
    # 12 images whose red level is their class 0..2 (as above); labels given as an array
    labels = np.array([2, 0, 1, 1, 0, 2, 2, 1, 0, 0, 1, 2])
    pixels = np.zeros((12, SIZE, SIZE, 3), np.uint8)
    pixels[..., 0] = red_of(labels)[:, None, None]
    pixels[..., 1] = (10 * np.arange(12))[:, None, None]
    batches = load(pixels, 3, seed=0, repeat=True, critic_batches=2, labels=labels, class_names=["cat", "dog", "owl"])
    assert (batches.class_names, batches.class_counts) == (("cat", "dog", "owl"), (4, 4, 4))
    stream = elements(batches.dataset, 5)
    for images, got in stream:
        assert got.dtype == np.int32 and got.shape == (3, 2)
        np.testing.assert_array_equal(label_of(images), got)
    for (images, got), (want_images, want) in zip(elements(batches.from_step(3), 2), stream[3:5], strict=True):
        np.testing.assert_array_equal(images, want_images)
        np.testing.assert_array_equal(got, want)
    assert load(pixels, 3, labels=labels).class_names == ("0", "1", "2")


def test_without_labels_the_dataset_yields_images_alone(class_folder):
    batches = load(class_folder, 2, image_size=SIZE, seed=0)
    assert batches.dataset.element_spec == tf.TensorSpec((None, SIZE, SIZE, 3), tf.float32)
    assert batches.class_names is None and batches.class_counts is None


def test_bad_labels_are_clear_errors(class_folder):
    pixels = np.zeros((6, SIZE, SIZE, 3), np.uint8)
    with pytest.raises(DataSourceError, match="5 labels for 6 images"):
        load(pixels, 2, labels=np.zeros(5, int))
    with pytest.raises(DataSourceError, match=r"class indices >= 0, got -1 \(e\.g\. image 3\)"):
        load(pixels, 2, labels=np.array([0, 1, 0, -1, 1, 0]))
    with pytest.raises(DataSourceError, match=r"labels must be ints of shape \(N,\), got float64"):
        load(pixels, 2, labels=np.zeros(6))
    with pytest.raises(DataSourceError, match=r"label 2 \(image 4\) has no name among the 2 class_names"):
        load(pixels, 2, labels=np.array([0, 1, 0, 1, 2, 0]), class_names=["a", "b"])
    with pytest.raises(DataSourceError, match="labels from TFDS are not supported yet"):
        load("tfds:anime_faces", 2, labels="inferred")
    with pytest.raises(DataSourceError, match="images in memory need their labels as ints"):
        load(pixels, 2, labels="inferred")
    with pytest.raises(DataSourceError, match='for files use labels="inferred"'):
        load(class_folder, 2, labels=np.zeros(9, int))
    with pytest.raises(ValueError, match="labels must be None, \"inferred\" or an int array"):
        load(class_folder, 2, labels="folders")
    with pytest.raises(ValueError, match="class_names names the classes of a labels array"):
        load(class_folder, 2, labels="inferred", class_names=["a", "b", "c"])


# --- counts and summary ----------------------------------------------------------------------------


def test_class_counts_and_summary():
    assert class_counts(np.array([2, 0, 2, 2]), 4) == (1, 0, 3, 0)  # class 1 and 3: none
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 2\), got 0 to 2"):
        class_counts(np.array([0, 2]), 2)
    # 1,024 of 4,096 = 25.0%; 3,072 of 4,096 = 75.0%
    assert class_summary(("black", "pink"), (1024, 3072)) == (
        "  class 0 black: 1,024 images (25.0%)\n  class 1 pink: 3,072 images (75.0%)"
    )
    assert class_summary(("a", "b"), (3, 0)).splitlines()[1].startswith("  class 1 b: 0 images (0.0%)")
    with pytest.raises(ValueError, match="2 class names but 3 counts"):
        class_summary(("a", "b"), (1, 2, 3))
