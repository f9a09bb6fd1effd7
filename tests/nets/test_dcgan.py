"""The book's and the DCGAN paper's conv nets: parameter counts, shapes, where they differ, options, saving."""

import keras
import numpy as np
import pytest

from kgan import nets
from tests.helpers import toy_batches


def test_book_architecture_reproduces_the_books_parameter_counts():
    assert nets.build_generator("book").count_params() == 3_578_624
    assert nets.build_discriminator("book").count_params() == 6_565_633


@pytest.mark.parametrize("architecture", nets.ARCHITECTURES)
def test_shapes_with_a_dynamic_batch(architecture):
    size = 64 if architecture == "book" else 32  # the book's discriminator needs at least 54×54
    generator = nets.build_generator(architecture, image_size=size, latent_dim=7, width=2)
    discriminator = nets.build_discriminator(architecture, image_size=size, width=2)
    assert generator.input_shape == (None, 7) and discriminator.output_shape == (None, 1)
    for batch in (1, 3):  # the book's static-batch reshape would break on one of these
        images = generator(np.random.normal(size=(batch, 7)).astype("float32"))
        assert images.shape == (batch, size, size, 3)
        assert images.dtype == "float32"
        assert np.all(np.abs(images) <= 1.0)
        assert discriminator(images).shape == (batch, 1)


def test_architectures_differ_where_the_paper_differs_from_the_book():
    book_g, paper_g = nets.build_generator("book", width=2), nets.build_generator("dcgan", width=2)
    assert "z_relu" in [layer.name for layer in book_g.layers]
    assert "z_relu" not in [layer.name for layer in paper_g.layers]
    paper_d = nets.build_discriminator("dcgan", width=2)
    first_conv_index = [layer.name for layer in paper_d.layers].index("conv1")
    assert not isinstance(paper_d.layers[first_conv_index + 1], keras.layers.BatchNormalization)
    book_d = nets.build_discriminator("book", width=2)
    assert isinstance(book_d.get_layer("conv1_bn"), keras.layers.BatchNormalization)
    # N(0, 0.02) initial kernels in the paper's architecture
    kernel = nets.build_generator("dcgan", width=16).get_layer("up1").kernel.numpy()
    assert abs(kernel.std() - 0.02) < 0.002 and abs(kernel.mean()) < 0.002


def test_generator_scales_with_image_size():
    assert nets.build_generator("dcgan", image_size=8, latent_dim=4, width=2).output_shape == (None, 8, 8, 3)
    assert nets.build_generator("dcgan", image_size=128, latent_dim=4, width=2).output_shape == (None, 128, 128, 3)


@pytest.mark.parametrize("bad", [0, 4, 48, 100])
def test_bad_image_size_is_a_clear_error(bad):
    with pytest.raises(ValueError, match="power of two"):
        nets.build_generator("dcgan", image_size=bad)


def test_book_discriminator_rejects_small_images_and_unknown_architectures():
    with pytest.raises(ValueError, match="at least 54"):
        nets.build_discriminator("book", image_size=32)
    with pytest.raises(ValueError, match="Unknown architecture 'stylegan'"):
        nets.build_generator("stylegan")


def test_networks_round_trip_through_keras_files(tmp_path):
    generator = nets.build_generator("dcgan", image_size=16, latent_dim=5, width=2)
    z = np.random.default_rng(0).normal(size=(2, 5)).astype("float32")
    generator.save(tmp_path / "g.keras")
    restored = keras.models.load_model(tmp_path / "g.keras")
    np.testing.assert_allclose(restored(z), generator(z), atol=1e-6)


def layer_types(model):
    return [type(layer).__name__ for layer in model.layers]


@pytest.mark.parametrize("architecture", nets.ARCHITECTURES)
def test_discriminator_options_insert_the_layers(architecture):
    size, attention = (64, 14) if architecture == "book" else (16, 8)
    d = nets.build_discriminator(architecture, size, 2, norm=None, spectral_norm=True, minibatch="mbstd", attention_at=attention)
    types = layer_types(d)
    conv_count = 5 if architecture == "book" else 2
    assert types.count("SpectralNormalization") == conv_count + 1  # every conv and the logit layer
    assert "MinibatchStdDev" in types and "SelfAttention2D" in types and "BatchNormalization" not in types
    assert d.get_layer(f"attention_{attention}").output.shape[1] == attention
    mbd = nets.build_discriminator(architecture, size, 2, minibatch="mbd")
    assert "MinibatchDiscrimination" in layer_types(mbd) and mbd.output_shape == (None, 1)
    images = np.random.default_rng(0).uniform(-1, 1, (4, size, size, 3)).astype("float32")
    assert d(images).shape == (4, 1) and mbd(images).shape == (4, 1)


def test_generator_options_insert_the_layers():
    g = nets.build_generator("dcgan", 32, 6, 4, spectral_norm=True, attention_at=16)
    types = layer_types(g)
    assert types.count("SpectralNormalization") == 4 and types.count("SelfAttention2D") == 1
    assert g(np.zeros((2, 6), "float32")).shape == (2, 32, 32, 3)


def test_bad_options_are_clear_errors():
    with pytest.raises(ValueError, match="attention_at=5 is not a resolution"):
        nets.build_discriminator("dcgan", 16, 2, attention_at=5)
    with pytest.raises(ValueError, match="Unknown minibatch option 'pack'"):
        nets.build_discriminator("dcgan", 16, 2, minibatch="pack")
    with pytest.raises(ValueError, match="Unknown norm 'instance'"):
        nets.build_discriminator("dcgan", 16, 2, norm="instance")


def test_networks_with_every_option_round_trip_and_train(make_gan, tmp_path):
    gan = make_gan(
        generator=dict(spectral_norm=True, attention_at=8),
        discriminator=dict(norm=None, spectral_norm=True, minibatch="mbstd", attention_at=8),
    )
    g, d = gan.generator, gan.discriminator
    u_before = d.get_layer("conv1_sn").u.numpy().copy()
    gan.fit(toy_batches(num_images=16), verbose=0)
    assert not np.array_equal(u_before, d.get_layer("conv1_sn").u.numpy())  # power iteration ran in training
    images = np.random.default_rng(1).uniform(-1, 1, (3, 16, 16, 3)).astype("float32")
    z = np.random.default_rng(2).normal(size=(3, 8)).astype("float32")
    g.save(tmp_path / "g.keras")
    d.save(tmp_path / "d.keras")
    np.testing.assert_allclose(keras.models.load_model(tmp_path / "g.keras")(z), g(z), atol=1e-6)
    np.testing.assert_allclose(keras.models.load_model(tmp_path / "d.keras")(images), d(images), atol=1e-5)
