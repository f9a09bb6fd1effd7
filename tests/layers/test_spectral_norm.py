"""kgan.layers.SpectralNormalization: σ against numpy's SVD, the gradient through σ, `u`, mixed precision (σ in
float32, the all-zero kernel in float16), and the layer contract."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from kgan.layers import SpectralNormalization
from tests.helpers import normal, run_layer_test

MIXED_POLICIES = ["mixed_float16", "mixed_bfloat16"]


@pytest.fixture(autouse=True)
def seeded():
    keras.utils.set_random_seed(0)
    yield
    keras.config.set_dtype_policy("float32")  # whatever a test set


def as_float64(tensor):
    return tf.cast(tensor, tf.float64).numpy()


def kernel_matrix(kernel):
    kernel = np.asarray(kernel)
    return kernel.reshape(-1, kernel.shape[-1])


def largest_singular_value(matrix):
    return np.linalg.svd(matrix, compute_uv=False)[0]


WRAPPED = {
    "dense": (lambda: keras.layers.Dense(5), (3, 7)),
    "conv2d": (lambda: keras.layers.Conv2D(4, 3, padding="same"), (2, 6, 6, 3)),
    "conv2d_transpose": (lambda: keras.layers.Conv2DTranspose(4, 3, strides=2), (2, 4, 4, 3)),
}


def converged_wrapper(kind):
    """A wrapper after 10 training calls of 10 power iterations, its inner layer given a nonzero bias."""
    make_inner, input_shape = WRAPPED[kind]
    inner = make_inner()
    wrapper = SpectralNormalization(inner, power_iterations=10)
    x = normal(input_shape)
    for _ in range(10):
        wrapper(x, training=True)
    inner.bias.assign(normal(inner.bias.shape, seed=5))
    return wrapper, inner, x


@pytest.mark.parametrize("kind", WRAPPED)
def test_power_iteration_finds_the_largest_singular_value(kind):
    wrapper, inner, _ = converged_wrapper(kind)
    normalized = kernel_matrix(inner.kernel) / float(wrapper.spectral_norm())
    assert largest_singular_value(normalized) == pytest.approx(1.0, abs=1e-3)
    assert largest_singular_value(kernel_matrix(inner.kernel)) != pytest.approx(1.0, abs=1e-2)  # not trivially 1


@pytest.mark.parametrize("kind", WRAPPED)
def test_output_is_the_inner_layer_run_with_kernel_over_true_sigma(kind):
    wrapper, inner, x = converged_wrapper(kind)
    kernel = inner.kernel.numpy()
    reference = type(inner).from_config(inner.get_config())
    reference.build(x.shape)
    reference.set_weights([kernel / largest_singular_value(kernel_matrix(kernel)), inner.bias.numpy()])
    expected = reference(x).numpy()
    np.testing.assert_allclose(wrapper(x, training=False), expected, atol=1e-4)
    np.testing.assert_allclose(wrapper(x, training=True), expected, atol=1e-4)
    np.testing.assert_array_equal(inner.kernel.numpy(), kernel)  # the raw kernel is never overwritten


def test_gradient_reaches_the_raw_kernel_through_sigma():
    inner = keras.layers.Dense(3, dtype="float64")
    wrapper = SpectralNormalization(inner, power_iterations=100, dtype="float64")
    x = normal((4, 5), seed=1, dtype="float64")
    weights = normal((4, 3), seed=2, dtype="float64")
    wrapper(x, training=True)  # 100 power iterations: u converged
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(weights * wrapper(x, training=True))
    gradient = tape.gradient(loss, inner.kernel).numpy()

    kernel, bias = inner.kernel.numpy(), inner.bias.numpy()

    def exact_loss(w):
        return np.sum(weights * (x @ (w / largest_singular_value(w)) + bias))

    step = 1e-6
    finite_difference = np.zeros_like(kernel)
    for index in np.ndindex(kernel.shape):
        shift = np.zeros_like(kernel)
        shift[index] = step
        finite_difference[index] = (exact_loss(kernel + shift) - exact_loss(kernel - shift)) / (2 * step)
    np.testing.assert_allclose(gradient, finite_difference, atol=1e-7)

    sigma_held_constant = x.T @ weights / largest_singular_value(kernel)
    assert np.abs(sigma_held_constant - finite_difference).max() > 0.1


def test_u_changes_only_in_training_calls():
    inner = keras.layers.Dense(3)
    wrapper = SpectralNormalization(inner)
    model = keras.Sequential([keras.Input((4,)), wrapper])
    x = normal((2, 4))
    model(x)
    kernel, u = inner.kernel.numpy(), wrapper.u.numpy()
    wrapper(x)
    wrapper(x, training=False)
    model.predict(x, verbose=0)
    np.testing.assert_array_equal(wrapper.u.numpy(), u)
    wrapper(x, training=True)
    assert not np.array_equal(wrapper.u.numpy(), u)
    np.testing.assert_array_equal(inner.kernel.numpy(), kernel)


@pytest.mark.parametrize(
    "layer", [keras.layers.LayerNormalization(), keras.layers.Embedding(4, 2), keras.layers.Conv1D(2, 3)]
)
def test_spectral_normalization_rejects_other_layers(layer):
    with pytest.raises(ValueError, match="wraps Dense, Conv2D, Conv2DTranspose; got"):
        SpectralNormalization(layer)


def test_wrapped_layers_activity_regularizer_still_counts():
    """The wrapped layer adds its loss inside the wrapper's StatelessScope; the wrapper must pass it on."""
    wrapper = SpectralNormalization(keras.layers.Dense(2, activity_regularizer=keras.regularizers.L2(0.5)))
    x = normal((3, 4))
    wrapper(x, training=True)
    plain = keras.layers.Dense(2, activity_regularizer=keras.regularizers.L2(0.5))
    plain.build(x.shape)
    plain.set_weights([wrapper.normalized_kernel().numpy(), wrapper.layer.bias.numpy()])
    plain(x)
    assert len(wrapper.losses) == 1
    assert float(wrapper.losses[0]) == pytest.approx(float(plain.losses[0]), rel=1e-5)


def test_u_survives_an_all_zero_kernel():
    inner = keras.layers.Dense(3, kernel_initializer="zeros")
    wrapper = SpectralNormalization(inner, power_iterations=20)
    x = normal((2, 4))
    np.testing.assert_array_equal(wrapper(x, training=True).numpy(), 0.0)  # zeros, not NaNs
    inner.kernel.assign(normal((4, 3), seed=1))
    wrapper(x, training=True)
    assert float(wrapper.spectral_norm()) == pytest.approx(largest_singular_value(inner.kernel.numpy()), rel=1e-4)


@pytest.mark.parametrize("policy", MIXED_POLICIES)
def test_power_iteration_runs_on_the_float32_kernel_under_mixed_precision(policy):
    """The same weights and calls under float32 and under a mixed policy give the same u and σ, to float32 precision.

    Read as the 16-bit compute dtype (rounded at 2⁻¹¹ or 2⁻⁸), the kernel would move u by ~1e-3.
    """
    x = normal((4, 7))
    exact = SpectralNormalization(keras.layers.Dense(5), seed=1)
    exact(x)
    keras.config.set_dtype_policy(policy)
    mixed = SpectralNormalization(keras.layers.Dense(5), seed=1)
    mixed(x)
    mixed.set_weights(exact.get_weights())  # u, kernel, bias
    for _ in range(3):
        expected = exact(x, training=True)
        outputs = mixed(x, training=True)
    assert mixed.u.dtype == "float32" and outputs.dtype == keras.config.dtype_policy().compute_dtype
    np.testing.assert_allclose(mixed.u.numpy(), exact.u.numpy(), atol=1e-6)
    assert float(mixed.spectral_norm()) == pytest.approx(float(exact.spectral_norm()), rel=1e-6)
    # the wrapped Dense itself runs in 16 bits: its outputs agree to the compute dtype's precision only
    np.testing.assert_allclose(as_float64(outputs), expected.numpy(), rtol=3e-2, atol=3e-2)


@pytest.mark.parametrize("policy", MIXED_POLICIES)
def test_all_zero_kernel_in_16_bits_gives_finite_outputs_and_gradients(policy):
    """ε = 1e-12 is 0 in float16: a σ computed there made 0 / 0 = NaN, and a u of NaNs forever after."""
    keras.config.set_dtype_policy(policy)
    compute_dtype = keras.config.dtype_policy().compute_dtype
    inner = keras.layers.Dense(3, kernel_initializer="zeros")
    wrapper = SpectralNormalization(inner, power_iterations=2)
    x = normal((2, 4))
    weights = normal((2, 3), seed=2)
    wrapper(x)
    u = wrapper.u.numpy()
    with tf.GradientTape() as tape:
        outputs = wrapper(x, training=True)
        loss = tf.reduce_sum(weights * tf.cast(outputs, tf.float32))
    kernel_gradient, bias_gradient = tape.gradient(loss, [inner.kernel, inner.bias])
    assert outputs.dtype == compute_dtype
    np.testing.assert_array_equal(as_float64(outputs), 0.0)  # x · (0 / ε) + 0
    np.testing.assert_array_equal(wrapper.u.numpy(), u)  # the zero iterate is not stored
    # The zero kernel has σ = 0 < ε, so W / max(σ, ε) = W / ε and d loss / dW = xᵀ · weights / ε = 1e12 · xᵀ · weights:
    # finite, because only xᵀ · weights (the plain kernel gradient) is formed in 16 bits and the 1/ε in float32.
    rounded_x, rounded_weights = as_float64(tf.cast(x, compute_dtype)), as_float64(tf.cast(weights, compute_dtype))
    np.testing.assert_allclose(kernel_gradient.numpy(), rounded_x.T @ rounded_weights / 1e-12, rtol=2e-2)
    np.testing.assert_allclose(bias_gradient.numpy(), weights.sum(axis=0), rtol=1e-2)
    # and the iteration recovers once the kernel is not zero
    inner.kernel.assign(normal((4, 3), seed=1))
    for _ in range(20):
        wrapper(x, training=True)
    assert float(wrapper.spectral_norm()) == pytest.approx(largest_singular_value(inner.kernel.numpy()), rel=1e-4)


@pytest.mark.parametrize("inner_dtype", [None, "mixed_float16"])
def test_a_wrapper_given_its_own_mixed_policy(inner_dtype):
    """The global policy stays float32; the wrapper (and maybe its layer) is given mixed_float16."""
    inner = keras.layers.Dense(3, kernel_initializer="zeros", dtype=inner_dtype)
    wrapper = SpectralNormalization(inner, dtype="mixed_float16")
    x = normal((2, 4))
    with tf.GradientTape() as tape:
        outputs = wrapper(x, training=True)
        loss = tf.reduce_sum(tf.cast(outputs, tf.float32))
    gradients = tape.gradient(loss, wrapper.trainable_weights)
    assert outputs.dtype == "float16"  # the wrapper's compute dtype, whatever its layer's
    assert all(variable.dtype == "float32" for variable in wrapper.weights)
    assert np.isfinite(as_float64(outputs)).all() and all(np.isfinite(g.numpy()).all() for g in gradients)


def test_stateless_call_of_the_model_reaches_every_wrapped_variable():
    """An enclosing StatelessScope's values (kernel and bias alike) must show through the wrapper's own scope."""
    wrapper = SpectralNormalization(keras.layers.Dense(2))
    model = keras.Sequential([keras.Input((4,)), wrapper])
    x = normal((3, 4))
    values = [v.numpy() * 2 + 0.5 for v in model.trainable_variables]
    outputs, (u,) = model.stateless_call(values, [wrapper.u.numpy()], x, training=True)
    for variable, value in zip(model.trainable_variables, values):
        variable.assign(value)
    np.testing.assert_allclose(outputs.numpy(), model(x, training=True).numpy(), atol=1e-6)
    np.testing.assert_allclose(u.numpy(), wrapper.u.numpy(), atol=1e-6)


def test_spectral_normalization_rejects_a_computed_kernel():
    lora = keras.layers.Dense(3)
    lora.build((None, 4))
    lora.enable_lora(2)  # its `kernel` is now kernel + A·B, a tensor, not a variable to normalise
    with pytest.raises(ValueError, match="whose `kernel` is a variable"):
        SpectralNormalization(lora)(normal((2, 4)))


def move_u(layer, batch):
    layer(batch, training=True)  # u off its initial draw


@pytest.mark.parametrize(
    "make_inner, input_shape, settings",
    [
        (lambda: keras.layers.Dense(3), (6,), {"power_iterations": 2, "epsilon": 1e-10, "seed": 1}),
        (lambda: keras.layers.Conv2D(2, 3), (5, 5, 2), {"seed": 1}),
        (lambda: keras.layers.Conv2DTranspose(2, 3, strides=2), (3, 3, 2), {"seed": 1}),
    ],
    ids=["dense", "conv2d", "conv2d_transpose"],
)
def test_layer_contract(make_inner, input_shape, settings, tmp_path):
    layer, before = run_layer_test(
        lambda: SpectralNormalization(make_inner(), **settings), input_shape, settings, prepare=move_u, tmp_path=tmp_path
    )
    assert not np.array_equal(layer.u.numpy(), before[layer.u.path])  # the power iteration ran in training


@pytest.mark.parametrize("policy", MIXED_POLICIES)
@pytest.mark.parametrize(
    "make_inner, input_shape",
    [
        (lambda: keras.layers.Dense(3), (6,)),
        (lambda: keras.layers.Conv2D(2, 3), (5, 5, 2)),
        (lambda: keras.layers.Conv2DTranspose(2, 3, strides=2), (3, 3, 2)),
    ],
    ids=["dense", "conv2d", "conv2d_transpose"],
)
def test_layer_contract_under_mixed_precision(make_inner, input_shape, policy, tmp_path):
    layer, before = run_layer_test(
        lambda: SpectralNormalization(make_inner(), seed=1), input_shape, {"seed": 1}, prepare=move_u, tmp_path=tmp_path,
        dtype_policy=policy,
    )
    assert layer.compute_dtype == keras.mixed_precision.Policy(policy).compute_dtype
    assert not np.array_equal(layer.u.numpy(), before[layer.u.path])
