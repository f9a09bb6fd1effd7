"""`OneStepGAN`: one loss, one pass of G, and D and G updated together from the same state.

`GAN`'s loop alternates: a D step, then a G step against the *updated* D, with a fresh z and a second
pass of G. The single-step method (Nowozin et al. 2016, f-GAN, Algorithm 1) differentiates one loss
once and moves both networks from where they stand — simultaneous gradient descent:

    L = L_D(D(x), D(sg(G(z)))) + λ·[L_G(D(G(z))) − L_G(D(sg(G(z))))]          (sg: stop_gradient)

Each network's block of ∇L is exactly what its own update needs:

- ∂L/∂θ_D = ∇_{θ_D} L_D. `sg` changes no value, so the bracket's two terms are equal, and so are
  their gradients with respect to D's weights: they cancel.
- ∂L/∂θ_G = λ·∇_{θ_G} L_G(D(G(z))). L_D and the subtracted term see G(z) through `sg`, so only
  the first bracket term reaches G — through D's weights as they are, held constant: that is
  "L_G of D with its weights stopped" (D_sg). Note where `sg` sits: on the images, not on D. A bracket
  `L_G(D(G(z))) − L_G(D_sg(G(z)))` would do the opposite (G's gradients cancel, D gets ∇L_G).

How kgan computes it. Writing the subtraction out and letting floating point cancel it costs a second
pass of D over the fakes, and cancels exactly only if both passes are the same function: kgan's
`SpectralNormalization` advances its power iteration on every training call, so the second pass
divides by a slightly different σ. Nor can one `stop_gradient` D's *weights* in Keras: a layer reads
its variables inside `call`. But stopping the gradient at θ_D only means not differentiating with
respect to θ_D, and a tape does that by being asked for the right sources. So `train_step` runs G once
and D once per batch under one persistent tape and asks it for the two blocks above — the gradient
of L with the cancellation done on paper rather than in floating point. Compared with the alternating
step this saves one pass of G and one of D over the fakes.

Simultaneous is the cheaper choice, not the more stable one: on the Dirac-GAN of Mescheder et al.
(2018) unregularised simultaneous gradient descent moves away from the equilibrium (alternating
updates do not converge either); zero-centred gradient penalties on D (R1) are what make it converge.
"""

import math

import keras
import tensorflow as tf
from keras import ops

from kgan.trainers.base import GAN

__all__ = ["OneStepGAN"]


@keras.saving.register_keras_serializable(package="kgan")
class OneStepGAN(GAN):
    """D and G updated at once from the gradient of one loss (Nowozin et al. 2016, single-step method).

    Per step: one z, one pass of G, D on the real batch and on G(z), then with those logits
    `∇_{θ_D} [L_D + Σ weight · penalty]` goes to `d_optimizer` and `∇_{θ_G} λ·L_G` to `g_optimizer`,
    both computed before either network moves (see the module docstring for the one loss behind it).

    Args:
        generator, discriminator, latent_dim, seed, ema_decay, ema_warmup: as `kgan.GAN`.
        g_loss_weight: λ, the weight of G's loss in the one loss. With SGD it scales G's learning
            rate; Adam's step barely depends on it. Must be positive.

    Everything else follows `GAN`: losses (label smoothing / flipping for losses that take targets),
    penalties (added to L_D, given exactly its batches and, with `uses_logits`, its logits),
    augmentation and instance noise on everything D sees (the fakes are shown to D once and serve both
    losses), `augment.update(real_logits)` after D's update, relativistic G losses (`uses_real_logits`,
    given L_D's real logits rather than a second pass of D), loss scaling for float16 networks and the
    generator average. Logs what `GAN` logs: `d_loss` (with penalties), `g_loss` (L_G, without λ),
    `d_real`, `d_fake` and each network's gradient norm — for G the norm of λ·∇L_G, the gradient its
    optimizer receives.
    `n_critic` is always 1: there is one update of each network per loss.
    """

    def __init__(self, generator, discriminator, latent_dim=None, g_loss_weight=1.0, seed=None, **kwargs):
        n_critic = kwargs.pop("n_critic", 1)  # a saved config names it
        if n_critic != 1:
            raise ValueError(
                f"OneStepGAN updates D and G together from one loss, so n_critic must be 1; got n_critic={n_critic}. "
                "Several D updates per G update need the alternating kgan.GAN(n_critic=...)."
            )
        try:
            weight = float(g_loss_weight)
        except (TypeError, ValueError):
            weight = math.nan
        if not (math.isfinite(weight) and weight > 0):
            raise ValueError(f"g_loss_weight (λ) must be a positive number, got {g_loss_weight!r}.")
        super().__init__(generator, discriminator, latent_dim=latent_dim, n_critic=1, seed=seed, **kwargs)
        self.g_loss_weight = weight

    def _generator_loss(self, fake_logits, real_logits):
        # A relativistic G loss compares with D's logits on the step's (augmented) reals: those of L_D.
        if getattr(self.g_loss_fn, "uses_real_logits", False):
            return self.g_loss_fn(fake_logits, real_logits=real_logits)
        return self.g_loss_fn(fake_logits)

    def one_step(self, real, labels=None):
        """Both updates from one pass of G and one of D per batch; returns the step's logs (unaveraged).

        A conditional GAN makes the step's fakes for the real batch's `labels` (InfoGAN: for drawn codes);
        AC-GAN's class terms and InfoGAN's information term join L_D and L_G as in `GAN`'s two updates.
        """
        step = self._step()  # training steps so far, as penalties and schedules expect
        batch_size = ops.shape(real)[0]
        z = self.sample_latent(batch_size)
        fake_labels = self._fake_labels(batch_size, labels) if self.num_classes is not None else None
        # persistent: the tape is asked twice, once per network, for its block of ∇L
        with tf.GradientTape(persistent=True) as tape:
            fake = self._generate(z, fake_labels)
            # Shown to D once (augmentation, instance noise): L_D and L_G see the same fakes, as in L.
            real, fake = self._seen_by_d(real), self._seen_by_d(fake)
            (real_logits, real_classes), (fake_logits, fake_classes) = (
                self._discriminate(real, labels), self._discriminate(fake, fake_labels)
            )
            d_loss, logs = self._penalized_d_loss(real, fake, real_logits, fake_logits, step, labels)
            g_loss = ops.cast(self._generator_loss(fake_logits, real_logits), "float32")
            if self.conditioning == "acgan":
                logs.update(
                    d_class=self._d_class_term(real_classes, fake_classes, labels, fake_labels),
                    g_class=self._class_term(fake_classes, fake_labels, z),
                )
                d_loss, g_loss = d_loss + logs["d_class"], g_loss + logs["g_class"]
            elif self.conditioning == "infogan":
                logs["d_info"] = logs["g_info"] = self._class_term(fake_classes, fake_labels, z)
                d_loss, g_loss = d_loss + logs["d_info"], g_loss + logs["g_info"]
            d_objective = self._objective(self.d_optimizer, d_loss)
            g_objective = self._objective(self.g_optimizer, self.g_loss_weight * g_loss)
        d_variables = self.discriminator.trainable_variables
        g_variables = self.generator.trainable_variables
        # ∂L/∂θ_D is ∇L_D alone (the bracket cancels); ∂L/∂θ_G is λ·∇L_G alone, taken through D's current
        # weights, which are not sources here (D_sg); L_D's path into G is never asked for (sg(G(z))).
        d_gradients = tape.gradient(d_objective, d_variables)
        g_gradients = tape.gradient(g_objective, g_variables)
        del tape
        # Both gradients exist before either network moves: the updates are simultaneous.
        d_grad_norm = self._apply(self.d_optimizer, d_gradients, d_variables)
        g_grad_norm = self._apply(self.g_optimizer, g_gradients, g_variables)
        self._adapt_augmentation(real_logits, logs)
        if self.ema_decay is not None:
            self.update_ema()
        logs.update(
            d_loss=d_loss,
            g_loss=g_loss,
            d_real=ops.mean(self.discriminator_output(real_logits)),
            d_fake=ops.mean(self.discriminator_output(fake_logits)),
            d_grad_norm=d_grad_norm,
            g_grad_norm=g_grad_norm,
        )
        return logs

    def train_step(self, data):
        if self.d_optimizer is None:
            raise RuntimeError("Call compile() before fit().")
        ((real, labels),) = self.labelled_batches(data)
        logs = self.one_step(real, labels)
        self.step_counter.assign_add(1)
        return self._log(logs)

    def get_config(self):
        return {**super().get_config(), "g_loss_weight": self.g_loss_weight}
