"""kgan.GAN, the loop every trainer configures: the step, its randomness, the trick interface, the EMA, saving."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import ops

import kgan
from kgan import nets
from tests.helpers import IMAGE_SIZE, LATENT_DIM, WIDTH, toy_batches


def test_call_generates_images_and_latents_are_standard_normal(make_gan):
    gan = make_gan()
    images = gan(np.zeros((3, LATENT_DIM), "float32"))
    assert images.shape == (3, IMAGE_SIZE, IMAGE_SIZE, 3) and images.dtype == "float32"
    z = gan.sample_latent(4096).numpy()
    assert z.shape == (4096, LATENT_DIM) and z.dtype == np.float32
    assert abs(z.mean()) < 0.03 and abs(z.std() - 1) < 0.03
    assert not np.allclose(z, gan.sample_latent(4096).numpy())  # each draw is fresh


def test_one_fit_step_logs_finite_scalars_and_updates_both_networks_and_bn_statistics(make_gan):
    gan = make_gan()
    g_before = [w.numpy().copy() for w in gan.generator.trainable_weights]
    d_before = [w.numpy().copy() for w in gan.discriminator.trainable_weights]
    g_bn = gan.generator.get_layer("project_bn").moving_mean.numpy().copy()
    d_bn = gan.discriminator.get_layer("conv2_bn").moving_variance.numpy().copy()

    history = gan.fit(toy_batches().take(1), epochs=1, verbose=0)

    assert set(history.history) == {"d_loss", "g_loss", "d_real", "d_fake", "d_grad_norm", "g_grad_norm"}
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
    z = keras.Input((LATENT_DIM,))
    generator = keras.Model(z, TrainingProbe(name="g_probe")(nets.build_generator("dcgan", IMAGE_SIZE, LATENT_DIM, WIDTH)(z)))
    images = keras.Input((IMAGE_SIZE, IMAGE_SIZE, 3))
    discriminator = keras.Model(images, nets.build_discriminator("dcgan", IMAGE_SIZE, WIDTH)(TrainingProbe(name="d_probe")(images)))
    gan = kgan.DCGAN(generator, discriminator, seed=0)
    gan.compile()
    TrainingProbe.seen.clear()
    gan.fit(toy_batches().take(1), verbose=0)
    # D step: G once, D twice; G step: G once, D once — all in training mode.
    assert TrainingProbe.seen == [True] * 5


def test_same_seed_gives_the_same_first_losses_and_another_seed_does_not(make_gan):
    def first_logs(seed):
        return make_gan(seed=seed).fit(toy_batches().take(2), verbose=0).history

    first, again, other = first_logs(3), first_logs(3), first_logs(4)
    for name in first:
        np.testing.assert_allclose(first[name], again[name], rtol=1e-6, err_msg=name)
    assert not np.allclose(first["g_loss"], other["g_loss"])


def test_trainer_losses_equal_the_loss_functions_on_the_same_batch(make_gan):
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


def test_n_critic_needs_stacked_batches(make_gan):
    gan = make_gan("gan", n_critic=2)
    with pytest.raises(ValueError, match="2 real batches"):
        gan.fit(toy_batches().take(1), verbose=0)
    gan.fit(toy_batches(4, critic_batches=2).take(1), verbose=0)
    assert int(gan.d_optimizer.iterations) == 2 and int(gan.g_optimizer.iterations) == 1


# ---------------------------------------------------------------------------------------------- the trick interface


def negate(images, *, seed):
    """A deterministic stand-in augmentation: what D sees is −x."""
    return -images


def test_penalties_see_what_the_loss_sees_and_the_step(make_gan):
    """With an augmentation on, a penalty gets the augmented batches, and `step` counts generator steps."""

    def mean_of_real(discriminator, real, fake, *, seed, step):
        return ops.mean(real)

    def step_seen(discriminator, real, fake, *, seed, step):
        return ops.cast(step, "float32")

    gan = make_gan(compile_options={"penalties": {"mean_of_real": (0.0, mean_of_real), "step": (0.0, step_seen)}, "augment": negate})
    real = next(iter(toy_batches()))
    logs = gan.fit(tf.data.Dataset.from_tensors(real), epochs=3, verbose=0).history
    assert logs["mean_of_real"] == pytest.approx([-float(np.mean(real))] * 3, rel=1e-5)  # augmented: −x
    assert logs["step"] == [0.0, 1.0, 2.0]


def test_augmentation_draws_from_the_trainers_stream(make_gan):
    """Each augmentation call takes one seed of the stream: 5 draws a step (z, real, fake for D; z, fake for G)."""
    gan = make_gan(compile_options={"augment": "flip"})
    start = int(gan.latent_seed.numpy()[1])
    gan.fit(toy_batches().take(2), verbose=0)
    assert int(gan.latent_seed.numpy()[1]) - start == 2 * 5
    plain = make_gan()
    start = int(plain.latent_seed.numpy()[1])
    plain.fit(toy_batches().take(2), verbose=0)
    assert int(plain.latent_seed.numpy()[1]) - start == 2 * 2


def test_a_random_augmentation_continues_exactly_after_save_and_load(make_gan, tmp_path):
    """Augmentation seeded from the saved stream: 2 steps, save, load, 2 steps = 4 steps straight, bit for bit."""
    data = toy_batches(repeat=True)
    straight = make_gan(compile_options={"augment": "flip"})
    straight.fit(data, epochs=1, steps_per_epoch=4, verbose=0)
    halves = make_gan(compile_options={"augment": "flip"})
    halves.fit(data, epochs=1, steps_per_epoch=2, verbose=0)
    halves.save(tmp_path / "half.keras")
    loaded = keras.models.load_model(tmp_path / "half.keras")
    assert loaded.augment is kgan.augment.random_flip
    loaded.fit(data.skip(2), epochs=1, steps_per_epoch=2, verbose=0)
    for a, b in zip(straight.weights, loaded.weights, strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=a.path)
    unaugmented = make_gan()
    unaugmented.fit(data, epochs=1, steps_per_epoch=4, verbose=0)
    assert not np.array_equal(unaugmented.generator.weights[0].numpy(), straight.generator.weights[0].numpy())


def test_recompiling_drops_the_metrics_of_removed_penalties(make_gan):
    gan = make_gan()

    def constant(discriminator, real, fake, *, seed, step):
        return tf.constant(2.0)

    gan.compile(penalties={"const": (0.5, constant)})
    assert gan.fit(toy_batches().take(1), verbose=0).history["const"] == [pytest.approx(2.0)]
    gan.compile()
    history = gan.fit(toy_batches().take(1), verbose=0).history
    assert set(history) == {"d_loss", "g_loss", "d_real", "d_fake", "d_grad_norm", "g_grad_norm"}
    assert [metric.name for metric in gan.metrics] == ["d_loss", "g_loss", "d_real", "d_fake", "d_grad_norm", "g_grad_norm"]


def test_logged_gradient_norms_are_the_norms_of_each_networks_update_under_sgd(make_gan):
    # plain SGD moves the weights by exactly −rate · gradient, so the update's norm / rate is the gradient's norm
    rate = 1e-3
    gan = make_gan(compile_options=dict(d_optimizer=keras.optimizers.SGD(rate), g_optimizer=keras.optimizers.SGD(rate)))
    before = {net: [w.numpy().copy() for w in getattr(gan, net).trainable_weights] for net in ("generator", "discriminator")}
    logs = gan.fit(toy_batches().take(1), verbose=0).history
    for net, name in (("generator", "g_grad_norm"), ("discriminator", "d_grad_norm")):
        moved = [b - w.numpy() for b, w in zip(before[net], getattr(gan, net).trainable_weights)]
        expected = np.sqrt(sum(np.sum(np.square(m, dtype=np.float64)) for m in moved)) / rate
        assert logs[name][0] == pytest.approx(expected, rel=1e-3), name


def test_ema_after_k_steps_is_the_closed_form(make_gan):
    """average_k = decay^k·w_0 + Σ_i (1 − decay)·decay^(k−i)·w_i over the generator weights after each step i."""
    decay = 0.8
    gan = make_gan(ema_decay=decay)
    trainable = [w.trainable for w in gan.generator.weights]
    snapshots = [[w.numpy().astype(np.float64) for w in gan.generator.weights]]
    record = keras.callbacks.LambdaCallback(
        on_train_batch_end=lambda batch, logs: snapshots.append([w.numpy().astype(np.float64) for w in gan.generator.weights])
    )
    gan.fit(toy_batches(), epochs=1, verbose=0, callbacks=[record])  # 4 steps
    k = len(snapshots) - 1
    assert k == 4
    for index, (average, is_trainable) in enumerate(zip(gan.ema_weights, trainable)):
        if is_trainable:
            expected = decay**k * snapshots[0][index] + sum(
                (1 - decay) * decay ** (k - i) * snapshots[i][index] for i in range(1, k + 1)
            )
        else:  # BatchNorm statistics are copied, not averaged
            expected = snapshots[k][index]
        np.testing.assert_allclose(average.numpy(), expected, rtol=1e-5, atol=1e-7, err_msg=gan.generator.weights[index].path)
    ema = gan.ema_generator()
    z = np.random.default_rng(0).normal(size=(2, LATENT_DIM)).astype("float32")
    assert ema is not gan.generator and not np.allclose(ema(z), gan.generator(z))
    for target, average in zip(ema.weights, gan.ema_weights):
        np.testing.assert_array_equal(target.numpy(), average.numpy())
    assert make_gan().ema_generator() is not None and make_gan().ema_weights == []


def test_ema_decay_outside_zero_one_is_refused(make_gan):
    with pytest.raises(ValueError, match="ema_decay must be in"):
        make_gan(ema_decay=1.0)


# ---------------------------------------------------------------------------------------------- saving


def test_trainer_config_round_trip_and_weights_checkpoint(make_gan, tmp_path):
    gan = make_gan(seed=5, ema_decay=0.5)
    gan.fit(toy_batches().take(1), verbose=0)
    clone = kgan.DCGAN.from_config(gan.get_config())
    assert clone.latent_dim == LATENT_DIM and clone.seed == 5 and clone.ema_decay == 0.5
    clone.compile()
    gan.save_weights(tmp_path / "gan.weights.h5")
    clone.load_weights(tmp_path / "gan.weights.h5")
    z = np.random.default_rng(1).normal(size=(2, LATENT_DIM)).astype("float32")
    np.testing.assert_allclose(clone(z), gan(z), atol=1e-6)
    np.testing.assert_allclose(clone.discriminator(gan(z)), gan.discriminator(gan(z)), atol=1e-6)
    for a, b in zip(clone.ema_weights, gan.ema_weights, strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def faded_zero_gp():
    return kgan.penalties.Penalty(
        "gradient_penalty", schedule=keras.optimizers.schedules.PolynomialDecay(1.0, 10, 0.0), target=0.0
    )


@pytest.mark.parametrize("model", ["dcgan", "wgan-gp"])
def test_save_and_load_restore_networks_optimizers_noise_ema_and_tricks(model, make_gan, tmp_path):
    """A `.keras` file holds the whole trainer: the next step after loading equals the next step in memory."""
    options = {"n_critic": 2, "gp_weight": 5.0} if model == "wgan-gp" else {}
    gan = make_gan(model, ema_decay=0.9, compile=False, **options)
    penalties = {"zero_gp": (0.1, faded_zero_gp())}
    if model == "wgan-gp":
        penalties["gp"] = (5.0, kgan.penalties.gradient_penalty)
    gan.compile(
        d_optimizer=keras.optimizers.Adam(3e-4, beta_1=0.4), g_optimizer=keras.optimizers.Adam(1e-4, beta_1=0.3),
        penalties=penalties, augment="flip",
    )
    data = toy_batches(critic_batches=gan.n_critic)
    gan.fit(data, verbose=0)
    path = tmp_path / "gan.keras"
    gan.save(path)
    loaded = keras.models.load_model(path)  # safe_mode=True: no lambdas, no pickles

    assert type(loaded) is type(gan) and loaded.n_critic == gan.n_critic and loaded.ema_decay == 0.9
    z = np.random.default_rng(0).normal(size=(4, LATENT_DIM)).astype("float32")
    np.testing.assert_array_equal(loaded(z), gan(z))
    images = next(iter(toy_batches(4, num_images=8)))
    np.testing.assert_array_equal(loaded.discriminator(images), gan.discriminator(images))
    for name in ("d_optimizer", "g_optimizer"):
        original, restored = getattr(gan, name), getattr(loaded, name)
        assert int(restored.iterations) == int(original.iterations) > 0
        assert float(restored.learning_rate) == pytest.approx(float(original.learning_rate))
        assert restored.beta_1 == pytest.approx(original.beta_1)
        for a, b in zip(original.variables, restored.variables):  # Adam's moments included
            np.testing.assert_array_equal(a.numpy(), b.numpy())
    for a, b in zip(gan.weights, loaded.weights, strict=True):  # the noise stream and the EMA included
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=a.path)
    schedule = loaded.penalties["zero_gp"][1].schedule
    assert isinstance(schedule, keras.optimizers.schedules.PolynomialDecay) and schedule.decay_steps == 10
    assert loaded.penalties["zero_gp"][1].options == {"target": 0.0}
    if model == "wgan-gp":
        assert loaded.gp_weight == 5.0 and loaded.penalties["gp"][0] == 5.0

    # Training on from the file is training on from memory: the same next step, bit for bit.
    batch = next(iter(data))
    gan.reset_metrics()  # logs are running means: compare one step each
    logs_original = {k: float(v) for k, v in gan.train_step(batch).items()}
    logs_loaded = {k: float(v) for k, v in loaded.train_step(batch).items()}
    assert logs_loaded == logs_original


def test_unregistered_loss_cannot_sneak_into_a_file(make_gan, tmp_path):
    gan = make_gan()
    gan.fit(toy_batches().take(1), verbose=0)
    gan.compile(g_loss=lambda fake_logits: -fake_logits.mean())
    with pytest.warns(UserWarning, match="lambda"):
        gan.save(tmp_path / "gan.keras")
    with pytest.raises(ValueError, match="safe_mode"):
        keras.models.load_model(tmp_path / "gan.keras")  # safe mode refuses the lambda
