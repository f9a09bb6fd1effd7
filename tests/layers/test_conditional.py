"""kgan.layers.conditional: conditional batch norm against hand values and against Keras' own batch norm (training and
inference), the projection head against hand values and numpy's SVD, label checks, mixed precision, the layer contract."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from kgan.layers.conditional import ConditionalBatchNormalization, ProjectionDiscriminatorHead
from tests.helpers import normal, run_layer_test

POLICIES = ["float32", "mixed_float16", "mixed_bfloat16"]


@pytest.fixture(autouse=True)
def seeded():
    keras.utils.set_random_seed(0)
    yield
    keras.config.set_dtype_policy("float32")  # whatever a test set


def as_float32(tensor):
    return tf.cast(tensor, tf.float32).numpy()


def labels_of(size, num_classes, seed):
    return np.random.default_rng(seed).integers(0, num_classes, size=size).astype("int32")


# --- ConditionalBatchNormalization ---------------------------------------------------------------------------------


def test_batch_norm_hand_values_each_sample_gets_its_class_scale_and_offset():
    # Four samples of 2 channels, ε = 7 so that σ² + ε is a square:
    #   channel 0: [-2, 4, 4, -2], mean 1, biased variance 9 → (x − 1) / sqrt(9 + 7) = [-0.75, 0.75, 0.75, -0.75]
    #   channel 1: [5, 5, -1, -1], mean 2, biased variance 9 → [0.75, 0.75, -0.75, -0.75]
    # labels [0, 1, 1, 0]; class 0: γ = [1, 2], β = [0, 1]; class 1: γ = [3, -1], β = [-2, 0.5]
    #   sample 0 (class 0): [-0.75·1 + 0,  0.75·2 + 1]    = [-0.75,  2.5 ]
    #   sample 1 (class 1): [ 0.75·3 − 2,  0.75·(−1) + 0.5] = [ 0.25, -0.25]
    #   sample 2 (class 1): [ 0.75·3 − 2, −0.75·(−1) + 0.5] = [ 0.25,  1.25]
    #   sample 3 (class 0): [-0.75·1 + 0, −0.75·2 + 1]    = [-0.75, -0.5 ]
    x = np.array([[-2.0, 5.0], [4.0, 5.0], [4.0, -1.0], [-2.0, -1.0]], "float32")
    labels = np.array([0, 1, 1, 0], "int32")
    layer = ConditionalBatchNormalization(2, momentum=0.5, epsilon=7.0)
    layer([x, labels])
    layer.gamma.assign([[1.0, 2.0], [3.0, -1.0]])
    layer.beta.assign([[0.0, 1.0], [-2.0, 0.5]])
    outputs = layer([x, labels], training=True).numpy()
    np.testing.assert_allclose(outputs, [[-0.75, 2.5], [0.25, -0.25], [0.25, 1.25], [-0.75, -0.5]], rtol=1e-6, atol=1e-6)
    # the moving statistics, momentum 0.5 from (0, 1): mean 0.5·0 + 0.5·[1, 2] = [0.5, 1]; variance 0.5·1 + 0.5·9 = 5
    np.testing.assert_allclose(layer.batch_norm.moving_mean.numpy(), [0.5, 1.0], rtol=1e-6)
    np.testing.assert_allclose(layer.batch_norm.moving_variance.numpy(), [5.0, 5.0], rtol=1e-6)
    # inference uses them: sample 0, class 0: [(-2 − 0.5) / sqrt(5 + 7) · 1, (5 − 1) / sqrt(12) · 2 + 1] = [-0.72169, 3.3094]
    np.testing.assert_allclose(layer([x, labels]).numpy()[0], [-0.721688, 3.309401], rtol=1e-5)


@pytest.mark.parametrize("policy", POLICIES)
def test_batch_norm_with_shared_class_weights_is_keras_batch_norm(policy):
    """All K rows of γ equal g and of β equal b: the output is BatchNormalization(γ=g, β=b)'s, in training and inference."""
    keras.config.set_dtype_policy(policy)
    shape, num_classes = (6, 3, 3, 4), 3
    conditional = ConditionalBatchNormalization(num_classes, momentum=0.5, epsilon=1e-3)
    plain = keras.layers.BatchNormalization(momentum=0.5, epsilon=1e-3)
    # scale 300: squares of ~90,000 overflow float16, so the statistics must be float32 in both
    batches = [normal(shape, seed=seed, scale=300.0) + 100.0 * seed for seed in range(4)]
    labels = [labels_of(shape[0], num_classes, seed) for seed in range(4)]
    conditional([batches[0], labels[0]])
    plain(batches[0])
    g, b = normal((4,), seed=10) + 1.0, normal((4,), seed=11)
    conditional.gamma.assign(np.tile(g, (num_classes, 1)))
    conditional.beta.assign(np.tile(b, (num_classes, 1)))
    plain.gamma.assign(g)
    plain.beta.assign(b)
    tolerance = {"rtol": 1e-5, "atol": 1e-5} if policy == "float32" else {"rtol": 1e-2, "atol": 2e-2}

    for x, y in zip(batches[:3], labels[:3], strict=True):  # training: batch statistics, moving statistics updated
        trained = conditional([x, y], training=True)
        assert trained.dtype == plain.compute_dtype
        np.testing.assert_allclose(as_float32(trained), as_float32(plain(x, training=True)), **tolerance)
    np.testing.assert_allclose(conditional.batch_norm.moving_mean.numpy(), plain.moving_mean.numpy(), rtol=1e-6)
    np.testing.assert_allclose(conditional.batch_norm.moving_variance.numpy(), plain.moving_variance.numpy(), rtol=1e-6)
    assert np.abs(plain.moving_mean.numpy()).min() > 1.0  # three updates moved them: inference differs from a fresh layer
    inferred = as_float32(conditional([batches[3], labels[3]], training=False))
    np.testing.assert_allclose(inferred, as_float32(plain(batches[3], training=False)), **tolerance)
    assert np.isfinite(inferred).all()


def test_batch_norm_gradient_reaches_only_the_classes_in_the_batch():
    x, labels = normal((5, 3), seed=1), np.array([0, 2, 2, 0, 2], "int32")
    layer = ConditionalBatchNormalization(4)
    layer([x, labels])
    with tf.GradientTape() as tape:
        total = tf.reduce_sum(layer([x, labels], training=True) * normal((5, 3), seed=2))
    gamma_gradient, beta_gradient = (tf.convert_to_tensor(g).numpy() for g in tape.gradient(total, [layer.gamma, layer.beta]))
    for gradient in (gamma_gradient, beta_gradient):
        assert np.all(gradient[[1, 3]] == 0)  # no sample of class 1 or 3
        assert np.all(np.abs(gradient[[0, 2]]).sum(axis=1) > 0)


def test_batch_norm_config_and_bad_options():
    layer = ConditionalBatchNormalization(5, momentum=0.9, epsilon=1e-5, synchronized=True, name="cbn")
    assert {k: layer.get_config()[k] for k in ("num_classes", "momentum", "epsilon", "synchronized")} == {
        "num_classes": 5, "momentum": 0.9, "epsilon": 1e-5, "synchronized": True
    }
    with pytest.raises(ValueError, match="num_classes must be a positive int, got 0"):
        ConditionalBatchNormalization(0)
    with pytest.raises(ValueError, match="momentum must be in"):
        ConditionalBatchNormalization(3, momentum=1.5)
    with pytest.raises(ValueError, match="epsilon must be positive"):
        ConditionalBatchNormalization(3, epsilon=0.0)
    with pytest.raises(ValueError, match=r"labels must be class indices of shape \(batch,\)"):
        ConditionalBatchNormalization(3)([normal((2, 4)), np.zeros((2, 1), "int32")])
    with pytest.raises(ValueError, match=r"called on \[features, labels\]"):
        ConditionalBatchNormalization(3)(normal((2, 4)))


@pytest.mark.parametrize("make_layer", [lambda: ConditionalBatchNormalization(3), lambda: ProjectionDiscriminatorHead(3)],
                         ids=["batch_norm", "projection"])
def test_labels_out_of_range_or_not_integers_are_clear_errors(make_layer):
    layer = make_layer()
    x = normal((4, 2))
    layer([x, np.array([0, 1, 2, 0], "int32")])
    for bad in ([0, 3, 1, 0], [0, -1, 1, 0]):
        with pytest.raises(ValueError, match=r"labels must be class indices in \[0, 3\)"):
            layer([x, np.array(bad, "int32")])
        # inside a graph: TensorFlow's Assert, at run time, with the same message
        with pytest.raises(tf.errors.InvalidArgumentError, match=r"labels must be class indices in \[0, 3\)"):
            tf.function(lambda features, labels: layer([features, labels]))(x, tf.constant(bad, tf.int32))
    with pytest.raises(ValueError, match="labels must be integer class indices"):
        layer([x, np.array([0.0, 1.0, 2.0, 0.0], "float32")])


# --- ProjectionDiscriminatorHead -----------------------------------------------------------------------------------

FEATURES = np.array([[1.0, 2.0], [3.0, -1.0]], "float32")
LABELS = np.array([1, 0], "int32")
PSI_KERNEL, PSI_BIAS = np.array([[0.5], [-1.0]], "float32"), np.array([0.25], "float32")
EMBEDDING = np.array([[1.0, 1.0], [2.0, -3.0], [0.5, 4.0]], "float32")  # V, 3 classes × 2 features


def projection_head(spectral_norm=False, embedding=EMBEDDING):
    head = ProjectionDiscriminatorHead(3, spectral_norm=spectral_norm)
    head([FEATURES, LABELS])
    linear = head.linear.layer if spectral_norm else head.linear
    projection = head.projection.layer if spectral_norm else head.projection
    linear.kernel.assign(PSI_KERNEL)
    linear.bias.assign(PSI_BIAS)
    projection.kernel.assign(embedding)
    return head


def test_projection_hand_values():
    # ψ(φ) = φ · [0.5, -1] + 0.25;  ⟨V[y], φ⟩
    #   sample 0, φ = [1, 2],  y = 1: ψ = 0.5 − 2 + 0.25 = −1.25;  V[1] = [2, −3]: 2 − 6 = −4  → −5.25
    #   sample 1, φ = [3, −1], y = 0: ψ = 1.5 + 1 + 0.25 = 2.75;   V[0] = [1, 1]:  3 − 1 = 2   → 4.75
    head = projection_head()
    np.testing.assert_allclose(head([FEATURES, LABELS]).numpy(), [[-5.25], [4.75]], rtol=1e-6)
    # another class for sample 0: y = 2, V[2] = [0.5, 4]: 0.5 + 8 = 8.5 → −1.25 + 8.5 = 7.25
    np.testing.assert_allclose(head([FEATURES, np.array([2, 0], "int32")]).numpy(), [[7.25], [4.75]], rtol=1e-6)


@pytest.mark.parametrize("spectral_norm", [False, True], ids=["plain", "spectral_norm"])
def test_projection_with_zero_embedding_is_the_unconditional_head(spectral_norm):
    head = projection_head(spectral_norm, embedding=np.zeros_like(EMBEDDING))
    kernel = PSI_KERNEL / np.linalg.norm(PSI_KERNEL) if spectral_norm else PSI_KERNEL  # σ of a column is its norm
    psi = FEATURES @ kernel + PSI_BIAS  # plain: [-1.25, 2.75]
    for training in (False, True):
        np.testing.assert_allclose(head([FEATURES, LABELS], training=training).numpy(), psi, rtol=1e-6, atol=1e-7)


def test_projection_spectral_norm_divides_psi_and_v_by_their_largest_singular_values():
    head = projection_head(spectral_norm=True)
    for _ in range(30):  # the power iteration's steps, one per training call, converge to σ(V)
        head([FEATURES, LABELS], training=True)
    sigma_v = np.linalg.svd(EMBEDDING, compute_uv=False)[0]  # ≈ 5.03, not 1: an unnormalised V fails the check below
    sigma_psi = np.linalg.norm(PSI_KERNEL)
    np.testing.assert_allclose(float(head.projection.spectral_norm()), sigma_v, rtol=1e-5)
    np.testing.assert_allclose(float(head.linear.spectral_norm()), sigma_psi, rtol=1e-5)
    inner = np.sum(EMBEDDING[LABELS] / sigma_v * FEATURES, axis=1, keepdims=True)
    expected = FEATURES @ (PSI_KERNEL / sigma_psi) + PSI_BIAS + inner
    np.testing.assert_allclose(head([FEATURES, LABELS]).numpy(), expected, rtol=1e-5)
    # the raw V stays in the variable (kgan's SpectralNormalization never writes the kernel)
    np.testing.assert_array_equal(head.projection.layer.kernel.numpy(), EMBEDDING)


def test_projection_inner_product_in_float32_under_mixed_float16():
    # φ = [300, 300], V[y] = [300, −300]: the products ±90,000 overflow float16 (inf − inf = NaN); in float32 they
    # cancel to 0, so the logit is ψ alone: 300·0.01 + 300·0.01 + 0 = 6
    head = ProjectionDiscriminatorHead(2, dtype="mixed_float16")
    features, labels = np.array([[300.0, 300.0]], "float32"), np.array([1], "int32")
    head([features, labels])
    head.linear.kernel.assign([[0.01], [0.01]])
    head.projection.kernel.assign([[0.0, 0.0], [300.0, -300.0]])
    logits = head([features, labels])
    assert logits.dtype == "float16"
    assert all(variable.dtype == "float32" for variable in head.weights)
    np.testing.assert_allclose(as_float32(logits), [[6.0]], rtol=1e-3)


def test_projection_bad_options_and_shapes():
    with pytest.raises(ValueError, match="num_classes must be a positive int"):
        ProjectionDiscriminatorHead(2.5)
    with pytest.raises(ValueError, match="spectral_norm must be True or False"):
        ProjectionDiscriminatorHead(3, spectral_norm="yes")
    with pytest.raises(ValueError, match=r"needs flat features \(batch, F\)"):
        ProjectionDiscriminatorHead(3)([normal((2, 4, 4, 1)), np.zeros((2,), "int32")])
    assert ProjectionDiscriminatorHead(3, spectral_norm=True).get_config()["spectral_norm"] is True


# --- the layer contract, with labels --------------------------------------------------------------------------------


def move_batch_norm_state(layer, sample_batch):
    """Off ones / zeros and the initial moving statistics, so the round trips compare all of the state."""
    layer.gamma.assign(1.0 + normal(layer.gamma.shape, seed=5, scale=0.5))
    layer.beta.assign(normal(layer.beta.shape, seed=6, scale=0.5))
    layer(sample_batch, training=True)


def move_head_state(layer, sample_batch):
    """A non-zero bias, and (spectral norm) `u` off its random start."""
    (layer.linear.layer if layer.spectral_norm else layer.linear).bias.assign([0.5])
    layer(sample_batch, training=True)


@pytest.mark.parametrize("policy", POLICIES)
def test_batch_norm_layer_contract(policy, tmp_path):
    layer, before = run_layer_test(
        lambda: ConditionalBatchNormalization(3, momentum=0.8), (3, 3, 2), {"num_classes": 3, "momentum": 0.8},
        prepare=move_batch_norm_state, tmp_path=tmp_path, dtype_policy=policy, num_classes=3,
    )
    assert layer.compute_dtype == keras.DTypePolicy(policy).compute_dtype
    moving_mean = layer.batch_norm.moving_mean
    assert not np.array_equal(moving_mean.numpy(), before[moving_mean.path])  # training updated the statistics


@pytest.mark.parametrize("policy", POLICIES)
@pytest.mark.parametrize("spectral_norm", [False, True], ids=["plain", "spectral_norm"])
def test_projection_head_layer_contract(spectral_norm, policy, tmp_path):
    layer, before = run_layer_test(
        lambda: ProjectionDiscriminatorHead(3, spectral_norm=spectral_norm), (5,),
        {"num_classes": 3, "spectral_norm": spectral_norm}, prepare=move_head_state, tmp_path=tmp_path,
        dtype_policy=policy, num_classes=3,
    )
    assert layer.compute_dtype == keras.DTypePolicy(policy).compute_dtype
    if spectral_norm:
        u = layer.projection.u
        assert not np.array_equal(u.numpy(), before[u.path])  # V's power iteration ran in training
