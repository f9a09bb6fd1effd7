"""`DCGAN`: the book's chapter 13.3 trainer."""

import keras

from kgan.trainers.base import GAN

__all__ = ["DCGAN"]


@keras.saving.register_keras_serializable(package="kgan")
class DCGAN(GAN):
    """The book's DCGAN training: one D and one G update per step (`n_critic` D updates, if asked).

    Losses are BCE from logits (real → 1, fake → 0) for D and the non-saturating BCE (fake → 1)
    for G; both optimizers default to Adam(2e-4, beta_1=0.5). Logs `d_loss`, `g_loss` and the mean
    probabilities D gives to real (`d_real`) and fake (`d_fake`) images, and each network's gradient
    norm (`d_grad_norm`, `g_grad_norm`).

    Example:
        gan = DCGAN(build_generator("book"), build_discriminator("book"), seed=0)
        gan.compile()
        gan.fit(make_anime_dataset("faces.zip", batch_size=64, seed=0), epochs=5)
    """

    def __init__(self, generator, discriminator, latent_dim=None, n_critic=1, seed=None, **kwargs):
        # n_critic > 1 is the n_dis ratio some recipes use (D steps per G step), a plain recipe field
        super().__init__(generator, discriminator, latent_dim=latent_dim, n_critic=n_critic, seed=seed, **kwargs)
