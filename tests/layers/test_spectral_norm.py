"""kgan.layers against numpy references, plus saving, SavedModel export and one training step each."""

import copy

import keras
import numpy as np
import pytest
import tensorflow as tf

from kgan.layers import MinibatchDiscrimination, MinibatchStdDev, SelfAttention2D, SpectralNormalization


@pytest.fixture(autouse=True)
def seeded():
    keras.utils.set_random_seed(0)


def normal(shape, seed=0, scale=1.0, dtype="float32"):
    return (scale * np.random.default_rng(seed).normal(size=shape)).astype(dtype)


def kernel_matrix(kernel):
    kernel = np.asarray(kernel)
    return kernel.reshape(-1, kernel.shape[-1])


def largest_singular_value(matrix):
    return np.linalg.svd(matrix, compute_uv=False)[0]


# ---------------------------------------------------------------------------------------------
# SpectralNormalization

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


# ---------------------------------------------------------------------------------------------
# MinibatchDiscrimination


def minibatch_discrimination_reference(x, kernel, num_kernels, kernel_dim):
    rows = (x.astype("float64") @ kernel).reshape(len(x), num_kernels, kernel_dim)
    closeness = np.zeros((len(x), num_kernels))
    for i in range(len(x)):
        for j in range(len(x)):
            for b in range(num_kernels):
                closeness[i, b] += np.exp(-np.abs(rows[i, b] - rows[j, b]).sum())
    return np.concatenate([x, closeness], axis=-1)


@pytest.mark.parametrize("batch", [5, 1])
def test_minibatch_discrimination_matches_reference(batch):
    layer = MinibatchDiscrimination(num_kernels=3, kernel_dim=2)
    layer.build((None, 4))
    kernel = normal((4, 6), seed=3, scale=0.3)
    layer.set_weights([kernel])
    x = normal((batch, 4))
    outputs = layer(x).numpy()
    assert outputs.shape == (batch, 4 + 3)
    np.testing.assert_allclose(outputs, minibatch_discrimination_reference(x, kernel, 3, 2), rtol=1e-5, atol=1e-5)
    if batch == 1:  # only the self term: exp(0) = 1 per kernel
        np.testing.assert_allclose(outputs[:, 4:], 1.0)


def test_minibatch_discrimination_rejects_conv_maps():
    with pytest.raises(ValueError, match=r"expects \(batch, features\).*Flatten"):
        MinibatchDiscrimination(3, 2)(normal((2, 4, 4, 3)))


# ---------------------------------------------------------------------------------------------
# MinibatchStdDev


def minibatch_stddev_reference(x, group_size, epsilon=1e-8):
    """Groups by stride, as ProGAN's reshape to (G, batch/G, ...) does: sample i is in group i mod M."""
    batch = len(x)
    group = min(group_size, batch)
    groups = batch // group
    feature = np.zeros(batch)
    for i in range(batch):
        members = x[[i % groups + k * groups for k in range(group)]].astype("float64")
        feature[i] = np.sqrt(members.var(axis=0) + epsilon).mean()
    maps = np.broadcast_to(feature[:, None, None, None], (*x.shape[:-1], 1))
    return np.concatenate([x, maps], axis=-1)


@pytest.mark.parametrize("batch, group_size", [(8, 4), (6, 2), (3, 4), (1, 4)])
def test_minibatch_stddev_matches_reference(batch, group_size):
    x = normal((batch, 3, 2, 5), seed=batch)
    outputs = MinibatchStdDev(group_size=group_size)(x).numpy()
    assert outputs.shape == (batch, 3, 2, 6)
    np.testing.assert_allclose(outputs, minibatch_stddev_reference(x, group_size), rtol=1e-5, atol=1e-6)
    if batch == 1:
        np.testing.assert_allclose(outputs[..., -1], np.sqrt(1e-8), rtol=1e-3)


def test_minibatch_stddev_of_identical_samples_is_nearly_zero():
    x = np.repeat(normal((1, 4, 4, 3)), 8, axis=0)
    feature = MinibatchStdDev(group_size=4)(x).numpy()[..., -1]
    assert np.abs(feature).max() <= 1e-3


def test_minibatch_stddev_rejects_a_batch_not_divisible_by_the_group():
    layer = MinibatchStdDev(group_size=4)
    message = r"(?s)batch size.*6.*not a multiple of the group size.*4"
    with pytest.raises(tf.errors.InvalidArgumentError, match=message):
        layer(normal((6, 2, 2, 3)))
    in_graph = tf.function(layer, input_signature=[tf.TensorSpec((None, 2, 2, 3), tf.float32)])
    in_graph(normal((8, 2, 2, 3)))
    with pytest.raises(tf.errors.InvalidArgumentError, match=message):
        in_graph(normal((6, 2, 2, 3)))


# ---------------------------------------------------------------------------------------------
# SelfAttention2D


def softmax(scores, axis):
    scores = scores - scores.max(axis=axis, keepdims=True)
    return np.exp(scores) / np.exp(scores).sum(axis=axis, keepdims=True)


def self_attention_reference(x, layer):
    batch, height, width, channels = x.shape

    def project(conv):  # a 1×1 conv is a matmul over channels
        kernel, *bias = conv.get_weights()
        return (x.astype("float64") @ kernel[0, 0] + (bias[0] if bias else 0)).reshape(batch, height * width, -1)

    query, key, value = project(layer.query), project(layer.key), project(layer.value)
    weights = softmax(query @ key.transpose(0, 2, 1), axis=-1)
    attended = (weights @ value).reshape(x.shape)
    return float(layer.gamma.numpy()) * attended + x


def test_self_attention_starts_as_the_identity():
    x = normal((2, 3, 4, 8))
    np.testing.assert_array_equal(SelfAttention2D(key_ratio=4)(x).numpy(), x)


def test_self_attention_matches_reference():
    layer = SelfAttention2D(key_ratio=4)
    x = normal((2, 3, 4, 8))  # H ≠ W, so a transposed reshape would show
    layer(x)
    assert layer.query.kernel.shape == (1, 1, 8, 2) and layer.value.kernel.shape == (1, 1, 8, 8)
    layer.query.bias.assign(normal((2,), seed=6))
    layer.value.bias.assign(normal((8,), seed=7))
    layer.gamma.assign(1.0)
    np.testing.assert_allclose(layer(x).numpy(), self_attention_reference(x, layer), rtol=1e-5, atol=1e-5)


# ---------------------------------------------------------------------------------------------
# Every layer: saving, config, SavedModel export, one training step


# case: (make the layer, input shape without the batch, the non-default settings its config must keep)
CASES = {
    "spectral_norm_dense": (
        lambda: SpectralNormalization(keras.layers.Dense(3), power_iterations=2, epsilon=1e-10, seed=1),
        (6,),
        {"power_iterations": 2, "epsilon": 1e-10, "seed": 1},
    ),
    "spectral_norm_conv2d": (
        lambda: SpectralNormalization(keras.layers.Conv2D(2, 3), seed=1),
        (5, 5, 2),
        {"seed": 1},
    ),
    "spectral_norm_conv2d_transpose": (
        lambda: SpectralNormalization(keras.layers.Conv2DTranspose(2, 3, strides=2), seed=1),
        (3, 3, 2),
        {"seed": 1},
    ),
    "minibatch_discrimination": (lambda: MinibatchDiscrimination(3, 2), (6,), {"num_kernels": 3, "kernel_dim": 2}),
    "minibatch_stddev": (
        lambda: MinibatchStdDev(group_size=2, epsilon=1e-6),
        (4, 4, 2),
        {"group_size": 2, "epsilon": 1e-6},
    ),
    "self_attention": (lambda: SelfAttention2D(key_ratio=2), (4, 3, 4), {"key_ratio": 2}),
}


def model_around(case, head=False, fresh=False):
    """A functional model whose only interesting layer is the case's; `head` adds Flatten + Dense(1).

    Unless `fresh`, the layer's state is moved off its initial values, so comparisons see all of it.
    """
    make_layer, shape, _ = CASES[case]
    inputs = keras.Input(shape)
    layer = make_layer()
    outputs = layer(inputs)
    if head:
        outputs = keras.layers.Dense(1)(keras.layers.Flatten()(outputs))
    model = keras.Model(inputs, outputs)
    if not fresh and isinstance(layer, SpectralNormalization):
        layer(normal((4, *shape), seed=9), training=True)  # u off its initial draw
    if not fresh and isinstance(layer, SelfAttention2D):
        layer.gamma.assign(0.5)  # γ = 0 would hide the attention path
    return model, layer, shape


@pytest.mark.parametrize("case", CASES)
def test_keras_file_round_trip(case, tmp_path):
    model, _, shape = model_around(case)
    model.save(tmp_path / "model.keras")
    loaded = keras.models.load_model(tmp_path / "model.keras")
    for saved, restored in zip(model.weights, loaded.weights, strict=True):
        np.testing.assert_array_equal(saved.numpy(), restored.numpy())
    x = normal((4, *shape), seed=1)
    np.testing.assert_allclose(loaded(x).numpy(), model(x).numpy(), atol=1e-6)


@pytest.mark.parametrize("case", CASES)
def test_config_round_trip(case):
    _, layer, shape = model_around(case)
    config = layer.get_config()
    clone = type(layer).from_config(copy.deepcopy(config))
    x = normal((4, *shape), seed=1)
    clone(x)
    assert clone.get_config() == config
    for name, value in CASES[case][2].items():
        assert getattr(clone, name) == value
    clone.set_weights(layer.get_weights())
    np.testing.assert_allclose(clone(x).numpy(), layer(x).numpy(), atol=1e-6)


@pytest.mark.parametrize("case", CASES)
def test_savedmodel_export_serves_any_batch_size(case, tmp_path):
    model, _, shape = model_around(case)
    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.add_endpoint(
        "serve",
        lambda images: model(images, training=False),
        input_signature=[tf.TensorSpec((None, *shape), tf.float32)],
    )
    archive.write_out(str(tmp_path / "exported"), verbose=False)
    reloaded = tf.saved_model.load(str(tmp_path / "exported"))
    for batch in (2, 6):
        x = normal((batch, *shape), seed=batch)
        served = reloaded.serve(tf.constant(x)).numpy()
        assert np.abs(served - model(x).numpy()).max() <= 1e-5


@pytest.mark.parametrize("case", CASES)
def test_one_fit_step_trains_the_layer(case):
    model, layer, shape = model_around(case, head=True, fresh=True)
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
    before = {v.path: v.numpy() for v in model.weights}
    # Two steps: a self-attention block with γ = 0 passes no gradient to its convs until γ moves.
    model.fit(normal((8, *shape), seed=3), normal((8, 1), seed=4), batch_size=4, epochs=1, verbose=0)
    trained = layer.trainable_weights if layer.trainable_weights else model.trainable_weights
    assert trained, "nothing to train"
    for variable in trained:
        assert not np.array_equal(variable.numpy(), before[variable.path]), f"{variable.path} did not change"
    if isinstance(layer, SpectralNormalization):
        assert not np.array_equal(layer.u.numpy(), before[layer.u.path])
