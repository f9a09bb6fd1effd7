"""kgan.augment: flip, DiffAugment's ops (checked by hand on tiny images), ADA's controller, instance noise.

Every op is a pure function of its seed, keeps the input dtype and passes the gradient: the affine
ops are checked with a directional derivative that must equal the finite difference exactly.
"""

import functools
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from kgan.augment import (
    AdaptiveAugment,
    color,
    cutout,
    diff_augment,
    get,
    instance_noise,
    random_flip,
    translation,
)
from tests.helpers import ROOT, normal, subprocess_env

SEED = tf.constant([3, 4], tf.int64)
OTHER_SEED = tf.constant([5, 6], tf.int64)


def split(seed, count):
    return tf.random.experimental.stateless_split(seed, num=count).numpy()


def uniform(shape, seed, low, high, dtype=tf.float32):
    return tf.random.stateless_uniform(shape, seed=seed, minval=low, maxval=high, dtype=dtype).numpy()


# ---------------------------------------------------------------- flip
def test_random_flip_mirrors_each_image_or_leaves_it():
    images = normal((200, 5, 6, 3))
    flipped = random_flip(tf.constant(images), seed=SEED).numpy()
    mirrored = images[:, :, ::-1]
    same = np.all(flipped == images, axis=(1, 2, 3))
    mirror = np.all(flipped == mirrored, axis=(1, 2, 3))
    assert np.all(same | mirror)
    assert 70 < mirror.sum() < 130  # p = ½ per image: 100 ± 3.5σ


def test_random_flip_is_a_pure_function_of_the_seed():
    images = tf.constant(normal((64, 4, 4, 3)))
    first = random_flip(images, seed=SEED).numpy()
    np.testing.assert_array_equal(random_flip(images, seed=SEED).numpy(), first)
    assert not np.array_equal(random_flip(images, seed=OTHER_SEED).numpy(), first)


def test_random_flip_passes_the_gradient_mirrored():
    images = tf.constant(normal((8, 3, 4, 1)))
    weights = tf.constant(normal((8, 3, 4, 1), seed=1))
    with tf.GradientTape() as tape:
        tape.watch(images)
        flipped = random_flip(images, seed=SEED)
        loss = tf.reduce_sum(weights * flipped)
    gradient = tape.gradient(loss, images).numpy()
    was_flipped = ~np.all(flipped.numpy() == images.numpy(), axis=(1, 2, 3))
    expected = np.where(was_flipped[:, None, None, None], weights.numpy()[:, :, ::-1], weights.numpy())
    np.testing.assert_allclose(gradient, expected)


# ---------------------------------------------------------------- every op: seeded, dtype-keeping
OPS = {
    "color": color,
    "translation": translation,
    "cutout": cutout,
    "diffaugment": diff_augment,
    "instance_noise": functools.partial(instance_noise, stddev=0.1),
}


@pytest.mark.parametrize("name", sorted(OPS))
def test_each_op_is_a_pure_function_of_the_seed(name):
    images = tf.constant(normal((16, 8, 8, 3), scale=0.5))
    first = OPS[name](images, seed=SEED).numpy()
    np.testing.assert_array_equal(OPS[name](images, seed=SEED).numpy(), first)
    assert not np.array_equal(OPS[name](images, seed=OTHER_SEED).numpy(), first)
    assert not np.array_equal(first, images.numpy())


@pytest.mark.parametrize("name", sorted(OPS))
@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float64"])
def test_each_op_keeps_the_input_dtype(name, dtype):
    images = tf.cast(normal((4, 8, 8, 3), scale=0.5), dtype)
    out = OPS[name](images, seed=SEED)
    assert out.dtype == dtype
    # the same draws as in float32: the op does not depend on the precision beyond rounding
    reference = OPS[name](tf.cast(images, "float32"), seed=SEED).numpy()
    np.testing.assert_allclose(tf.cast(out, "float32").numpy(), reference, atol=0.05 if dtype == "bfloat16" else 5e-3)


# ---------------------------------------------------------------- DiffAugment by hand
def test_color_applies_the_drawn_brightness_saturation_and_contrast():
    x = normal((200, 3, 4, 3), scale=0.5).astype("float64")
    out = color(tf.constant(x), seed=SEED).numpy()
    brightness_seed, saturation_seed, contrast_seed = split(SEED, 3)
    b = uniform((200, 1, 1, 1), brightness_seed, -0.5, 0.5)
    s = uniform((200, 1, 1, 1), saturation_seed, 0.0, 2.0)
    c = uniform((200, 1, 1, 1), contrast_seed, 0.5, 1.5)
    # the draws span their ranges: U(−½, ½), U(0, 2), U(½, 3/2) over 200 images
    assert b.min() < -0.45 and b.max() > 0.45 and s.min() < 0.1 and s.max() > 1.9 and c.min() < 0.55 and c.max() > 1.45

    def image_mean(v):
        return v.mean(axis=(1, 2, 3), keepdims=True)

    def pixel_mean(v):
        return v.mean(axis=-1, keepdims=True)

    # y = x + b;  z = s(y − pm(y)) + pm(y);  out = c(z − m(z)) + m(z).  Saturation and contrast keep
    # the image mean, so m(out) = m(x) + b: brightness shifts the mean by exactly the drawn amount.
    np.testing.assert_allclose(image_mean(out) - image_mean(x), b, atol=1e-6)
    # pm(z) = pm(y), so a pixel's colour deviation is scaled by s, then by c:  out − pm(out) = c·s·(x − pm(x))
    np.testing.assert_allclose(out - pixel_mean(out), c * s * (x - pixel_mean(x)), atol=1e-6)
    # the pixel means' deviation from the image mean is scaled by c alone: pm(out) − m(out) = c·(pm(x) − m(x))
    np.testing.assert_allclose(pixel_mean(out) - image_mean(out), c * (pixel_mean(x) - image_mean(x)), atol=1e-6)


def test_translation_moves_a_bright_pixel_by_the_drawn_offset_and_pads_with_zero():
    batch, height, width = 300, 16, 24  # at ratio 1/8: shifts up to round(2) rows and round(3) columns
    dy_seed, dx_seed = split(SEED, 2)
    dy = uniform((batch,), dy_seed, -2, 3, tf.int32)
    dx = uniform((batch,), dx_seed, -3, 4, tf.int32)
    assert set(dy) == set(range(-2, 3)) and set(dx) == set(range(-3, 4))  # every allowed offset occurs

    dot = np.zeros((batch, height, width, 1), "float32")
    dot[:, 7, 11] = 1.0
    moved = translation(tf.constant(dot), seed=SEED).numpy()
    expected = np.zeros_like(dot)
    expected[np.arange(batch), 7 + dy, 11 + dx] = 1.0  # whole pixels: the dot keeps its value exactly
    np.testing.assert_array_equal(moved, expected)

    # a flat image: what comes in from outside is 0 (mid-grey), the rest keeps its value
    flat = np.full((batch, height, width, 2), 0.7, "float32")
    shifted = translation(tf.constant(flat), seed=SEED).numpy()
    rows, columns = np.arange(height), np.arange(width)
    for i in range(batch):
        inside = ((rows - dy[i] >= 0) & (rows - dy[i] < height))[:, None] & ((columns - dx[i] >= 0) & (columns - dx[i] < width))
        np.testing.assert_array_equal(shifted[i], np.where(inside[:, :, None], np.float32(0.7), np.zeros((1, 1, 2))))


def test_cutout_zeroes_a_half_size_square_at_the_drawn_centre_clipped_at_the_border():
    batch, size = 300, 8  # the square is 4 × 4: rows cy − 2 … cy + 1, clipped to 0 … 7
    images = normal((batch, size, size, 2), scale=0.5) + 3.0  # no zeros of its own
    out = cutout(tf.constant(images), seed=SEED).numpy()
    y_seed, x_seed = split(SEED, 2)
    centre_y, centre_x = uniform((batch,), y_seed, 0, size, tf.int32), uniform((batch,), x_seed, 0, size, tf.int32)
    zeros = np.all(out == 0.0, axis=-1)
    np.testing.assert_array_equal(out[~zeros], images[~zeros])  # the rest is untouched
    areas = zeros.sum(axis=(1, 2))
    for i in range(batch):
        top, bottom = max(centre_y[i] - 2, 0), min(centre_y[i] + 2, size)
        left, right = max(centre_x[i] - 2, 0), min(centre_x[i] + 2, size)
        expected = np.zeros((size, size), bool)
        expected[top:bottom, left:right] = True
        np.testing.assert_array_equal(zeros[i], expected)
    interior = (centre_y >= 2) & (centre_y <= 6) & (centre_x >= 2) & (centre_x <= 6)
    assert np.all(areas[interior] == 16) and interior.sum() > 100  # (8/2)² pixels when the square fits
    assert np.all(areas[~interior] < 16) and areas[~interior].min() == 4  # clipped: down to 2 × 2 in a corner


def test_diff_augment_applies_its_policy_in_order_with_split_seeds():
    images = tf.constant(normal((6, 8, 8, 3), scale=0.5))
    color_seed, translation_seed, cutout_seed = tf.unstack(tf.random.experimental.stateless_split(SEED, num=3))
    by_hand = cutout(translation(color(images, seed=color_seed), seed=translation_seed), seed=cutout_seed)
    np.testing.assert_array_equal(diff_augment(images, seed=SEED).numpy(), by_hand.numpy())
    first, second = tf.unstack(tf.random.experimental.stateless_split(SEED, num=2))
    np.testing.assert_array_equal(
        diff_augment(images, seed=SEED, policy=" cutout , color").numpy(),
        color(cutout(images, seed=first), seed=second).numpy(),
    )
    np.testing.assert_array_equal(diff_augment(images, seed=SEED, policy="").numpy(), images.numpy())
    with pytest.raises(ValueError, match=r"policy names unknown ops \['zoom'\]"):
        diff_augment(images, seed=SEED, policy="color,zoom")


@pytest.mark.parametrize("name", ["color", "translation", "cutout", "diffaugment"])
def test_each_op_passes_the_gradient_of_its_affine_map(name):
    # For a fixed seed each op is affine in x, so L(x) = Σ w·f(x) is too and L(x + v) − L(x) = ⟨∇L(x), v⟩
    # exactly: a gradient that is wrong anywhere (or zero) breaks the equality.
    x = tf.constant(normal((4, 8, 8, 3), scale=0.5).astype("float64"))
    w = tf.constant(normal((4, 8, 8, 3), seed=1).astype("float64"))
    v = tf.constant(normal((4, 8, 8, 3), seed=2).astype("float64"))

    def loss(images):
        return tf.reduce_sum(w * OPS[name](images, seed=SEED))

    with tf.GradientTape() as tape:
        tape.watch(x)
        value = loss(x)
    gradient = tape.gradient(value, x)
    assert np.count_nonzero(gradient.numpy()) > 0.3 * gradient.shape.num_elements()
    np.testing.assert_allclose(tf.reduce_sum(gradient * v).numpy(), (loss(x + v) - value).numpy(), rtol=1e-9)


def test_a_tiny_generator_gets_a_gradient_through_diff_augment():
    keras.utils.set_random_seed(0)
    generator = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8 * 8 * 3, activation="tanh"),
                                  keras.layers.Reshape((8, 8, 3))])
    z = tf.constant(normal((6, 4)))
    target = tf.constant(normal((6, 8, 8, 3), seed=1))
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(tf.square(diff_augment(generator(z), seed=SEED) - target))
    gradients = tape.gradient(loss, generator.trainable_variables)
    assert len(gradients) == 2 and all(g is not None and np.count_nonzero(g.numpy()) > 0.5 * g.shape.num_elements()
                                       for g in gradients)


def test_bad_ratios_are_clear_errors():
    images = tf.zeros((2, 8, 8, 3))
    with pytest.raises(ValueError, match=r"translation's ratio must be in \[0, 1\)"):
        translation(images, seed=SEED, ratio=1.0)
    with pytest.raises(ValueError, match=r"cutout's ratio must be in \(0, 1\]"):
        cutout(images, seed=SEED, ratio=0.0)
    with pytest.raises(ValueError, match="cutout needs images of shape"):
        cutout(tf.zeros((2, 8)), seed=SEED)


def test_augmentations_are_chosen_by_name():
    assert get("flip") is random_flip and get(None) is None and get(abs) is abs
    assert get("color") is color and get("translation") is translation and get("cutout") is cutout
    assert get("diffaugment") is diff_augment
    first, second = get("ada"), get("ada")
    assert isinstance(first, AdaptiveAugment) and first is not second  # a stateful layer: a new one each time
    with pytest.raises(ValueError, match="Unknown augmentation 'zoom'"):
        get("zoom")


# ---------------------------------------------------------------- ADA
def test_adaptive_augment_at_p_zero_leaves_images_unchanged():
    images = tf.constant(normal((16, 8, 8, 3)))
    layer = AdaptiveAugment()
    np.testing.assert_array_equal(layer(images, seed=SEED).numpy(), images.numpy())


def test_adaptive_augment_applies_each_op_to_each_image_with_probability_p():
    images = tf.constant(normal((400, 8, 8, 1), scale=0.1) + 0.5)  # cutout changes every image it touches
    changed = {}
    for p in (0.5, 0.99):
        out = AdaptiveAugment(pipeline=["cutout"], initial_probability=p)(images, seed=SEED).numpy()
        changed[p] = np.any(out != images.numpy(), axis=(1, 2, 3)).mean()
    assert 0.41 < changed[0.5] < 0.59  # 400 coin flips: ½ ± 3.5σ (σ = 0.025)
    assert changed[0.99] > 0.95
    # the whole default pipeline is differentiable
    layer = AdaptiveAugment(initial_probability=0.9)
    with tf.GradientTape() as tape:
        tape.watch(images)
        total = tf.reduce_sum(layer(images, seed=SEED))
    assert np.count_nonzero(tape.gradient(total, images).numpy()) > 0


def test_adaptive_augment_moves_p_by_the_closed_form_amount_inside_a_tf_function():
    # batch 8, interval 4, speed 320 images: each adjustment moves p by ±(8·4)/320 = 0.1
    layer = AdaptiveAugment(interval=4, speed_images=320)
    update = tf.function(layer.update)

    def four_updates(positive, batch=8):
        logits = tf.constant([[1.5]] * positive + [[-2.0]] * (batch - positive))
        return [float(update(logits)) for _ in range(4)]

    assert four_updates(8) == [0.0, 0.0, 0.0, pytest.approx(0.1)]  # D overfits: r_t = 1 > 0.6, p moves after 4
    assert float(layer.heuristic) == 1.0 and layer.p is layer.probability  # `p`: the paper's name
    four_updates(6)  # r_t = (6 − 2)/8 = 0.5 < 0.6: down
    assert float(layer.probability) == pytest.approx(0.0, abs=1e-7) and float(layer.heuristic) == 0.5
    four_updates(0)  # r_t = −1: down, but p stays at 0
    assert float(layer.probability) == 0.0
    four_updates(7)  # r_t = 6/8 = 0.75 > 0.6: up
    assert float(layer.probability) == pytest.approx(0.1)
    # the step counts the images seen: batches of 8, 8, 8, 16 → 40 images, p + 40/320 = 0.1 + 0.125
    for batch in (8, 8, 8, 16):
        update(tf.ones((batch, 1)))
    assert float(layer.probability) == pytest.approx(0.225)
    # several logits per image (a patch D): one vote per image, r_t = mean over images of the mean sign
    patches = tf.constant([[1.0, 1.0, 1.0, -1.0]] * 8)  # r_t = ½ < 0.6: down by 0.1
    for _ in range(4):
        update(patches)
    assert float(layer.probability) == pytest.approx(0.125) and float(layer.heuristic) == 0.5


def test_adaptive_augment_keeps_p_below_one():
    layer = AdaptiveAugment(interval=1, speed_images=80, initial_probability=0.95)  # a step of 8/80 = 0.1
    p = float(layer.update(tf.ones((8, 1))))
    assert p < 1.0 and p == pytest.approx(1.0)


def test_adaptive_augment_p_survives_weights_files_and_serialization(tmp_path):
    class Holder(keras.Model):
        def __init__(self, augment):
            super().__init__()
            self.augment = augment
            self.built = True  # nothing to build: the layer made its variables in __init__

    layer = AdaptiveAugment(pipeline=("translation", "cutout"), target=0.5, interval=2, speed_images=160)
    for _ in range(3):  # one adjustment (+16/160) and one update pending
        layer.update(tf.ones((8, 1)))
    path = tmp_path / "ada.weights.h5"
    Holder(layer).save_weights(path)

    config = keras.saving.serialize_keras_object(layer)
    restored = keras.saving.deserialize_keras_object(config)
    assert restored.get_config() == layer.get_config() and restored.pipeline == ["translation", "cutout"]
    assert float(restored.probability) == 0.0  # a fresh layer, until its weights are loaded
    Holder(restored).load_weights(path)
    assert float(restored.probability) == pytest.approx(0.1)
    for variable in ("probability", "heuristic", "sign_sum", "image_count", "update_count"):
        assert float(getattr(restored, variable)) == float(getattr(layer, variable))
    images = tf.constant(normal((8, 8, 8, 3)))
    np.testing.assert_array_equal(restored(images, seed=SEED).numpy(), layer(images, seed=SEED).numpy())
    # the next update completes the pending interval in both
    assert float(restored.update(tf.ones((8, 1)))) == float(layer.update(tf.ones((8, 1)))) == pytest.approx(0.2)


@pytest.mark.parametrize("policy, low", [("mixed_float16", "float16"), ("mixed_bfloat16", "bfloat16")])
def test_adaptive_augment_keeps_half_precision_images(policy, low):
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(policy)
    try:
        layer = AdaptiveAugment(initial_probability=0.9)
        out = layer(tf.cast(normal((4, 8, 8, 3)), low), seed=SEED)
        update = layer.update(tf.cast([[1.0], [2.0]], low))
    finally:
        keras.config.set_dtype_policy(previous)
    assert out.dtype == low and layer.probability.dtype == "float32" and update.dtype == "float32"


def test_adaptive_augment_rejects_bad_settings():
    with pytest.raises(ValueError, match="pipeline must name ops"):
        AdaptiveAugment(pipeline=["flip", "zoom"])
    with pytest.raises(ValueError, match=r"target must be in \(-1, 1\)"):
        AdaptiveAugment(target=1.0)
    with pytest.raises(ValueError, match="interval must be a whole number >= 1"):
        AdaptiveAugment(interval=0)
    with pytest.raises(ValueError, match="speed_images must be > 0"):
        AdaptiveAugment(speed_images=0)
    with pytest.raises(ValueError, match=r"initial_probability must be in \[0, 1\)"):
        AdaptiveAugment(initial_probability=1.0)
    with pytest.raises(ValueError, match="needs a stateless seed"):
        AdaptiveAugment()(tf.zeros((2, 8, 8, 3)))


# ---------------------------------------------------------------- instance noise
def test_instance_noise_has_the_requested_standard_deviation():
    images = tf.fill((64, 16, 16, 3), 0.25)
    noisy = instance_noise(images, seed=SEED, stddev=0.3).numpy() - 0.25
    # 49,152 values: the sample std of N(0, 0.3²) is 0.3 ± 0.001 (σ ≈ 0.3/√(2n)), the mean 0 ± 0.0014
    assert abs(noisy.std() - 0.3) < 0.005 and abs(noisy.mean()) < 0.006
    as_tensor = instance_noise(images, seed=SEED, stddev=tf.constant(0.15)).numpy() - 0.25
    np.testing.assert_allclose(as_tensor, noisy / 2, atol=1e-6)  # the same draw, scaled by a tensor stddev
    np.testing.assert_array_equal(instance_noise(images, seed=SEED, stddev=0.0).numpy(), images.numpy())
    with pytest.raises(ValueError, match="stddev must be >= 0"):
        instance_noise(images, seed=SEED, stddev=-0.1)


DISTRIBUTED_UPDATE = r"""
import kgan
strategy = kgan.distribute.get_strategy("cpu:2")
import tensorflow as tf
with strategy.scope():
    layer = kgan.augment.AdaptiveAugment(interval=2, speed_images=160)

@tf.function
def update(logits):
    strategy.run(layer.update, args=(logits,))

# replica 0 gets rows 0-3 (r = ½ < 0.6), replica 1 rows 4-7 (r = 1): together r = ¾ > 0.6
logits = tf.data.Dataset.from_tensors(tf.constant([[-1.0]] + [[1.0]] * 7)).repeat(2)
for batch in strategy.experimental_distribute_dataset(logits):
    update(batch)
print(layer.probability.numpy(), layer.heuristic.numpy())
"""


def test_adaptive_augment_sums_its_statistics_over_replicas():
    # Two updates of a global batch of 8: p moves up by 16/160 = 0.1 on every replica; replica 0 alone
    # would have moved it down.
    result = subprocess.run([sys.executable, "-c", DISTRIBUTED_UPDATE], check=False, capture_output=True, text=True,
                            cwd=ROOT, env=subprocess_env(), timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    probability, heuristic = map(float, result.stdout.split())
    assert probability == pytest.approx(0.1) and heuristic == 0.75
