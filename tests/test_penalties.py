"""kgan.penalties: the gradient penalty against hand-computed values and finite differences; `Penalty` options and schedules."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from kgan.penalties import Penalty, get, gradient_penalty

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
    with pytest.raises(ValueError, match="Unknown penalty 'r3'"):
        Penalty("r3")
