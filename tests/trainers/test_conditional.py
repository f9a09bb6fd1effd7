"""Conditional GANs in kgan.GAN: projection (labels in), AC-GAN (classes out), InfoGAN (codes recovered).

The loop's contract: D's fakes are made for the real batch's labels, G's labels are drawn (seeded, from the
class prior), penalties see D told the labels, the class / information terms are the cross-entropies they
say, and unlabelled data is refused with a sentence. Tiny nets on 16×16 toy faces labelled by hair colour.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

import kgan
from kgan.datasets.toy_faces import toy_faces
from kgan.recipes import build_gan
from tests.helpers import IMAGE_SIZE, LATENT_DIM, WIDTH

TINY = dict(image_size=IMAGE_SIZE, latent_dim=LATENT_DIM, width=WIDTH, seed=0)
HAIR = 2  # the hair colour's column in toy_faces' labels: 4 classes


def labelled(batch_size=8, num_images=32, critic_batches=1, seed=0):
    """(images in [-1, 1], hair-colour labels) batches, built without kgan.data so only the trainer is tested."""
    images, attributes = toy_faces(num_images, image_size=IMAGE_SIZE, seed=seed)
    dataset = tf.data.Dataset.from_tensor_slices((images.astype("float32") / 127.5 - 1, attributes[:, HAIR]))
    dataset = dataset.batch(batch_size, drop_remainder=True)
    if critic_batches > 1:
        dataset = dataset.batch(critic_batches, drop_remainder=True).map(
            lambda x, y: (tf.experimental.numpy.swapaxes(x, 0, 1), tf.transpose(y))
        )
    return dataset


def conditional_gan(conditioning="projection", model="dcgan", **overrides):
    keras.utils.set_random_seed(0)
    return build_gan(model, conditioning=conditioning, num_classes=None if conditioning == "infogan" else 4,
                     **TINY, **overrides)


@pytest.mark.parametrize("conditioning", ["projection", "acgan", "infogan"])
def test_each_conditioning_trains_and_logs_finite_values(conditioning):
    gan = conditional_gan(conditioning, recipe="dcgan")
    assert len(gan.generator.inputs) == 2 and gan.num_classes == 4
    history = gan.fit(labelled().take(3), verbose=0).history
    for name, values in history.items():
        assert np.all(np.isfinite(values)), (name, values)
    expected = {"projection": set(), "acgan": {"d_class", "g_class"}, "infogan": {"d_info", "g_info"}}[conditioning]
    assert expected <= set(history)
    assert gan.generator_steps == 3


def test_same_seed_same_run_and_labels_change_the_run():
    def run(shift_labels):
        gan = conditional_gan("projection", recipe="dcgan")
        data = labelled().map(lambda x, y: (x, (y + shift_labels) % 4))
        gan.fit(data.take(2), verbose=0)
        return [w.numpy() for w in gan.generator.weights]

    first, again, other = run(0), run(0), run(1)
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert any(not np.array_equal(a, b) for a, b in zip(first, other))  # the labels reach both networks


def test_fakes_of_a_d_update_carry_the_real_labels_and_g_labels_follow_the_prior():
    gan = conditional_gan("projection")
    labels = tf.constant([3, 1, 0, 2], "int32")
    assert gan._fake_labels(4, labels) is labels
    gan.class_probabilities = (0.0, 0.0, 1.0, 0.0)  # every G label must be class 2
    np.testing.assert_array_equal(gan.sample_labels(64).numpy(), 2)
    gan.class_probabilities = None
    drawn = gan.sample_labels(400).numpy()
    assert drawn.dtype == np.int32 and set(drawn) == {0, 1, 2, 3}
    assert abs(np.mean(drawn == 0) - 0.25) < 0.07  # uniform by default


def test_a_projection_gan_needs_labelled_data():
    gan = conditional_gan("projection")
    with pytest.raises(ValueError, match=r"trains on labelled data: each dataset element must be \(images, labels\)"):
        gan.fit(labelled().map(lambda x, y: x).take(1), verbose=0)


def test_penalties_see_d_told_the_batch_labels():
    gan = conditional_gan("projection")
    images = tf.random.stateless_uniform((4, IMAGE_SIZE, IMAGE_SIZE, 3), (1, 2), -1, 1)
    labels = tf.constant([0, 1, 2, 3], "int32")
    critic = gan._critic(labels)
    np.testing.assert_allclose(critic(images).numpy(), gan.discriminator([images, labels]).numpy(), atol=1e-6)
    assert not np.allclose(critic(images).numpy(), gan._critic(labels[::-1])(images).numpy())
    acgan = conditional_gan("acgan")
    outputs = acgan.discriminator(images).numpy()
    assert outputs.shape == (4, 5)  # a logit, then 4 class logits
    np.testing.assert_allclose(acgan._critic(labels)(images).numpy(), outputs[:, :1], atol=1e-6)


def test_class_and_information_terms_are_the_cross_entropies_by_hand():
    acgan = conditional_gan("acgan", class_loss_weight=2.0)
    # class logits [0, ln 3, 0, 0] for label 1: p = 3 / 6 → CE = ln 2; for label 0: p = 1/6 → CE = ln 6
    outputs = tf.constant([[0.0, np.log(3.0), 0.0, 0.0], [0.0, np.log(3.0), 0.0, 0.0]])
    value = acgan._class_term(outputs, tf.constant([1, 0]), z=None)
    assert float(value) == pytest.approx(2.0 * (np.log(2.0) + np.log(6.0)) / 2, rel=1e-5)

    # D's AC-GAN term: the reals' CE; with classify_fakes, plus the fakes' (the paper's L_C)
    reals, fakes = tf.constant([[0.0, np.log(3.0), 0.0, 0.0]]), tf.constant([[0.0, 0.0, 0.0, 0.0]])
    assert float(acgan._d_class_term(reals, fakes, tf.constant([1]), tf.constant([2]))) == pytest.approx(
        2.0 * np.log(2.0), rel=1e-5)
    acgan.classify_fakes = True
    assert float(acgan._d_class_term(reals, fakes, tf.constant([1]), tf.constant([2]))) == pytest.approx(
        2.0 * (np.log(2.0) + np.log(4.0)), rel=1e-5)

    info = conditional_gan("infogan", class_loss_weight=1.0, continuous_codes=2)
    assert info.continuous_codes == 2 and info.discriminator.output_shape == (None, 1 + 4 + 2)
    # code logits uniform (CE ln 4) + 0.5 · mean over samples of Σ (estimate − z[:2])²: (1² + 2²) and 0 → 2.5 · 0.5
    outputs = tf.constant([[0.0, 0.0, 0.0, 0.0, 1.0, 2.0], [0.0, 0.0, 0.0, 0.0, 0.5, 0.5]])
    z = tf.constant([[0.0, 0.0, 9.0], [0.5, 0.5, 9.0]])
    value = info._class_term(outputs, tf.constant([0, 3]), z)
    assert float(value) == pytest.approx(np.log(4.0) + 0.5 * (5.0 + 0.0) / 2, rel=1e-5)


def test_acgan_d_learns_the_classes():
    """A frozen G (learning rate 0): D's class loss on real faces labelled by hair colour must fall."""
    gan = conditional_gan("acgan", recipe="dcgan")
    gan.compile(d_optimizer=keras.optimizers.Adam(2e-3, 0.5), g_optimizer=keras.optimizers.SGD(0.0))
    images, labels = next(iter(labelled(batch_size=64, num_images=64)))

    def real_class_loss():
        # batch statistics: 24 steps leave BatchNorm's moving averages near their start
        return float(gan._class_term(gan.discriminator(images, training=True)[:, 1:], labels, z=None))

    before = real_class_loss()
    history = gan.fit(labelled(num_images=64).repeat(), steps_per_epoch=1, epochs=24, verbose=0).history
    assert before == pytest.approx(np.log(4), rel=0.2)  # chance: 4 classes
    assert real_class_loss() < 0.5 * before
    assert np.mean(history["d_class"][-4:]) < np.mean(history["d_class"][:4])


@pytest.mark.parametrize("trainer", ["wgan-gp", "one_step"])
def test_conditioning_works_with_other_trainers_and_penalties(trainer):
    if trainer == "wgan-gp":
        gan = conditional_gan("projection", model="wgan-gp", n_critic=2, recipe="gulrajani")
        data = labelled(critic_batches=2)
    else:
        gan = conditional_gan("acgan", recipe="modern", one_step=True)
        data = labelled()
    history = gan.fit(data.take(2), verbose=0).history
    assert all(np.all(np.isfinite(values)) for values in history.values())
    if trainer == "wgan-gp":
        assert history["gp"][-1] > 0 and "w_dist" in history
    else:
        assert {"d_class", "g_class"} <= set(history)


def test_a_conditional_gan_saves_and_loads_with_its_options(tmp_path):
    gan = conditional_gan("infogan", continuous_codes=1)
    gan.fit(labelled().take(1), verbose=0)
    gan.save(tmp_path / "gan.keras")
    loaded = keras.models.load_model(tmp_path / "gan.keras")
    for name in ("num_classes", "conditioning", "continuous_codes", "class_loss_weight", "classify_fakes"):
        assert getattr(loaded, name) == getattr(gan, name), name
    z = tf.random.stateless_normal((4, LATENT_DIM), (0, 1))
    labels = tf.constant([0, 1, 2, 3])
    np.testing.assert_allclose(loaded.generator([z, labels]).numpy(), gan.generator([z, labels]).numpy(), atol=1e-6)


def test_bad_conditional_options_are_clear_errors():
    generator = kgan.nets.build_generator("dcgan", IMAGE_SIZE, LATENT_DIM, WIDTH)
    discriminator = kgan.nets.build_discriminator("dcgan", IMAGE_SIZE, WIDTH)
    with pytest.raises(ValueError, match="needs a generator taking \\[z, labels\\]"):
        kgan.GAN(generator, discriminator, num_classes=4, conditioning="projection")
    with pytest.raises(ValueError, match="needs both num_classes and conditioning"):
        kgan.GAN(generator, discriminator, num_classes=4)
    with pytest.raises(ValueError, match="Unknown conditioning 'labels'"):
        build_gan("dcgan", conditioning="labels", num_classes=4, **TINY)
    with pytest.raises(ValueError, match="needs the data's number of classes"):
        build_gan("dcgan", conditioning="acgan", **TINY)
    conditional = kgan.nets.build_generator("dcgan", IMAGE_SIZE, LATENT_DIM, WIDTH, num_classes=4)
    with pytest.raises(ValueError, match="class_probabilities must be 4 non-negative numbers summing to 1"):
        kgan.GAN(conditional, discriminator, num_classes=4, conditioning="acgan", class_probabilities=(0.5, 0.5))


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
def test_conditional_gans_train_under_mixed_precision_with_float32_losses(policy):
    for conditioning in ("projection", "acgan"):
        gan = conditional_gan(conditioning, precision=policy)
        history = gan.fit(labelled().repeat(), steps_per_epoch=1, epochs=3, verbose=0).history
        # float16: a step whose scaled gradient overflows (R1's second-order gradient at the first loss scale,
        # 2¹⁵) is skipped, its norm logged as inf, and the scale halved; the losses stay finite throughout
        for name, values in history.items():
            checked = values[1:] if name.endswith("grad_norm") and policy == "mixed_float16" else values
            assert np.all(np.isfinite(checked)), (conditioning, name, values)
        assert all(weight.dtype == "float32" for weight in gan.generator.weights + gan.discriminator.weights)
        z, labels = gan.sample_latent(4), tf.constant([0, 1, 2, 3])
        assert gan.generator([z, labels]).dtype == policy.removeprefix("mixed_")
        logits, classes = gan._discriminate(gan.generator([z, labels]), labels)
        assert logits.dtype == "float32" and (classes is None or classes.dtype == "float32")


@pytest.mark.parametrize("conditioning", ["projection", "acgan"])
def test_every_penalty_and_d_trick_takes_a_conditional_d(conditioning):
    from kgan.augment import translation
    from kgan.penalties import Penalty

    gan = conditional_gan(conditioning, recipe="dcgan")
    penalties = {
        "gp": (1.0, Penalty("gradient_penalty")), "r1": (1.0, Penalty("r1")), "r2": (1.0, Penalty("r2")),
        "dragan": (1.0, Penalty("dragan")), "bcr": (1.0, Penalty("consistency", augment=translation)),
        "lecam": (0.1, Penalty("lecam")),
    }
    # a relativistic G loss compares with D's logits on the real batch, told the real labels
    tricks = {"loss": "nonsaturating", "label_smoothing": 0.1} if conditioning == "projection" else {"loss": "ragan"}
    gan.compile(penalties=penalties, augment="diffaugment", instance_noise=0.05, **tricks)
    history = gan.fit(labelled().take(2), verbose=0).history
    for name in penalties:
        assert np.all(np.isfinite(history[name])) and history[name][-1] >= 0, name
    assert {"d_class", "g_class"} <= set(history) or conditioning == "projection"
