"""kgan.penalties against hand-computed values: the gradient penalties (WGAN-GP, R1/R2, DRAGAN), bCR, LeCam;
`Penalty`'s options, schedules and laziness; `LinearRamp`; saving; float32 values under a float16 D."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import ops

from kgan.augment import random_flip
from kgan.penalties import (
    PENALTIES,
    LeCam,
    LinearRamp,
    Penalty,
    consistency_penalty,
    dragan_penalty,
    get,
    gradient_penalty,
    r1_penalty,
    r2_penalty,
)

SHAPE = (2, 2, 3)  # a tiny "image"
DIM = int(np.prod(SHAPE))


def linear_critic(w, b=0.3, dtype="float32"):
    """D(x) = w·x + b on flattened images; its input gradient is w everywhere."""
    images = keras.Input(SHAPE, dtype=dtype)
    dense = keras.layers.Dense(1, dtype=dtype)
    critic = keras.Model(images, dense(keras.layers.Flatten(dtype=dtype)(images)))
    dense.set_weights([np.asarray(w, dtype).reshape(DIM, 1), np.array([b], dtype)])
    return critic


def batch(n, seed, dtype="float32"):
    return np.random.default_rng(seed).normal(size=(n, *SHAPE)).astype(dtype)


def direction(norm):
    w = np.random.default_rng(7).normal(size=DIM)
    return w / np.linalg.norm(w) * norm


SEED = tf.constant([1, 2], tf.int64)


@pytest.mark.parametrize("norm", [0.0, 0.5, 1.0, 2.5])
def test_linear_critic_penalty_is_norm_minus_one_squared(norm):
    penalty = gradient_penalty(linear_critic(direction(norm)), batch(5, 0), batch(5, 1), seed=SEED)
    # (‖w‖ − 1)², with the 1e-12 inside the root that keeps ‖w‖ = 0 differentiable
    assert float(penalty) == pytest.approx((np.sqrt(norm**2 + 1e-12) - 1) ** 2, abs=1e-6)


@pytest.mark.parametrize("norm, expected", [(0.5, 0.0), (1.0, 0.0), (2.0, 1.0)])
def test_one_sided_only_penalises_norms_above_the_target(norm, expected):
    penalty = gradient_penalty(linear_critic(direction(norm)), batch(5, 0), batch(5, 1), seed=SEED, one_sided=True)
    assert float(penalty) == pytest.approx(expected, abs=1e-6)


def test_target_moves_the_minimum():
    critic = linear_critic(direction(2.0))
    assert float(gradient_penalty(critic, batch(3, 0), batch(3, 1), seed=SEED, target=2.0)) == pytest.approx(0.0, abs=1e-6)


def test_interpolation_draws_t_uniformly_per_sample():
    """D(x) = ½‖x‖², real = 0, fake = v with ‖v‖ = 3: the norm at x̂ is (1−t)·3, and
    E[((1−t)·3 − 1)²] over t ~ U(0, 1) is 9/3 − 3 + 1 = 1. One t shared by the batch would not average out."""

    class HalfSquaredNorm(keras.Model):
        def call(self, x, training=False):
            return 0.5 * tf.reduce_sum(tf.square(x), axis=[1, 2, 3])[:, None]

    n = 20_000
    v = direction(3.0).reshape(SHAPE).astype("float32")
    real, fake = np.zeros((n, *SHAPE), "float32"), np.broadcast_to(v, (n, *SHAPE)).copy()
    for seed in ([0, 1], [5, 9], [123, 4]):
        penalty = gradient_penalty(HalfSquaredNorm(), real, fake, seed=tf.constant(seed, tf.int64))
        assert float(penalty) == pytest.approx(1.0, abs=0.03)


def test_penalty_gradient_matches_finite_differences():
    keras.utils.set_random_seed(0)
    images = keras.Input(SHAPE, dtype="float64")
    x = keras.layers.Flatten(dtype="float64")(images)
    x = keras.layers.Dense(6, activation="tanh", dtype="float64")(x)
    critic = keras.Model(images, keras.layers.Dense(1, dtype="float64")(x))
    real, fake = batch(4, 0, "float64"), batch(4, 1, "float64")

    def penalty():
        return gradient_penalty(critic, real, fake, seed=SEED)

    with tf.GradientTape() as tape:
        value = penalty()
    # The output bias does not change ∇ₓD, so its gradient is None: zero, which the differences confirm.
    analytic = tape.gradient(value, critic.trainable_variables)
    analytic = [np.zeros(v.shape) if g is None else g.numpy() for v, g in zip(critic.trainable_variables, analytic)]
    assert sum(np.abs(g).sum() for g in analytic) > 0

    h = 1e-6
    for variable, gradient in zip(critic.trainable_variables, analytic):
        flat = variable.numpy().reshape(-1)
        for index in np.random.default_rng(1).choice(flat.size, size=min(5, flat.size), replace=False):
            original = flat.copy()
            for sign in (+1, -1):
                shifted = original.copy()
                shifted[index] += sign * h
                variable.assign(shifted.reshape(variable.shape))
                if sign > 0:
                    up = float(penalty())
                else:
                    down = float(penalty())
            variable.assign(original.reshape(variable.shape))
            numeric = (up - down) / (2 * h)
            assert gradient.reshape(-1)[index] == pytest.approx(numeric, rel=1e-5, abs=1e-8)


def test_zero_critic_gives_a_finite_penalty_and_finite_gradients():
    critic = linear_critic(np.zeros(DIM), b=0.0)
    with tf.GradientTape() as tape:
        penalty = gradient_penalty(critic, batch(4, 0), batch(4, 1), seed=SEED)
    kernel_gradient, bias_gradient = tape.gradient(penalty, critic.trainable_variables)
    assert float(penalty) == pytest.approx(1.0, abs=1e-5)  # ‖0‖ against target 1
    assert bias_gradient is None  # the bias does not move ∇ₓD
    assert np.all(np.isfinite(kernel_gradient.numpy()))


def test_dynamic_batch_size_inside_a_graph_and_seed_determinism():
    critic = linear_critic(direction(1.7))
    quadratic = keras.Sequential([keras.Input(SHAPE), keras.layers.Flatten(), keras.layers.Dense(4, activation="tanh"), keras.layers.Dense(1)])

    @tf.function(input_signature=[tf.TensorSpec((None, *SHAPE)), tf.TensorSpec((None, *SHAPE)), tf.TensorSpec((2,), tf.int64)])
    def penalty(real, fake, seed):
        return gradient_penalty(critic, real, fake, seed=seed), gradient_penalty(quadratic, real, fake, seed=seed)

    for n in (1, 3, 8):
        linear, _ = penalty(batch(n, 0), batch(n, 1), SEED)
        assert float(linear) == pytest.approx(0.7**2, abs=1e-5)
    _, first = penalty(batch(8, 0), batch(8, 1), SEED)
    _, again = penalty(batch(8, 0), batch(8, 1), SEED)
    _, other = penalty(batch(8, 0), batch(8, 1), tf.constant([9, 9], tf.int64))
    assert float(first) == float(again) and float(first) != float(other)


# ---------------------------------------------------------------------------------------------- Penalty


def test_penalty_passes_its_options_and_is_float32():
    critic = linear_critic(direction(2.0))
    assert float(Penalty("gradient_penalty", target=2.0)(critic, batch(3, 0), batch(3, 1), seed=SEED, step=0)) == pytest.approx(0.0, abs=1e-6)
    assert float(Penalty(gradient_penalty)(critic, batch(3, 0), batch(3, 1), seed=SEED, step=0)) == pytest.approx(1.0, abs=1e-5)
    critic64 = linear_critic(direction(2.0), dtype="float64")
    assert Penalty("gradient_penalty")(critic64, batch(3, 0, "float64"), batch(3, 1, "float64"), seed=SEED).dtype == tf.float32


def test_schedule_multiplies_the_penalty_and_skips_it_once_zero():
    calls = []

    def counted(discriminator, real, fake, *, seed, step):
        calls.append(int(step))
        return tf.constant(2.0)

    faded = Penalty(counted, schedule=keras.optimizers.schedules.PolynomialDecay(1.0, 4, 0.0))
    values = [float(faded(None, batch(2, 0), batch(2, 1), seed=SEED, step=tf.constant(step, tf.int64))) for step in range(7)]
    assert values == pytest.approx([2.0, 1.5, 1.0, 0.5, 0.0, 0.0, 0.0])  # 2 · (1 − step/4), then 0
    assert calls == [0, 1, 2, 3]  # not computed once faded out
    with pytest.raises(ValueError, match="needs the training step"):
        faded(None, batch(2, 0), batch(2, 1), seed=SEED)


def test_penalty_config_round_trip_keeps_function_options_and_schedule():
    faded = Penalty("gradient_penalty", schedule=keras.optimizers.schedules.PolynomialDecay(1.0, 8, 0.0), target=0.0)
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(faded))
    assert isinstance(restored, Penalty) and restored.fn is gradient_penalty and restored.options == {"target": 0.0}
    assert restored.schedule.decay_steps == 8 and float(restored.schedule(4)) == pytest.approx(0.5)
    by_object = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(Penalty(gradient_penalty)))
    assert by_object.fn is gradient_penalty and by_object.schedule is None
    critic = linear_critic(direction(1.5))
    args = (critic, batch(4, 0), batch(4, 1))
    assert float(restored(*args, seed=SEED, step=tf.constant(2, tf.int64))) == float(faded(*args, seed=SEED, step=tf.constant(2, tf.int64)))


def test_penalties_are_chosen_by_name():
    assert get("gradient_penalty") is gradient_penalty
    assert get(len) is len
    assert (get("r1"), get("r2"), get("dragan"), get("consistency")) == (r1_penalty, r2_penalty, dragan_penalty, consistency_penalty)
    with pytest.raises(ValueError, match="Unknown penalty 'r3'"):
        Penalty("r3")


def test_a_stateful_penalty_by_name_is_a_new_instance_each_time():
    first, second = get("lecam"), get(LeCam)
    assert isinstance(first, LeCam) and isinstance(second, LeCam) and first is not second
    assert PENALTIES["lecam"] is LeCam
    configured = Penalty("lecam", decay=0.9)  # the options build the instance
    assert isinstance(configured.fn, LeCam) and configured.fn.decay == 0.9 and configured.options == {}


# ---------------------------------------------------------------------------------------------- R1, R2


class Quadratic(keras.Model):
    """D(x) = a·Σx² per sample: ∇ₓD = 2a·x, so ‖∇ₓD‖² = 4a²·Σx²."""

    def __init__(self, a):
        super().__init__()
        self.a = self.add_weight(shape=(), initializer=keras.initializers.Constant(a), name="a")

    def call(self, x, training=False):
        return self.a * ops.sum(ops.square(x), axis=(1, 2, 3))[:, None]


ONES_AND_ZEROS = np.stack([np.ones(SHAPE), np.zeros(SHAPE)]).astype("float32")  # Σx² = 12 and 0


def test_r1_is_the_mean_squared_input_gradient_at_the_reals():
    critic = Quadratic(0.5)
    with tf.GradientTape() as tape:
        penalty = r1_penalty(critic, ONES_AND_ZEROS, batch(2, 1), seed=SEED, step=0)
    # 4·0.5²·12 = 12 and 0: mean 6; the fakes play no part
    assert penalty.dtype == tf.float32 and float(penalty) == pytest.approx(6.0, rel=1e-6)
    # d/da of 4a²·mean Σx² = 8a·6 = 24: the outer tape differentiates through the inner one
    assert float(tape.gradient(penalty, critic.a)) == pytest.approx(24.0, rel=1e-6)
    real = batch(3, 2)
    expected = np.mean(4 * 0.5**2 * np.sum(real**2, axis=(1, 2, 3)))
    assert float(r1_penalty(critic, real, None)) == pytest.approx(expected, rel=1e-5)


def test_r2_is_the_same_at_the_fakes():
    critic = Quadratic(2.0)
    # 4·2²·12 = 192 and 0: mean 96, whatever the reals
    assert float(r2_penalty(critic, batch(2, 0), ONES_AND_ZEROS, seed=SEED, step=0)) == pytest.approx(96.0, rel=1e-6)
    assert float(r2_penalty(critic, ONES_AND_ZEROS, ONES_AND_ZEROS[::-1])) == pytest.approx(96.0, rel=1e-6)


# ---------------------------------------------------------------------------------------------- DRAGAN


@pytest.mark.parametrize("norm", [0.0, 0.5, 2.5])
def test_dragan_on_a_linear_critic_is_norm_minus_one_squared(norm):
    penalty = dragan_penalty(linear_critic(direction(norm)), batch(5, 0), None, seed=SEED, step=0)
    assert penalty.dtype == tf.float32 and float(penalty) == pytest.approx((np.sqrt(norm**2 + 1e-12) - 1) ** 2, abs=1e-6)
    assert float(dragan_penalty(linear_critic(direction(2.0)), batch(5, 0), None, seed=SEED, target=2.0)) == pytest.approx(0, abs=1e-6)


class HalfSquaredNorm(keras.Model):
    """D(x) = ½‖x‖²: ∇ₓD = x, so the penalty with target 0 is the mean ‖x̂‖² of the perturbed points."""

    def call(self, x, training=False):
        return 0.5 * ops.sum(ops.square(x), axis=tuple(range(1, len(x.shape))))[:, None]


def test_dragan_perturbs_by_a_fraction_of_the_batch_std():
    """Half the images are all +3, half all −3: each image's own std is 0, the batch's std is 3. With
    x̂ = x + α·0.5·3·u per element, E‖x̂‖² = 8·9 + 8·E[α²]·(1.5)²·E[u²] = 72·(1 + 1/36), the cross term
    averaging out over the signs. A per-image std would add no noise (72 exactly); scale=0 neither."""
    n, features = 16_000, 8
    real = np.repeat([[3.0], [-3.0]], n // 2, axis=0) * np.ones((n, features), "float32")
    real = real.astype("float32")
    penalty = dragan_penalty(HalfSquaredNorm(), real, None, seed=SEED, target=0.0)
    assert float(penalty) / 72 == pytest.approx(1 + 1 / 36, abs=0.008)
    assert float(dragan_penalty(HalfSquaredNorm(), real, None, seed=SEED, target=0.0, scale=0.0)) == pytest.approx(72.0)
    again = dragan_penalty(HalfSquaredNorm(), real, None, seed=SEED, target=0.0)
    other = dragan_penalty(HalfSquaredNorm(), real, None, seed=tf.constant([7, 7], tf.int64), target=0.0)
    assert float(again) == float(penalty) != float(other)
    with pytest.raises(ValueError, match="`scale` must be non-negative"):
        dragan_penalty(HalfSquaredNorm(), real, None, seed=SEED, scale=-1.0)


# ---------------------------------------------------------------------------------------------- bCR


def always_flip(images, *, seed):
    return ops.flip(images, axis=2)


def pixel_mean_critic():
    images = keras.Input(SHAPE)
    return keras.Model(images, keras.layers.GlobalAveragePooling2D()(images)[:, :1])


def test_consistency_is_zero_for_a_critic_the_augmentation_does_not_change():
    # the mean of a channel's pixels does not move when the image is mirrored
    penalty = consistency_penalty(pixel_mean_critic(), batch(6, 0), batch(6, 1), seed=SEED, augment=random_flip)
    assert penalty.dtype == tf.float32 and float(penalty) == pytest.approx(0.0, abs=1e-12)
    # …while a linear critic is not mirror-symmetric, so the same flips cost something
    assert float(consistency_penalty(linear_critic(direction(1.0)), batch(6, 0), batch(6, 1), seed=SEED, augment=always_flip)) > 0.01


def test_consistency_by_hand_on_two_pixel_images():
    """Images (a, b) of one row, D = 3a + 1b + 0.3, T = mirror: D(x) − D(T(x)) = (3 − 1)(a − b).
    Reals (1, 0), (0, 2): differences 2, −4, mean square 10. Fakes (1, 1), (2, 0): 0, 4, mean square 8.
    real_weight 1, fake_weight 0.5: 10 + 4 = 14."""
    images = keras.Input((1, 2, 1))
    dense = keras.layers.Dense(1)
    critic = keras.Model(images, dense(keras.layers.Flatten()(images)))
    dense.set_weights([np.array([[3.0], [1.0]], "float32"), np.array([0.3], "float32")])
    real = np.array([[1, 0], [0, 2]], "float32").reshape(2, 1, 2, 1)
    fake = np.array([[1, 1], [2, 0]], "float32").reshape(2, 1, 2, 1)
    options = {"seed": SEED, "augment": always_flip, "fake_weight": 0.5}
    assert float(consistency_penalty(critic, real, fake, **options)) == pytest.approx(14.0, rel=1e-6)
    # the trainer's logits stand in for D(x), D(G(z)): the same value with D's own, and they are used —
    # real logits one higher make the real differences 3 and −3: 9 + 4 = 13
    real_logits, fake_logits = critic(real), critic(fake)
    assert float(consistency_penalty(critic, real, fake, real_logits=real_logits, fake_logits=fake_logits, **options)) == pytest.approx(14.0)
    assert float(consistency_penalty(critic, real, fake, real_logits=real_logits + 1, fake_logits=fake_logits, **options)) == pytest.approx(13.0)


def test_consistency_needs_an_augmentation_and_a_seed():
    critic, real = pixel_mean_critic(), batch(2, 0)
    with pytest.raises(ValueError, match="needs the option `augment`"):
        consistency_penalty(critic, real, real, seed=SEED)
    with pytest.raises(ValueError, match="needs `seed`"):
        consistency_penalty(critic, real, real, augment=random_flip)
    with pytest.raises(ValueError, match="must be non-negative"):
        consistency_penalty(critic, real, real, seed=SEED, augment=random_flip, real_weight=-1.0)


# ---------------------------------------------------------------------------------------------- LeCam


class NoCritic:
    """A discriminator that must not be called: a penalty given logits has no need of it."""

    def __call__(self, *args, **kwargs):
        raise AssertionError("D was run although its logits were given")


REAL_LOGITS = tf.constant([[1.0], [3.0]])  # mean 2
FAKE_LOGITS = tf.constant([[-2.0], [0.0]])  # mean −1


def test_lecam_by_hand_with_decay_one_half():
    lecam = LeCam(decay=0.5)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch([REAL_LOGITS, FAKE_LOGITS])
        first = lecam(NoCritic(), None, None, seed=SEED, step=0, real_logits=REAL_LOGITS, fake_logits=FAKE_LOGITS)
    # anchors move first: α_R = ½·0 + ½·2 = 1, α_F = ½·0 + ½·(−1) = −½;
    # then mean((1.5², 3.5²)) + mean(((−3)², (−1)²)) = 7.25 + 5 = 12.25
    assert first.dtype == tf.float32 and float(first) == pytest.approx(12.25)
    assert (float(lecam.real_anchor), float(lecam.fake_anchor)) == (1.0, -0.5)
    # the anchors are constants: ∂/∂r = 2(r − α_F)/2 = (1.5, 3.5) and ∂/∂f = 2(f − α_R)/2 = (−3, −1),
    # with nothing from the anchors' own dependence on the logits
    np.testing.assert_allclose(tape.gradient(first, REAL_LOGITS).numpy().ravel(), [1.5, 3.5])
    np.testing.assert_allclose(tape.gradient(first, FAKE_LOGITS).numpy().ravel(), [-3.0, -1.0])
    second = lecam(NoCritic(), None, None, seed=SEED, step=1, real_logits=REAL_LOGITS, fake_logits=FAKE_LOGITS)
    # α_R = ½ + 1 = 1.5, α_F = −¼ − ½ = −0.75: mean((1.75², 3.75²)) + mean(((−3.5)², (−1.5)²)) = 8.5625 + 7.25
    assert float(second) == pytest.approx(15.8125)


def test_lecam_anchors_are_the_closed_form_moving_average_inside_a_graph():
    lecam = LeCam()

    @tf.function
    def regularise(real_logits, fake_logits):
        return lecam(NoCritic(), None, None, seed=SEED, step=0, real_logits=real_logits, fake_logits=fake_logits)

    for _ in range(5):
        value = regularise(REAL_LOGITS, tf.cast(FAKE_LOGITS, tf.float16))  # float16 logits: a float32 value
    # from 0, five updates towards a constant m give m·(1 − 0.99⁵)
    kept = 1 - 0.99**5
    real_anchor, fake_anchor = 2 * kept, -1 * kept
    assert float(lecam.real_anchor) == pytest.approx(real_anchor, rel=1e-5)
    assert float(lecam.fake_anchor) == pytest.approx(fake_anchor, rel=1e-5)
    expected = np.mean((np.array([1.0, 3.0]) - fake_anchor) ** 2) + np.mean((np.array([-2.0, 0.0]) - real_anchor) ** 2)
    assert value.dtype == tf.float32 and float(value) == pytest.approx(expected, rel=1e-5)


def test_lecam_runs_d_only_without_logits_and_checks_its_decay():
    critic = linear_critic(direction(1.0))
    real, fake = batch(3, 0), batch(3, 1)
    by_logits = LeCam(decay=0.5)(None, real, fake, real_logits=critic(real), fake_logits=critic(fake))
    assert float(LeCam(decay=0.5)(critic, real, fake)) == pytest.approx(float(by_logits), rel=1e-6)
    with pytest.raises(ValueError, match="`decay` must be in"):
        LeCam(decay=1.0)


def test_lecam_saves_its_anchors_in_its_config_and_in_weight_files(tmp_path):
    lecam = LeCam(decay=0.5)
    for _ in range(2):
        lecam(None, None, None, real_logits=REAL_LOGITS, fake_logits=FAKE_LOGITS)
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(lecam))
    assert isinstance(restored, LeCam) and restored.decay == 0.5
    assert (float(restored.real_anchor), float(restored.fake_anchor)) == (1.5, -0.75)
    arguments = {"real_logits": REAL_LOGITS, "fake_logits": FAKE_LOGITS}
    assert float(restored(None, None, None, **arguments)) == float(lecam(None, None, None, **arguments))

    # As the trainer holds it: a tracked layer, its anchors saved with the model's weights.
    class Holder(keras.Model):
        def __init__(self):
            super().__init__()
            self.tricks = [Penalty("lecam").fn]

        def call(self, x):
            return x

    saved, loaded = Holder(), Holder()
    for holder in (saved, loaded):
        holder(np.zeros((1, 1), "float32"))  # built, so it can be saved
    saved.tricks[0](None, None, None, **arguments)
    saved.save_weights(tmp_path / "holder.weights.h5")
    loaded.load_weights(tmp_path / "holder.weights.h5")
    assert float(loaded.tricks[0].real_anchor) == pytest.approx(0.02) and float(loaded.tricks[0].fake_anchor) == pytest.approx(-0.01)


# ---------------------------------------------------------------------------------------------- lazy, logits, LinearRamp


def test_lazy_penalty_is_every_kth_step_times_k_and_not_computed_in_between():
    calls = []

    def counted(discriminator, real, fake, *, seed, step):
        calls.append(int(step))
        return tf.constant(3.0)

    lazy = Penalty(counted, every=4)
    values = [float(lazy(None, None, None, seed=SEED, step=tf.constant(step, tf.int64))) for step in range(8)]
    assert values == [12.0, 0, 0, 0, 12.0, 0, 0, 0] and calls == [0, 4]
    # with a fade: (1 − step/8)·2·3 on even steps, and not computed once faded
    calls.clear()
    faded = Penalty(counted, schedule=LinearRamp(0, 8, 1.0, 0.0), every=2)
    values = [float(faded(None, None, None, seed=SEED, step=step)) for step in range(10)]
    assert values == pytest.approx([6.0, 0, 4.5, 0, 3.0, 0, 1.5, 0, 0, 0]) and calls == [0, 2, 4, 6]
    with pytest.raises(ValueError, match="needs the training step"):
        lazy(None, None, None, seed=SEED)
    for every in (0, 1.5, True):
        with pytest.raises(ValueError, match="`every` must be a positive integer"):
            Penalty(counted, every=every)


def test_lazy_r1_gradient_is_k_times_r1s_on_due_steps_and_zero_otherwise():
    critic = Quadratic(0.5)
    lazy = Penalty("r1", every=4)

    @tf.function
    def gradient(penalty, step):
        with tf.GradientTape() as tape:
            value = penalty(critic, ONES_AND_ZEROS, None, seed=SEED, step=step)
        return tape.gradient(value, critic.a)

    assert float(gradient(lazy, tf.constant(8, tf.int64))) == pytest.approx(4 * 24.0, rel=1e-6)  # 4 × (8a·6)
    assert float(gradient(lazy, tf.constant(9, tf.int64))) == 0.0


def test_penalty_passes_logits_only_to_functions_that_use_them():
    seen = {}

    def with_logits(discriminator, real, fake, *, seed, step, real_logits, fake_logits):
        seen.update(real=real_logits, fake=fake_logits)
        return ops.mean(real_logits) - ops.mean(fake_logits)

    with_logits.uses_logits = True

    def without(discriminator, real, fake, *, seed, step):  # would fail on unexpected keywords
        return tf.constant(1.0)

    logits = {"real_logits": REAL_LOGITS, "fake_logits": FAKE_LOGITS}
    assert Penalty(with_logits).uses_logits and not Penalty(without).uses_logits
    assert float(Penalty(with_logits)(None, None, None, seed=SEED, step=0, **logits)) == pytest.approx(3.0)  # 2 − (−1)
    assert seen["real"] is REAL_LOGITS and seen["fake"] is FAKE_LOGITS
    assert float(Penalty(without)(None, None, None, seed=SEED, step=0, **logits)) == 1.0
    assert Penalty("lecam").uses_logits and Penalty("consistency", augment=random_flip).uses_logits
    assert not Penalty("r1").uses_logits and not Penalty("dragan").uses_logits


def test_linear_ramp_warms_up_and_fades():
    warm_up, fade = LinearRamp(2, 6, 0.0, 1.0), LinearRamp(0, 4, 1.0, 0.0)
    # constant before the start and after the end, (step − start)/(end − start) of the way between
    assert [float(warm_up(step)) for step in range(9)] == [0, 0, 0, 0.25, 0.5, 0.75, 1, 1, 1]
    assert [float(fade(tf.constant(step, tf.int64))) for step in range(6)] == [1, 0.75, 0.5, 0.25, 0, 0]
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(warm_up))
    assert isinstance(restored, LinearRamp) and float(restored(5)) == 0.75
    for start, end in ((4, 4), (5, 2), (-1, 3)):
        with pytest.raises(ValueError, match="LinearRamp needs 0 <= `start_step` < `end_step`"):
            LinearRamp(start, end, 0.0, 1.0)


def test_penalty_round_trip_keeps_every_schedule_and_a_callable_option():
    penalty = Penalty("consistency", schedule=LinearRamp(0, 4, 0.0, 1.0), every=2, augment=random_flip, real_weight=2.0)
    config = keras.saving.serialize_keras_object(penalty)
    restored = keras.saving.deserialize_keras_object(config)
    assert restored.fn is consistency_penalty and restored.every == 2 and restored.uses_logits
    assert restored.options == {"augment": random_flip, "real_weight": 2.0}
    assert isinstance(restored.schedule, LinearRamp) and restored.schedule.get_config() == penalty.schedule.get_config()
    critic, real, fake = linear_critic(direction(1.0)), batch(4, 0), batch(4, 1)
    for step in (2, 3, 4):
        arguments = {"seed": SEED, "step": tf.constant(step, tf.int64)}
        assert float(restored(critic, real, fake, **arguments)) == float(penalty(critic, real, fake, **arguments))
    assert float(penalty(critic, real, fake, seed=SEED, step=2)) > 0  # ½·2·(bCR) on a due step


def test_penalty_round_trip_of_a_stateful_penalty_keeps_its_state():
    penalty = Penalty("lecam", decay=0.5)
    penalty(None, None, None, real_logits=REAL_LOGITS, fake_logits=FAKE_LOGITS)
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(penalty))
    assert isinstance(restored.fn, LeCam) and restored.fn is not penalty.fn and restored.fn.decay == 0.5
    assert (float(restored.fn.real_anchor), float(restored.fn.fake_anchor)) == (1.0, -0.5)


# ---------------------------------------------------------------------------------------------- mixed precision


@pytest.mark.parametrize(
    "penalty, options",
    [(gradient_penalty, {}), (r1_penalty, {}), (r2_penalty, {}), (dragan_penalty, {}), (consistency_penalty, {"augment": always_flip})],
)
def test_values_are_float32_under_a_float16_critic(penalty, options):
    w = direction(1.5)
    critic = keras.Sequential([keras.Input(SHAPE), keras.layers.Flatten(dtype="mixed_float16"), keras.layers.Dense(1, dtype="mixed_float16")])
    critic.layers[-1].set_weights([w.reshape(DIM, 1).astype("float32"), np.zeros(1, "float32")])
    real, fake = batch(4, 0, "float16"), batch(4, 1, "float16")
    assert critic(real).dtype == tf.float16
    value = penalty(critic, real, fake, seed=SEED, step=0, **options)
    assert value.dtype == tf.float32 and np.isfinite(float(value))
    # the same penalty of the same critic in float32 (its weights as float16 rounds them)
    critic32 = linear_critic(w.astype("float16").astype("float32"), b=0.0)
    reference = penalty(critic32, real.astype("float32"), fake.astype("float32"), seed=SEED, step=0, **options)
    assert float(value) == pytest.approx(float(reference), rel=2e-3)
    if penalty in (r1_penalty, r2_penalty):  # a linear critic's ‖∇‖² is ‖w‖²
        assert float(value) == pytest.approx(1.5**2, rel=2e-3)
