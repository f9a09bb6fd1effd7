"""Penalties on the discriminator, as pure functions `fn(discriminator, real, fake, *, seed, step) -> scalar`.

Trainers add them to the D loss with a weight (`GAN.compile(penalties={"gp": (10.0, fn)})`) and call
each with:

- `real`, `fake`: exactly the batches the discriminator's loss sees in that update — augmented, when
  the trainer augments (so a penalty constrains the function the loss trains);
- `seed`: a stateless seed (shape (2,)) from the trainer's stream, for any random draw, so runs repeat
  exactly for a given trainer seed (and a resumed run draws what the uninterrupted one drew);
- `step`: the training step, the generator updates taken so far (an int64 scalar), for schedules.

`Penalty` wraps a function with its options and an optional schedule into a saveable object: a
`.keras` file or a backup restores it, schedule included. Functions are chosen by name with `get`.
"""

import keras
import tensorflow as tf
from keras import ops

__all__ = ["PENALTIES", "Penalty", "get", "gradient_penalty"]


def _uniform(shape, seed):
    if seed is None:
        return tf.random.uniform(shape)
    return tf.random.stateless_uniform(shape, seed=seed)


@keras.saving.register_keras_serializable(package="kgan")
def gradient_penalty(critic, real, fake, *, seed=None, step=None, target=1.0, one_sided=False, epsilon=1e-12, t=None):
    """WGAN-GP's penalty (Gulrajani et al. 2017): `E[(‖∇ₓ D(x̂)‖₂ − target)²]` at random interpolates.

    `x̂ = t·x + (1 − t)·x̃` with one `t ~ U(0, 1)` per sample (any batch size). The norm is taken per
    sample over all non-batch axes as `sqrt(Σ g² + epsilon)`: the epsilon inside the root keeps the
    penalty's own gradient finite where D's gradient is zero. With `one_sided=True` only norms above
    `target` are penalised (`max(0, ‖g‖ − target)²`, the paper's one-sided variant); `target=0` is the
    zero-centred penalty of Thanh-Tung et al. 2019. Pass `t` (shape (batch,)) to choose the
    interpolation weights yourself instead of drawing them. `step` is not used.

    The inner tape takes ∇ₓ D; the caller's outer tape differentiates the penalty with respect to D's
    weights through it (a second-order gradient).
    """
    real = tf.convert_to_tensor(real)
    fake = tf.cast(fake, real.dtype)
    batch = tf.shape(real)[0]
    weight_shape = tf.concat([[batch], tf.ones([tf.rank(real) - 1], tf.int32)], 0)
    t = _uniform(weight_shape, seed) if t is None else tf.reshape(t, weight_shape)
    t = tf.cast(t, real.dtype)
    interpolates = t * real + (1.0 - t) * fake
    with tf.GradientTape() as tape:
        tape.watch(interpolates)
        scores = critic(interpolates, training=True)
    # Each sample's score depends only on its own input (no BatchNorm in a proper critic), so the
    # gradient of the summed scores holds every per-sample gradient.
    gradients = tape.gradient(scores, interpolates)
    if gradients.dtype.size < 4:  # take the norm of half-precision gradients in float32
        gradients = tf.cast(gradients, tf.float32)
    norms = tf.sqrt(tf.reduce_sum(tf.square(gradients), axis=tf.range(1, tf.rank(gradients))) + epsilon)
    excess = norms - target
    if one_sided:
        excess = tf.nn.relu(excess)
    return tf.reduce_mean(tf.square(excess))


PENALTIES = {"gradient_penalty": gradient_penalty}


def get(identifier):
    """A penalty function by name (a key of `PENALTIES`), or the callable itself."""
    if callable(identifier):
        return identifier
    if identifier in PENALTIES:
        return PENALTIES[identifier]
    raise ValueError(f"Unknown penalty {identifier!r}; choose one of {sorted(PENALTIES)} or pass a callable.")


@keras.saving.register_keras_serializable(package="kgan")
class Penalty:
    """A saveable penalty: a function, its keyword options, and an optional schedule on its size.

        # the mode-collapse lab's zero-centred GP, faded out linearly over the first 4,000 steps
        faded = Penalty("gradient_penalty", schedule=keras.optimizers.schedules.PolynomialDecay(1.0, 4000, 0.0),
                        target=0.0)
        gan.compile(penalties={"zero_gp": (0.1, faded)})

    Args:
        fn: a name in `PENALTIES` or a registered penalty function (one `keras.saving` can serialize).
        schedule: `None`, or a function of the training step giving a factor the penalty is multiplied
            by — any `keras.optimizers.schedules.LearningRateSchedule` (serializable, so saved with the
            trainer). While the factor is 0 the penalty is not computed at all: its second-order
            gradient is most of a step's cost.
        **options: keyword arguments for `fn` (e.g. `target=0.0`).

    The value is float32, whatever the inputs' precision.
    """

    def __init__(self, fn, schedule=None, **options):
        self.identifier = fn
        self.fn = get(fn)
        self.schedule = schedule
        self.options = options

    def __call__(self, discriminator, real, fake, *, seed=None, step=None):
        def value():
            return ops.cast(self.fn(discriminator, real, fake, seed=seed, step=step, **self.options), "float32")

        if self.schedule is None:
            return value()
        if step is None:
            raise ValueError("A scheduled Penalty needs the training step (the trainers pass `step`).")
        factor = ops.cast(self.schedule(step), "float32")
        return tf.cond(factor > 0, lambda: factor * value(), lambda: tf.zeros((), tf.float32))

    def get_config(self):
        serialize = keras.saving.serialize_keras_object
        return {
            "fn": self.identifier if isinstance(self.identifier, str) else serialize(self.identifier),
            "schedule": None if self.schedule is None else serialize(self.schedule),
            "options": dict(self.options),
        }

    @classmethod
    def from_config(cls, config):
        deserialize = keras.saving.deserialize_keras_object
        fn = config["fn"] if isinstance(config["fn"], str) else deserialize(config["fn"])
        schedule = None if config["schedule"] is None else deserialize(config["schedule"])
        return cls(fn, schedule=schedule, **config["options"])
