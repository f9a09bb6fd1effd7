"""Whole-trainer `.keras` files: networks, both optimizers' state and the latent stream survive a save and load."""

import keras
import numpy as np
import pytest

import kgan


def trained(model):
    keras.utils.set_random_seed(0)
    g = kgan.nets.build_generator("dcgan", 16, 8, 4)
    if model == "dcgan":
        gan = kgan.DCGAN(g, kgan.nets.build_discriminator("dcgan", 16, 4), seed=3)
        data = kgan.data.make_toy_dataset(8, num_images=32, image_size=16)
    else:
        gan = kgan.WGANGP(g, kgan.nets.build_discriminator("dcgan", 16, 4, norm="layer"), n_critic=2, gp_weight=5.0, seed=3)
        data = kgan.data.make_toy_dataset(8, num_images=32, image_size=16, critic_batches=2)
    gan.compile(
        d_optimizer=keras.optimizers.Adam(3e-4, beta_1=0.4), g_optimizer=keras.optimizers.Adam(1e-4, beta_1=0.3)
    )
    gan.fit(data, verbose=0)
    return gan, data


@pytest.mark.parametrize("model", ["dcgan", "wgan-gp"])
def test_save_and_load_restore_networks_optimizers_and_noise(model, tmp_path):
    gan, data = trained(model)
    path = tmp_path / "gan.keras"
    gan.save(path)
    loaded = keras.models.load_model(path)  # safe_mode=True: no lambdas, no pickles

    assert type(loaded) is type(gan) and loaded.n_critic == gan.n_critic
    z = np.random.default_rng(0).normal(size=(4, 8)).astype("float32")
    np.testing.assert_array_equal(loaded(z), gan(z))
    images = next(iter(kgan.data.make_toy_dataset(4, num_images=8, image_size=16)))
    np.testing.assert_array_equal(loaded.discriminator(images), gan.discriminator(images))
    for name in ("d_optimizer", "g_optimizer"):
        original, restored = getattr(gan, name), getattr(loaded, name)
        assert int(restored.iterations) == int(original.iterations) > 0
        assert float(restored.learning_rate) == pytest.approx(float(original.learning_rate))
        assert restored.beta_1 == pytest.approx(original.beta_1)
        for a, b in zip(original.variables, restored.variables):  # Adam's moments included
            np.testing.assert_array_equal(a.numpy(), b.numpy())
    np.testing.assert_array_equal(loaded.latent_seed.numpy(), gan.latent_seed.numpy())
    if model == "wgan-gp":
        assert loaded.gp_weight == 5.0 and loaded.penalties["gp"][0] == 5.0

    # Training on from the file is training on from memory: the same next step, bit for bit.
    batch = next(iter(data))
    gan.reset_metrics()  # logs are running means: compare one step each
    logs_original = {k: float(v) for k, v in gan.train_step(batch).items()}
    logs_loaded = {k: float(v) for k, v in loaded.train_step(batch).items()}
    assert logs_loaded == logs_original


def test_unregistered_loss_cannot_sneak_into_a_file(tmp_path):
    gan, _ = trained("dcgan")
    gan.compile(g_loss=lambda fake_logits: -fake_logits.mean())
    with pytest.warns(UserWarning, match="lambda"):
        gan.save(tmp_path / "gan.keras")
    with pytest.raises(ValueError, match="safe_mode"):
        keras.models.load_model(tmp_path / "gan.keras")  # safe mode refuses the lambda
