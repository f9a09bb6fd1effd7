"""The 2D MLP nets of the mode-collapse lab: shapes, packing, options, `.keras` round trips, and a short training run."""

import keras
import numpy as np
import pytest

import kgan
from kgan.datasets import mixture_dataset, ring_of_gaussians
from kgan.latent import generate_samples
from kgan.layers import MinibatchDiscrimination, MinibatchStdDev, PackSamples, SpectralNormalization
from kgan.metrics import mode_coverage
from kgan.nets import build_mlp_discriminator, build_mlp_generator


def layer_types(model):
    return [type(layer) for layer in model.layers]


def test_packing_discriminator_rejects_a_batch_it_cannot_divide():
    with pytest.raises(ValueError, match="not divisible by pack=4"):
        build_mlp_discriminator(hidden=(8,), pack=4)(np.zeros((10, 2), "float32"))


def test_generator_shapes_and_options():
    keras.utils.set_random_seed(0)
    generator = build_mlp_generator(latent_dim=3, hidden=(16, 8), output_dim=2)
    assert generator.input_shape == (None, 3) and generator(np.zeros((5, 3), "float32")).shape == (5, 2)
    assert [layer.units for layer in generator.layers if isinstance(layer, keras.layers.Dense)] == [16, 8, 2]
    assert keras.layers.BatchNormalization not in layer_types(generator)
    with_bn = build_mlp_generator(hidden=(4, 4, 4), batch_norm=True)
    assert layer_types(with_bn).count(keras.layers.BatchNormalization) == 3
    # the output is linear: the grid's ±4 must be reachable
    assert generator.layers[-1].activation is keras.activations.linear


def test_generator_output_scale_multiplies_the_output():
    z = np.random.default_rng(0).normal(size=(6, 2)).astype("float32")
    keras.utils.set_random_seed(0)
    unscaled = build_mlp_generator(hidden=(8, 8))
    keras.utils.set_random_seed(0)
    scaled = build_mlp_generator(hidden=(8, 8), output_scale=4.0)
    np.testing.assert_allclose(scaled(z), 4.0 * np.asarray(unscaled(z)), rtol=1e-5, atol=1e-6)
    assert keras.layers.Rescaling in layer_types(scaled) and keras.layers.Rescaling not in layer_types(unscaled)


@pytest.mark.parametrize("minibatch", [None, "mbd", "mbstd"])
@pytest.mark.parametrize("pack", [1, 2])
def test_discriminator_shapes_and_options(minibatch, pack):
    keras.utils.set_random_seed(0)
    discriminator = build_mlp_discriminator(hidden=(16, 16), minibatch=minibatch, pack=pack, mbd_kernels=6, mbd_dim=3)
    assert discriminator.input_shape == (None, 2)
    assert discriminator(np.zeros((8, 2), "float32")).shape == (8 // pack, 1)
    types = layer_types(discriminator)
    assert (PackSamples in types) == (pack > 1)
    assert (MinibatchDiscrimination in types) == (minibatch == "mbd")
    assert (MinibatchStdDev in types) == (minibatch == "mbstd")
    first_dense = next(layer for layer in discriminator.layers if isinstance(layer, keras.layers.Dense))
    assert first_dense.kernel.shape == (2 * pack, 16)  # D sees pack samples at once
    if minibatch == "mbd":
        assert discriminator.get_layer("logit").kernel.shape == (16 + 6, 1)
    if minibatch == "mbstd":
        assert discriminator.get_layer("logit").kernel.shape == (16 + 1, 1)
    with pytest.raises(ValueError, match="Unknown minibatch"):
        build_mlp_discriminator(minibatch="mean")


def test_minibatch_features_make_d_see_the_batch():
    keras.utils.set_random_seed(0)
    x = np.random.default_rng(0).normal(size=(8, 2)).astype("float32")
    plain = build_mlp_discriminator(hidden=(16,))
    for minibatch in ("mbd", "mbstd"):
        discriminator = build_mlp_discriminator(hidden=(16,), minibatch=minibatch)
        # sample 0 scored with two different sets of batch mates
        other = np.concatenate([x[:1], x[1:] * 3.0])
        assert not np.allclose(discriminator(x)[0], discriminator(other)[0])
    np.testing.assert_allclose(plain(x)[0], plain(np.concatenate([x[:1], x[1:] * 3.0]))[0], rtol=1e-6)


def test_spectral_norm_wraps_every_dense():
    discriminator = build_mlp_discriminator(hidden=(16, 16), spectral_norm=True)
    wrapped = [layer for layer in discriminator.layers if isinstance(layer, SpectralNormalization)]
    assert len(wrapped) == 3  # two hidden layers and the logit
    assert not any(isinstance(layer, keras.layers.Dense) for layer in discriminator.layers)


@pytest.mark.parametrize(
    "options",
    [dict(spectral_norm=True, minibatch="mbd", pack=2), dict(minibatch="mbstd", pack=4)],
    ids=["sn-mbd-pack2", "mbstd-pack4"],
)
def test_keras_round_trip(options, tmp_path):
    keras.utils.set_random_seed(0)
    x = np.random.default_rng(1).normal(size=(8, 2)).astype("float32")
    for model in (build_mlp_generator(hidden=(8, 8), batch_norm=True, output_scale=4.0), build_mlp_discriminator(hidden=(8, 8), **options)):
        path = tmp_path / f"{model.name}.keras"
        model.save(path)
        loaded = keras.models.load_model(path)
        np.testing.assert_allclose(loaded(x), model(x), rtol=1e-5, atol=1e-6)
        assert [type(layer) for layer in loaded.layers] == layer_types(model)


def test_short_plain_gan_run_raises_high_quality_on_the_ring():
    ring = ring_of_gaussians()
    keras.utils.set_random_seed(0)
    generator = build_mlp_generator(hidden=(64, 64, 64))
    gan = kgan.DCGAN(generator, build_mlp_discriminator(hidden=(64, 64, 64)), seed=0)
    gan.compile(steps_per_execution=50)  # the book's Adam(2e-4, beta_1=0.5) for both
    before = mode_coverage(generate_samples(generator, 2500, seed=1), ring.means, ring.std)
    gan.fit(mixture_dataset(ring.means, ring.std, 100, seed=0), epochs=1, steps_per_epoch=1200, verbose=0)
    after = mode_coverage(generate_samples(generator, 2500, seed=1), ring.means, ring.std)
    assert before.high_quality < 0.02 and before.modes_covered <= 1  # z → a blob near the origin
    assert after.high_quality > before.high_quality + 0.1  # samples have moved onto the ring's modes
    assert after.modes_covered >= 4
