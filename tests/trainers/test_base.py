import keras
import numpy as np
import pytest
import tensorflow as tf

import kgan
from kgan import nets


def toy_batches(batch_size=8, num_images=32, seed=0):
    return kgan.data.make_toy_dataset(batch_size, num_images=num_images, image_size=16, seed=seed)


def make_gan(seed=0, **nets_kwargs):
    keras.utils.set_random_seed(seed)
    generator = nets.build_generator("dcgan", image_size=16, latent_dim=8, width=4, **nets_kwargs)
    discriminator = nets.build_discriminator("dcgan", image_size=16, width=4)
    gan = kgan.DCGAN(generator, discriminator, seed=seed)
    gan.compile()
    return gan


def test_defaults_are_the_books():
    gan = make_gan()
    for optimizer in (gan.d_optimizer, gan.g_optimizer):
        assert isinstance(optimizer, keras.optimizers.Adam)
        assert float(optimizer.learning_rate) == pytest.approx(2e-4)
        assert optimizer.beta_1 == 0.5
    assert gan.latent_dim == 8
    assert gan.optimizer is None  # no stray RMSprop from Keras' compile


def test_call_generates_images_and_latents_are_standard_normal():
    gan = make_gan()
    images = gan(np.zeros((3, 8), "float32"))
    assert images.shape == (3, 16, 16, 3) and images.dtype == "float32"
    z = gan.sample_latent(4096).numpy()
    assert z.shape == (4096, 8) and z.dtype == np.float32
    assert abs(z.mean()) < 0.03 and abs(z.std() - 1) < 0.03
    assert not np.allclose(z, gan.sample_latent(4096).numpy())  # each draw is fresh


def test_one_fit_step_logs_finite_scalars_and_updates_both_networks_and_bn_statistics():
    gan = make_gan()
    g_before = [w.numpy().copy() for w in gan.generator.trainable_weights]
    d_before = [w.numpy().copy() for w in gan.discriminator.trainable_weights]
    g_bn = gan.generator.get_layer("project_bn").moving_mean.numpy().copy()
    d_bn = gan.discriminator.get_layer("conv2_bn").moving_variance.numpy().copy()

    history = gan.fit(toy_batches().take(1), epochs=1, verbose=0)

    assert set(history.history) == {"d_loss", "g_loss", "d_real", "d_fake"}
    for name, values in history.history.items():
        assert np.isfinite(values[0]), name
    assert 0 < history.history["d_real"][0] < 1 and 0 < history.history["d_fake"][0] < 1
    assert int(gan.d_optimizer.iterations) == 1 and int(gan.g_optimizer.iterations) == 1
    assert all(not np.array_equal(a, b.numpy()) for a, b in zip(g_before, gan.generator.trainable_weights))
    assert all(not np.array_equal(a, b.numpy()) for a, b in zip(d_before, gan.discriminator.trainable_weights))
    # Moving statistics only move when BN runs with training=True.
    assert not np.allclose(g_bn, gan.generator.get_layer("project_bn").moving_mean.numpy())
    assert not np.allclose(d_bn, gan.discriminator.get_layer("conv2_bn").moving_variance.numpy())


@keras.saving.register_keras_serializable(package="kgan_tests")
class TrainingProbe(keras.layers.Layer):
    """Identity that records the `training` flag it is called with (at trace time, inside fit)."""

    seen = []

    def call(self, inputs, training=None):
        TrainingProbe.seen.append(training)
        return inputs


def test_training_true_reaches_both_sub_models():
    keras.utils.set_random_seed(0)
    z = keras.Input((8,))
    generator = keras.Model(z, TrainingProbe(name="g_probe")(nets.build_generator("dcgan", 16, 8, 4)(z)))
    images = keras.Input((16, 16, 3))
    discriminator = keras.Model(images, nets.build_discriminator("dcgan", 16, 4)(TrainingProbe(name="d_probe")(images)))
    gan = kgan.DCGAN(generator, discriminator, seed=0)
    gan.compile()
    TrainingProbe.seen.clear()
    gan.fit(toy_batches().take(1), verbose=0)
    # D step: G once, D twice; G step: G once, D once — all in training mode.
    assert TrainingProbe.seen == [True] * 5


def first_logs(seed, data_seed=0):
    gan = make_gan(seed)
    return gan.fit(toy_batches(seed=data_seed).take(2), verbose=0).history


def test_same_seed_gives_the_same_first_losses_and_another_seed_does_not():
    first, again, other = first_logs(3), first_logs(3), first_logs(4)
    for name in first:
        np.testing.assert_allclose(first[name], again[name], rtol=1e-6, err_msg=name)
    assert not np.allclose(first["g_loss"], other["g_loss"])


def test_trainer_losses_equal_the_loss_functions_on_the_same_batch():
    """The logged D loss is the BCE of D's logits on the real batch and on G(z) for the trainer's z."""
    gan = make_gan()
    real = next(iter(toy_batches()))
    seed_state = gan.latent_seed.numpy().copy()
    z = gan.sample_latent(8)
    gan.latent_seed.assign(seed_state)  # the step will draw this same z
    fake = gan.generator(z, training=True)
    expected = kgan.losses.bce_discriminator_loss(
        gan.discriminator(real, training=True), gan.discriminator(fake, training=True)
    )
    logs = gan.train_step(real)
    assert float(gan._trackers["d_loss"].result()) == pytest.approx(float(expected), rel=1e-5)
    assert set(logs) >= {"d_loss", "g_loss"}


def test_generator_learns_to_fool_a_frozen_discriminator():
    """With D's optimizer stopped, G's loss must fall: the G update follows the right gradient."""
    gan = make_gan()
    gan.compile(d_optimizer=keras.optimizers.SGD(0.0), g_optimizer=keras.optimizers.Adam(1e-2, beta_1=0.5))
    data = toy_batches().repeat()
    losses = gan.fit(data, steps_per_epoch=1, epochs=15, verbose=0).history["g_loss"]
    assert np.mean(losses[-3:]) < np.mean(losses[:3])


def test_n_critic_needs_stacked_batches():
    keras.utils.set_random_seed(0)
    gan = kgan.GAN(nets.build_generator("dcgan", 16, 8, 4), nets.build_discriminator("dcgan", 16, 4), n_critic=2, seed=0)
    gan.compile()
    with pytest.raises(ValueError, match="2 real batches"):
        gan.fit(toy_batches().take(1), verbose=0)
    stacked = kgan.data.make_toy_dataset(4, num_images=32, image_size=16, critic_batches=2)
    gan.fit(stacked.take(1), verbose=0)
    assert int(gan.d_optimizer.iterations) == 2 and int(gan.g_optimizer.iterations) == 1


def test_penalties_and_augment_plug_in_without_a_new_train_step():
    gan = make_gan()
    seen = []

    def flip(images):
        seen.append(images.shape[0])
        return tf.reverse(images, axis=[2])

    def constant_penalty(discriminator, real, fake, seed):
        return tf.constant(2.0)

    gan.compile(penalties={"const": (0.5, constant_penalty)}, augment=flip)
    logs = gan.fit(toy_batches().take(1), verbose=0).history
    assert logs["const"] == [pytest.approx(2.0)]
    assert len(seen) == 3  # real and fake for D, fake for G


def test_trainer_config_round_trip_and_weights_checkpoint(tmp_path):
    gan = make_gan(seed=5)
    gan.fit(toy_batches().take(1), verbose=0)
    clone = kgan.DCGAN.from_config(gan.get_config())
    assert clone.latent_dim == 8 and clone.seed == 5
    clone.compile()
    gan.save_weights(tmp_path / "gan.weights.h5")
    clone.load_weights(tmp_path / "gan.weights.h5")
    z = np.random.default_rng(1).normal(size=(2, 8)).astype("float32")
    np.testing.assert_allclose(clone(z), gan(z), atol=1e-6)
    np.testing.assert_allclose(
        clone.discriminator(gan(z)), gan.discriminator(gan(z)), atol=1e-6
    )
