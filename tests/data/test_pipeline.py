"""kgan.data.pipeline: `load` from every kind of source, batches in [-1, 1], seeded epochs, resumable streams."""

import numpy as np
import pytest
import tensorflow as tf

import kgan.data as kgan_data
from kgan.data import DataSourceError, load, make_anime_dataset, resolve_source
from tests.helpers import SHARED_FACES, write_png
from tests.messy_files import GOOD


def all_images(dataset):
    return np.concatenate([batch.numpy() for batch in dataset])


def unshuffled(source, batch_size=3, image_size=12, **kwargs):
    return all_images(make_anime_dataset(source, batch_size, image_size=image_size, shuffle=False, **kwargs))


def test_folder_zip_glob_and_list_give_the_same_images(image_folder, image_zip):
    folder, pixels = image_folder
    archive, _ = image_zip
    expected = pixels.astype(np.float32) / 127.5 - 1
    from_folder = unshuffled(folder)
    np.testing.assert_allclose(from_folder, expected, atol=1e-6)
    np.testing.assert_array_equal(unshuffled(archive), from_folder)
    np.testing.assert_array_equal(unshuffled(str(folder / "**" / "*.png")), from_folder)
    np.testing.assert_array_equal(unshuffled(sorted(folder.rglob("*.png"))), from_folder)


def test_batches_are_float32_in_unit_range_and_drop_the_remainder(image_folder):
    folder, _ = image_folder
    batches = list(make_anime_dataset(folder, 4, image_size=8, seed=0))
    assert len(batches) == 1  # 6 images, batch 4: the partial batch is dropped
    assert batches[0].shape == (4, 8, 8, 3) and batches[0].dtype == tf.float32
    assert -1.0 <= float(tf.reduce_min(batches[0])) and float(tf.reduce_max(batches[0])) <= 1.0
    assert len(list(make_anime_dataset(folder, 4, image_size=8, drop_remainder=False))) == 2


def test_shuffle_is_seeded_and_is_a_permutation(image_folder):
    folder, _ = image_folder
    first = all_images(make_anime_dataset(folder, 6, image_size=12, seed=1))
    again = all_images(make_anime_dataset(folder, 6, image_size=12, seed=1))
    np.testing.assert_array_equal(first, again)
    ordered = unshuffled(folder, batch_size=6)
    assert not np.array_equal(first, ordered)
    key = lambda images: sorted(image.tobytes() for image in images)  # noqa: E731
    assert key(first) == key(ordered)


def test_any_size_grayscale_rgba_and_jpeg_become_rgb_at_image_size(tmp_path):
    write_png(tmp_path / "gray.png", np.full((96, 96, 1), 200, np.uint8))
    write_png(tmp_path / "rgba.png", np.concatenate([np.full((95, 97, 3), 40, np.uint8), np.zeros((95, 97, 1), np.uint8)], -1))
    (tmp_path / "photo.jpg").write_bytes(tf.io.encode_jpeg(np.full((64, 64, 3), 128, np.uint8), quality=100).numpy())
    images = unshuffled(tmp_path, batch_size=3, image_size=64)
    assert images.shape == (3, 64, 64, 3)
    by_name = dict(zip(["gray", "photo", "rgba"], images))  # sorted by file name
    np.testing.assert_allclose(by_name["gray"], 200 / 127.5 - 1, atol=1e-6)  # gray copied to R, G and B
    np.testing.assert_allclose(by_name["rgba"], 40 / 127.5 - 1, atol=1e-6)  # alpha dropped, not blended
    np.testing.assert_allclose(by_name["photo"], 128 / 127.5 - 1, atol=2 / 127.5)


def test_fewer_images_than_a_batch_is_a_clear_error(image_folder):
    folder, _ = image_folder
    with pytest.raises(DataSourceError, match="6 images, fewer than one batch of 64"):
        make_anime_dataset(folder, 64)


def test_repeat_and_critic_batches(image_folder):
    folder, _ = image_folder
    dataset = make_anime_dataset(folder, 2, image_size=8, seed=0, repeat=True, critic_batches=3)
    element = next(iter(dataset))
    assert element.shape == (2, 3, 8, 8, 3)  # (batch, n_critic, H, W, C)
    assert len(list(dataset.take(5))) == 5  # repeats past the 6 images


@pytest.mark.skipif(not SHARED_FACES.exists(), reason="real faces zip not available (../shared/data)")
def test_real_anime_faces_zip():
    source = resolve_source(SHARED_FACES)
    assert len(source) == 18_000
    batch = next(iter(make_anime_dataset(SHARED_FACES, 16, seed=0)))
    assert batch.shape == (16, 64, 64, 3)
    assert float(tf.math.reduce_std(batch)) > 0.2  # real pictures, not a constant


def test_batches_depend_only_on_seed_and_step_so_resuming_sees_the_same_data():
    images = np.random.default_rng(0).integers(0, 256, (10, 4, 4, 3), dtype=np.uint8)
    make = lambda: kgan_data.batches_from_images(images, 3, seed=5, repeat=True)  # noqa: E731
    stream = [b.numpy() for b in make().take(9)]
    resumed = [b.numpy() for b in make().skip(4).take(5)]  # a fresh dataset object, as in a new process
    for a, b in zip(stream[4:], resumed):
        np.testing.assert_array_equal(a, b)
    # 3 full batches per epoch (10 // 3), each epoch a new permutation, each a permutation of the images
    first, second = np.concatenate(stream[:3]), np.concatenate(stream[3:6])
    assert not np.array_equal(first, second)
    key = lambda x: sorted(i.tobytes() for i in x)  # noqa: E731
    assert set(key(first)) <= set(key(images.astype(np.float32) / 127.5 - 1))
    assert int(kgan_data.batches_from_images(images, 3, seed=5).cardinality()) == 3
    assert int(kgan_data.batches_from_images(images, 3, seed=5, drop_remainder=False).cardinality()) == 4


def test_load_reports_what_it_read(image_folder):
    folder, pixels = image_folder
    batches = load(folder, 2, image_size=12, shuffle=False)
    assert (batches.num_images, batches.description, batches.resumable) == (6, str(folder), True)
    np.testing.assert_array_equal(all_images(batches.dataset), all_images(make_anime_dataset(folder, 2, 12, shuffle=False)))


def test_load_takes_images_already_in_memory(image_folder):
    _, pixels = image_folder
    batches = load(pixels, 3, shuffle=False, description="my six")
    assert (batches.num_images, batches.description, batches.resumable) == (6, "my six", True)
    np.testing.assert_array_equal(all_images(batches.dataset), pixels.astype(np.float32) / 127.5 - 1)
    assert load(pixels, 3).description == "6 images in memory"
    with pytest.raises(DataSourceError, match=r"uint8 \(N, H, W, 3\), got float32 \(6, 12, 12, 3\)"):
        load(pixels.astype(np.float32), 3)


def test_one_bad_file_is_skipped_not_fatal(image_folder):
    folder, _ = image_folder
    (folder / "zz_corrupt.png").write_bytes(b"\x89PNG broken")
    assert len(resolve_source(folder)) == 7
    assert load(folder, 1, image_size=12).num_images == 6
    assert unshuffled(folder, batch_size=1).shape[0] == 6


def test_training_runs_through_a_messy_source(messy_zip, make_gan):
    gan = make_gan()
    dataset = make_anime_dataset(messy_zip, 2, image_size=16, seed=0, repeat=True)
    history = gan.fit(dataset, epochs=1, steps_per_epoch=2 * len(GOOD), verbose=0).history  # several passes
    assert np.isfinite(history["d_loss"][0]) and int(gan.g_optimizer.iterations) == 2 * len(GOOD)
