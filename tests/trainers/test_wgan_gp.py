"""kgan.WGANGP: n_critic critic updates per step on fresh batches, logs that fit together, a critic that learns."""

import keras
import numpy as np
import pytest

import kgan
from tests.helpers import toy_batches


@pytest.fixture
def make_wgan(make_gan):
    return lambda n_critic=3, **options: make_gan("wgan-gp", n_critic=n_critic, **options)


def stacked_toy(n_critic, batch_size=4, num_images=64):
    return toy_batches(batch_size, num_images=num_images, critic_batches=n_critic)


def test_one_fit_step_is_n_critic_critic_updates_and_one_generator_update(make_wgan):
    gan = make_wgan(n_critic=3)
    seeds_before = gan.latent_seed.numpy().copy()
    history = gan.fit(stacked_toy(3).take(1), verbose=0).history
    assert int(gan.d_optimizer.iterations) == 3 and int(gan.g_optimizer.iterations) == 1
    # fresh z and fresh interpolation weights for every critic update, fresh z for the generator
    assert gan.latent_seed.numpy()[1] - seeds_before[1] == 2 * 3 + 1
    assert set(history) == {"d_loss", "g_loss", "gp", "w_dist", "d_real", "d_fake", "d_grad_norm", "g_grad_norm"}
    assert all(np.isfinite(values[0]) for values in history.values())


def test_logged_values_fit_together(make_wgan):
    gan = make_wgan(n_critic=2)
    logs = {k: v[0] for k, v in gan.fit(stacked_toy(2).take(1), verbose=0).history.items()}
    assert logs["w_dist"] == pytest.approx(logs["d_real"] - logs["d_fake"], abs=1e-5)
    # critic loss = mean D(fake) − mean D(real) + λ·GP, from the same (last) critic update
    assert logs["d_loss"] == pytest.approx(logs["d_fake"] - logs["d_real"] + 10.0 * logs["gp"], rel=1e-4, abs=1e-5)
    assert logs["gp"] >= 0


def test_real_batches_are_the_stacked_fresh_batches(make_wgan):
    gan = make_wgan(n_critic=3)
    element = next(iter(stacked_toy(3)))
    batches = gan.real_batches(element)
    assert len(batches) == 3
    assert not np.array_equal(batches[0], batches[1]) and not np.array_equal(batches[1], batches[2])


def test_critic_learns_to_separate_real_from_fake(make_wgan):
    """With the generator frozen (learning rate 0), the Wasserstein estimate must grow."""
    gan = make_wgan(n_critic=2)
    gan.compile(d_optimizer=keras.optimizers.Adam(1e-3, 0.5, 0.9), g_optimizer=keras.optimizers.SGD(0.0))
    data = stacked_toy(2, num_images=64).repeat()
    w = gan.fit(data, steps_per_epoch=1, epochs=12, verbose=0).history["w_dist"]
    assert np.mean(w[-3:]) > np.mean(w[:3])


def test_no_penalty_leaves_the_wasserstein_loss(make_wgan):
    gan = make_wgan(n_critic=1)
    gan.compile(penalties={})
    logs = {k: v[0] for k, v in gan.fit(stacked_toy(1).take(1), verbose=0).history.items()}
    assert logs["d_loss"] == pytest.approx(logs["d_fake"] - logs["d_real"], abs=1e-5)


def test_config_round_trip(make_wgan):
    gan = make_wgan(n_critic=4)
    clone = kgan.WGANGP.from_config(gan.get_config())
    assert (clone.n_critic, clone.gp_weight, clone.latent_dim) == (4, 10.0, 8)


def test_gp_weight_is_the_compiled_one(make_wgan):
    gan = make_wgan(compile=False, gp_weight=3.0)
    assert gan.gp_weight == 3.0  # before compile: the constructor's
    gan.compile()
    assert gan.gp_weight == 3.0 and gan.penalties["gp"] == (3.0, kgan.penalties.gradient_penalty)
    gan.compile(penalties={"gp": (7.0, kgan.penalties.gradient_penalty)})
    assert gan.gp_weight == 7.0 and kgan.WGANGP.from_config(gan.get_config()).gp_weight == 7.0
