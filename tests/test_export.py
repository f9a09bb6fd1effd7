"""kgan.export: a SavedModel generator that a TensorFlow-only process loads and samples like Keras."""

import dataclasses
import json
import subprocess
import sys

import numpy as np
import pytest

import kgan
from kgan.export import export_generator, load_generator, sample_images
from kgan.run import RunConfig, train
from tests.helpers import subprocess_env, toy_batches

LOAD_WITH_TENSORFLOW_ONLY = r"""
import json, sys
import numpy as np
import tensorflow as tf
model = tf.saved_model.load(sys.argv[1])
z = np.load(sys.argv[2])
out = {
    "kgan_imported": any(name == "kgan" or name.startswith("kgan.") for name in sys.modules),
    "generate": model.generate(z).numpy().tolist(),
    "generate_images": model.generate_images(z).numpy().tolist(),
    "serving_default": model.signatures["serving_default"](z=tf.constant(z))["output_0"].numpy().tolist(),
    "sample_a": model.sample(tf.constant(3), tf.constant(7, tf.int64)).numpy().tolist(),
    "sample_b": model.sample(tf.constant(3), tf.constant(7, tf.int64)).numpy().tolist(),
    "sample_c": model.sample(tf.constant(3), tf.constant(8, tf.int64)).numpy().tolist(),
    "latent_dim": model.signatures["generate"].structured_input_signature[1]["z"].shape.as_list(),
    "sample_signature": {k: v.dtype.name for k, v in model.signatures["sample"].structured_input_signature[1].items()},
}
# every dtype pair of (n, seed), and Python ints, draw the same images for the same values
dtypes = {"int32": tf.int32, "int64": tf.int64}
out["sample_dtypes"] = {
    f"{n_dtype}/{seed_dtype}": model.sample(tf.constant(3, dtypes[n_dtype]), tf.constant(7, dtypes[seed_dtype])).numpy().tolist()
    for n_dtype in dtypes for seed_dtype in dtypes
}
out["sample_python_ints"] = model.sample(3, 7).numpy().tolist()
out["sample_errors"] = {}
for n in (0, -1):
    try:
        model.sample(tf.constant(n), tf.constant(7)).numpy()
        out["sample_errors"][n] = "no error"
    except tf.errors.InvalidArgumentError as error:
        out["sample_errors"][n] = error.message
print(json.dumps(out))
"""


def test_exported_generator_with_spectral_norm_reloads_with_tensorflow_alone(make_gan, tmp_path):
    gan = make_gan(
        generator={"spectral_norm": True, "attention_at": 8},
        discriminator={"norm": None, "spectral_norm": True, "minibatch": "mbstd"},
    )
    generator = gan.generator
    gan.fit(toy_batches(num_images=16), verbose=0)  # move u, BN stats and γ
    export_generator(gan, tmp_path / "saved")
    z = np.random.default_rng(0).normal(size=(5, 8)).astype("float32")
    np.save(tmp_path / "z.npy", z)

    result = subprocess.run(
        [sys.executable, "-c", LOAD_WITH_TENSORFLOW_ONLY, str(tmp_path / "saved"), str(tmp_path / "z.npy")],
        capture_output=True, text=True, timeout=300, env=subprocess_env(), check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert not out["kgan_imported"]  # (TensorFlow may load Keras itself; kgan's layers must not be needed)
    expected = generator(z, training=False).numpy()
    assert np.max(np.abs(np.array(out["generate"]) - expected)) <= 1e-5
    expected_uint8 = kgan.images.to_uint8(expected)
    assert np.max(np.abs(np.array(out["generate_images"]).astype(int) - expected_uint8.astype(int))) <= 1
    assert out["serving_default"] == out["generate_images"]
    assert out["latent_dim"] == [None, 8]
    # sample(n, seed) draws kgan.latent.sample_latent(n, latent_dim, seed), as kgan's grids do
    expected_sample = kgan.images.to_uint8(generator(kgan.latent.sample_latent(3, 8, 7), training=False)).astype(int)
    assert np.abs(np.array(out["sample_a"]) - expected_sample).max() <= 1
    sample = np.array(out["sample_a"])
    assert sample.shape == (3, 16, 16, 3) and sample.min() >= 0 and sample.max() <= 255
    assert out["sample_a"] == out["sample_b"] and out["sample_a"] != out["sample_c"]
    assert len(out["sample_dtypes"]) == 4
    for combination, images in out["sample_dtypes"].items():
        assert images == out["sample_a"], combination
    assert out["sample_python_ints"] == out["sample_a"]
    assert out["sample_signature"] == {"n": "int32", "seed": "int64"}  # TF-Serving's signature is unchanged
    for n, message in out["sample_errors"].items():
        assert "n must be at least 1" in message, (n, message)


def test_generators_of_a_run_load_from_every_file_and_sample_alike(tmp_path):
    tiny = RunConfig(epochs=1, steps_per_epoch=2, batch_size=8, image_size=16, width=4, latent_dim=8, toy_images=64, seed=1, verbose=0)
    result = train(dataclasses.replace(tiny, out=str(tmp_path / "run")))
    z = np.random.default_rng(0).normal(size=(2, 8)).astype("float32")
    expected = result.gan.ema_generator()(z, training=False)  # the default recipe keeps an EMA: every file holds it
    for path in ("run", "run/gan.keras", "run/generator.keras"):
        np.testing.assert_allclose(load_generator(str(tmp_path / path))(z, training=False), expected, atol=1e-6)
        np.testing.assert_array_equal(sample_images(str(tmp_path / path), 5, 3), sample_images(str(tmp_path / "run"), 5, 3))
    kgan.export.export_generator(result.gan, tmp_path / "saved")
    assert np.abs(sample_images(str(tmp_path / "saved"), 5, 3).astype(int) - sample_images(str(tmp_path / "run"), 5, 3)).max() <= 1
    for n in (0, -2):
        with pytest.raises(ValueError, match=f"n must be at least 1, got {n}"):
            sample_images(str(tmp_path / "saved"), n, 3)
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="no gan.keras or generator.keras"):
        load_generator(str(tmp_path / "empty"))
    # sampling in batches draws the same images as one batch
    np.testing.assert_array_equal(
        sample_images(str(tmp_path / "run"), 5, 3, batch_size=2), sample_images(str(tmp_path / "run"), 5, 3)
    )


def test_a_conditional_export_matches_keras_for_every_labelled_endpoint(tmp_path):
    import tensorflow as tf

    from kgan.latent import class_labels, generate, sample_latent
    from tests.test_latent import conditional_generator

    generator = conditional_generator(num_classes=3, latent_dim=8)
    names = ("black", "blond", "red")
    export_generator(generator, tmp_path / "saved", class_names=names)
    model = tf.saved_model.load(str(tmp_path / "saved"))
    assert int(model.num_classes()) == 3
    assert [name.decode() for name in model.class_names().numpy()] == list(names)

    z = np.random.default_rng(0).normal(size=(5, 8)).astype("float32")
    labels = np.array([0, 2, 1, 2, 0], np.int32)
    expected = generate(generator, z, labels).numpy()
    assert np.max(np.abs(model.generate(z, labels).numpy() - expected)) <= 1e-5
    uint8 = model.generate_images(z, labels).numpy()
    assert np.abs(uint8.astype(int) - kgan.images.to_uint8(expected).astype(int)).max() <= 1
    served = model.signatures["serving_default"](z=tf.constant(z), labels=tf.constant(labels))["output_0"].numpy()
    np.testing.assert_array_equal(served, uint8)
    assert model.signatures["generate"].structured_input_signature[1]["labels"].dtype == tf.int32

    def keras_sample(n, seed, labels):
        return kgan.images.to_uint8(generate(generator, sample_latent(n, 8, seed), labels)).astype(int)

    # sample(n, seed, label): all of one class, or (-1) the classes class_labels(n, K, seed) draws
    for label in (0, 1, 2):
        assert np.abs(model.sample(4, 7, label).numpy() - keras_sample(4, 7, label)).max() <= 1, label
    random_classes = model.sample(6, 7, -1).numpy()
    assert np.abs(random_classes - keras_sample(6, 7, class_labels(6, 3, 7))).max() <= 1
    assert len(set(class_labels(6, 3, 7).numpy())) > 1  # (so -1 is not some single class in disguise)
    assert not np.array_equal(model.sample(6, 7, 0).numpy(), random_classes)
    dtypes = (tf.int32, tf.int64)
    for n_dtype in dtypes:
        for seed_dtype in dtypes:
            for label_dtype in dtypes:
                images = model.sample(tf.constant(6, n_dtype), tf.constant(7, seed_dtype), tf.constant(-1, label_dtype))
                np.testing.assert_array_equal(images.numpy(), random_classes)
    assert {k: v.dtype.name for k, v in model.signatures["sample"].structured_input_signature[1].items()} == {
        "n": "int32", "seed": "int64", "label": "int32",
    }
    for label in (3, -2):
        with pytest.raises(tf.errors.InvalidArgumentError, match=r"label must be -1 \(random classes\) or a class in 0\.\.2"):
            model.sample(4, 7, label)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"labels must be classes in 0\.\.2"):
        model.generate(z, np.array([0, 1, 2, 3, 0], np.int32))
    with pytest.raises(tf.errors.InvalidArgumentError, match="n must be at least 1"):
        model.sample(0, 7, 1)


def test_conditional_generators_sample_alike_from_every_kind_of_file(tmp_path):
    from kgan.latent import class_labels, generate, sample_latent
    from tests.test_latent import conditional_generator

    generator = conditional_generator(num_classes=3, latent_dim=8)
    (tmp_path / "run").mkdir()
    generator.save(tmp_path / "run" / "generator.keras")
    export_generator(generator, tmp_path / "saved")
    expected = kgan.images.to_uint8(generate(generator, sample_latent(7, 8, 3), class_labels(7, 3, 3))).astype(int)
    of_class_2 = kgan.images.to_uint8(generate(generator, sample_latent(7, 8, 3), 2)).astype(int)
    for path in ("run", "run/generator.keras", "saved"):
        path = str(tmp_path / path)
        assert np.abs(sample_images(path, 7, 3).astype(int) - expected).max() <= 1, path
        assert np.abs(sample_images(path, 7, 3, label=-1).astype(int) - expected).max() <= 1, path
        assert np.abs(sample_images(path, 7, 3, label=2).astype(int) - of_class_2).max() <= 1, path
        np.testing.assert_array_equal(sample_images(path, 7, 3, batch_size=2), sample_images(path, 7, 3))
        with pytest.raises(ValueError, match=r"label must be -1 \(random classes\) or a class in 0\.\.2, got 3"):
            sample_images(path, 7, 3, label=3)
    with pytest.raises(ValueError, match="holds 2 names for 3 classes"):
        export_generator(generator, tmp_path / "bad", class_names=("a", "b"))


def test_unconditional_generators_refuse_labels_and_class_names(make_gan, tmp_path):
    gan = make_gan(compile=False)
    gan.generator.save(tmp_path / "generator.keras")
    with pytest.raises(ValueError, match="label=1 was given, but the generator .* is unconditional"):
        sample_images(str(tmp_path / "generator.keras"), 2, 0, label=1)
    with pytest.raises(ValueError, match="class_names were given, but the generator is unconditional"):
        export_generator(gan, tmp_path / "saved", class_names=("a", "b"))
