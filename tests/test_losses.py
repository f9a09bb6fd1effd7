"""kgan.losses: each loss against hand-computed values, stable for huge logits, float32 always, chosen by name."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from kgan import losses


def softplus(x):
    return np.log1p(np.exp(x))


# Shared 4-element logits; every value is exact in float16 and bfloat16 too.
REAL = np.array([[2.0], [0.5], [-1.0], [1.0]], "float32")  # mean(r) = 2.5 / 4 = 0.625
FAKE = np.array([[-2.0], [-0.5], [0.0], [1.0]], "float32")  # mean(f) = -1.5 / 4 = -0.375

D_LOSSES = [
    losses.bce_discriminator_loss,
    losses.wasserstein_discriminator_loss,
    losses.hinge_discriminator_loss,
    losses.least_squares_discriminator_loss,
    losses.rsgan_discriminator_loss,
    losses.ragan_discriminator_loss,
]
G_LOSSES = [
    losses.nonsaturating_generator_loss,
    losses.minimax_generator_loss,
    losses.wasserstein_generator_loss,
    losses.hinge_generator_loss,
    losses.least_squares_generator_loss,
    losses.rsgan_generator_loss,
    losses.ragan_generator_loss,
]


def test_bce_discriminator_loss_matches_hand_computed_values():
    real = np.array([[0.0], [2.0]], "float32")
    fake = np.array([[-1.0], [3.0]], "float32")
    # mean(-log σ(real)) + mean(-log(1 - σ(fake)))
    expected = (np.log(2) + np.log1p(np.exp(-2.0))) / 2 + (np.log1p(np.exp(-1.0)) + np.log1p(np.exp(3.0))) / 2
    assert float(losses.bce_discriminator_loss(real, fake)) == pytest.approx(expected, rel=1e-6)


def test_generator_losses_match_hand_computed_values():
    fake = np.array([[0.0], [-2.0], [4.0]], "float32")
    assert float(losses.nonsaturating_generator_loss(fake)) == pytest.approx(np.mean(softplus(-fake)), rel=1e-6)
    assert float(losses.minimax_generator_loss(fake)) == pytest.approx(np.mean(np.log(1 - 1 / (1 + np.exp(-fake)))), rel=1e-5)


def test_minimax_and_nonsaturating_on_four_logits():
    # minimax G: mean(log(1 - σ(f))) = -mean(softplus(f)) over f = [-2, -0.5, 0, 1]
    minimax = -(softplus(-2.0) + softplus(-0.5) + np.log(2) + softplus(1.0)) / 4
    # non-saturating G: mean(-log σ(f)) = mean(softplus(-f)) = mean(sp(2), sp(0.5), sp(0), sp(-1))
    nonsaturating = (softplus(2.0) + softplus(0.5) + np.log(2) + softplus(-1.0)) / 4
    assert float(losses.minimax_generator_loss(FAKE)) == pytest.approx(minimax, rel=1e-6)
    assert float(losses.nonsaturating_generator_loss(FAKE)) == pytest.approx(nonsaturating, rel=1e-6)
    # softplus(-x) - softplus(x) = -x, so the two differ by exactly -mean(f) = 0.375 (a sign check on both)
    assert nonsaturating + minimax == pytest.approx(0.375, rel=1e-6)


def test_bce_is_stable_for_huge_logits():
    assert np.isfinite(float(losses.bce_discriminator_loss(np.array([[-1e4]], "float32"), np.array([[1e4]], "float32"))))
    assert float(losses.nonsaturating_generator_loss(np.array([[1e4]], "float32"))) == pytest.approx(0.0, abs=1e-6)


def test_wasserstein_losses():
    # D: mean(f) - mean(r) = -0.375 - 0.625 = -1;  G: -mean(f) = 0.375
    assert float(losses.wasserstein_discriminator_loss(REAL, FAKE)) == pytest.approx(-1.0)
    assert float(losses.wasserstein_generator_loss(FAKE)) == pytest.approx(0.375)


def test_hinge_losses():
    # relu(1 - r) = relu([-1, 0.5, 2, 0]) = [0, 0.5, 2, 0] → mean 0.625
    # relu(1 + f) = relu([-1, 0.5, 1, 2]) = [0, 0.5, 1, 2] → mean 0.875;  D = 1.5
    assert float(losses.hinge_discriminator_loss(REAL, FAKE)) == pytest.approx(1.5)
    # G: -mean(f) = 0.375
    assert float(losses.hinge_generator_loss(FAKE)) == pytest.approx(0.375)
    # the margin: scores beyond ±1 cost D nothing, however far (Wasserstein's would keep falling)
    assert float(losses.hinge_discriminator_loss(np.array([[5.0]], "float32"), np.array([[-7.0]], "float32"))) == 0.0


def test_least_squares_losses():
    # D: r - 1 = [1, -0.5, -2, 0] → squares [1, 0.25, 4, 0], mean 1.3125, half 0.65625
    #    f     = [-2, -0.5, 0, 1] → squares [4, 0.25, 0, 1], mean 1.3125, half 0.65625;  D = 1.3125
    assert float(losses.least_squares_discriminator_loss(REAL, FAKE)) == pytest.approx(1.3125)
    # G: f - 1 = [-3, -1.5, -1, 0] → squares [9, 2.25, 1, 0], mean 3.0625, half 1.53125
    assert float(losses.least_squares_generator_loss(FAKE)) == pytest.approx(1.53125)


def test_rsgan_losses_pair_samples_by_index():
    # r - f = [4, 1, -1, 0];  D = mean(softplus(-(r - f))) = mean(sp(-4), sp(-1), sp(1), sp(0))
    d_expected = (softplus(-4.0) + softplus(-1.0) + softplus(1.0) + np.log(2)) / 4
    # f - r = [-4, -1, 1, 0];  G = mean(softplus(-(f - r))) = mean(sp(4), sp(1), sp(-1), sp(0))
    g_expected = (softplus(4.0) + softplus(1.0) + softplus(-1.0) + np.log(2)) / 4
    assert float(losses.rsgan_discriminator_loss(REAL, FAKE)) == pytest.approx(d_expected, rel=1e-6)
    assert float(losses.rsgan_generator_loss(FAKE, REAL)) == pytest.approx(g_expected, rel=1e-6)
    # softplus(x) - softplus(-x) = x, so G - D = mean(r - f) = (4 + 1 - 1 + 0) / 4 = 1
    assert g_expected - d_expected == pytest.approx(1.0)
    # pairing, not averaging: shuffling the fake batch changes the loss
    shuffled = FAKE[[3, 2, 1, 0]]
    assert float(losses.rsgan_discriminator_loss(REAL, shuffled)) != pytest.approx(d_expected, rel=1e-3)


def test_ragan_losses_compare_with_the_other_batch_mean():
    # D: r - mean(f) = r + 0.375 = [2.375, 0.875, -0.625, 1.375];  f - mean(r) = f - 0.625 = [-2.625, -1.125, -0.625, 0.375]
    r_vs_fake = np.array([2.375, 0.875, -0.625, 1.375])
    f_vs_real = np.array([-2.625, -1.125, -0.625, 0.375])
    d_expected = softplus(-r_vs_fake).mean() + softplus(f_vs_real).mean()
    # G, mirrored: mean(softplus(-(f - mean(r)))) + mean(softplus(r - mean(f)))
    g_expected = softplus(-f_vs_real).mean() + softplus(r_vs_fake).mean()
    assert float(losses.ragan_discriminator_loss(REAL, FAKE)) == pytest.approx(d_expected, rel=1e-6)
    assert float(losses.ragan_generator_loss(FAKE, REAL)) == pytest.approx(g_expected, rel=1e-6)
    # softplus(x) - softplus(-x) = x: G - D = 2·(mean(r) - mean(f)) = 2·(0.625 + 0.375) = 2
    assert g_expected - d_expected == pytest.approx(2.0)
    # averages, not pairs: unequal batch sizes are fine
    assert np.isfinite(float(losses.ragan_discriminator_loss(REAL, FAKE[:3])))


def test_saturating_vs_nonsaturating_gradients():
    # As D wins, f → -∞. d/df_i of minimax's -mean(softplus(f)) is -σ(f_i)/n → 0 (G stops learning);
    # non-saturating's mean(softplus(-f)) has (σ(f_i) - 1)/n → -1/n (it does not).
    fake = tf.constant([[-12.0], [-6.0], [0.0], [3.0]])
    sigmoid = 1 / (1 + np.exp(-fake.numpy()))
    gradients = {}
    for loss in (losses.minimax_generator_loss, losses.nonsaturating_generator_loss):
        with tf.GradientTape() as tape:
            tape.watch(fake)
            value = loss(fake)
        gradients[loss] = tape.gradient(value, fake).numpy()
    np.testing.assert_allclose(gradients[losses.minimax_generator_loss], -sigmoid / 4, rtol=1e-5, atol=1e-9)
    np.testing.assert_allclose(gradients[losses.nonsaturating_generator_loss], (sigmoid - 1) / 4, rtol=1e-5)
    # at f = -12 (D confident the sample is fake) minimax's gradient is ~1.5e-6 of non-saturating's -0.25
    assert abs(gradients[losses.minimax_generator_loss][0, 0]) < 2e-6
    assert gradients[losses.nonsaturating_generator_loss][0, 0] == pytest.approx(-0.25, rel=1e-4)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_losses_are_float32_for_half_precision_logits(dtype):
    real, fake = tf.cast(REAL, dtype), tf.cast(FAKE, dtype)
    for loss in D_LOSSES:
        value = loss(real, fake)
        assert value.dtype == tf.float32, loss.__name__
        assert float(value) == pytest.approx(float(loss(REAL, FAKE)), rel=1e-6), loss.__name__
    for loss in G_LOSSES:
        value = loss(fake, real)
        assert value.dtype == tf.float32, loss.__name__
        assert float(value) == pytest.approx(float(loss(FAKE, REAL)), rel=1e-6), loss.__name__
    # why float32: ½·(300 − 1)² = 44700.5 — in float16 (299)² = 89401 overflows (max 65504) and
    # bfloat16 keeps 3 significant digits; 300 itself is exact in both.
    assert float(losses.least_squares_generator_loss(tf.constant([[300.0]], dtype))) == pytest.approx(44700.5, rel=1e-7)


def test_relativistic_generator_losses_need_real_logits():
    for loss in (losses.rsgan_generator_loss, losses.ragan_generator_loss):
        assert loss.uses_real_logits is True
        with pytest.raises(ValueError, match=f"{loss.__name__} is relativistic: it needs real_logits"):
            loss(FAKE)
    for loss in G_LOSSES[:5]:
        assert not getattr(loss, "uses_real_logits", False), loss.__name__


def test_rsgan_rejects_unequal_batches():
    for call in (
        lambda: losses.rsgan_discriminator_loss(REAL, FAKE[:3]),
        lambda: losses.rsgan_generator_loss(FAKE[:3], REAL),
        lambda: losses.rsgan_discriminator_loss(REAL, FAKE[:, 0]),  # (4, 1) vs (4,) would broadcast to (4, 4)
    ):
        with pytest.raises(ValueError, match="need the same shape"):
            call()


def test_targets_one_and_zero_reproduce_the_plain_losses():
    ones, zeros = np.ones((4, 1), "float32"), np.zeros((4, 1), "float32")
    for loss in (losses.bce_discriminator_loss, losses.least_squares_discriminator_loss):
        assert loss.accepts_targets is True
        plain = float(loss(REAL, FAKE))
        assert float(loss(REAL, FAKE, real_targets=1.0, fake_targets=0.0)) == pytest.approx(plain, rel=1e-7)
        assert float(loss(REAL, FAKE, real_targets=ones, fake_targets=zeros)) == pytest.approx(plain, rel=1e-7)
    for loss in D_LOSSES[1:3] + D_LOSSES[4:]:
        assert not getattr(loss, "accepts_targets", False), loss.__name__


def test_bce_with_smoothed_real_target_by_hand():
    # real target 0.9: mean(0.9·softplus(-r) + 0.1·softplus(r)); fake term unchanged: mean(softplus(f))
    real_term = np.mean(0.9 * softplus(-REAL) + 0.1 * softplus(REAL))
    fake_term = np.mean(softplus(FAKE))
    value = losses.bce_discriminator_loss(REAL, FAKE, real_targets=0.9)
    assert float(value) == pytest.approx(real_term + fake_term, rel=1e-6)
    # per-sample targets: [1, 0.9, 1, 0] on the real logits, fake target 0.1 on every fake
    targets = np.array([[1.0], [0.9], [1.0], [0.0]], "float32")
    t = targets
    expected = np.mean(t * softplus(-REAL) + (1 - t) * softplus(REAL)) + np.mean(0.1 * softplus(-FAKE) + 0.9 * softplus(FAKE))
    value = losses.bce_discriminator_loss(REAL, FAKE, real_targets=tf.constant(targets), fake_targets=0.1)
    assert float(value) == pytest.approx(expected, rel=1e-6)


def test_least_squares_with_smoothed_real_target_by_hand():
    # r - 0.9 = [1.1, -0.4, -1.9, 0.1] → squares [1.21, 0.16, 3.61, 0.01], sum 4.99, mean 1.2475, half 0.62375
    # fake half as before: 0.65625;  total 1.28
    assert float(losses.least_squares_discriminator_loss(REAL, FAKE, real_targets=0.9)) == pytest.approx(1.28, rel=1e-6)


def test_targets_shaped_unlike_the_logits_are_rejected():
    with pytest.raises(ValueError, match=r"real_targets must be a scalar or a tensor shaped like the logits \(4, 1\)"):
        losses.bce_discriminator_loss(REAL, FAKE, real_targets=np.ones((4,), "float32"))
    with pytest.raises(ValueError, match="fake_targets must be a scalar"):
        losses.least_squares_discriminator_loss(REAL, FAKE, fake_targets=np.zeros((3, 1), "float32"))


SEED = tf.constant([7, 11], tf.int64)


def test_label_targets_defaults_are_plain_labels():
    real, fake = losses.label_targets(5, seed=SEED)
    assert real.dtype == fake.dtype == tf.float32 and real.shape == fake.shape == (5, 1)
    np.testing.assert_array_equal(real, np.ones((5, 1)))
    np.testing.assert_array_equal(fake, np.zeros((5, 1)))


def test_label_targets_smoothing_is_one_sided():
    real, fake = losses.label_targets(6, seed=SEED, smoothing=0.1)
    np.testing.assert_allclose(real, np.full((6, 1), 0.9), rtol=1e-6)
    np.testing.assert_array_equal(fake, np.zeros((6, 1)))
    # a range: s ~ U(0.1, 0.3) per sample → real targets in [0.7, 0.9], spread out, fakes still 0
    real, fake = losses.label_targets(2000, seed=SEED, smoothing=(0.1, 0.3))
    real = real.numpy()
    assert real.min() >= 0.7 - 1e-6 and real.max() <= 0.9 + 1e-6
    assert real.min() < 0.71 and real.max() > 0.89  # it fills the range, not one value
    assert real.mean() == pytest.approx(0.8, abs=0.01)  # uniform: mean 0.8, s.e. 0.2/√12/√2000 ≈ 0.0013
    np.testing.assert_array_equal(fake, np.zeros((2000, 1)))


def test_label_targets_flip_rate_and_swap():
    real, fake = losses.label_targets(20000, seed=SEED, smoothing=0.1, flip=0.1)
    real, fake = real.numpy(), fake.numpy()
    flipped = real == 0.0
    # a flipped sample's real gets the fake target (0), its fake the smoothed real target (0.9)
    np.testing.assert_allclose(fake[flipped], 0.9, rtol=1e-6)
    np.testing.assert_allclose(real[~flipped], 0.9, rtol=1e-6)
    np.testing.assert_array_equal(fake[~flipped], 0.0)
    # binomial rate: s.e. √(0.1·0.9/20000) ≈ 0.0021, tolerance ≈ 5 s.e.
    assert flipped.mean() == pytest.approx(0.1, abs=0.01)
    # flip=1 swaps everything
    real, fake = losses.label_targets(8, seed=SEED, flip=1.0)
    np.testing.assert_array_equal(real, np.zeros((8, 1)))
    np.testing.assert_array_equal(fake, np.ones((8, 1)))


def test_label_targets_is_stateless():
    first = losses.label_targets(64, seed=SEED, smoothing=(0.0, 0.2), flip=0.3)
    again = losses.label_targets(64, seed=SEED, smoothing=(0.0, 0.2), flip=0.3)
    other = losses.label_targets(64, seed=tf.constant([7, 12], tf.int64), smoothing=(0.0, 0.2), flip=0.3)
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[0], other[0])


def test_label_targets_inside_a_tf_function_with_a_dynamic_batch():
    @tf.function(input_signature=[tf.TensorSpec((None, 2))])
    def targets(batch):
        return losses.label_targets(tf.shape(batch)[0], seed=SEED, smoothing=0.2)

    real, fake = targets(tf.zeros((3, 2)))
    np.testing.assert_allclose(real, np.full((3, 1), 0.8), rtol=1e-6)
    # and they feed a targets-aware loss: per-sample tensors of the logits' shape
    assert np.isfinite(float(losses.bce_discriminator_loss(REAL[:3], FAKE[:3], real_targets=real, fake_targets=fake)))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"smoothing": 1.0}, "smoothing must lie in"),
        ({"smoothing": -0.1}, "smoothing must lie in"),
        ({"smoothing": (0.3, 0.1)}, "low <= high"),
        ({"smoothing": "0.1"}, "smoothing must be None, a float or a"),
        ({"flip": 1.5}, "flip is a probability"),
        ({"seed": None}, "needs seed"),
    ],
)
def test_label_targets_rejects_bad_options(kwargs, message):
    with pytest.raises(ValueError, match=message):
        losses.label_targets(4, **{"seed": SEED, **kwargs})
    with pytest.raises(ValueError, match="batch_size must be a positive int"):
        losses.label_targets(0, seed=SEED)


def test_lookup_by_name_and_callable():
    assert losses.get_discriminator_loss("bce") is losses.bce_discriminator_loss
    assert losses.get_generator_loss("minimax") is losses.minimax_generator_loss
    assert losses.get_discriminator_loss("hinge") is losses.hinge_discriminator_loss
    assert losses.get_generator_loss("ragan") is losses.ragan_generator_loss
    custom = lambda fake_logits: fake_logits
    assert losses.get_generator_loss(custom) is custom
    with pytest.raises(ValueError, match="Unknown generator loss 'nope'"):
        losses.get_generator_loss("nope")


def test_loss_families():
    assert set(losses.LOSSES) == {"minimax", "nonsaturating", "wasserstein", "hinge", "least_squares", "rsgan", "ragan"}
    assert losses.get_losses("minimax") == (losses.bce_discriminator_loss, losses.minimax_generator_loss)
    assert losses.get_losses("nonsaturating") == (losses.bce_discriminator_loss, losses.nonsaturating_generator_loss)
    assert losses.get_losses("least_squares") == (losses.least_squares_discriminator_loss, losses.least_squares_generator_loss)
    # every family's pair is also reachable by the single-loss lookups (the trainer's compile uses those)
    for d_loss, g_loss in losses.LOSSES.values():
        assert d_loss in losses._DISCRIMINATOR_LOSSES.values() and g_loss in losses._GENERATOR_LOSSES.values()
    with pytest.raises(ValueError, match=r"Unknown loss family 'lsgan'; choose one of \['hinge', 'least_squares', "):
        losses.get_losses("lsgan")


@pytest.mark.parametrize("loss", D_LOSSES + G_LOSSES, ids=lambda loss: loss.__name__)
def test_losses_round_trip_through_keras_serialization(loss):
    config = keras.saving.serialize_keras_object(loss)
    assert keras.saving.deserialize_keras_object(config, safe_mode=True) is loss
