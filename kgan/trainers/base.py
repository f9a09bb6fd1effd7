"""`GAN`: the one adversarial training loop every kgan trainer configures.

A `train_step` is `n_critic` discriminator updates followed by one generator update (and, with
`ema_decay`, an update of the generator's weight average). What changes between GANs plugs in
rather than being rewritten:

- the losses, as functions of logits (`compile(d_loss=..., g_loss=...)`, see `kgan.losses`);
- penalties on the discriminator, `fn(discriminator, real, fake, *, seed, step) -> scalar`, each with
  a weight (see `kgan.penalties`): they see exactly the batches D's loss sees;
- `augment`, `fn(images, *, seed)`, applied to everything the discriminator sees, real and fake alike
  (see `kgan.augment`);
- `next_seed`, the one stream every random draw starts from (z, penalties, augmentation): seeded,
  saved with the weights, and distinct on every replica.
"""

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from kgan import augment as augmentations
from kgan import losses

__all__ = ["GAN"]


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
    """

    # Subclasses name their defaults here; `compile` arguments override them.
    default_d_loss = "bce"
    default_g_loss = "nonsaturating"
    default_learning_rate = 2e-4
    default_betas = (0.5, 0.999)
    extra_metric_names = ()

    def __init__(self, generator, discriminator, latent_dim=None, n_critic=1, seed=None, ema_decay=None, **kwargs):
        super().__init__(**kwargs)
        if n_critic < 1:
            raise ValueError(f"n_critic must be >= 1, got {n_critic}.")
        if ema_decay is not None and not 0.0 <= ema_decay < 1.0:
            raise ValueError(f"ema_decay must be in [0, 1), got {ema_decay}.")
        self.generator = generator
        self.discriminator = discriminator
        self.latent_dim = int(latent_dim or generator.input_shape[-1])
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
        self.ema_decay = None if ema_decay is None else float(ema_decay)
        self.ema_weights = self._average_weights() if ema_decay is not None else []
        self._set_trackers()
        self.d_optimizer = self.g_optimizer = None
        # Keras only saves built models; the trainer is built as soon as both of its networks are.
        self.built = generator.built and discriminator.built

    def _set_trackers(self, penalty_names=()):
        """One running mean per logged value; `compile` calls it again, so a removed penalty stops logging."""
        names = ("d_loss", "g_loss", "d_real", "d_fake", "d_grad_norm", "g_grad_norm", *self.extra_metric_names, *penalty_names)
        self._trackers = {name: keras.metrics.Mean(name=name) for name in dict.fromkeys(names)}

    # ---------------------------------------------------------------- compile
    def compile(self, d_optimizer=None, g_optimizer=None, d_loss=None, g_loss=None, penalties=None, augment=None, **kwargs):
        """Set the two optimizers, the losses, penalties and augmentation.

        Args:
            d_optimizer, g_optimizer: default to Adam with the trainer's learning rate and betas
                (the book's DCGAN: Adam(2e-4, beta_1=0.5)).
            d_loss, g_loss: names in `kgan.losses` or callables `(real_logits, fake_logits)` and
                `(fake_logits)`.
            penalties: `{name: (weight, fn)}`; `fn(discriminator, real, fake, *, seed, step)` is added
                to the D loss times `weight` and logged as `name` (see `kgan.penalties`; `Penalty`
                adds options and a schedule). Defaults to the trainer's `default_penalties()`.
            augment: a name in `kgan.augment` or `fn(images, *, seed) -> images`, applied to every
                discriminator input with a fresh seed from the trainer's stream.

        Compiling again replaces all of these, and the logged values with them.
        """
        super().compile(**kwargs)
        # Keras' compile always creates an RMSprop `self.optimizer`; a GAN steps its own two.
        self.optimizer = None
        beta_1, beta_2 = self.default_betas
        self.d_optimizer = d_optimizer or keras.optimizers.Adam(self.default_learning_rate, beta_1, beta_2)
        self.g_optimizer = g_optimizer or keras.optimizers.Adam(self.default_learning_rate, beta_1, beta_2)
        self._loss_identifiers = (d_loss or self.default_d_loss, g_loss or self.default_g_loss)
        self.d_loss_fn = losses.get_discriminator_loss(self._loss_identifiers[0])
        self.g_loss_fn = losses.get_generator_loss(self._loss_identifiers[1])
        self.penalties = dict(self.default_penalties() if penalties is None else penalties)
        self._set_trackers(self.penalties)
        self._augment_identifier = augment
        self.augment = augmentations.get(augment)
        # Built now (inside the caller's strategy scope) so checkpoints can restore their state
        # before the first step; an unbuilt optimizer silently skips loading.
        self.d_optimizer.build(self.discriminator.trainable_variables)
        self.g_optimizer.build(self.generator.trainable_variables)

    def default_penalties(self):
        """Penalties used when `compile` is given none: `{name: (weight, fn)}`."""
        return {}

    @property
    def generator_steps(self):
        """Generator updates taken so far (the training step count; restored by checkpoints)."""
        return int(self.g_optimizer.iterations.numpy())

    def fit(self, x=None, *args, **kwargs):
        if isinstance(x, tf.data.Dataset):
            # A dataset shuffles itself; Keras' default shuffle=True would only print a warning.
            kwargs.setdefault("shuffle", False)
        return super().fit(x, *args, **kwargs)

    @property
    def metrics(self):
        return list(self._trackers.values())

    # ---------------------------------------------------------------- pieces
    def call(self, z, training=False):
        """Generate images from latent codes."""
        return self.generator(z, training=training)

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

    def _augmented(self, images):
        return images if self.augment is None else self.augment(images, seed=self.next_seed())

    def discriminator_output(self, logits):
        """What the discriminator 'says' about a batch, for logging (a probability for BCE GANs)."""
        return ops.sigmoid(logits)

    def d_step(self, real):
        """One discriminator update on a real batch and a fresh fake batch."""
        fake = self.generator(self.sample_latent(ops.shape(real)[0]), training=True)
        # what D sees in this update, and so what its penalties see
        real, fake = self._augmented(real), self._augmented(fake)
        step = ops.convert_to_tensor(self.g_optimizer.iterations)
        with tf.GradientTape() as tape:
            real_logits = self.discriminator(real, training=True)
            fake_logits = self.discriminator(fake, training=True)
            d_loss = self.d_loss_fn(real_logits, fake_logits)
            logs = {}
            for name, (weight, penalty) in self.penalties.items():
                logs[name] = penalty(self.discriminator, real, fake, seed=self.next_seed(), step=step)
                d_loss = d_loss + weight * logs[name]
            replica_loss = self._per_replica(d_loss)
        variables = self.discriminator.trainable_variables
        gradients = tape.gradient(replica_loss, variables)
        self.d_optimizer.apply_gradients(zip(gradients, variables))
        logs.update(
            d_loss=d_loss,
            d_grad_norm=self._gradient_norm(gradients),
            d_real=ops.mean(self.discriminator_output(real_logits)),
            d_fake=ops.mean(self.discriminator_output(fake_logits)),
        )
        return logs

    def g_step(self, batch_size):
        """One generator update on a fresh latent batch."""
        with tf.GradientTape() as tape:
            fake = self.generator(self.sample_latent(batch_size), training=True)
            g_loss = self.g_loss_fn(self.discriminator(self._augmented(fake), training=True))
            replica_loss = self._per_replica(g_loss)
        variables = self.generator.trainable_variables
        gradients = tape.gradient(replica_loss, variables)
        self.g_optimizer.apply_gradients(zip(gradients, variables))
        if self.ema_decay is not None:
            self.update_ema()
        return {"g_loss": g_loss, "g_grad_norm": self._gradient_norm(gradients)}

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

    def update_ema(self):
        """Move the average one step towards the generator's current weights (in the graph)."""
        for average, weight in zip(self.ema_weights, self.generator.weights):
            value = ops.convert_to_tensor(weight)
            average.assign(self.ema_decay * average + (1.0 - self.ema_decay) * value if weight.trainable else value)

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
        return tf.linalg.global_norm([g for g in gradients if g is not None]) * replicas

    @staticmethod
    def _per_replica(loss):
        """The share of `loss` one replica differentiates: optimizers sum gradients across replicas,
        so dividing by their number makes a step on a global batch equal a single-device step."""
        return loss / tf.distribute.get_strategy().num_replicas_in_sync

    def real_batches(self, data):
        """The `n_critic` real batches carried by one dataset element."""
        if isinstance(data, (tuple, list)):  # (images, labels): the labels are not used
            data = data[0]
        if self.n_critic == 1:
            return [data]
        if len(data.shape) < 3 or data.shape[1] != self.n_critic:
            raise ValueError(
                f"With n_critic={self.n_critic} each dataset element must hold {self.n_critic} real batches "
                f"stacked on axis 1 (shape (batch, {self.n_critic}, ...)); got shape {data.shape}. "
                "Build the dataset with `critic_batches=n_critic`."
            )
        return [data[:, i] for i in range(self.n_critic)]

    def train_step(self, data):
        if self.d_optimizer is None:
            raise RuntimeError("Call compile() before fit().")
        batches = self.real_batches(data)
        for real in batches:
            logs = self.d_step(real)
        logs.update(self.g_step(ops.shape(batches[-1])[0]))
        for name, value in logs.items():
            self._trackers[name].update_state(value)
        results = {name: tracker.result() for name, tracker in self._trackers.items()}
        if isinstance(tf.distribute.get_strategy(), tf.distribute.MultiWorkerMirroredStrategy):
            # Keras fails to reduce scalar logs across workers (tensorflow#72388): hand it rank-1 ones.
            results = {name: ops.reshape(value, (1,)) for name, value in results.items()}
        return results

    # ---------------------------------------------------------------- serialization
    def get_compile_config(self):
        """Optimizers (with their settings), losses, penalties and augmentation, for `.keras` files.

        Losses and penalties must be names or registered functions (`keras.saving.register_keras_serializable`),
        so files load in safe mode; kgan's own are registered.
        """
        if self.d_optimizer is None:
            return None
        serialize = keras.saving.serialize_keras_object
        return {
            "d_optimizer": serialize(self.d_optimizer),
            "g_optimizer": serialize(self.g_optimizer),
            "d_loss": _to_config(self._loss_identifiers[0]),
            "g_loss": _to_config(self._loss_identifiers[1]),
            "penalties": {name: [weight, serialize(fn)] for name, (weight, fn) in self.penalties.items()},
            "augment": _to_config(self._augment_identifier),
        }

    def compile_from_config(self, config):
        """Re-compile from `get_compile_config()`; builds both optimizers so their saved state loads."""
        deserialize = keras.saving.deserialize_keras_object
        self.compile(
            d_optimizer=deserialize(config["d_optimizer"]),
            g_optimizer=deserialize(config["g_optimizer"]),
            d_loss=_from_config(config["d_loss"]),
            g_loss=_from_config(config["g_loss"]),
            penalties={name: (weight, deserialize(fn)) for name, (weight, fn) in config["penalties"].items()},
            augment=_from_config(config["augment"]),
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
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("generator", "discriminator"):
            config[key] = keras.saving.deserialize_keras_object(config[key])
        return cls(**config)


def _to_config(identifier):
    """A name (or None) as it is; a function as Keras serializes it (kgan's are registered, so safe mode loads them)."""
    return identifier if isinstance(identifier, (str, type(None))) else keras.saving.serialize_keras_object(identifier)


def _from_config(entry):
    return entry if isinstance(entry, (str, type(None))) else keras.saving.deserialize_keras_object(entry)
