"""kgan.trainers.one_step.OneStepGAN: one loss, D and G moved together from the same state."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import ops

import kgan
from kgan.trainers.one_step import OneStepGAN
from tests.helpers import IMAGE_SIZE, LATENT_DIM, WIDTH, toy_batches

# tiny Dense nets on 5-dimensional "data": no BatchNorm, so one step is a pure function of the weights
LATENT, FEATURES, BATCH, RATE = 3, 5, 6, 0.5


def tiny_nets(seed=0):
    keras.utils.set_random_seed(seed)
    z = keras.Input((LATENT,))
    generator = keras.Model(z, keras.layers.Dense(FEATURES)(keras.layers.Dense(7, activation="tanh")(z)), name="g")
    x = keras.Input((FEATURES,))
    discriminator = keras.Model(x, keras.layers.Dense(1)(keras.layers.Dense(7, activation="tanh")(x)), name="d")
    return generator, discriminator


def sgd_trainer(g_loss_weight=1.0, **compile_options):
    gan = OneStepGAN(*tiny_nets(), g_loss_weight=g_loss_weight, seed=7)
    gan.compile(d_optimizer=keras.optimizers.SGD(RATE), g_optimizer=keras.optimizers.SGD(RATE), **compile_options)
    return gan


def real_batch(seed=1):
    return np.random.default_rng(seed).normal(size=(BATCH, FEATURES)).astype("float32")


def next_latent(gan):
    """The z the trainer's next step will draw: its stream is stateless, so draw it and rewind."""
    state = gan.latent_seed.numpy().copy()
    z = gan.sample_latent(BATCH)
    gan.latent_seed.assign(state)
    return z


def snapshot(model):
    return [w.numpy().copy() for w in model.trainable_weights]


def assert_weights(model, expected):
    for weight, value in zip(model.trainable_weights, expected, strict=True):
        np.testing.assert_allclose(weight.numpy(), value, atol=1e-6, err_msg=weight.path)


def sgd_moved(weights, gradients, rate):
    return [w - rate * g.numpy() for w, g in zip(weights, gradients)]


def test_one_step_is_a_d_step_and_a_g_step_from_the_same_state_and_the_gradient_of_the_one_loss():
    gan = sgd_trainer()
    real = real_batch()
    z = next_latent(gan)
    generator, discriminator = gan.generator, gan.discriminator
    g_start, d_start = snapshot(generator), snapshot(discriminator)
    bce, nonsaturating = kgan.losses.bce_discriminator_loss, kgan.losses.nonsaturating_generator_loss

    # The reference, by hand at the starting state: D's gradient of L_D on (x, G(z)) ...
    with tf.GradientTape() as tape:
        fake = generator(z, training=True)
        d_loss = bce(discriminator(real, training=True), discriminator(fake, training=True))
    d_gradients = tape.gradient(d_loss, discriminator.trainable_weights)
    # ... and G's gradient of L_G(D(G(z))) through D's *starting* weights.
    with tf.GradientTape() as tape:
        g_loss = nonsaturating(discriminator(generator(z, training=True), training=True))
    g_gradients = tape.gradient(g_loss, generator.trainable_weights)
    expected_d, expected_g = sgd_moved(d_start, d_gradients, RATE), sgd_moved(g_start, g_gradients, RATE)

    # The same blocks are the gradient of the module's one loss, differentiated once over both nets:
    # L = L_D(D(x), D(sg G(z))) + λ·[L_G(D(G(z))) − L_G(D(sg G(z)))], λ = 1.
    variables = discriminator.trainable_weights + generator.trainable_weights
    with tf.GradientTape() as tape:
        fake = generator(z, training=True)
        stopped_logits = discriminator(ops.stop_gradient(fake), training=True)
        one_loss = bce(discriminator(real, training=True), stopped_logits) + (
            nonsaturating(discriminator(fake, training=True)) - nonsaturating(stopped_logits)
        )
    one_loss_gradients = tape.gradient(one_loss, variables)
    for gradient, expected in zip(one_loss_gradients, list(d_gradients) + list(g_gradients), strict=True):
        np.testing.assert_allclose(gradient.numpy(), expected.numpy(), atol=1e-6)

    # Alternating (G's gradient through the *updated* D) lands elsewhere: the test can tell the two apart.
    for weight, value in zip(discriminator.trainable_weights, expected_d):
        weight.assign(value)
    with tf.GradientTape() as tape:
        alternating_loss = nonsaturating(discriminator(generator(z, training=True), training=True))
    alternating_g = sgd_moved(g_start, tape.gradient(alternating_loss, generator.trainable_weights), RATE)
    assert max(np.abs(a - b).max() for a, b in zip(alternating_g, expected_g)) > 1e-3
    for weight, value in zip(discriminator.trainable_weights, d_start):
        weight.assign(value)

    # fit: the compiled (graph) step
    logs = gan.fit(tf.data.Dataset.from_tensors(real), epochs=1, verbose=0).history
    assert_weights(discriminator, expected_d)
    assert_weights(generator, expected_g)
    assert logs["d_loss"][0] == pytest.approx(float(d_loss), rel=1e-5)
    assert logs["g_loss"][0] == pytest.approx(float(g_loss), rel=1e-5)
    # SGD moved each net by rate · gradient: the logged norms are those gradients' norms
    assert logs["d_grad_norm"][0] == pytest.approx(float(tf.linalg.global_norm(d_gradients)), rel=1e-5)
    assert logs["g_grad_norm"][0] == pytest.approx(float(tf.linalg.global_norm(g_gradients)), rel=1e-5)
    assert int(gan.d_optimizer.iterations) == int(gan.g_optimizer.iterations) == 1


@keras.saving.register_keras_serializable(package="kgan_tests")
def relativistic_average_g_loss(fake_logits, real_logits=None):
    """RaGAN's G loss (Jolicoeur-Martineau 2018): softplus(−(f − mean r)) + softplus(r − mean f), averaged."""
    return ops.mean(ops.softplus(ops.mean(real_logits) - fake_logits)) + ops.mean(ops.softplus(real_logits - ops.mean(fake_logits)))


relativistic_average_g_loss.uses_real_logits = True


def squared_real_logits(discriminator, real, fake, *, seed, step, real_logits=None, fake_logits=None):
    """A penalty that reads L_D's logits: mean(D(x)²)."""
    return ops.mean(ops.square(real_logits))


squared_real_logits.uses_logits = True


def fake_norm(discriminator, real, fake, *, seed, step):
    """A penalty that runs D itself: mean(D(fake)²)/2 — it must see the augmented fakes."""
    return 0.5 * ops.mean(ops.square(discriminator(fake, training=True)))


class HalveAndRemember(keras.layers.Layer):
    """A stateful 'augmentation': x → x/2; `update` stores the mean real logit it is handed (`p`, as ADA's, is logged)."""

    p = 0.25

    def __init__(self, **kwargs):
        super().__init__(dtype="float32", **kwargs)
        self.last_mean_logit = self.add_weight(shape=(), initializer="zeros", trainable=False, name="last_mean_logit")

    def call(self, images, seed=None):
        return images * 0.5

    def update(self, real_logits):
        self.last_mean_logit.assign(ops.mean(real_logits))


def test_tricks_weight_penalties_relativistic_loss_and_stateful_augmentation_follow_the_one_loss():
    """λ = 2.5, two penalties (one given L_D's logits), a relativistic G loss, an augmentation with `update`."""
    weight = 2.5
    augment = HalveAndRemember()
    gan = sgd_trainer(
        g_loss_weight=weight, g_loss=relativistic_average_g_loss, augment=augment,
        penalties={"real_sq": (0.3, squared_real_logits), "fake_sq": (0.2, fake_norm)},
    )
    real = real_batch(2)
    z = next_latent(gan)
    generator, discriminator = gan.generator, gan.discriminator
    g_start, d_start = snapshot(generator), snapshot(discriminator)

    with tf.GradientTape() as tape:
        fake = generator(z, training=True) * 0.5  # D sees everything halved
        real_logits, fake_logits = discriminator(real * 0.5, training=True), discriminator(fake, training=True)
        real_sq, fake_sq = ops.mean(real_logits**2), 0.5 * ops.mean(fake_logits**2)
        d_loss = kgan.losses.bce_discriminator_loss(real_logits, fake_logits) + 0.3 * real_sq + 0.2 * fake_sq
    d_gradients = tape.gradient(d_loss, discriminator.trainable_weights)
    with tf.GradientTape() as tape:
        g_loss = relativistic_average_g_loss(
            discriminator(generator(z, training=True) * 0.5, training=True), discriminator(real * 0.5, training=True)
        )
    g_gradients = tape.gradient(g_loss, generator.trainable_weights)

    logs = gan.train_step(tf.constant(real))
    assert_weights(discriminator, sgd_moved(d_start, d_gradients, RATE))  # no trace of L_G in D's update
    assert_weights(generator, sgd_moved(g_start, g_gradients, RATE * weight))  # λ scales G's gradient
    for name, value in {"d_loss": d_loss, "g_loss": g_loss, "real_sq": real_sq, "fake_sq": fake_sq}.items():
        assert float(logs[name]) == pytest.approx(float(value), rel=1e-5), name
    assert float(logs["g_grad_norm"]) == pytest.approx(weight * float(tf.linalg.global_norm(g_gradients)), rel=1e-5)
    # `update` got the real logits of the step (of the augmented reals, before D moved)
    assert float(augment.last_mean_logit) == pytest.approx(float(ops.mean(real_logits)), rel=1e-5)
    assert float(logs["augment_p"]) == 0.25
    # one seed for z, one per augmentation call (real, fake), one per penalty
    assert int(gan.latent_seed.numpy()[1]) == 1 + 2 + 2


def conv_trainer(**options):
    keras.utils.set_random_seed(0)
    g = kgan.nets.build_generator("dcgan", IMAGE_SIZE, LATENT_DIM, WIDTH)
    d = kgan.nets.build_discriminator("dcgan", IMAGE_SIZE, WIDTH)
    return OneStepGAN(g, d, seed=0, **options)


def test_fit_on_toy_faces_logs_finite_values_and_takes_one_update_of_each_net_per_step():
    gan = conv_trainer(ema_decay=0.9)
    gan.compile(augment="flip")
    g_before, d_before = snapshot(gan.generator), snapshot(gan.discriminator)
    history = gan.fit(toy_batches(num_images=24), epochs=1, verbose=0).history  # 3 steps of 8
    assert set(history) == {"d_loss", "g_loss", "d_real", "d_fake", "d_grad_norm", "g_grad_norm"}
    for name, values in history.items():
        assert len(values) == 1 and np.isfinite(values[0]), name
    assert 0 < history["d_real"][0] < 1 and 0 < history["d_fake"][0] < 1
    assert int(gan.d_optimizer.iterations) == int(gan.g_optimizer.iterations) == 3
    for before, net in ((g_before, gan.generator), (d_before, gan.discriminator)):
        assert all(not np.array_equal(a, w.numpy()) for a, w in zip(before, net.trainable_weights))
    assert not np.allclose(gan.ema_weights[0].numpy(), gan.generator.weights[0].numpy())


def test_bad_options_are_refused_by_name():
    g, d = tiny_nets()
    with pytest.raises(ValueError, match="n_critic must be 1; got n_critic=5"):
        OneStepGAN(g, d, n_critic=5)
    for bad in (0.0, -1.0, float("nan"), "much"):
        with pytest.raises(ValueError, match="g_loss_weight"):
            OneStepGAN(g, d, g_loss_weight=bad)
    with pytest.raises(RuntimeError, match="compile"):
        OneStepGAN(g, d).train_step(tf.constant(real_batch()))


def test_config_round_trip_and_keras_file_continue_the_same_run(tmp_path):
    gan = OneStepGAN(*tiny_nets(), g_loss_weight=0.25, seed=3, ema_decay=0.5)
    gan.compile()
    data = tf.data.Dataset.from_tensor_slices(np.concatenate([real_batch(3), real_batch(4)])).batch(BATCH)
    gan.fit(data.take(1), verbose=0)

    clone = OneStepGAN.from_config(gan.get_config())
    assert type(clone) is OneStepGAN
    assert (clone.g_loss_weight, clone.seed, clone.n_critic, clone.ema_decay, clone.latent_dim) == (0.25, 3, 1, 0.5, LATENT)

    gan.save(tmp_path / "one_step.keras")
    loaded = keras.models.load_model(tmp_path / "one_step.keras")
    assert type(loaded) is OneStepGAN and loaded.g_loss_weight == 0.25
    for a, b in zip(gan.weights, loaded.weights, strict=True):  # nets, noise stream, EMA
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=a.path)
    batch = next(iter(data.skip(1)))
    gan.reset_metrics()
    logs_original = {k: float(v) for k, v in gan.train_step(batch).items()}
    logs_loaded = {k: float(v) for k, v in loaded.train_step(batch).items()}
    assert logs_loaded == logs_original  # the optimizers' state came back too
