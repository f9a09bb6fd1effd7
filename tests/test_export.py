"""kgan.export: a SavedModel generator that a TensorFlow-only process loads and samples like Keras."""

import json
import subprocess
import sys

import numpy as np

import kgan
from kgan.export import export_generator
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
}
print(json.dumps(out))
"""


def test_exported_generator_with_spectral_norm_reloads_with_tensorflow_alone(make_gan, tmp_path):
    gan = make_gan(
        generator=dict(spectral_norm=True, attention_at=8),
        discriminator=dict(norm=None, spectral_norm=True, minibatch="mbstd"),
    )
    generator = gan.generator
    gan.fit(toy_batches(num_images=16), verbose=0)  # move u, BN stats and γ
    export_generator(gan, tmp_path / "saved")
    z = np.random.default_rng(0).normal(size=(5, 8)).astype("float32")
    np.save(tmp_path / "z.npy", z)

    result = subprocess.run(
        [sys.executable, "-c", LOAD_WITH_TENSORFLOW_ONLY, str(tmp_path / "saved"), str(tmp_path / "z.npy")],
        capture_output=True, text=True, timeout=300, env=subprocess_env(),
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
