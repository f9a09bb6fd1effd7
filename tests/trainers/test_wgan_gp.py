import keras
import numpy as np
import pytest

import kgan
from kgan import nets
from kgan.profiles import build_gan, get_profile


def make_wgan(n_critic=3, seed=0, norm="layer"):
    keras.utils.set_random_seed(seed)
    gan = kgan.WGANGP(
        nets.build_generator("dcgan", 16, 8, 4),
        nets.build_discriminator("dcgan", 16, 4, norm=norm),
        n_critic=n_critic,
        seed=seed,
    )
    gan.compile()
    return gan


def stacked_toy(n_critic, batch_size=4, num_images=64):
    return kgan.data.make_toy_dataset(batch_size, num_images=num_images, image_size=16, critic_batches=n_critic)


def test_one_fit_step_is_n_critic_critic_updates_and_one_generator_update():
    gan = make_wgan(n_critic=3)
    seeds_before = gan.latent_seed.numpy().copy()
    history = gan.fit(stacked_toy(3).take(1), verbose=0).history
    assert int(gan.d_optimizer.iterations) == 3 and int(gan.g_optimizer.iterations) == 1
    # fresh z and fresh interpolation weights for every critic update, fresh z for the generator
    assert gan.latent_seed.numpy()[1] - seeds_before[1] == 2 * 3 + 1
    assert set(history) == {"d_loss", "g_loss", "gp", "w_dist", "d_real", "d_fake"}
    assert all(np.isfinite(values[0]) for values in history.values())


def test_logged_values_fit_together():
    gan = make_wgan(n_critic=2)
    logs = {k: v[0] for k, v in gan.fit(stacked_toy(2).take(1), verbose=0).history.items()}
    assert logs["w_dist"] == pytest.approx(logs["d_real"] - logs["d_fake"], abs=1e-5)
    # critic loss = mean D(fake) − mean D(real) + λ·GP, from the same (last) critic update
    assert logs["d_loss"] == pytest.approx(logs["d_fake"] - logs["d_real"] + 10.0 * logs["gp"], rel=1e-4, abs=1e-5)
    assert logs["gp"] >= 0


def test_real_batches_are_the_stacked_fresh_batches():
    gan = make_wgan(n_critic=3)
    element = next(iter(stacked_toy(3)))
    batches = gan.real_batches(element)
    assert len(batches) == 3
    assert not np.array_equal(batches[0], batches[1]) and not np.array_equal(batches[1], batches[2])


def test_critic_learns_to_separate_real_from_fake():
    """With the generator frozen (learning rate 0), the Wasserstein estimate must grow."""
    gan = make_wgan(n_critic=2)
    gan.compile(d_optimizer=keras.optimizers.Adam(1e-3, 0.5, 0.9), g_optimizer=keras.optimizers.SGD(0.0))
    data = stacked_toy(2, num_images=64).repeat()
    w = gan.fit(data, steps_per_epoch=1, epochs=12, verbose=0).history["w_dist"]
    assert np.mean(w[-3:]) > np.mean(w[:3])


def test_profiles_follow_the_book_and_the_paper():
    book, paper = get_profile("wgan-gp", "book"), get_profile("wgan-gp", "gulrajani")
    assert (book.batch_size, book.learning_rate, book.betas[0], book.n_critic, book.gp_weight) == (512, 5e-4, 0.5, 5, 10.0)
    assert (paper.learning_rate, paper.betas, paper.n_critic, paper.gp_weight) == (1e-4, (0.5, 0.9), 5, 10.0)
    book_gan = build_gan("wgan-gp", "book", width=2)
    paper_gan = build_gan("wgan-gp", "gulrajani", width=2, image_size=16)
    layer_types = lambda model: {type(layer).__name__ for layer in model.layers}  # noqa: E731
    assert "BatchNormalization" in layer_types(book_gan.discriminator)
    assert "BatchNormalization" not in layer_types(paper_gan.discriminator)
    assert "GroupNormalization" in layer_types(paper_gan.discriminator)
    assert float(book_gan.d_optimizer.learning_rate) == pytest.approx(5e-4)
    assert paper_gan.g_optimizer.beta_2 == 0.9 and paper_gan.n_critic == 5 and paper_gan.gp_weight == 10.0
    # the critic ends in a raw score
    assert book_gan.discriminator.layers[-1].get_config().get("activation", "linear") == "linear"


def test_gp_weight_zero_removes_the_penalty_from_the_loss():
    gan = make_wgan(n_critic=1)
    gan.compile(penalties={})
    logs = {k: v[0] for k, v in gan.fit(stacked_toy(1).take(1), verbose=0).history.items()}
    assert logs["d_loss"] == pytest.approx(logs["d_fake"] - logs["d_real"], abs=1e-5)


def test_config_round_trip():
    gan = make_wgan(n_critic=4)
    clone = kgan.WGANGP.from_config(gan.get_config())
    assert (clone.n_critic, clone.gp_weight, clone.latent_dim) == (4, 10.0, 8)
