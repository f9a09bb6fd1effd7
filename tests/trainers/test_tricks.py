"""The trick interface of kgan.GAN: mixed precision, label tricks, relativistic losses, instance noise,
adaptive augmentation, stateful penalties, the EMA's warm-up — and augmentations that do not leak into G."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import kgan
from kgan.penalties import LeCam, Penalty
from kgan.recipes import build_gan
from tests.helpers import IMAGE_SIZE, LATENT_DIM, WIDTH, toy_batches

TINY = dict(image_size=IMAGE_SIZE, latent_dim=LATENT_DIM, width=WIDTH, seed=0)


# ---------------------------------------------------------------- mixed precision
@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
@pytest.mark.parametrize("model", ["dcgan", "wgan-gp"])
def test_both_trainers_train_under_mixed_policies_with_float32_losses_and_variables(model, policy):
    keras.utils.set_random_seed(0)
    n_critic = 2 if model == "wgan-gp" else 1
    gan = build_gan(model, precision=policy, n_critic=n_critic, **TINY)
    assert keras.config.dtype_policy().name == "float32"  # the recipe's policy does not leak out of build_gan
    compute = policy.removeprefix("mixed_")
    scaled = isinstance(gan.d_optimizer, keras.optimizers.LossScaleOptimizer)
    assert scaled == isinstance(gan.g_optimizer, keras.optimizers.LossScaleOptimizer) == (compute == "float16")

    batches = toy_batches(critic_batches=n_critic)
    history = gan.fit(batches.take(2), verbose=0).history

    for name, values in history.items():
        assert np.all(np.isfinite(values)), (name, values)
    assert history["g_grad_norm"][-1] > 0 and history["d_grad_norm"][-1] > 0
    for weight in gan.generator.weights + gan.discriminator.weights:
        assert weight.dtype == "float32", weight.path
    z = gan.sample_latent(3)
    assert gan.generator(z).dtype == compute  # networks compute in the policy's dtype
    images = gan.generator(z)
    assert gan.discriminator(images).dtype == compute
    assert gan._logits(images).dtype == "float32"  # what the losses see
    loss = gan.d_loss_fn(gan._logits(images), gan._logits(images))
    assert loss.dtype == "float32"
    assert gan.generator_steps == 2


def test_a_float16_step_whose_gradient_overflows_is_skipped_but_counted():
    """The loss scale starts at 2¹⁵; a gradient that overflows halves it, skips the update, and the step still counts."""
    keras.utils.set_random_seed(0)
    gan = build_gan("dcgan", precision="mixed_float16", **TINY)
    scale = float(gan.g_optimizer.dynamic_scale)
    gan.g_optimizer.dynamic_scale.assign(1e30)  # any gradient × 1e30 overflows float16's 65,504
    before = [w.numpy().copy() for w in gan.generator.trainable_weights]
    gan.fit(toy_batches().take(1), verbose=0)
    assert float(gan.g_optimizer.dynamic_scale) == pytest.approx(0.5e30)
    assert all(np.array_equal(a, w.numpy()) for a, w in zip(before, gan.generator.trainable_weights))
    assert int(gan.g_optimizer.iterations) == 0 and gan.generator_steps == 1
    assert scale == 2.0**15


# ---------------------------------------------------------------- losses and label tricks
def _spy(function, calls, accepts_targets=False, uses_real_logits=False):
    def spy(*args, **kwargs):
        calls.append(kwargs)
        return function(*args, **kwargs)

    spy.accepts_targets = accepts_targets
    spy.uses_real_logits = uses_real_logits
    return spy


def test_label_smoothing_and_flips_reach_the_d_loss_as_targets(make_gan):
    calls = []
    d_loss = _spy(kgan.losses.bce_discriminator_loss, calls, accepts_targets=True)
    gan = make_gan(compile_options=dict(d_loss=d_loss, label_smoothing=0.2, label_flip=0.25, run_eagerly=True))
    gan.fit(toy_batches().take(1), verbose=0)
    real, fake = np.asarray(calls[0]["real_targets"]), np.asarray(calls[0]["fake_targets"])
    assert real.shape == fake.shape == (8, 1)
    flipped = real == 0.0
    # unflipped samples: real 0.8 (one-sided smoothing), fake 0; flipped ones swap the two
    np.testing.assert_allclose(real[~flipped], 0.8, rtol=1e-6)
    np.testing.assert_allclose(fake[~flipped], 0.0)
    np.testing.assert_allclose(fake[flipped], 0.8, rtol=1e-6)


def test_label_tricks_need_a_loss_that_takes_targets(make_gan):
    with pytest.raises(ValueError, match="label_smoothing / label_flip need a D loss that takes targets"):
        make_gan(compile_options=dict(loss="hinge", label_smoothing=0.1))


def test_a_relativistic_g_loss_is_given_real_logits_and_the_family_sets_both_losses(make_gan):
    gan = make_gan(compile_options=dict(loss="ragan"))
    assert gan.d_loss_fn is kgan.losses.ragan_discriminator_loss and gan.g_loss_fn is kgan.losses.ragan_generator_loss
    calls = []
    g_loss = _spy(kgan.losses.ragan_generator_loss, calls, uses_real_logits=True)
    gan.compile(loss="ragan", g_loss=g_loss, run_eagerly=True)
    logs = gan.fit(toy_batches().take(1), verbose=0).history
    assert calls[0]["real_logits"].shape == (8, 1) and calls[0]["real_logits"].dtype == "float32"
    assert np.isfinite(logs["g_loss"][0])


def test_hinge_and_least_squares_families_train(make_gan):
    for family in ("hinge", "least_squares", "rsgan"):
        logs = make_gan(compile_options=dict(loss=family)).fit(toy_batches().take(2), verbose=0).history
        assert all(np.isfinite(values).all() for values in logs.values()), family


# ---------------------------------------------------------------- what D sees
def test_instance_noise_has_the_scheduled_stddev_and_is_gone_when_the_schedule_ends(make_gan):
    schedule = keras.optimizers.schedules.PolynomialDecay(0.5, 10, 0.0)
    gan = make_gan(compile_options=dict(instance_noise=schedule))
    images = tf.zeros((64, IMAGE_SIZE, IMAGE_SIZE, 3))
    assert float(tf.math.reduce_std(gan._seen_by_d(images))) == pytest.approx(0.5, rel=0.02)
    gan.step_counter.assign(5)
    assert float(tf.math.reduce_std(gan._seen_by_d(images))) == pytest.approx(0.25, rel=0.02)
    gan.step_counter.assign(10)
    assert np.array_equal(gan._seen_by_d(images), images)


def test_adaptive_augmentation_is_tracked_logged_and_saved_with_the_trainer(make_gan, tmp_path):
    gan = make_gan(compile_options=dict(augment="ada"))
    assert gan.trick_layers == [gan.augment]
    logs = gan.fit(toy_batches().take(2), verbose=0).history
    assert "augment_p" in logs
    gan.augment.probability.assign(0.3)
    gan.save(tmp_path / "gan.keras")
    restored = keras.saving.load_model(tmp_path / "gan.keras")
    assert isinstance(restored.augment, kgan.augment.AdaptiveAugment)
    assert float(restored.augment.p) == pytest.approx(0.3)


def test_lecam_anchors_move_with_training_and_are_saved_with_the_trainer(make_gan, tmp_path):
    gan = make_gan(compile_options=dict(penalties={"lecam": (0.1, Penalty("lecam"))}))
    lecam = gan.penalties["lecam"][1].fn
    assert isinstance(lecam, LeCam) and gan.trick_layers == [lecam]
    logs = gan.fit(toy_batches().take(2), verbose=0).history
    anchors = [float(v) for v in lecam.weights]
    assert all(a != 0.0 for a in anchors) and np.isfinite(logs["lecam"]).all()
    gan.save(tmp_path / "gan.keras")
    restored = keras.saving.load_model(tmp_path / "gan.keras").penalties["lecam"][1].fn
    np.testing.assert_allclose([float(v) for v in restored.weights], anchors)


def test_augmentations_do_not_leak_into_the_generator():
    """DiffAugment on everything D sees, real and fake: G learns the data, not the augmented data.

    The data is one white image. Translation pads with 0 and cutout paints a 0 square, so augmented
    images have grey patches. Augmenting only the reals (the mistake DiffAugment fixes) makes D
    accept grey patches as real, and G paints them; augmenting both keeps G's images white.
    """
    white = np.ones((256, IMAGE_SIZE, IMAGE_SIZE, 3), np.float32)
    data = tf.data.Dataset.from_tensor_slices(white).batch(32, drop_remainder=True).repeat()

    def trained(augment_fakes):
        keras.utils.set_random_seed(0)
        gan = build_gan("dcgan", **TINY)
        if augment_fakes:
            gan.compile(augment="diffaugment", d_optimizer=keras.optimizers.Adam(2e-3, 0.5),
                        g_optimizer=keras.optimizers.Adam(2e-3, 0.5))
            stream = data
        else:  # the leak: only the reals are augmented, outside the trainer
            gan.compile(d_optimizer=keras.optimizers.Adam(2e-3, 0.5), g_optimizer=keras.optimizers.Adam(2e-3, 0.5))
            seeds = tf.data.Dataset.counter().map(lambda i: tf.stack([i, 7]))
            stream = tf.data.Dataset.zip(data, seeds).map(lambda x, s: kgan.augment.diff_augment(x, seed=s))
        gan.fit(stream, steps_per_epoch=150, epochs=1, verbose=0)
        return gan.generator(gan.sample_latent(64), training=False).numpy()

    clean, leaked = trained(True), trained(False)
    grey = lambda images: float(np.mean(images < 0.5))  # noqa: E731 — fraction of pixels far from white
    assert grey(clean) < 0.05, grey(clean)
    assert grey(leaked) > 2 * grey(clean) + 0.05, (grey(leaked), grey(clean))


# ---------------------------------------------------------------- the generator average
def test_ema_with_warmup_follows_the_closed_form(make_gan):
    """Weights that jump by +1 at step 0 and stay: the average is w + 1 − Π_t d_t, d_t = min(decay, (1+t)/(10+t))."""
    gan = make_gan(ema_decay=0.9, ema_warmup=True)
    start = [w.numpy().copy() for w in gan.generator.weights]
    for weight in gan.generator.trainable_weights:
        weight.assign(weight + 1.0)
    for step in range(6):
        gan.step_counter.assign(step)
        gan.update_ema()
    remaining = np.prod([min(0.9, (1 + t) / (10 + t)) for t in range(6)])  # 0.1·(2/11)·(3/12)·(4/13)·(5/14)·(6/15)
    for weight, average, initial in zip(gan.generator.weights, gan.ema_weights, start):
        expected = initial + 1.0 - remaining if weight.trainable else weight.numpy()
        np.testing.assert_allclose(average.numpy(), expected, rtol=1e-5, atol=1e-6)
    assert remaining == pytest.approx(0.1 * 2 / 11 * 3 / 12 * 4 / 13 * 5 / 14 * 6 / 15)


def test_sampling_and_export_use_the_average(make_gan, tmp_path):
    gan = make_gan(ema_decay=0.5)
    gan.fit(toy_batches().take(2), verbose=0)
    z = gan.sample_latent(4)
    average = gan.ema_generator()(z, training=False).numpy()
    raw = gan.generator(z, training=False).numpy()
    assert not np.allclose(average, raw)
    np.testing.assert_allclose(kgan.latent.sampling_generator(gan)(z, training=False), average)
    kgan.export.export_generator(gan, tmp_path / "ema")
    kgan.export.export_generator(gan, tmp_path / "raw", ema=False)
    exported = {name: tf.saved_model.load(str(tmp_path / name)) for name in ("ema", "raw")}  # kept: they own the variables
    np.testing.assert_allclose(exported["ema"].generate(z), average, atol=1e-5)
    np.testing.assert_allclose(exported["raw"].generate(z), raw, atol=1e-5)


def test_recipes_switch_the_one_step_trainer_on():
    gan = build_gan("dcgan", one_step=True, **TINY)
    assert isinstance(gan, kgan.trainers.one_step.OneStepGAN)
    assert np.isfinite(gan.fit(toy_batches().take(1), verbose=0).history["g_loss"]).all()
