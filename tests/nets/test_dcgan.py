"""The book's and the DCGAN paper's conv nets: parameter counts, shapes, where they differ, options, saving."""

import keras
import numpy as np
import pytest

from kgan import nets
from kgan.layers.conditional import ConditionalBatchNormalization
from kgan.nets.dcgan import ARCHITECTURES, build_discriminator, build_generator
from tests.helpers import toy_batches


def test_book_architecture_reproduces_the_books_parameter_counts():
    assert nets.build_generator("book").count_params() == 3_578_624
    assert nets.build_discriminator("book").count_params() == 6_565_633


def test_paper_architecture_parameter_counts_at_64_px():
    # G (z 100, width 64): convs 100·512·16 + 512·256·16 + 256·128·16 + 128·64·16 + 64·3·16 = 3,574,784,
    # BN 4·(512 + 256 + 128 + 64) = 3,840 (γ, β, moving mean and variance) → 3,578,624, as the book's G.
    assert nets.build_generator("dcgan").count_params() == 3_578_624
    # D: conv1 3·64·16 + 64 bias, conv2..4 64·128·16 + 128·256·16 + 256·512·16, logit 512·16 + 1 → 2,763,841;
    # BN 4·(128 + 256 + 512) = 3,584 → 2,767,425.
    assert nets.build_discriminator("dcgan").count_params() == 2_767_425


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
    with pytest.raises(ValueError, match="Unknown norm 'pixel'"):  # pixel norm is a generator's
        nets.build_discriminator("dcgan", 16, 2, norm="pixel")
    with pytest.raises(ValueError, match="Unknown upsample 'bilinear'; choose one of"):
        nets.build_generator("dcgan", 16, 4, 2, upsample="bilinear")
    with pytest.raises(ValueError, match="Unknown norm 'spectral'; choose one of"):
        nets.build_generator("dcgan", 16, 4, 2, norm="spectral")
    for rate in (1.0, -0.1, "0.5"):
        with pytest.raises(ValueError, match=r"dropout must be a rate in \[0, 1\)"):
            nets.build_generator("dcgan", 16, 4, 2, dropout=rate)


def test_networks_with_every_option_round_trip_and_train(make_gan, tmp_path):
    gan = make_gan(
        generator={"spectral_norm": True, "attention_at": 8},
        discriminator={"norm": None, "spectral_norm": True, "minibatch": "mbstd", "attention_at": 8},
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


# --- generator variants: resize-convolution upsampling, norms, dropout; the discriminator's instance norm


def generator_norm_layers(model, norm):
    expected_type = {"batch": "BatchNormalization", "layer": "GroupNormalization", "instance": "GroupNormalization",
                     "pixel": "PixelNormalization"}.get(norm)
    norm_types = ("BatchNormalization", "GroupNormalization", "PixelNormalization")
    found = [layer for layer in model.layers if type(layer).__name__ in norm_types]
    assert all(type(layer).__name__ == expected_type for layer in found)
    return found


@pytest.mark.parametrize("size", [16, 32])
@pytest.mark.parametrize("norm", nets.dcgan.GENERATOR_NORMS)
@pytest.mark.parametrize("upsample", nets.dcgan.UPSAMPLINGS)
def test_generator_variants_shapes_range_and_layers(upsample, norm, size):
    stages = {16: 2, 32: 3}[size]  # stride-2 stages; hidden layers = the projection + stages − 1
    dropout = 0.5 if size == 32 else 0.0
    keras.utils.set_random_seed(0)
    g = nets.build_generator("dcgan", size, 4, 2, upsample=upsample, norm=norm, dropout=dropout)
    assert g.output_shape == (None, size, size, 3)
    z = np.random.default_rng(0).normal(size=(3, 4)).astype("float32")
    for training in (False, True):
        images = g(z, training=training).numpy()
        assert images.shape == (3, size, size, 3) and np.all(np.isfinite(images)) and np.all(np.abs(images) <= 1.0)
    types = layer_types(g)
    assert types.count("UpSampling2D") == (stages if upsample == "resize" else 0)
    assert types.count("Dropout") == (stages if dropout else 0)
    norms = generator_norm_layers(g, norm)
    assert len(norms) == (0 if norm is None else stages)
    for layer in norms:
        if norm in ("layer", "instance"):  # built GroupNormalization: one group, or one per channel
            assert layer.groups == (1 if norm == "layer" else layer.input.shape[-1])


@pytest.mark.parametrize(
    "upsample, norm, expected",
    [
        # 16 px, z 4, width 2: project 4→4 ch, up1 4→2, to_rgb 2→3; BN 4 numbers per channel, GN 2.
        ("transpose", "batch", 256 + 128 + 96 + 4 * (4 + 2)),  # k4 kernels: 4·4·16, 4·2·16, 2·3·16 → 504
        ("transpose", "layer", 256 + 128 + 96 + 2 * (4 + 2)),  # 492
        ("resize", "batch", 256 + 72 + 54 + 4 * (4 + 2)),  # k3 convs after the resize: 4·2·9, 2·3·9 → 406
        ("resize", "instance", 256 + 72 + 54 + 2 * (4 + 2)),  # 394
        ("resize", "pixel", 256 + 72 + 54 + (4 + 2)),  # no norm weights, a bias on each hidden conv → 388
        ("transpose", None, 256 + 128 + 96 + (4 + 2)),  # 486
    ],
)
def test_generator_variant_parameter_counts(upsample, norm, expected):
    g = nets.build_generator("dcgan", 16, 4, 2, upsample=upsample, norm=norm, dropout=0.3)  # dropout: no weights
    assert g.count_params() == expected
    assert g.get_layer("project").kernel.shape == (4, 4, 4, 4)  # the 4×4 projection stays in every variant


def test_resize_generator_has_no_strided_transposed_conv():
    g = nets.build_generator("dcgan", 32, 4, 2, upsample="resize")
    transposed = [layer for layer in g.layers if isinstance(layer, keras.layers.Conv2DTranspose)]
    assert [(layer.name, layer.strides) for layer in transposed] == [("project", (1, 1))]
    assert {g.get_layer(name).kernel.shape[:2] for name in ("up1", "up2", "to_rgb")} == {(3, 3)}


def upsample_a_flat_map(generator, value=1.0):
    """Feeds a spatially constant 4×4 map through everything after the projection (a chain of layers)."""
    after = [layer.name for layer in generator.layers].index("project_relu") + 1
    x = np.full((1, 4, 4, generator.get_layer("project").filters), value, "float32")
    for layer in generator.layers[after:]:
        x = layer(x, training=False)
    return x.numpy()[0]


def test_resize_upsampling_of_a_flat_map_is_flat_where_transposed_convs_make_a_pattern():
    """Odena et al. 2016's checkerboard, from the generators' own random kernels.

    A k4 s2 transposed conv builds even output pixels from taps 0 and 2 of its kernel, odd ones from
    taps 1 and 3, so a flat input comes out periodic unless those sums happen to agree (an all-ones
    kernel makes them agree: 2 + 2 taps everywhere). A nearest resize keeps the map flat, and a
    k3 "same" conv of a flat map is flat wherever its zero padding does not reach: 1 pixel at 8×8,
    2·1 + 1 = 3 at 16×16, 2·3 + 1 = 7 at 32×32. So the 18×18 centre of a 32×32 output is one colour.
    """
    keras.utils.set_random_seed(3)
    resized = upsample_a_flat_map(nets.build_generator("dcgan", 32, 4, 4, upsample="resize"))
    keras.utils.set_random_seed(3)
    transposed = upsample_a_flat_map(nets.build_generator("dcgan", 32, 4, 4, upsample="transpose"))
    centre = slice(7, 25)
    flat, pattern = resized[centre, centre], transposed[centre, centre]
    scale = np.abs(flat).max()  # the N(0, 0.02) kernels make small numbers: compare spreads to sizes
    assert scale > 1e-5  # a real colour, not a flat zero that any net would give
    assert np.abs(flat - flat[0, 0]).max() < 1e-4 * scale
    assert np.abs(resized - flat[0, 0]).max() > 1e-2 * scale  # the borders differ: the centre test is not vacuous
    assert np.abs(pattern - pattern[0, 0]).max() > 0.1 * np.abs(pattern).max()  # what the resize test rules out
    # and the transposed pattern repeats: every stride-2 stage at most doubles the period (8 after three)
    np.testing.assert_allclose(pattern[:-8], pattern[8:], rtol=1e-4, atol=1e-4 * np.abs(pattern).max())


def test_pixel_norm_gives_each_pixel_unit_mean_square():
    keras.utils.set_random_seed(1)
    g = nets.build_generator("dcgan", 16, 4, 8, norm="pixel")
    normalized = [layer.name for layer in generator_norm_layers(g, "pixel")]
    assert normalized == ["project_pn", "up1_pn"]
    assert g.get_layer("project").use_bias and g.get_layer("up1").use_bias  # nothing else shifts them
    probe = keras.Model(g.input, [g.get_layer(name).output for name in normalized])
    z = np.random.default_rng(1).normal(size=(5, 4)).astype("float32")
    for features in probe(z):
        np.testing.assert_allclose(np.mean(np.square(features.numpy()), axis=-1), 1.0, rtol=1e-4)


def test_dropout_changes_training_outputs_but_not_sampling():
    keras.utils.set_random_seed(2)
    plain = nets.build_generator("dcgan", 16, 4, 4)
    noisy = nets.build_generator("dcgan", 16, 4, 4, dropout=0.5)
    noisy.set_weights(plain.get_weights())  # Dropout has no weights: the same nets but for the noise
    z = np.random.default_rng(2).normal(size=(4, 4)).astype("float32")
    # inference first: a training call moves BatchNorm's moving statistics
    np.testing.assert_array_equal(noisy(z, training=False).numpy(), plain(z, training=False).numpy())
    reference = plain(z, training=True).numpy()
    first, second = noisy(z, training=True).numpy(), noisy(z, training=True).numpy()
    assert np.abs(first - reference).max() > 1e-2
    assert np.abs(first - second).max() > 1e-2  # a fresh mask each call


@pytest.mark.parametrize("architecture", nets.ARCHITECTURES)
def test_instance_norm_discriminator_keeps_samples_apart(architecture):
    size = 64 if architecture == "book" else 16
    keras.utils.set_random_seed(0)
    d = nets.build_discriminator(architecture, size, 2, norm="instance")
    norms = [layer for layer in d.layers if isinstance(layer, keras.layers.GroupNormalization)]
    assert norms and all(layer.groups == layer.input.shape[-1] for layer in norms)  # a group per channel
    assert "BatchNormalization" not in layer_types(d)
    assert d.count_params() == nets.build_discriminator(architecture, size, 2, norm="layer").count_params()
    images = np.random.default_rng(0).uniform(-1, 1, (3, size, size, 3)).astype("float32")
    alone = d(images[:1], training=True).numpy()
    in_a_batch = d(images, training=True).numpy()
    np.testing.assert_allclose(in_a_batch[:1], alone, atol=1e-5)  # BatchNorm would mix the three
    assert in_a_batch.shape == (3, 1)


def test_generator_variants_round_trip_and_train(make_gan, tmp_path):
    gan = make_gan(
        generator={"upsample": "resize", "norm": "pixel", "dropout": 0.2, "spectral_norm": True},
        discriminator={"norm": "instance"},
    )
    g = gan.generator
    kernel_before = g.get_layer("up1_sn").layer.kernel.numpy().copy()
    history = gan.fit(toy_batches(num_images=16), verbose=0).history
    assert all(np.all(np.isfinite(values)) for values in history.values())
    assert not np.array_equal(kernel_before, g.get_layer("up1_sn").layer.kernel.numpy())
    z = np.random.default_rng(4).normal(size=(3, 8)).astype("float32")
    g.save(tmp_path / "g.keras")
    np.testing.assert_allclose(keras.models.load_model(tmp_path / "g.keras")(z), g(z), atol=1e-6)


def test_a_spherical_latent_puts_every_z_on_the_sphere_of_radius_sqrt_latent_dim():
    generator = nets.build_generator("dcgan", 16, 8, 4, spherical_latent=True)
    project = keras.Model(generator.input, generator.get_layer("z_on_sphere").output)
    z = np.random.default_rng(0).normal(size=(5, 8)).astype("float32") * np.array([[0.1], [1], [3], [10], [0.5]], "float32")
    np.testing.assert_allclose(np.linalg.norm(project(z), axis=1), np.sqrt(8), rtol=1e-5)  # any length → √8
    np.testing.assert_allclose(project(z) / np.linalg.norm(project(z), axis=1, keepdims=True),
                               z / np.linalg.norm(z, axis=1, keepdims=True), rtol=1e-5)  # same direction
    assert "z_on_sphere" not in [layer.name for layer in nets.build_generator("dcgan", 16, 8, 4).layers]


# ---------------------------------------------------------------- conditional nets
@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_a_conditional_generator_takes_labels_and_each_class_draws_differently(architecture):
    size = 64 if architecture == "book" else 16
    generator = build_generator(architecture, size, latent_dim=8, width=4, num_classes=3)
    assert [tuple(i.shape) for i in generator.inputs] == [(None, 8), (None,)]
    assert generator.get_layer("class_embedding").input_dim == 3
    assert sum(isinstance(layer, ConditionalBatchNormalization) for layer in generator.layers) == len(
        [layer for layer in generator.layers if layer.name.endswith("_cbn")]
    ) > 0
    z = np.random.default_rng(0).normal(size=(1, 8)).astype("float32").repeat(3, axis=0)
    images = generator([z, np.arange(3, dtype="int32")], training=True).numpy()
    assert images.shape == (3, size, size, 3)
    # the same z, three classes: three different images (the class reaches the pixels)
    assert not np.allclose(images[0], images[1]) and not np.allclose(images[1], images[2])
    plain = build_generator(architecture, size, latent_dim=8, width=4, num_classes=3, conditional_bn=False)
    assert not any(isinstance(layer, ConditionalBatchNormalization) for layer in plain.layers)


@pytest.mark.parametrize("conditioning, columns", [("projection", 1), ("acgan", 1 + 3), ("infogan", 1 + 3 + 2)])
def test_conditional_discriminators_have_the_promised_inputs_and_outputs(conditioning, columns):
    codes = {"continuous_codes": 2} if conditioning == "infogan" else {}
    discriminator = build_discriminator("dcgan", 16, width=4, num_classes=3, conditioning=conditioning, **codes)
    images = np.random.default_rng(1).uniform(-1, 1, (4, 16, 16, 3)).astype("float32")
    if conditioning == "projection":
        assert len(discriminator.inputs) == 2
        labels = np.array([0, 1, 2, 0], "int32")
        logits = discriminator([images, labels]).numpy()
        # the class changes the logit of the same image
        assert not np.allclose(logits, discriminator([images, (labels + 1) % 3]).numpy())
    else:
        assert len(discriminator.inputs) == 1
        logits = discriminator(images).numpy()
    assert logits.shape == (4, columns)


def test_bad_conditional_net_options_are_clear_errors():
    with pytest.raises(ValueError, match="num_classes must be a whole number of at least 2, got 1"):
        build_generator("dcgan", 16, num_classes=1)
    with pytest.raises(ValueError, match="conditional_bn needs num_classes and norm='batch'"):
        build_generator("dcgan", 16, num_classes=3, norm="layer", conditional_bn=True)
    with pytest.raises(ValueError, match="needs num_classes and conditioning"):
        build_discriminator("dcgan", 16, num_classes=3)
    with pytest.raises(ValueError, match="Unknown conditioning 'both'"):
        build_discriminator("dcgan", 16, num_classes=3, conditioning="both")
    with pytest.raises(ValueError, match="continuous_codes are InfoGAN's"):
        build_discriminator("dcgan", 16, num_classes=3, conditioning="acgan", continuous_codes=2)
