"""`WGANGP`: the book's chapter 13.8 trainer — a Wasserstein critic kept 1-Lipschitz by a gradient penalty."""

import keras

from kgan.penalties import gradient_penalty
from kgan.trainers.base import GAN

__all__ = ["WGANGP"]


@keras.saving.register_keras_serializable(package="kgan")
class WGANGP(GAN):
    """WGAN-GP (Gulrajani et al. 2017): `n_critic` critic updates, then one generator update.

    Critic loss `mean(D(fake)) − mean(D(real)) + gp_weight · GP`, generator loss `−mean(D(fake))`,
    with GP from `kgan.penalties.gradient_penalty`. Each critic update takes fresh real images and
    fresh z: every dataset element carries `n_critic` real batches stacked on axis 1
    (`make_anime_dataset(..., critic_batches=n_critic)`), so one `fit` step is one generator step
    and `steps_per_epoch`, callbacks and logs count generator steps, as the paper does.

    Logs `d_loss`, `g_loss`, `gp`, the Wasserstein estimate `w_dist = mean(D(real)) − mean(D(fake))`
    the mean critic scores `d_real`, `d_fake` and each network's gradient norm `d_grad_norm`, `g_grad_norm`
    (from the last critic update of the step).

    Optimizers default to the paper's Adam(1e-4, beta_1=0.5, beta_2=0.9); the book uses
    Adam(5e-4, beta_1=0.5) and batch 512 (see `kgan.recipes`). The critic must output raw scores
    (no sigmoid) and, for the penalty to mean what it says, use no BatchNorm. `gp_weight` is the
    penalty's weight when `compile` is given no penalties; `gan.gp_weight` is the one compiled.
    """

    default_d_loss = "wasserstein"
    default_g_loss = "wasserstein"
    default_learning_rate = 1e-4
    default_betas = (0.5, 0.9)
    extra_metric_names = ("gp", "w_dist")

    def __init__(self, generator, discriminator, latent_dim=None, n_critic=5, gp_weight=10.0, seed=None, **kwargs):
        super().__init__(generator, discriminator, latent_dim=latent_dim, n_critic=n_critic, seed=seed, **kwargs)
        self._default_gp_weight = float(gp_weight)

    @property
    def gp_weight(self):
        """The weight of the penalty `gp` as compiled (before `compile`: the constructor's `gp_weight`)."""
        penalties = getattr(self, "penalties", None)
        if penalties and "gp" in penalties:
            return float(penalties["gp"][0])
        return self._default_gp_weight

    def default_penalties(self):
        return {"gp": (self._default_gp_weight, gradient_penalty)}

    def discriminator_output(self, logits):
        return logits  # a critic's scores are not probabilities

    def d_step(self, real, labels=None):
        logs = super().d_step(real, labels)
        logs["w_dist"] = logs["d_real"] - logs["d_fake"]
        return logs

    def get_config(self):
        return {**super().get_config(), "gp_weight": self.gp_weight}
