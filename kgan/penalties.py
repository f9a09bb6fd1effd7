"""Penalties on the discriminator, as functions `fn(discriminator, real, fake, *, seed, step) -> scalar`.

Trainers add them to the D loss with a weight (`GAN.compile(penalties={"gp": (10.0, fn)})`) and call
each with:

- `real`, `fake`: exactly the batches the discriminator's loss sees in that update — augmented, when
  the trainer augments (so a penalty constrains the function the loss trains);
- `seed`: a stateless seed (shape (2,)) from the trainer's stream, for any random draw, so runs repeat
  exactly for a given trainer seed (and a resumed run draws what the uninterrupted one drew);
- `step`: the training step, the generator updates taken so far (an int64 scalar), for schedules;
- `real_logits`, `fake_logits`: only for a penalty whose callable has `uses_logits = True` — D's
  logits on exactly those batches, from the D loss, so the penalty need not run D again.

The catalogue, by what it constrains:

- D's input gradient. `gradient_penalty` (WGAN-GP) at interpolates between real and fake; `r1_penalty`
  / `r2_penalty` (zero-centred, at the real / fake batch: the penalties of StyleGAN and of the
  convergence analysis of Mescheder et al. 2018); `dragan_penalty` (near the real data only). Each takes
  ∇ₓD with an inner tape; the trainer's outer tape differentiates through it (a second-order gradient,
  most of a step's cost — hence lazy regularisation below).
- D's consistency. `consistency_penalty` (bCR): D should not care about an augmentation.
- D's outputs. `LeCam` pulls real logits towards the running average of fake ones and vice versa. It
  keeps state (the two averages), so it is a `keras.layers.Layer`: the trainer tracks it and its
  variables are saved with checkpoints and `.keras` files.

`Penalty` wraps a penalty with its options, an optional schedule on its size (`LinearRamp` for a
warm-up or a fade) and lazy evaluation (`every=k`) into a saveable object. Penalties are chosen by
name with `get`. Every value is float32, whatever precision D computes in.
"""

import keras
import tensorflow as tf
from keras import ops

__all__ = [
    "PENALTIES",
    "LeCam",
    "LinearRamp",
    "Penalty",
    "consistency_penalty",
    "dragan_penalty",
    "get",
    "gradient_penalty",
    "r1_penalty",
    "r2_penalty",
]


def _uniform(shape, seed):
    if seed is None:
        return tf.random.uniform(shape)
    return tf.random.stateless_uniform(shape, seed=seed)


def _split_seed(seed, count):
    """`count` independent stateless seeds from one (or `count` Nones, for unseeded draws)."""
    if seed is None:
        return [None] * count
    return tf.unstack(tf.random.experimental.stateless_split(seed, count))


def _per_sample_shape(images):
    """(batch, 1, …, 1): one value per sample, broadcast over the sample's other axes."""
    return tf.concat([tf.shape(images)[:1], tf.ones([tf.rank(images) - 1], tf.int32)], 0)


def _input_gradients(critic, points):
    """∇ₓ D at `points`, at least float32 (a float16 gradient would overflow when squared)."""
    with tf.GradientTape() as tape:
        tape.watch(points)
        scores = critic(points, training=True)
    # Each sample's score depends only on its own input (no BatchNorm in a proper critic), so the
    # gradient of the summed scores holds every per-sample gradient.
    gradients = tape.gradient(scores, points)
    if gradients.dtype.size < 4:
        gradients = tf.cast(gradients, tf.float32)
    return gradients


def _squared_norms(values):
    """Σ v² over every non-batch axis: one number per sample."""
    return tf.reduce_sum(tf.square(values), axis=tf.range(1, tf.rank(values)))


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
    weights through it (a second-order gradient). A float64 critic gives a float64 value (for
    finite-difference checks); half precision gives float32.
    """
    real = tf.convert_to_tensor(real)
    fake = tf.cast(fake, real.dtype)
    weight_shape = _per_sample_shape(real)
    t = _uniform(weight_shape, seed) if t is None else tf.reshape(t, weight_shape)
    t = tf.cast(t, real.dtype)
    interpolates = t * real + (1.0 - t) * fake
    gradients = _input_gradients(critic, interpolates)
    norms = tf.sqrt(_squared_norms(gradients) + epsilon)
    excess = norms - target
    if one_sided:
        excess = tf.nn.relu(excess)
    return tf.reduce_mean(tf.square(excess))


@keras.saving.register_keras_serializable(package="kgan")
def r1_penalty(discriminator, real, fake, *, seed=None, step=None):
    """R1 (Mescheder et al. 2018): `E_x[‖∇ₓ D(x)‖²]` over the real batch — D made flat on the data.

    Zero-centred and taken only where the data is, it makes the GAN's equilibrium locally convergent
    (the paper's result). The paper writes the penalty as `(γ/2)·E[‖∇D‖²]`: give it the weight γ/2
    (StyleGAN's faces: γ = 10, weight 5). `fake`, `seed` and `step` are not used.
    """
    gradients = _input_gradients(discriminator, tf.convert_to_tensor(real))
    return ops.cast(ops.mean(_squared_norms(gradients)), "float32")


@keras.saving.register_keras_serializable(package="kgan")
def r2_penalty(discriminator, real, fake, *, seed=None, step=None):
    """R2 (Mescheder et al. 2018): `E_z[‖∇ₓ D(G(z))‖²]`, R1's penalty at the fake batch instead.

    Weight γ/2, as R1. `real`, `seed` and `step` are not used.
    """
    gradients = _input_gradients(discriminator, tf.convert_to_tensor(fake))
    return ops.cast(ops.mean(_squared_norms(gradients)), "float32")


@keras.saving.register_keras_serializable(package="kgan")
def dragan_penalty(discriminator, real, fake, *, seed=None, step=None, scale=0.5, target=1.0, epsilon=1e-12):
    """DRAGAN (Kodali et al. 2017): `E[(‖∇ₓ D(x̂)‖ − target)²]` at reals perturbed by noise.

    `x̂ = x + α·δ` with `δ = scale·std(x)·u`, `u ~ U(0, 1)` per element, `std(x)` the standard
    deviation of the whole real batch, and `α ~ U(0, 1)` per sample. Unlike WGAN-GP it constrains D
    only in a neighbourhood of the data, where the paper finds the sharp gradients behind mode
    collapse. The norm is `sqrt(Σ g² + epsilon)` per sample, as in `gradient_penalty`. `fake` and
    `step` are not used.
    """
    if scale < 0:
        raise ValueError(f"dragan_penalty option `scale` must be non-negative, got {scale}.")
    real = tf.convert_to_tensor(real)
    noise_seed, alpha_seed = _split_seed(seed, 2)
    # The statistic in float32: a float16 batch's variance can lose its small terms.
    spread = scale * tf.math.reduce_std(tf.cast(real, tf.float32))
    delta = spread * _uniform(tf.shape(real), noise_seed)
    alpha = _uniform(_per_sample_shape(real), alpha_seed)
    perturbed = real + tf.cast(alpha * delta, real.dtype)
    norms = tf.sqrt(_squared_norms(_input_gradients(discriminator, perturbed)) + epsilon)
    return ops.cast(ops.mean(ops.square(norms - target)), "float32")


@keras.saving.register_keras_serializable(package="kgan")
def consistency_penalty(discriminator, real, fake, *, seed=None, step=None, augment=None, real_weight=1.0, fake_weight=1.0,
                        real_logits=None, fake_logits=None):
    """Balanced consistency regularisation, bCR (Zhao et al. 2021, "Improved Consistency Regularization for GANs").

    `real_weight·E‖D(x) − D(T(x))‖² + fake_weight·E‖D(G(z)) − D(T(G(z)))‖²`: D should give an image and
    its augmentation `T` the same score, on real and (the "balanced" part) fake images alike, so it
    learns features the augmentation does not change. `augment` (required) is `T`, a function
    `fn(images, *, seed)` such as those of `kgan.augment`; it is drawn independently for the real
    and the fake batch. `‖·‖²` sums over D's output axes; both sides of each difference carry gradient.

    `uses_logits`: the trainer passes D's logits on `real` and `fake` (those of its loss), so only the
    augmented batches go through D here; called without them, D is run on `real` and `fake` too.
    """
    if not callable(augment):
        raise ValueError(  # noqa: TRY004 (a missing option, as all of kgan's bad options)
            f"consistency_penalty needs the option `augment`, a function fn(images, *, seed); got {augment!r}."
        )
    if real_weight < 0 or fake_weight < 0:
        raise ValueError(f"consistency_penalty options `real_weight` and `fake_weight` must be non-negative, "
                         f"got {real_weight} and {fake_weight}.")
    if seed is None:
        raise ValueError("consistency_penalty needs `seed` for its augmentation (the trainers pass one).")
    real_seed, fake_seed = _split_seed(seed, 2)

    def inconsistency(images, logits, augment_seed):
        logits = discriminator(images, training=True) if logits is None else logits
        augmented_logits = discriminator(augment(images, seed=augment_seed), training=True)
        difference = ops.cast(logits, "float32") - ops.cast(augmented_logits, "float32")
        return ops.mean(_squared_norms(difference))

    return real_weight * inconsistency(real, real_logits, real_seed) + fake_weight * inconsistency(fake, fake_logits, fake_seed)


consistency_penalty.uses_logits = True


@keras.saving.register_keras_serializable(package="kgan")
class LeCam(keras.layers.Layer):
    """LeCam regularisation (Tseng et al. 2021, "Regularizing GANs under limited data").

    `R_LC = E[(D(x) − α_F)²] + E[(D(G(z)) − α_R)²]`, where `α_R`, `α_F` are exponential moving averages
    (`decay`) of D's mean logit on real and on fake batches. It pulls real logits towards what D says
    of fakes and fake logits towards what it says of reals, so D cannot push them apart without bound:
    the paper shows it turns the objective into a LeCam divergence and helps most with little data.

    Called as `lecam(discriminator, real, fake, *, seed, step, real_logits, fake_logits)`
    (`uses_logits`): it reads the logits of D's loss and does not run D, unless they are not given.
    Each call first moves the anchors (its variables, `real_anchor` / `fake_anchor`, starting at the
    constructor's values) and then uses them, as constants: no gradient flows through the averages.
    The anchors average each call's batch mean, so under a distribution strategy they average the
    replicas' means (the layer must then be built inside the strategy's scope, like the networks).
    `get_config` holds the anchors' current values, so a serialized LeCam carries its state.
    """

    uses_logits = True

    def __init__(self, decay=0.99, real_anchor=0.0, fake_anchor=0.0, **kwargs):
        kwargs["dtype"] = "float32"  # its averages and value are float32 under any dtype policy
        super().__init__(**kwargs)
        if not 0.0 <= decay < 1.0:
            raise ValueError(f"LeCam option `decay` must be in [0, 1), got {decay}.")
        self.decay = float(decay)
        # Called as a penalty, with the discriminator first and no conversion of its arguments.
        self._allow_non_tensor_positional_args = True
        self._convert_input_args = False
        self.real_anchor, self.fake_anchor = (
            # "mean": under a strategy each replica's update is averaged into one anchor
            self.add_weight(shape=(), initializer=keras.initializers.Constant(float(value)), trainable=False,
                            autocast=False, aggregation="mean", name=name)
            for name, value in (("real_anchor", real_anchor), ("fake_anchor", fake_anchor))
        )
        self.built = True

    def call(self, discriminator, real, fake, *, seed=None, step=None, real_logits=None, fake_logits=None):
        if real_logits is None:
            real_logits = discriminator(real, training=True)
        if fake_logits is None:
            fake_logits = discriminator(fake, training=True)
        real_logits, fake_logits = ops.cast(real_logits, "float32"), ops.cast(fake_logits, "float32")
        for anchor, logits in ((self.real_anchor, real_logits), (self.fake_anchor, fake_logits)):
            anchor.assign(self.decay * anchor + (1.0 - self.decay) * ops.stop_gradient(ops.mean(logits)))
        real_anchor = ops.stop_gradient(ops.convert_to_tensor(self.real_anchor))
        fake_anchor = ops.stop_gradient(ops.convert_to_tensor(self.fake_anchor))
        return ops.mean(ops.square(real_logits - fake_anchor)) + ops.mean(ops.square(fake_logits - real_anchor))

    def get_config(self):
        return {
            **super().get_config(),
            "decay": self.decay,
            "real_anchor": float(ops.convert_to_numpy(self.real_anchor)),
            "fake_anchor": float(ops.convert_to_numpy(self.fake_anchor)),
        }


@keras.saving.register_keras_serializable(package="kgan")
class LinearRamp(keras.optimizers.schedules.LearningRateSchedule):
    """A factor that is `start_value` until `start_step`, `end_value` from `end_step`, linear between.

    For a penalty's schedule (`Penalty(..., schedule=...)`): `LinearRamp(0, 2000, 0.0, 1.0)` warms a
    penalty up over the first 2,000 steps; `LinearRamp(5000, 10000, 1.0, 0.0)` fades it out, after
    which it is no longer computed. Any learning-rate schedule works there; this one reads as both.
    """

    def __init__(self, start_step, end_step, start_value, end_value):
        if not 0 <= start_step < end_step:
            raise ValueError(f"LinearRamp needs 0 <= `start_step` < `end_step`, got {start_step} and {end_step}.")
        self.start_step, self.end_step = int(start_step), int(end_step)
        self.start_value, self.end_value = float(start_value), float(end_value)

    def __call__(self, step):
        # The step as float32 is exact up to 2²⁴ steps, far beyond any ramp here.
        progress = (ops.cast(step, "float32") - self.start_step) / (self.end_step - self.start_step)
        return self.start_value + ops.clip(progress, 0.0, 1.0) * (self.end_value - self.start_value)

    def get_config(self):
        return {"start_step": self.start_step, "end_step": self.end_step, "start_value": self.start_value, "end_value": self.end_value}


PENALTIES = {
    "gradient_penalty": gradient_penalty,
    "r1": r1_penalty,
    "r2": r2_penalty,
    "dragan": dragan_penalty,
    "consistency": consistency_penalty,
    "lecam": LeCam,  # a class: `get` makes a new instance (its own anchors) each time
}


def _entry(identifier):
    """The callable, or the class of a stateful penalty, that `identifier` names."""
    if callable(identifier):
        return identifier
    if isinstance(identifier, str) and identifier in PENALTIES:
        return PENALTIES[identifier]
    raise ValueError(f"Unknown penalty {identifier!r}; choose one of {sorted(PENALTIES)} or pass a callable.")


def get(identifier):
    """A penalty by name (a key of `PENALTIES`), or the callable itself.

    A stateful penalty's class (`"lecam"`, or `LeCam` itself) gives a new instance with default
    options: its state belongs to one training. Functions are returned as they are.
    """
    entry = _entry(identifier)
    return entry() if isinstance(entry, type) else entry


@keras.saving.register_keras_serializable(package="kgan")
class Penalty:
    """A saveable penalty: a function, its keyword options, a schedule on its size, lazy evaluation.

        # the mode-collapse lab's zero-centred GP, faded out linearly over the first 4,000 steps
        faded = Penalty("gradient_penalty", schedule=LinearRamp(0, 4000, 1.0, 0.0), target=0.0)
        # StyleGAN2's lazy R1 (γ = 10): computed every 16th step, 16 times as large
        lazy_r1 = Penalty("r1", every=16)
        gan.compile(penalties={"zero_gp": (0.1, faded), "r1": (5.0, lazy_r1)})

    Args:
        fn: a name in `PENALTIES` or a registered penalty (one `keras.saving` can serialize). A
            stateful penalty's class (`"lecam"`) is built with `**options` as its constructor's arguments.
        schedule: `None`, or a function of the training step giving a factor the penalty is multiplied
            by — `LinearRamp` or any `keras.optimizers.schedules.LearningRateSchedule` (serializable,
            so saved with the trainer). While the factor is 0 the penalty is not computed at all: its
            second-order gradient is most of a step's cost.
        every: lazy regularisation (Karras et al. 2020, StyleGAN2): compute the penalty only when
            `step % every == 0` and multiply it by `every`, so its average over the steps is unchanged;
            other steps give 0 without computing it. `step` counts generator updates: with
            `n_critic > 1` every D update of a due step is penalised, still 1 in `every` of them.
        **options: keyword arguments for `fn` (e.g. `target=0.0`); callable ones (an augmentation)
            are saved with `keras.saving.serialize_keras_object`.

    `uses_logits` is `fn`'s: the trainer then passes `real_logits` / `fake_logits`, which reach only a
    function that uses them. The value is float32, whatever the inputs' precision.
    """

    def __init__(self, fn, schedule=None, every=1, **options):
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise ValueError(f"Penalty option `every` must be a positive integer, got {every!r}.")
        entry = _entry(fn)
        if isinstance(entry, type):  # a stateful penalty: the options configure this training's instance
            fn, options = entry(**options), {}
        self.identifier = fn
        self.fn = get(fn)
        self.schedule = schedule
        self.every = every
        self.options = options
        self.uses_logits = bool(getattr(self.fn, "uses_logits", False))

    def __call__(self, discriminator, real, fake, *, seed=None, step=None, real_logits=None, fake_logits=None):
        logits = {"real_logits": real_logits, "fake_logits": fake_logits} if self.uses_logits else {}

        def value():
            return ops.cast(self.fn(discriminator, real, fake, seed=seed, step=step, **logits, **self.options), "float32")

        if self.schedule is None and self.every == 1:
            return value()
        if step is None:
            raise ValueError("A scheduled or lazy Penalty needs the training step (the trainers pass `step`).")
        factor = tf.ones((), tf.float32) if self.schedule is None else ops.cast(self.schedule(step), "float32")
        due = factor > 0
        if self.every > 1:
            due = tf.logical_and(due, tf.equal(tf.math.floormod(tf.cast(step, tf.int64), self.every), 0))
            factor = factor * float(self.every)
        replica = tf.distribute.get_replica_context()
        if replica is not None and replica.num_replicas_in_sync > 1:
            # A cond branch may not synchronise replicas, and D's BatchNorm updates do (merge_call): with
            # several replicas the penalty is computed every step and masked — the same value, no saving.
            return tf.where(due, factor * value(), tf.zeros((), tf.float32))
        return tf.cond(due, lambda: factor * value(), lambda: tf.zeros((), tf.float32))

    def get_config(self):
        serialize = keras.saving.serialize_keras_object
        return {
            "fn": self.identifier if isinstance(self.identifier, str) else serialize(self.identifier),
            "schedule": None if self.schedule is None else serialize(self.schedule),
            "every": self.every,
            "options": {name: value for name, value in self.options.items() if not callable(value)},
            "callable_options": {name: serialize(value) for name, value in self.options.items() if callable(value)},
        }

    @classmethod
    def from_config(cls, config):
        deserialize = keras.saving.deserialize_keras_object
        fn = config["fn"] if isinstance(config["fn"], str) else deserialize(config["fn"])
        schedule = None if config["schedule"] is None else deserialize(config["schedule"])
        callables = {name: deserialize(value) for name, value in config.get("callable_options", {}).items()}
        return cls(fn, schedule=schedule, every=config.get("every", 1), **config["options"], **callables)
