"""kgan.metrics.features: kgan's encoder, Inception-V3 from a local file, any Keras model or SavedModel, offline."""

import hashlib
import json
import shutil

import keras
import numpy as np
import pytest
import tensorflow as tf

from kgan.datasets import toy_faces
from kgan.metrics.features import (
    ENCODER_NAME,
    FeatureExtractor,
    folder_sha256,
    inception_v3,
    load_extractor,
    train_feature_encoder,
)

SIZE = 16  # the encoder's tiny input side


def sha256_of(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def prepared(images, size, low=-1.0, high=1.0):
    """The preprocessing the extractors promise, written out: bilinear (antialiased) resize, then scale."""
    x = tf.cast(images, tf.float32)
    if images.shape[1:3] != (size, size):
        x = tf.image.resize(x, (size, size), method="bilinear", antialias=True)
    return x * ((high - low) / 255.0) + low


def layer_names(model):
    """Every layer's name in a model, nested models' layers included."""
    if not hasattr(model, "layers"):
        return []
    return [name for layer in model.layers for name in [layer.name, *layer_names(layer)]]


@pytest.fixture(scope="module")
def encoder(tmp_path_factory):
    """kgan's encoder trained briefly on 512 toy faces of 16 px: (extractor, its file)."""
    images, _ = toy_faces(512, SIZE, seed=0)
    path = tmp_path_factory.mktemp("encoder") / "encoder.keras"
    return train_feature_encoder(images, path, image_size=SIZE, steps=150, batch_size=32, seed=0, verbose=False), path


def test_encoder_trains_saves_and_round_trips(encoder):
    extractor, path = encoder
    info = extractor.info
    assert info["reconstruction_loss"]["final"] < 0.6 * info["reconstruction_loss"]["start"]
    assert info["degradation_loss"]["final"] < info["degradation_loss"]["start"]
    assert (info["image_count"], info["steps"], info["seed"], info["image_size"]) == (512, 150, 0, SIZE)
    assert json.loads(path.with_name("encoder.keras.json").read_text()) == info  # the sidecar
    assert extractor.sha256 == sha256_of(path) == info["sha256"]
    assert (extractor.name, extractor.input_size, extractor.feature_dim, extractor.path) == (
        "kgan-encoder", SIZE, 128, str(path))

    images, _ = toy_faces(40, SIZE, seed=3)
    features = extractor(images, batch_size=16)  # batches of 16, 16 and 8
    assert features.shape == (40, 128) and features.dtype == np.float32
    np.testing.assert_array_equal(features, extractor(images))  # batching changes nothing
    reloaded = load_extractor(str(path))
    assert (reloaded.name, reloaded.sha256, reloaded.input_size, reloaded.info) == (
        "kgan-encoder", extractor.sha256, SIZE, info)
    np.testing.assert_array_equal(reloaded(images), features)
    # the file holds the encoder alone, named so, ending in the standardisation
    assert reloaded.model.name == ENCODER_NAME
    names = layer_names(reloaded.model)
    assert "standardize" in names and not any(name.startswith(("up", "to_rgb", "degradation")) for name in names)
    # standardised on the training images: real faces give features of mean ≈ 0, variance ≈ 1
    train_features = extractor(toy_faces(512, SIZE, seed=0)[0])
    np.testing.assert_allclose(train_features.mean(axis=0), 0.0, atol=1e-3)
    np.testing.assert_allclose(train_features.std(axis=0), 1.0, atol=1e-3)
    # recognised without its sidecar too, by the model's name
    path.with_name("encoder.keras.json").rename(path.with_name("moved.json"))
    try:
        assert load_extractor(path).name == "kgan-encoder"
    finally:
        path.with_name("moved.json").rename(path.with_name("encoder.keras.json"))


def test_the_same_seed_gives_the_same_encoder(tmp_path):
    images, _ = toy_faces(64, SIZE, seed=0)
    probe, _ = toy_faces(8, 32, seed=5)  # shrunk to 16 px on the way in

    def features(seed, name):
        options = {"image_size": SIZE, "feature_dim": 16, "steps": 4, "batch_size": 16, "verbose": False}
        return train_feature_encoder(images, tmp_path / name, seed=seed, **options)(probe)

    first = features(0, "a.keras")
    np.testing.assert_array_equal(features(0, "b.keras"), first)
    assert np.abs(features(1, "c.keras") - first).max() > 1e-3


def test_features_respond_to_content_blur_and_noise(encoder):
    extractor, _ = encoder
    sample, _ = toy_faces(256, SIZE, seed=1)
    second_sample, _ = toy_faces(256, SIZE, seed=2)
    rng = np.random.default_rng(0)
    half = tf.image.resize(tf.cast(sample, tf.float32), (SIZE // 2, SIZE // 2), antialias=True)
    changed = {
        "blurred": tf.image.resize(half, (SIZE, SIZE)).numpy(),
        "noised": sample + rng.normal(0.0, 16.0, sample.shape),
        "colours swapped": sample[..., ::-1],
    }
    mean = extractor(sample).mean(axis=0)
    sampling_gap = np.linalg.norm(extractor(second_sample).mean(axis=0) - mean)
    for what, images in changed.items():
        images = np.clip(np.rint(images), 0, 255).astype(np.uint8)
        gap = np.linalg.norm(extractor(images).mean(axis=0) - mean)
        assert gap > 2 * sampling_gap, (what, gap, sampling_gap)


def test_inception_v3_from_a_local_weights_file(tmp_path):
    keras.utils.set_random_seed(1)
    model = keras.applications.InceptionV3(weights=None, include_top=False, pooling="avg", input_shape=(299, 299, 3))
    path = tmp_path / "inception.weights.h5"
    model.save_weights(path)
    # random weights drawn anew (the seed has moved on): the features match only if the file was loaded
    extractor = load_extractor(f"inception-v3:{path}")
    images = np.random.default_rng(0).integers(0, 256, (4, 24, 24, 3), dtype=np.uint8)
    features = extractor(images)
    assert features.shape == (4, 2048) and features.dtype == np.float32
    expected = model(prepared(images, 299), training=False).numpy()
    np.testing.assert_allclose(features, expected, rtol=1e-4, atol=1e-7)
    card = extractor.describe()
    assert card["name"] == "inception-v3" and card["sha256"] == sha256_of(path) and card["path"] == str(path)
    assert (card["input_size"], card["resize"], card["feature_dim"], card["input_range"]) == (
        299, "bilinear", 2048, [-1.0, 1.0])

    # Keras' own notop file is a legacy .h5 (weights by layer order): that loads too
    legacy = pytest.importorskip("keras.src.legacy.saving.legacy_h5_format")
    h5py = pytest.importorskip("h5py")
    with h5py.File(tmp_path / "notop.h5", "w") as file:
        legacy.save_weights_to_hdf5_group(file, model)
    loaded = inception_v3(tmp_path / "notop.h5").model
    for mine, theirs in zip(loaded.weights, model.weights, strict=True):
        np.testing.assert_array_equal(mine.numpy(), theirs.numpy())


def test_inception_v3_names_a_missing_or_unfit_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere.h5.*inception_v3_weights_tf_dim_ordering_tf_kernels_notop"):
        load_extractor(f"inception-v3:{tmp_path / 'nowhere.h5'}")
    tiny = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    tiny.save_weights(tmp_path / "tiny.weights.h5")
    with pytest.raises(ValueError, match="tiny.weights.h5.*does not fit"):
        inception_v3(tmp_path / "tiny.weights.h5")


def tiny_feature_model():
    keras.utils.set_random_seed(2)
    images = keras.Input((SIZE, SIZE, 3))
    x = keras.layers.Conv2D(6, 3, 2, "same", activation="relu")(images)
    x = keras.layers.GlobalAveragePooling2D()(x)
    return keras.Model(images, keras.layers.Dense(8)(x), name="tiny_features")


def test_any_keras_model_file_or_savedmodel(tmp_path):
    model = tiny_feature_model()
    model.save(tmp_path / "tiny.keras")
    model.export(str(tmp_path / "tiny_savedmodel"), verbose=False)
    images = np.random.default_rng(1).integers(0, 256, (7, 24, 24, 3), dtype=np.uint8)  # shrunk to 16
    expected = model(prepared(images, SIZE), training=False).numpy()

    from_file = load_extractor(tmp_path / "tiny.keras")
    assert (from_file.name, from_file.input_size, from_file.feature_dim) == ("keras-model", SIZE, 8)
    assert from_file.sha256 == sha256_of(tmp_path / "tiny.keras") and from_file.info == {}
    np.testing.assert_allclose(from_file(images, batch_size=3), expected, rtol=1e-5, atol=1e-6)
    assert from_file.describe()["resize"] == "bilinear, antialias"

    saved = load_extractor(str(tmp_path / "tiny_savedmodel"))
    assert (saved.name, saved.input_size, saved.feature_dim) == ("savedmodel", SIZE, 8)  # read from the signature
    np.testing.assert_allclose(saved(images, batch_size=4), expected, rtol=1e-5, atol=1e-6)
    # the folder's hash: the same for a copy elsewhere, different for another model
    shutil.copytree(tmp_path / "tiny_savedmodel", tmp_path / "copy")
    assert saved.sha256 == folder_sha256(tmp_path / "copy")
    keras.Sequential([keras.Input((SIZE, SIZE, 3)), keras.layers.GlobalAveragePooling2D()]).export(
        str(tmp_path / "other"), verbose=False)
    assert folder_sha256(tmp_path / "other") != saved.sha256

    # another input range: pixels go in as 0…255
    raw = load_extractor(tmp_path / "tiny.keras", input_range=(0, 255))
    expected_raw = model(prepared(images, SIZE, 0.0, 255.0), training=False).numpy()
    np.testing.assert_allclose(raw(images), expected_raw, rtol=1e-5, atol=1e-5)
    assert raw.describe()["input_range"] == [0.0, 255.0]


def test_extractors_take_uint8_and_record_their_resize(tmp_path):
    extractor = load_extractor(tiny_feature_model())
    assert extractor.resize == "bilinear (antialias when shrinking)"  # the policy, before any images
    pixels = np.random.default_rng(0).integers(0, 256, (3, SIZE, SIZE, 3), dtype=np.uint8)
    with pytest.raises(ValueError, match="uint8.*float32.*to_uint8"):
        extractor(pixels.astype(np.float32) / 127.5 - 1)
    with pytest.raises(ValueError, match="uint8"):
        extractor(pixels[..., 0])  # no channel axis
    extractor(pixels)
    assert extractor.describe()["resize"] == "none"
    extractor(np.zeros((2, 8, 8, 3), np.uint8))  # enlarged: antialiasing would change nothing
    assert extractor.describe()["resize"] == f"{SIZE}x{SIZE}: none; 8x8: bilinear"
    assert extractor.describe()["image_sizes"] == [f"{SIZE}x{SIZE}", "8x8"]
    assert extractor(np.zeros((0, SIZE, SIZE, 3), np.uint8)).shape == (0, 8)
    assert isinstance(extractor, FeatureExtractor)


def test_load_extractor_names_what_it_cannot_use(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing.keras.*SavedModel folder"):
        load_extractor(tmp_path / "nothing.keras")
    with pytest.raises(ValueError, match="without saved_model.pb"):
        load_extractor(tmp_path)
    (tmp_path / "weights.npz").write_bytes(b"")
    with pytest.raises(ValueError, match="weights.npz.*expected a .keras"):
        load_extractor(tmp_path / "weights.npz")
    (tmp_path / "broken.keras").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="broken.keras"):
        load_extractor(tmp_path / "broken.keras")
