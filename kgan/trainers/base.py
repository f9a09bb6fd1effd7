"""`GAN`: the one adversarial training loop every kgan trainer configures.

A `train_step` is `n_critic` discriminator updates followed by one generator update (and, with
`ema_decay`, an update of the generator's weight average). What changes between GANs plugs in
rather than being rewritten:

- the losses, as functions of logits (`compile(loss="hinge")`, or `d_loss=..., g_loss=...`; see
  `kgan.losses`). A relativistic G loss (`uses_real_logits`) is also given D's logits on a real batch;
- label tricks for D (`label_smoothing`, `label_flip`), for losses that take targets (BCE, least squares);
- penalties on the discriminator, `fn(discriminator, real, fake, *, seed, step) -> scalar`, each with
  a weight (see `kgan.penalties`): they see exactly the batches D's loss sees (and, with `uses_logits`,
  its logits on them);
- `augment`, `fn(images, *, seed)`, applied to everything the discriminator sees, real and fake alike
  (see `kgan.augment`); an adaptive one (`update(real_logits)`, ADA) is told D's logits on reals;
- `instance_noise`: Gaussian noise on every D input, its stddev a constant or a schedule of the step;
- `next_seed`, the one stream every random draw starts from (z, penalties, augmentation, labels):
  seeded, saved with the weights, and distinct on every replica;
- class labels (`num_classes`, `conditioning`): a conditional generator `G([z, y])` and a discriminator
  that is told the class (`"projection"`: `D([x, y])`, Miyato & Koyama 2018), names it (`"acgan"`: D's
  output is a logit and K class logits, Odena et al. 2017) or recovers a sampled code (`"infogan"`:
  Chen et al. 2016). See "Conditional GANs" below.

Precision: the networks may compute in float16 or bfloat16 (a mixed dtype policy when they are
built); D's logits, the losses and the penalties are always float32, and a float16 network's
optimizer is wrapped in a `keras.optimizers.LossScaleOptimizer` (Keras only does that for a model's
own `optimizer`, which a GAN does not use), so small float16 gradients do not flush to zero.

Conditional GANs. With `conditioning="projection"` or `"acgan"` every dataset element is
`(images, labels)` (`kgan.data.load(..., labels=...)`). In a D update the fakes are generated for the
real batch's labels (as keras-io's conditional GAN does), so real and fake batches carry the same
classes and every penalty sees one labelled pair: a gradient penalty's interpolates mix a real image
and a fake of the same class. In a G update the labels are drawn from `class_probabilities` (uniform
by default; a run passes the data's class frequencies), seeded and distinct on every replica.
AC-GAN adds `class_loss_weight · CE(class logits, y)` to D's loss on the reals (`classify_fakes=True`:
on the fakes too, as the paper does) and to G's on the fakes. On toy faces labelled by hair colour
(2,560 steps) D's classifying the fakes too cut the share of readable faces that showed the colour
asked for from 100 % to 71 %: its class head learns G's mistakes as classes, and G is then rewarded
for them. InfoGAN needs no labels: its categorical code c (uniform over `num_classes` values)
is G's label input, its first `continuous_codes` entries of z are the continuous codes, and D's Q head
must recover both from the fake: `class_loss_weight · CE(Q_c, c) + continuous_weight · ‖Q_z − z_{:M}‖²`
(the mutual-information lower bound; a unit-variance Gaussian Q for the continuous codes) is added to
both losses. Penalties see D's adversarial logit only, and, for a projection D, D told the batch's labels.
"""

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from kgan import augment as augmentations
from kgan import losses

__all__ = ["CONDITIONINGS", "GAN"]

CONDITIONINGS = ("projection", "acgan", "infogan")


def _is_float16(model):
    return keras.dtype_policies.get(model.dtype_policy).compute_dtype == "float16"


@keras.saving.register_keras_serializable(package="kgan")
class GAN(keras.Model):
    """A generator and a discriminator trained against each other with `fit`.

    Args:
        generator: model mapping z `(batch, latent_dim)` to images.
        discriminator: model mapping images to logits `(batch, 1)`.
        latent_dim: size of z; read from the generator's input when omitted.
        n_critic: discriminator updates per generator update. With `n_critic > 1` every dataset
            element must carry `n_critic` real batches stacked on axis 1 (batch, n_critic, H, W, C),
            so each update sees fresh real images (`critic_batches=n_critic` in `kgan.data`).
        seed: seed of the trainer's random stream — z, penalties, augmentation (`None`: a random
            one). Weight initialisation and data shuffling have their own seeds
            (`keras.utils.set_random_seed`, the dataset's `seed`).
        ema_decay: keep an exponential moving average of the generator's weights, updated after
            every generator update: `average ← decay · average + (1 − decay) · weight` (Yazici et al.
            2019; ProGAN); non-trainable weights (BatchNorm statistics, spectral norm's `u`) are copied.
            `ema_generator()` is a generator holding the average. `None`: no average.
        ema_warmup: early in a run use the decay `min(ema_decay, (1 + t) / (10 + t))` at generator
            step t (the ramp of `tf.train.ExponentialMovingAverage`), so the average does not keep the
            random initial weights for thousands of steps: with 0.999 and no warm-up, 74 % of the
            average is still the initialisation after 300 steps.
        num_classes: K, the number of classes (or InfoGAN categorical-code values) of a conditional
            GAN; the generator then takes `[z, labels]`. `None`: unconditional.
        conditioning: how D sees the class: `"projection"` (D takes `[images, labels]`), `"acgan"`
            (D's output is (batch, 1 + K): a logit, then class logits) or `"infogan"` (D's output is
            (batch, 1 + K + continuous_codes): a logit, code logits, continuous-code estimates).
        class_loss_weight: the weight of AC-GAN's class loss, or InfoGAN's λ for its categorical code.
        classify_fakes: AC-GAN's D also learns to classify the fakes by the labels they were made for
            (Odena et al. 2017's L_C); default: the reals only (see above).
        continuous_codes: InfoGAN's continuous codes M, the first M entries of z (at most latent_dim).
        continuous_weight: InfoGAN's weight of the continuous codes' squared error.
        class_probabilities: the distribution G's labels are drawn from in its updates (K numbers
            summing to 1); `None`: uniform. InfoGAN's codes are always uniform.
    """

    # Subclasses name their defaults here; `compile` arguments override them.
    default_d_loss = "bce"
    default_g_loss = "nonsaturating"
    default_learning_rate = 2e-4
    default_betas = (0.5, 0.999)
    extra_metric_names = ()

    def __init__(
        self, generator, discriminator, latent_dim=None, n_critic=1, seed=None, ema_decay=None, ema_warmup=False,
        num_classes=None, conditioning=None, class_loss_weight=1.0, continuous_codes=0, continuous_weight=0.5,
        class_probabilities=None, classify_fakes=False, **kwargs,
    ):
        super().__init__(**kwargs)
        if n_critic < 1:
            raise ValueError(f"n_critic must be >= 1, got {n_critic}.")
        if ema_decay is not None and not 0.0 <= ema_decay < 1.0:
            raise ValueError(f"ema_decay must be in [0, 1), got {ema_decay}.")
        self.generator = generator
        self.discriminator = discriminator
        self.latent_dim = int(latent_dim or generator.inputs[0].shape[-1])
        self._set_conditioning(
            num_classes, conditioning, class_loss_weight, continuous_codes, continuous_weight, class_probabilities
        )
        self.classify_fakes = bool(classify_fakes)
        self.n_critic = int(n_critic)
        self.seed = seed
        # The latent stream's state is a weight, so checkpoints and `.keras` files carry it and a
        # resumed run draws the noise the uninterrupted run would have (Keras' SeedGenerator state
        # is not saved). `seed=None` takes one from NumPy, which `keras.utils.set_random_seed` seeds.
        start = np.random.randint(1, 2**31) if seed is None else int(seed)
        self.latent_seed = self.add_weight(
            shape=(2,),
            initializer=lambda shape, dtype: ops.convert_to_tensor([start, 0], dtype=dtype),
            dtype="int64",
            trainable=False,
            aggregation="only_first_replica",
            name="latent_seed",
        )
        # Training steps taken. Not the G optimizer's iteration count: a float16 loss-scale
        # optimizer skips the update of a step whose gradient overflowed, but the step still happened.
        self.step_counter = self.add_weight(
            shape=(), initializer="zeros", dtype="int64", trainable=False, aggregation="only_first_replica",
            name="step_counter",
        )
        self.ema_decay = None if ema_decay is None else float(ema_decay)
        self.ema_warmup = bool(ema_warmup)
        self.ema_weights = self._average_weights() if ema_decay is not None else []
        self._set_trackers()
        self.d_optimizer = self.g_optimizer = None
        # Keras only saves built models; the trainer is built as soon as both of its networks are.
        self.built = generator.built and discriminator.built

    def _set_conditioning(
        self, num_classes, conditioning, class_loss_weight, continuous_codes, continuous_weight, class_probabilities
    ):
        """Check and keep the conditional options (see the class docstring); raise a `ValueError` naming a bad one."""
        if (num_classes is None) != (conditioning is None):
            raise ValueError(
                f"A conditional GAN needs both num_classes and conditioning; got num_classes={num_classes!r}, "
                f"conditioning={conditioning!r}."
            )
        if conditioning is not None and conditioning not in CONDITIONINGS:
            raise ValueError(f"Unknown conditioning {conditioning!r}; choose one of {CONDITIONINGS}.")
        if num_classes is not None and (isinstance(num_classes, bool) or int(num_classes) != num_classes or num_classes < 2):
            raise ValueError(f"num_classes must be a whole number of at least 2, got {num_classes!r}.")
        if conditioning is not None and len(self.generator.inputs) != 2:
            raise ValueError(
                f"conditioning={conditioning!r} needs a generator taking [z, labels] "
                f"(kgan.nets.build_generator(num_classes=...)); this one takes {len(self.generator.inputs)} input."
            )
        continuous_codes = int(continuous_codes)
        if continuous_codes and conditioning != "infogan":
            raise ValueError("continuous_codes are InfoGAN's: they need conditioning='infogan'.")
        if not 0 <= continuous_codes <= self.latent_dim:
            raise ValueError(f"continuous_codes must be in [0, latent_dim={self.latent_dim}], got {continuous_codes}.")
        if class_probabilities is not None:
            probabilities = np.asarray(class_probabilities, np.float64)
            if probabilities.shape != (num_classes,) or (probabilities < 0).any() or abs(probabilities.sum() - 1) > 1e-6:
                raise ValueError(
                    f"class_probabilities must be {num_classes} non-negative numbers summing to 1, got {class_probabilities!r}."
                )
            class_probabilities = tuple(float(p) for p in probabilities)
        self.num_classes = None if num_classes is None else int(num_classes)
        self.conditioning = conditioning
        self.class_loss_weight = float(class_loss_weight)
        self.continuous_codes = continuous_codes
        self.continuous_weight = float(continuous_weight)
        self.class_probabilities = class_probabilities

    def _class_log_names(self):
        return {"acgan": ("d_class", "g_class"), "infogan": ("d_info", "g_info")}.get(self.conditioning, ())

    def _set_trackers(self, penalty_names=()):
        """One running mean per logged value; `compile` calls it again, so a removed penalty stops logging."""
        names = ("d_loss", "g_loss", "d_real", "d_fake", "d_grad_norm", "g_grad_norm", *self.extra_metric_names,
                 *self._class_log_names(), *penalty_names)
        if getattr(self, "augment", None) is not None and hasattr(self.augment, "update"):
            names += ("augment_p",)
        self._trackers = {name: keras.metrics.Mean(name=name) for name in dict.fromkeys(names)}

    # ---------------------------------------------------------------- compile
    def compile(
        self, d_optimizer=None, g_optimizer=None, d_loss=None, g_loss=None, penalties=None, augment=None, *,
        loss=None, label_smoothing=None, label_flip=0.0, instance_noise=None, **kwargs,
    ):
        """Set the two optimizers, the losses, penalties, augmentation and D's input tricks.

        Args:
            d_optimizer, g_optimizer: default to Adam with the trainer's learning rate and betas
                (the book's DCGAN: Adam(2e-4, beta_1=0.5)). Different learning rates for the two are
                TTUR (Heusel et al. 2017). A network computing in float16 gets its optimizer wrapped
                in a `LossScaleOptimizer`.
            loss: a loss family of `kgan.losses.LOSSES` ("hinge", "least_squares", "ragan", ...)
                giving both losses; `d_loss` / `g_loss` override either.
            d_loss, g_loss: names in `kgan.losses` or callables `(real_logits, fake_logits)` and
                `(fake_logits, real_logits=None)`.
            penalties: `{name: (weight, fn)}`; `fn(discriminator, real, fake, *, seed, step)` is added
                to the D loss times `weight` and logged as `name` (see `kgan.penalties`; `Penalty`
                adds options, laziness and a schedule). Defaults to the trainer's `default_penalties()`.
            augment: a name in `kgan.augment` or `fn(images, *, seed) -> images`, applied to every
                discriminator input with a fresh seed from the trainer's stream.
            label_smoothing: one-sided label smoothing (Salimans et al. 2016): D's target for reals is
                `1 − s`, or drawn per sample from a `(low, high)` range. Needs a D loss that takes targets.
            label_flip: the probability that a sample's real and fake targets are swapped (ganhacks).
            instance_noise: Gaussian noise added to every D input (Sønderby et al. 2016): a stddev, or
                a schedule of the step (`keras.optimizers.schedules`, e.g. a linear decay to 0).

        Compiling again replaces all of these, and the logged values with them.
        """
        super().compile(**kwargs)
        # Keras' compile always creates an RMSprop `self.optimizer`; a GAN steps its own two.
        self.optimizer = None
        beta_1, beta_2 = self.default_betas
        self.d_optimizer = self._loss_scaled(
            d_optimizer or keras.optimizers.Adam(self.default_learning_rate, beta_1, beta_2), self.discriminator
        )
        self.g_optimizer = self._loss_scaled(
            g_optimizer or keras.optimizers.Adam(self.default_learning_rate, beta_1, beta_2), self.generator
        )
        # `loss` names a family (both losses); `d_loss` / `g_loss` override either side.
        self._loss_args = {"loss": loss, "d_loss": d_loss, "g_loss": g_loss}
        family = losses.get_losses(loss) if loss is not None else (None, None)
        self.d_loss_fn = losses.get_discriminator_loss(d_loss or family[0] or self.default_d_loss)
        self.g_loss_fn = losses.get_generator_loss(g_loss or family[1] or self.default_g_loss)
        if (label_smoothing is not None or label_flip) and not getattr(self.d_loss_fn, "accepts_targets", False):
            raise ValueError(
                "label_smoothing / label_flip need a D loss that takes targets (bce, least_squares); "
                f"{getattr(self.d_loss_fn, '__name__', self.d_loss_fn)} does not."
            )
        if not 0.0 <= float(label_flip) < 0.5:
            raise ValueError(f"label_flip must be in [0, 0.5), got {label_flip}.")
        self.label_smoothing = label_smoothing
        self.label_flip = float(label_flip)
        self.instance_noise = instance_noise
        self.penalties = dict(self.default_penalties() if penalties is None else penalties)
        self._augment_identifier = augment
        self.augment = augmentations.get(augment)
        # State some tricks keep (ADA's p, LeCam's anchors) is saved with the trainer: Keras tracks
        # the layers held in this list, so checkpoints and `.keras` files carry their variables.
        self.trick_layers = [
            trick for trick in (self.augment, *(_unwrapped(fn) for _, fn in self.penalties.values()))
            if isinstance(trick, keras.layers.Layer)
        ]
        self._set_trackers(self.penalties)
        # Built now (inside the caller's strategy scope) so checkpoints can restore their state
        # before the first step; an unbuilt optimizer silently skips loading.
        self.d_optimizer.build(self.discriminator.trainable_variables)
        self.g_optimizer.build(self.generator.trainable_variables)

    @staticmethod
    def _loss_scaled(optimizer, network):
        if _is_float16(network) and not isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
            return keras.optimizers.LossScaleOptimizer(optimizer)
        return optimizer

    def default_penalties(self):
        """Penalties used when `compile` is given none: `{name: (weight, fn)}`."""
        return {}

    @property
    def generator_steps(self):
        """Training steps taken so far, one generator update each (restored by checkpoints)."""
        return int(self.step_counter.numpy())

    def fit(self, x=None, *args, **kwargs):
        if isinstance(x, tf.data.Dataset):
            # A dataset shuffles itself; Keras' default shuffle=True would only print a warning.
            kwargs.setdefault("shuffle", False)
        return super().fit(x, *args, **kwargs)

    @property
    def metrics(self):
        return list(self._trackers.values())

    # ---------------------------------------------------------------- pieces
    def call(self, inputs, training=False):
        """Generate images from latent codes z (a conditional GAN: `[z, labels]`)."""
        return self.generator(inputs, training=training)

    def next_seed(self):
        """A fresh stateless seed (shape (2,)) from the trainer's seed: every random draw starts here.

        Every replica holds the same state, so the replica id is folded in to draw different noise.
        """
        seed = ops.convert_to_tensor(self.latent_seed)
        self.latent_seed.assign(seed + ops.convert_to_tensor([0, 1], dtype="int64"))
        replica = tf.distribute.get_replica_context()
        if replica is not None and replica.num_replicas_in_sync > 1:
            seed = tf.random.experimental.stateless_fold_in(seed, replica.replica_id_in_sync_group)
        return seed

    def sample_latent(self, batch_size):
        """z ~ N(0, 1) of shape (batch_size, latent_dim)."""
        return tf.random.stateless_normal((batch_size, self.latent_dim), seed=self.next_seed())

    def sample_labels(self, batch_size):
        """Labels for a G update: drawn from `class_probabilities` (uniform: InfoGAN's codes, or by default), int32."""
        seed = self.next_seed()
        if self.class_probabilities is None or self.conditioning == "infogan":
            return tf.random.stateless_uniform((batch_size,), seed, minval=0, maxval=self.num_classes, dtype="int32")
        logits = ops.log(ops.convert_to_tensor([self.class_probabilities], "float32"))
        return ops.cast(tf.random.stateless_categorical(logits, batch_size, seed)[0], "int32")

    def _fake_labels(self, batch_size, labels):
        """The labels a D update generates its fakes for: the real batch's (InfoGAN: fresh codes; none: None)."""
        if self.conditioning == "infogan":
            return self.sample_labels(batch_size)
        return labels

    def _generate(self, z, labels, training=True):
        return self.generator(z if self.num_classes is None else [z, labels], training=training)

    def _step(self):
        return ops.convert_to_tensor(self.step_counter)

    def _seen_by_d(self, images):
        """What D is shown of a batch: the augmentation, then instance noise (both seeded)."""
        if self.augment is not None:
            images = self.augment(images, seed=self.next_seed())
        if self.instance_noise is not None:
            stddev = self.instance_noise
            if callable(stddev):
                stddev = stddev(self._step())
            images = augmentations.instance_noise(images, seed=self.next_seed(), stddev=stddev)
        return images

    def _discriminate(self, images, labels=None):
        """D on a batch: its adversarial logits (batch, 1) and, for AC-GAN / InfoGAN, its class or code outputs
        (else None) — float32 whatever precision D computes in."""
        if self.conditioning == "projection":
            return ops.cast(self.discriminator([images, labels], training=True), "float32"), None
        outputs = ops.cast(self.discriminator(images, training=True), "float32")
        if self.conditioning in ("acgan", "infogan"):
            return outputs[:, :1], outputs[:, 1:]
        return outputs, None

    def _logits(self, images, labels=None):
        """D's adversarial logits, float32 whatever precision D computes in."""
        return self._discriminate(images, labels)[0]

    def _critic(self, labels):
        """D as penalties call it, `critic(images, training=...)` → adversarial logits: told the batch's labels
        (projection) or reduced to its first column (AC-GAN, InfoGAN)."""
        if self.conditioning == "projection":
            return lambda images, training=False: self.discriminator([images, labels], training=training)
        if self.conditioning in ("acgan", "infogan"):
            return lambda images, training=False: self.discriminator(images, training=training)[:, :1]
        return self.discriminator

    def _d_class_term(self, real_classes, fake_classes, labels, fake_labels):
        """AC-GAN's class loss for D: on the reals, plus on the fakes with `classify_fakes`."""
        term = self._class_term(real_classes, labels, None)
        return term + self._class_term(fake_classes, fake_labels, None) if self.classify_fakes else term

    def _class_term(self, outputs, labels, z):
        """AC-GAN's class loss or InfoGAN's mutual-information term on D's class/code outputs, float32 scalar."""
        if self.conditioning == "acgan":
            return self.class_loss_weight * ops.mean(
                keras.losses.sparse_categorical_crossentropy(labels, outputs, from_logits=True)
            )
        codes = outputs[:, : self.num_classes]
        term = self.class_loss_weight * ops.mean(
            keras.losses.sparse_categorical_crossentropy(labels, codes, from_logits=True)
        )
        if self.continuous_codes:
            estimates = outputs[:, self.num_classes : self.num_classes + self.continuous_codes]
            target = ops.cast(z[:, : self.continuous_codes], "float32")
            term = term + self.continuous_weight * ops.mean(ops.sum(ops.square(estimates - target), axis=-1))
        return term

    def discriminator_output(self, logits):
        """What the discriminator 'says' about a batch, for logging (a probability for BCE GANs)."""
        return ops.sigmoid(logits)

    def _d_loss(self, real_logits, fake_logits):
        if self.label_smoothing is None and not self.label_flip:
            return self.d_loss_fn(real_logits, fake_logits)
        real_targets, fake_targets = losses.label_targets(
            ops.shape(real_logits)[0], seed=self.next_seed(), smoothing=self.label_smoothing, flip=self.label_flip
        )
        return self.d_loss_fn(real_logits, fake_logits, real_targets=real_targets, fake_targets=fake_targets)

    def _g_loss(self, fake_logits, real=None, real_labels=None):
        if getattr(self.g_loss_fn, "uses_real_logits", False):
            return self.g_loss_fn(fake_logits, real_logits=self._logits(self._seen_by_d(real), real_labels))
        return self.g_loss_fn(fake_logits)

    def _objective(self, optimizer, loss):
        """What one replica differentiates: its share of `loss`, loss-scaled when `optimizer` scales (float16)."""
        loss = self._per_replica(loss)
        return optimizer.scale_loss(loss) if isinstance(optimizer, keras.optimizers.LossScaleOptimizer) else loss

    def _apply(self, optimizer, gradients, variables):
        """Apply `gradients` (a loss-scale optimizer unscales them, or skips a non-finite step); their true norm."""
        optimizer.apply_gradients(zip(gradients, variables))
        norm = self._gradient_norm(gradients)
        return norm / optimizer.dynamic_scale if isinstance(optimizer, keras.optimizers.LossScaleOptimizer) else norm

    def _penalized_d_loss(self, real, fake, real_logits, fake_logits, step, labels=None):
        """D's loss on the logits plus every weighted penalty (float32), and the penalties' values to log.

        `labels`: the classes of both batches (a D update's fakes are made for the real batch's labels).
        """
        d_loss = ops.cast(self._d_loss(real_logits, fake_logits), "float32")
        logs = {}
        critic = self._critic(labels)
        for name, (weight, penalty) in self.penalties.items():
            extra = {"real_logits": real_logits, "fake_logits": fake_logits} if getattr(penalty, "uses_logits", False) else {}
            logs[name] = ops.cast(penalty(critic, real, fake, seed=self.next_seed(), step=step, **extra), "float32")
            d_loss = d_loss + weight * logs[name]
        return d_loss, logs

    def _adapt_augmentation(self, real_logits, logs):
        """ADA: after D's update the augmentation strength follows D's overfitting (logged as augment_p)."""
        if hasattr(self.augment, "update"):
            self.augment.update(real_logits)
            logs["augment_p"] = ops.convert_to_tensor(self.augment.p)

    def d_step(self, real, labels=None):
        """One discriminator update on a real batch (with its `labels`, conditional) and a fresh fake batch."""
        batch_size = ops.shape(real)[0]
        z = self.sample_latent(batch_size)
        fake_labels = self._fake_labels(batch_size, labels) if self.num_classes is not None else None
        fake = self._generate(z, fake_labels)
        # what D sees in this update, and so what its penalties see
        real, fake = self._seen_by_d(real), self._seen_by_d(fake)
        step = self._step()
        with tf.GradientTape() as tape:
            real_logits, real_classes = self._discriminate(real, labels)
            fake_logits, fake_classes = self._discriminate(fake, fake_labels)
            d_loss, logs = self._penalized_d_loss(real, fake, real_logits, fake_logits, step, labels)
            if self.conditioning == "acgan":  # D names the class of the reals (and, asked to, of the fakes)
                logs["d_class"] = self._d_class_term(real_classes, fake_classes, labels, fake_labels)
                d_loss = d_loss + logs["d_class"]
            elif self.conditioning == "infogan":  # Q recovers the codes the fakes were made from
                logs["d_info"] = self._class_term(fake_classes, fake_labels, z)
                d_loss = d_loss + logs["d_info"]
            objective = self._objective(self.d_optimizer, d_loss)
        variables = self.discriminator.trainable_variables
        d_grad_norm = self._apply(self.d_optimizer, tape.gradient(objective, variables), variables)
        self._adapt_augmentation(real_logits, logs)
        logs.update(
            d_loss=d_loss,
            d_grad_norm=d_grad_norm,
            d_real=ops.mean(self.discriminator_output(real_logits)),
            d_fake=ops.mean(self.discriminator_output(fake_logits)),
        )
        return logs

    def g_step(self, batch_size, real=None, real_labels=None):
        """One generator update on a fresh latent batch (with drawn labels, conditional); `real` and its
        `real_labels`: the batch a relativistic loss compares with."""
        z = self.sample_latent(batch_size)
        labels = self.sample_labels(batch_size) if self.num_classes is not None else None
        logs = {}
        with tf.GradientTape() as tape:
            fake = self._generate(z, labels)
            fake_logits, fake_classes = self._discriminate(self._seen_by_d(fake), labels)
            g_loss = ops.cast(self._g_loss(fake_logits, real, real_labels), "float32")
            if self.conditioning in ("acgan", "infogan"):  # G makes fakes D classifies as asked (AC-GAN) / Q decodes
                name = "g_class" if self.conditioning == "acgan" else "g_info"
                logs[name] = self._class_term(fake_classes, labels, z)
                g_loss = g_loss + logs[name]
            objective = self._objective(self.g_optimizer, g_loss)
        variables = self.generator.trainable_variables
        g_grad_norm = self._apply(self.g_optimizer, tape.gradient(objective, variables), variables)
        if self.ema_decay is not None:
            self.update_ema()
        return {**logs, "g_loss": g_loss, "g_grad_norm": g_grad_norm}

    # ---------------------------------------------------------------- generator average
    def _average_weights(self):
        """The EMA's variables: one per generator weight, starting as a copy of it, saved with the trainer."""
        if not self.generator.built:
            raise ValueError("ema_decay needs a built generator (call it once on a batch of z first).")

        def copy_of(weight):
            return lambda shape, dtype: ops.cast(ops.convert_to_tensor(weight), dtype)

        return [
            self.add_weight(
                shape=weight.shape, initializer=copy_of(weight), dtype=weight.dtype, trainable=False,
                # every replica computes the same average (the generator is in sync), so keep the first's
                aggregation="only_first_replica", name="ema_" + weight.path.replace("/", "_"),
            )
            for weight in self.generator.weights
        ]

    def ema_decay_at(self, step):
        """The decay used by the average's update after generator step `step` (counting from 0)."""
        if not self.ema_warmup:
            return ops.convert_to_tensor(self.ema_decay, "float32")
        step = ops.cast(step, "float32")
        return ops.minimum(self.ema_decay, (1.0 + step) / (10.0 + step))

    def update_ema(self):
        """Move the average one step towards the generator's current weights (in the graph)."""
        decay = self.ema_decay_at(self._step())
        for average, weight in zip(self.ema_weights, self.generator.weights):
            value = ops.convert_to_tensor(weight)
            if weight.trainable:
                value = ops.cast(decay, average.dtype) * average + ops.cast(1.0 - decay, average.dtype) * value
            average.assign(value)

    def ema_generator(self):
        """A generator holding the weight average (the generator itself when there is none)."""
        if self.ema_decay is None:
            return self.generator
        if self.__dict__.get("_ema_generator") is None:
            # not an attribute Keras tracks: the copy is a view of `ema_weights`, not more trainer state
            object.__setattr__(self, "_ema_generator", keras.models.clone_model(self.generator))
        for target, average in zip(self._ema_generator.weights, self.ema_weights):
            target.assign(average)
        return self._ema_generator

    @staticmethod
    def _gradient_norm(gradients):
        """The global L2 norm of one network's gradient of its (undivided) loss, logged so the health
        monitor can see gradients explode (`kgan.monitor`)."""
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        return tf.linalg.global_norm([ops.cast(g, "float32") for g in gradients if g is not None]) * replicas

    @staticmethod
    def _per_replica(loss):
        """The share of `loss` one replica differentiates: optimizers sum gradients across replicas,
        so dividing by their number makes a step on a global batch equal a single-device step."""
        return loss / tf.distribute.get_strategy().num_replicas_in_sync

    def real_batches(self, data):
        """The `n_critic` real batches carried by one dataset element."""
        return [images for images, _ in self.labelled_batches(data)]

    def labelled_batches(self, data):
        """The `n_critic` (real batch, its labels) pairs of one dataset element; labels are None unless the GAN
        is told classes (projection, AC-GAN): an unconditional GAN or InfoGAN ignores a dataset's labels."""
        images, labels = (data[0], data[1]) if isinstance(data, (tuple, list)) else (data, None)
        if self.conditioning not in ("projection", "acgan"):
            labels = None
        elif labels is None:
            raise ValueError(
                f"A {self.conditioning} GAN trains on labelled data: each dataset element must be (images, labels); "
                "load it with kgan.data.load(..., labels=...)."
            )
        if self.n_critic == 1:
            return [(images, labels)]
        if len(images.shape) < 3 or images.shape[1] != self.n_critic:
            raise ValueError(
                f"With n_critic={self.n_critic} each dataset element must hold {self.n_critic} real batches "
                f"stacked on axis 1 (shape (batch, {self.n_critic}, ...)); got shape {images.shape}. "
                "Build the dataset with `critic_batches=n_critic`."
            )
        return [(images[:, i], None if labels is None else labels[:, i]) for i in range(self.n_critic)]

    def train_step(self, data):
        if self.d_optimizer is None:
            raise RuntimeError("Call compile() before fit().")
        batches = self.labelled_batches(data)
        for real, labels in batches:
            logs = self.d_step(real, labels)
        real, labels = batches[-1]
        logs.update(self.g_step(ops.shape(real)[0], real=real, real_labels=labels))
        self.step_counter.assign_add(1)
        return self._log(logs)

    def _log(self, logs):
        """Fold one step's values into the running means and return them as `fit` wants them."""
        for name, value in logs.items():
            self._trackers[name].update_state(value)
        results = {name: tracker.result() for name, tracker in self._trackers.items()}
        if isinstance(tf.distribute.get_strategy(), tf.distribute.MultiWorkerMirroredStrategy):
            # Keras fails to reduce scalar logs across workers (tensorflow#72388): hand it rank-1 ones.
            results = {name: ops.reshape(value, (1,)) for name, value in results.items()}
        return results

    # ---------------------------------------------------------------- serialization
    def get_compile_config(self):
        """Optimizers (with their settings), losses, penalties, augmentation and D's input tricks, for `.keras` files.

        Losses and penalties must be names or registered functions (`keras.saving.register_keras_serializable`),
        so files load in safe mode; kgan's own are registered.
        """
        if self.d_optimizer is None:
            return None
        serialize = keras.saving.serialize_keras_object
        return {
            "d_optimizer": serialize(self.d_optimizer),
            "g_optimizer": serialize(self.g_optimizer),
            **{key: _to_config(value) for key, value in self._loss_args.items()},
            "penalties": {name: [weight, serialize(fn)] for name, (weight, fn) in self.penalties.items()},
            "augment": _to_config(self._augment_identifier),
            "label_smoothing": self.label_smoothing,
            "label_flip": self.label_flip,
            "instance_noise": _to_config(self.instance_noise, plain=(str, float, int, type(None))),
        }

    def compile_from_config(self, config):
        """Re-compile from `get_compile_config()`; builds both optimizers so their saved state loads."""
        deserialize = keras.saving.deserialize_keras_object
        smoothing = config.get("label_smoothing")
        self.compile(
            d_optimizer=deserialize(config["d_optimizer"]),
            g_optimizer=deserialize(config["g_optimizer"]),
            loss=config.get("loss"),
            d_loss=_from_config(config.get("d_loss")),
            g_loss=_from_config(config.get("g_loss")),
            penalties={name: (weight, deserialize(fn)) for name, (weight, fn) in config["penalties"].items()},
            augment=_from_config(config["augment"]),
            label_smoothing=tuple(smoothing) if isinstance(smoothing, list) else smoothing,
            label_flip=config.get("label_flip", 0.0),
            instance_noise=_from_config(config.get("instance_noise")),
        )

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "generator": keras.saving.serialize_keras_object(self.generator),
            "discriminator": keras.saving.serialize_keras_object(self.discriminator),
            "latent_dim": self.latent_dim,
            "n_critic": self.n_critic,
            "seed": self.seed,
            "ema_decay": self.ema_decay,
            "ema_warmup": self.ema_warmup,
            "num_classes": self.num_classes,
            "conditioning": self.conditioning,
            "class_loss_weight": self.class_loss_weight,
            "continuous_codes": self.continuous_codes,
            "continuous_weight": self.continuous_weight,
            "class_probabilities": self.class_probabilities,
            "classify_fakes": self.classify_fakes,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("generator", "discriminator"):
            config[key] = keras.saving.deserialize_keras_object(config[key])
        return cls(**config)


def _unwrapped(penalty):
    """The function inside a `kgan.penalties.Penalty` (where a stateful penalty keeps its variables)."""
    return getattr(penalty, "fn", penalty)


def _to_config(identifier, plain=(str, type(None))):
    """A name (or None) as it is; a function as Keras serializes it (kgan's are registered, so safe mode loads them)."""
    return identifier if isinstance(identifier, plain) else keras.saving.serialize_keras_object(identifier)


def _from_config(entry):
    return keras.saving.deserialize_keras_object(entry) if isinstance(entry, dict) else entry
