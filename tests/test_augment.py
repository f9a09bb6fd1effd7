"""kgan.augment: a seeded, per-image, differentiable random flip, chosen by name."""

import numpy as np
import pytest
import tensorflow as tf

from kgan.augment import get, random_flip
from tests.helpers import normal

SEED = tf.constant([3, 4], tf.int64)


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
    assert not np.array_equal(random_flip(images, seed=tf.constant([5, 6], tf.int64)).numpy(), first)


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


def test_augmentations_are_chosen_by_name():
    assert get("flip") is random_flip and get(None) is None and get(abs) is abs
    with pytest.raises(ValueError, match="Unknown augmentation 'cutout'"):
        get("cutout")
