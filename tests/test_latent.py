"""kgan.latent: the one latent draw, the class draw, generating from both kinds of generator, and slerp."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from kgan.latent import (
    class_labels,
    generate,
    generate_samples,
    generator_classes,
    interpolate,
    latent_size,
    sample_latent,
    slerp,
)


def conditional_generator(num_classes=3, latent_dim=8, image_size=8, seed=0):
    """A tiny G([z, labels]) in kgan's convention: z (None, latent_dim) "z", int32 labels (None,) "labels", and an
    Embedding "class_embedding" of input_dim K. Its embeddings are N(0, 1), so each class visibly moves the image."""
    keras.utils.set_random_seed(seed)
    z = keras.Input((latent_dim,), name="z")
    labels = keras.Input((), dtype="int32", name="labels")
    embedded = keras.layers.Embedding(
        num_classes, latent_dim, embeddings_initializer=keras.initializers.RandomNormal(stddev=1.0), name="class_embedding"
    )(labels)
    hidden = keras.layers.Dense(image_size * image_size * 3)(keras.layers.Concatenate()([z, embedded]))
    images = keras.layers.Activation("tanh")(keras.layers.Reshape((image_size, image_size, 3))(hidden))
    return keras.Model([z, labels], images)


class StandIn:
    """What the callbacks read from a trainer: its generator, latent_dim and generator step (no training needed)."""

    def __init__(self, generator, generator_steps=0):
        self.generator = generator
        self.latent_dim = latent_size(generator)
        self.generator_steps = generator_steps
        self.stop_training = False


def summing_conditional_generator(class_offsets):
    """G(z, y) = Σ z + offset[y], by hand: Dense of ones over [z, embedding(y)] with a 1-wide embedding."""
    z = keras.Input((3,), name="z")
    labels = keras.Input((), dtype="int32", name="labels")
    embedding = keras.layers.Embedding(len(class_offsets), 1, name="class_embedding")
    summed = keras.layers.Dense(1, use_bias=False, kernel_initializer="ones")(keras.layers.Concatenate()([z, embedding(labels)]))
    embedding.set_weights([np.asarray(class_offsets, np.float32)[:, None]])
    return keras.Model([z, labels], summed)


def test_slerp_ends_and_great_circle():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=16), rng.normal(size=16)
    a, b = a / np.linalg.norm(a), b / np.linalg.norm(b)
    np.testing.assert_allclose(slerp(a, b, 0.0), a, atol=1e-12)
    np.testing.assert_allclose(slerp(a, b, 1.0), b, atol=1e-12)
    omega = np.arccos(np.dot(a, b))
    for t in (0.25, 0.5, 0.8):
        point = slerp(a, b, t)
        assert np.linalg.norm(point) == pytest.approx(1.0)  # stays on the unit sphere
        assert np.arccos(np.clip(np.dot(a, point), -1, 1)) == pytest.approx(t * omega)  # angle linear in t
    # the straight line's midpoint dips inside the sphere; slerp's does not
    assert np.linalg.norm((a + b) / 2) < 0.99 * np.linalg.norm(slerp(a, b, 0.5))


def test_parallel_codes_fall_back_to_a_line_and_interpolate_shapes():
    a = np.ones(4)
    np.testing.assert_allclose(slerp(a, 2 * a, 0.5), 1.5 * a)
    path = interpolate(np.zeros(3) + 1, np.array([1.0, -1.0, 0.5]), 7)
    assert path.shape == (7, 3) and path.dtype == np.float32


def test_sample_latent_is_standard_normal_and_a_pure_function_of_the_seed():
    z = sample_latent(4000, 8, 3).numpy()
    assert z.shape == (4000, 8) and z.dtype == np.float32
    assert abs(z.mean()) < 0.03 and abs(z.std() - 1) < 0.03
    np.testing.assert_array_equal(sample_latent(4000, 8, 3).numpy(), z)
    assert not np.allclose(sample_latent(4000, 8, 4).numpy(), z)
    np.testing.assert_array_equal(sample_latent(10, 8, 3).numpy(), z[:10])  # a prefix of the same draw


def test_generate_samples_is_seeded_and_uses_the_generator():
    import keras

    inputs = keras.Input((3,))
    generator = keras.Model(inputs, keras.layers.Dense(2, use_bias=False, kernel_initializer="ones")(inputs))
    samples = generate_samples(generator, 10, seed=5)
    z = sample_latent(10, 3, 5).numpy()
    np.testing.assert_allclose(samples, np.repeat(z.sum(axis=1, keepdims=True), 2, axis=1), rtol=1e-5)
    assert samples.shape == (10, 2) and samples.dtype == np.float32
    np.testing.assert_allclose(generate_samples(generator, 10, seed=5, batch_size=3), samples, rtol=1e-6)


def test_generator_classes_and_latent_size_read_both_kinds_of_generator():
    inputs = keras.Input((5,))
    unconditional = keras.Model(inputs, keras.layers.Dense(2)(inputs))
    assert generator_classes(unconditional) is None and latent_size(unconditional) == 5
    generator = conditional_generator(num_classes=4, latent_dim=6)
    assert generator_classes(generator) == 4 and latent_size(generator) == 6
    # found inside a nested model too, with the inputs in the other order
    labels, z = keras.Input((), dtype="int32", name="labels"), keras.Input((6,), name="z")
    wrapped = keras.Model([labels, z], generator([z, labels]))
    assert generator_classes(wrapped) == 4 and latent_size(wrapped) == 6
    # a "class_embedding" in a one-input model is a broken convention, said plainly
    x = keras.Input((), dtype="int32")
    broken = keras.Model(x, keras.layers.Embedding(3, 2, name="class_embedding")(x))
    with pytest.raises(ValueError, match="conditional, but has 1 input"):
        generator_classes(broken)


def test_class_labels_are_a_seeded_uniform_draw_on_their_own_stream():
    labels = class_labels(3000, 3, 7).numpy()
    assert labels.dtype == np.int32 and labels.shape == (3000,)
    assert set(np.unique(labels)) == {0, 1, 2}
    assert np.all(np.abs(np.bincount(labels) - 1000) < 100)  # 1000 each; σ = √(3000·⅓·⅔) ≈ 26
    np.testing.assert_array_equal(class_labels(3000, 3, 7).numpy(), labels)
    assert not np.array_equal(class_labels(3000, 3, 8).numpy(), labels)
    # the stream (seed, 1), beside z's (seed, 0): what the exported SavedModel draws too
    by_hand = tf.random.stateless_uniform([3000], seed=tf.constant([7, 1], tf.int64), minval=0, maxval=3, dtype=tf.int32)
    np.testing.assert_array_equal(labels, by_hand.numpy())
    np.testing.assert_array_equal(class_labels(4, 3, 7, label=2).numpy(), [2, 2, 2, 2])
    with pytest.raises(ValueError, match=r"label must be a class in 0\.\.2, got 3"):
        class_labels(4, 3, 7, label=3)
    with pytest.raises(ValueError, match="num_classes must be a whole number"):
        class_labels(4, 0, 7)


def test_generate_calls_each_kind_as_it_must():
    generator = summing_conditional_generator([0.0, 10.0, 20.0])
    z = np.array([[1.0, 2.0, 3.0], [0.5, 0.5, 0.5]], np.float32)
    # Σz = 6 and 1.5, plus the offsets of classes 2 and 0
    np.testing.assert_allclose(generate(generator, z, [2, 0]).numpy(), [[26.0], [1.5]], rtol=1e-6)
    np.testing.assert_allclose(generate(generator, z, 1).numpy(), [[16.0], [11.5]], rtol=1e-6)  # one class for all
    with pytest.raises(ValueError, match="conditional .3 classes. and needs labels"):
        generate(generator, z)
    with pytest.raises(ValueError, match=r"labels must be classes in 0\.\.2, got values 0\.\.3"):
        generate(generator, z, [3, 0])
    inputs = keras.Input((3,))
    unconditional = keras.Model(inputs, keras.layers.Dense(1, use_bias=False, kernel_initializer="ones")(inputs))
    np.testing.assert_allclose(generate(unconditional, z).numpy(), [[6.0], [1.5]], rtol=1e-6)
    with pytest.raises(ValueError, match="the generator is unconditional"):
        generate(unconditional, z, [0, 1])


def test_generate_samples_gives_a_conditional_generator_seeded_classes():
    generator = summing_conditional_generator([0.0, 10.0, 20.0])
    z_sums = sample_latent(12, 3, 5).numpy().sum(axis=1)
    samples = generate_samples(generator, 12, seed=5)
    # the offset recovers each sample's class: exactly class_labels(12, 3, 5)
    np.testing.assert_allclose((samples[:, 0] - z_sums) / 10.0, class_labels(12, 3, 5).numpy(), atol=1e-5)
    np.testing.assert_array_equal(generate_samples(generator, 12, seed=5, batch_size=5), samples)
    np.testing.assert_allclose(generate_samples(generator, 12, seed=5, labels=1)[:, 0], z_sums + 10.0, rtol=1e-5)
    given = np.arange(12) % 3
    np.testing.assert_allclose(generate_samples(generator, 12, seed=5, labels=given)[:, 0], z_sums + 10.0 * given, rtol=1e-5)
    with pytest.raises(ValueError, match="one class or 12 of them"):
        generate_samples(generator, 12, seed=5, labels=[0, 1])
    inputs = keras.Input((3,))
    with pytest.raises(ValueError, match="the generator is unconditional"):
        generate_samples(keras.Model(inputs, inputs), 4, seed=0, labels=1)
