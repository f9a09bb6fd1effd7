"""kgan.DCGAN: the book's defaults, one D and one G step, and a generator update that follows the right gradient."""

import keras
import numpy as np
import pytest

import kgan
from kgan import nets
from tests.helpers import IMAGE_SIZE, LATENT_DIM, WIDTH, toy_batches


def test_defaults_are_the_books(make_gan):
    gan = make_gan()
    for optimizer in (gan.d_optimizer, gan.g_optimizer):
        assert isinstance(optimizer, keras.optimizers.Adam)
        assert float(optimizer.learning_rate) == pytest.approx(2e-4)
        assert optimizer.beta_1 == 0.5
    assert gan.d_loss_fn is kgan.losses.bce_discriminator_loss
    assert gan.g_loss_fn is kgan.losses.nonsaturating_generator_loss
    assert gan.latent_dim == LATENT_DIM and gan.n_critic == 1 and gan.penalties == {}
    assert gan.optimizer is None  # no stray RMSprop from Keras' compile


def test_n_critic_is_the_n_dis_ratio_d_updates_per_g_update():
    g, d = nets.build_generator("dcgan", IMAGE_SIZE, LATENT_DIM, WIDTH), nets.build_discriminator("dcgan", IMAGE_SIZE, WIDTH)
    gan = kgan.DCGAN(g, d, n_critic=2, seed=0)
    gan.compile()
    gan.fit(toy_batches(critic_batches=2), verbose=0)  # 32 images: 2 steps of 2 × 8
    assert int(gan.d_optimizer.iterations) == 4 and int(gan.g_optimizer.iterations) == 2 and gan.generator_steps == 2


def test_generator_learns_to_fool_a_frozen_discriminator(make_gan):
    """With D's optimizer stopped, G's loss must fall: the G update follows the right gradient."""
    gan = make_gan(compile=False)
    gan.compile(d_optimizer=keras.optimizers.SGD(0.0), g_optimizer=keras.optimizers.Adam(1e-2, beta_1=0.5))
    losses = gan.fit(toy_batches().repeat(), steps_per_epoch=1, epochs=15, verbose=0).history["g_loss"]
    assert np.mean(losses[-3:]) < np.mean(losses[:3])
