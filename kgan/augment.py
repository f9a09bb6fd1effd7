"""Augmentations of what the discriminator sees, as functions `fn(images, *, seed) -> images`.

A trainer compiled with `augment=` applies it to every discriminator input — real and fake batches
in D's update, fake batches in G's — so D never sees an un-augmented image and G is trained through
the augmentation (DiffAugment, Zhao et al. 2020; ADA, Karras et al. 2020). Two rules follow:

- an augmentation must be differentiable in `images` (G's gradient flows through it), and must draw
  its randomness from `seed`, a stateless seed (shape (2,)) the trainer takes from its own stream
  for each call, so a resumed run augments exactly as the uninterrupted run did;
- the discriminator's penalties see the same augmented batches as its loss.

Why augment both real and fake: augmenting only the reals teaches G to generate augmented images
(cut-out squares, shifted borders) because that is what "real" looks like to D. Augmenting every
image D sees, and differentiating through the augmentation in G's step, leaves the target
distribution as it is while D, on a small data set, can no longer memorise its few real images.

What is here (images are NHWC in [-1, 1], any float dtype; the output keeps the input's dtype):

- `random_flip`: mirror left–right with probability ½;
- DiffAugment's three ops (Zhao et al. 2020) — `color` (brightness, saturation, contrast),
  `translation` (integer shifts, zero padding), `cutout` (a zeroed square) — and `diff_augment`,
  which applies a comma-separated policy of them in order;
- `AdaptiveAugment`: ADA (Karras et al. 2020), a layer that applies each op of its pipeline with a
  probability p it tunes itself from how sure D is about the reals (the trainer calls `update`);
- `instance_noise` (Sønderby et al. 2016; Arjovsky & Bottou 2017): Gaussian noise on every image,
  so the real and fake distributions overlap and D's gradient is informative; the trainer decays
  its standard deviation over training.

Zero is mid-grey in [-1, 1], so translation's padding and cutout's square are grey, not black.

Functions are chosen by name with `get`.
"""

import keras
import numpy as np
import tensorflow as tf
from keras import ops

__all__ = [
    "AUGMENTATIONS", "AdaptiveAugment", "color", "cutout", "diff_augment", "get", "instance_noise", "random_flip",
    "translation",
]

# The largest float32 below 1: ADA's p stays in [0, 1) (see `AdaptiveAugment`).
_BELOW_ONE = float(np.nextafter(np.float32(1.0), np.float32(0.0)))


def _check_images(images, who):
    images = ops.convert_to_tensor(images)
    if images.shape.rank is not None and images.shape.rank != 4:
        raise ValueError(f"{who} needs images of shape (batch, height, width, channels), got shape {images.shape}.")
    return images


def _working_dtype(dtype):
    """Arithmetic in at least float32: a float16 mean over many pixels loses digits, and float64 keeps its own."""
    return tf.float32 if dtype.size < 4 else dtype


def _split(seed, count):
    """`count` independent stateless seeds from one (shape (count, 2))."""
    return tf.random.experimental.stateless_split(seed, num=count)


def _per_image(images, seed, minval, maxval):
    """One factor per image, U(minval, maxval), shaped (batch, 1, 1, 1) to broadcast over pixels."""
    batch = tf.shape(images)[0]
    return tf.random.stateless_uniform((batch, 1, 1, 1), seed=seed, minval=minval, maxval=maxval)


@keras.saving.register_keras_serializable(package="kgan")
def random_flip(images, *, seed):
    """Mirror each image left–right with probability ½ (ADA's x-flip), a choice drawn per image from `seed`.

    A flip is a permutation of pixels, so the gradient passes through it unchanged (mirrored).
    """
    flip = tf.random.stateless_uniform((ops.shape(images)[0],), seed=seed) < 0.5
    return ops.where(flip[:, None, None, None], ops.flip(images, axis=2), images)


# ---------------------------------------------------------------- DiffAugment (Zhao et al. 2020)
@keras.saving.register_keras_serializable(package="kgan")
def color(images, *, seed):
    """DiffAugment's colour op (Zhao et al. 2020): brightness, then saturation, then contrast, per image.

    With one draw of each per image (independent seeds split from `seed`):

    - brightness: `x ← x + b`, `b ~ U(−0.5, 0.5)`;
    - saturation: `x ← (x − m_pixel)·s + m_pixel`, `s ~ U(0, 2)`, `m_pixel` the mean over the channels
      of each pixel (s = 0 gives grey, s = 2 doubles the colourfulness);
    - contrast: `x ← (x − m_image)·c + m_image`, `c ~ U(0.5, 1.5)`, `m_image` the mean over the image.

    Each step is affine in `x`, so the gradient is a per-image scale of the incoming one. Values may
    leave [-1, 1]: no clipping, whose gradient would be zero outside.
    """
    images = _check_images(images, "color")
    dtype = images.dtype
    x = ops.cast(images, _working_dtype(dtype))
    brightness_seed, saturation_seed, contrast_seed = tf.unstack(_split(seed, 3))
    x = x + ops.cast(_per_image(x, brightness_seed, -0.5, 0.5), x.dtype)
    pixel_mean = ops.mean(x, axis=-1, keepdims=True)
    x = (x - pixel_mean) * ops.cast(_per_image(x, saturation_seed, 0.0, 2.0), x.dtype) + pixel_mean
    image_mean = ops.mean(x, axis=(1, 2, 3), keepdims=True)
    x = (x - image_mean) * ops.cast(_per_image(x, contrast_seed, 0.5, 1.5), x.dtype) + image_mean
    return ops.cast(x, dtype)


def _scaled_size(size, ratio):
    """round(size · ratio) as an int32 tensor (the size may be known only when the graph runs)."""
    return tf.cast(tf.cast(size, tf.float32) * ratio + 0.5, tf.int32)


def _shift_axis(images, offsets, axis):
    """Move each image by `offsets[i]` whole pixels along `axis` (1: down, 2: right), zeros coming in.

    Output pixel j reads input pixel j − offset: a gather, whose gradient scatters back to the pixel
    that was read, and a mask for the pixels that came from outside the image.
    """
    size = tf.shape(images)[axis]
    source = tf.range(size)[None, :] - offsets[:, None]  # (batch, size)
    inside = (source >= 0) & (source < size)
    moved = tf.gather(images, tf.clip_by_value(source, 0, size - 1), axis=axis, batch_dims=1)
    inside = inside[:, :, None, None] if axis == 1 else inside[:, None, :, None]
    return ops.where(inside, moved, ops.zeros_like(moved))


@keras.saving.register_keras_serializable(package="kgan")
def translation(images, *, seed, ratio=0.125):
    """DiffAugment's translation (Zhao et al. 2020): shift each image by whole pixels, padding with zeros.

    The shifts `dy`, `dx` are integers drawn uniformly from `[−round(ratio·H), round(ratio·H)]` and
    `[−round(ratio·W), round(ratio·W)]` per image (the paper's ratio is 1/8): `y[i, j] = x[i − dy, j − dx]`,
    and 0 where `(i − dy, j − dx)` lies outside the image. In [-1, 1], 0 is mid-grey. Built from a
    gather and a mask (not an image warp), so the gradient reaches every pixel that was kept.
    """
    if not 0.0 <= ratio < 1.0:
        raise ValueError(f"translation's ratio must be in [0, 1), got {ratio}.")
    images = _check_images(images, "translation")
    batch, height, width = tf.shape(images)[0], tf.shape(images)[1], tf.shape(images)[2]
    max_dy, max_dx = _scaled_size(height, ratio), _scaled_size(width, ratio)
    dy_seed, dx_seed = tf.unstack(_split(seed, 2))
    dy = tf.random.stateless_uniform((batch,), seed=dy_seed, minval=-max_dy, maxval=max_dy + 1, dtype=tf.int32)
    dx = tf.random.stateless_uniform((batch,), seed=dx_seed, minval=-max_dx, maxval=max_dx + 1, dtype=tf.int32)
    return _shift_axis(_shift_axis(images, dy, axis=1), dx, axis=2)


@keras.saving.register_keras_serializable(package="kgan")
def cutout(images, *, seed, ratio=0.5):
    """DiffAugment's cutout (DeVries & Taylor 2017, as in Zhao et al. 2020): zero a square in each image.

    The square is `round(ratio·H) × round(ratio·W)` pixels (half the image in the paper), centred on a
    pixel `(cy, cx)` drawn uniformly per image: rows `cy − h//2 … cy − h//2 + h − 1`, likewise the
    columns, clipped at the border (a centre near the edge cuts a smaller rectangle). In [-1, 1], 0 is
    mid-grey. A mask: the gradient is 1 outside the square and 0 inside.
    """
    if not 0.0 < ratio <= 1.0:
        raise ValueError(f"cutout's ratio must be in (0, 1], got {ratio}.")
    images = _check_images(images, "cutout")
    batch, height, width = tf.shape(images)[0], tf.shape(images)[1], tf.shape(images)[2]
    cut_height, cut_width = _scaled_size(height, ratio), _scaled_size(width, ratio)
    y_seed, x_seed = tf.unstack(_split(seed, 2))
    centre_y = tf.random.stateless_uniform((batch,), seed=y_seed, minval=0, maxval=height, dtype=tf.int32)
    centre_x = tf.random.stateless_uniform((batch,), seed=x_seed, minval=0, maxval=width, dtype=tf.int32)
    top = (centre_y - cut_height // 2)[:, None]
    left = (centre_x - cut_width // 2)[:, None]
    rows, columns = tf.range(height)[None, :], tf.range(width)[None, :]
    in_rows = (rows >= top) & (rows < top + cut_height)  # (batch, height)
    in_columns = (columns >= left) & (columns < left + cut_width)  # (batch, width)
    cut = in_rows[:, :, None, None] & in_columns[:, None, :, None]
    return ops.where(cut, ops.zeros_like(images), images)


DIFF_AUGMENT_POLICIES = {"color": color, "translation": translation, "cutout": cutout}


def _policy_names(policy):
    names = [name.strip() for name in policy.split(",") if name.strip()] if isinstance(policy, str) else list(policy)
    unknown = [name for name in names if name not in DIFF_AUGMENT_POLICIES]
    if unknown:
        raise ValueError(f"diff_augment's policy names unknown ops {unknown}; choose from {sorted(DIFF_AUGMENT_POLICIES)}.")
    return names


@keras.saving.register_keras_serializable(package="kgan")
def diff_augment(images, *, seed, policy="color,translation,cutout"):
    """DiffAugment (Zhao et al. 2020): `T(x)` for every image D sees, real and fake, differentiably.

    `policy` names the ops applied in order, comma-separated (or a list of names): `color`,
    `translation`, `cutout` — the paper's strongest choice on small data is all three. Each op gets
    its own seed split from `seed`, so their draws are independent. An empty policy changes nothing.
    """
    names = _policy_names(policy)
    if not names:
        return images
    for name, op_seed in zip(names, tf.unstack(_split(seed, len(names)))):
        images = DIFF_AUGMENT_POLICIES[name](images, seed=op_seed)
    return images


# ---------------------------------------------------------------- instance noise
@keras.saving.register_keras_serializable(package="kgan")
def instance_noise(images, *, seed, stddev):
    """Instance noise (Sønderby et al. 2016; Arjovsky & Bottou 2017): `x + ε`, `ε ~ N(0, stddev²)` per value.

    Real and fake distributions on a low-dimensional manifold rarely overlap, and then a perfect D
    exists and its gradient tells G nothing; noise spreads both over the whole space, so they overlap
    and the divergence D estimates is smooth. The noise must shrink as G improves (it also blurs what
    D can see), so trainers pass a decaying `stddev` (a float or a scalar tensor).
    """
    if isinstance(stddev, (int, float)) and stddev < 0:
        raise ValueError(f"instance_noise's stddev must be >= 0, got {stddev}.")
    images = ops.convert_to_tensor(images)
    dtype = _working_dtype(images.dtype)
    # drawn in float32 whatever the images' dtype: a seed gives the same noise at every precision
    noise = ops.cast(tf.random.stateless_normal(tf.shape(images), seed=seed), dtype) * ops.cast(stddev, dtype)
    return ops.cast(ops.cast(images, dtype) + noise, images.dtype)


AUGMENTATIONS = {
    "flip": random_flip,
    "color": color,
    "translation": translation,
    "cutout": cutout,
    "diffaugment": diff_augment,
}


# ---------------------------------------------------------------- ADA (Karras et al. 2020)
@keras.saving.register_keras_serializable(package="kgan")
class AdaptiveAugment(keras.layers.Layer):
    """Adaptive discriminator augmentation (ADA, Karras et al. 2020), simplified: p tuned from D's overfitting.

    Each op of `pipeline` (names in `AUGMENTATIONS`) is applied to each image independently with
    probability `p`. Because every op is skipped with probability 1 − p > 0, D still sees the clean
    distribution as part of the augmented one, and G cannot win by generating augmented images: the
    augmentations do not "leak" (the paper's argument needs p < 1, so p stays in [0, 1)).

    p is not a hyper-parameter to tune but a controller. After each D update the trainer calls
    `update(real_logits)`; over `interval` updates the layer accumulates the overfitting heuristic

        r_t = E[sign(D(x_real))]     (0: D unsure about the reals; 1: D sure of every one — overfitting)

    and then moves p by `sign(r_t − target) · N / speed_images`, N the real images seen in the
    interval (batch · interval), so p can travel from 0 to 1 in `speed_images` images (500k in the
    paper). p starts at `initial_probability` (0: no augmentation until D starts to overfit).

    p and the accumulators are float32 variables, non-trainable: checkpoints and `.keras` files keep
    them, and `update` works inside a `tf.function`. Under a strategy the statistics are summed over
    the replicas, so every replica moves p identically. Images keep their dtype (no cast to float32
    under a mixed policy).

    Args:
        pipeline: names of the ops, applied in this order (the paper's "bgc" pipeline, simplified).
        target: the value of r_t p steers to (the paper's 0.6).
        interval: D updates between adjustments of p (the paper's 4).
        speed_images: images it takes p to go from 0 to 1 at full speed.
        initial_probability: p at the start, in [0, 1).

    Call: `layer(images, seed=seed)`.
    """

    def __init__(self, pipeline=("flip", "translation", "color", "cutout"), target=0.6, interval=4,
                 speed_images=500_000, initial_probability=0.0, **kwargs):
        kwargs.setdefault("dtype", "float32")
        kwargs.pop("autocast", None)
        # autocast=False: float16 images from a mixed-precision G pass through in float16
        super().__init__(autocast=False, **kwargs)
        pipeline = [pipeline] if isinstance(pipeline, str) else list(pipeline)
        unknown = [name for name in pipeline if name not in AUGMENTATIONS]
        if not pipeline or unknown:
            raise ValueError(
                f"AdaptiveAugment's pipeline must name ops of {sorted(AUGMENTATIONS)}, got {pipeline}."
            )
        if not -1.0 < target < 1.0:
            raise ValueError(f"AdaptiveAugment's target must be in (-1, 1) (r_t lies in [-1, 1]), got {target}.")
        if int(interval) != interval or interval < 1:
            raise ValueError(f"AdaptiveAugment's interval must be a whole number >= 1, got {interval}.")
        if speed_images <= 0:
            raise ValueError(f"AdaptiveAugment's speed_images must be > 0, got {speed_images}.")
        if not 0.0 <= initial_probability < 1.0:
            raise ValueError(f"AdaptiveAugment's initial_probability must be in [0, 1), got {initial_probability}.")
        self.pipeline = pipeline
        self.target = float(target)
        self.interval = int(interval)
        self.speed_images = float(speed_images)
        self.initial_probability = float(initial_probability)

        def state(name, value):
            # only_first_replica: every replica computes the same value (statistics are all-reduced)
            return self.add_weight(shape=(), dtype="float32", initializer=keras.initializers.Constant(value),
                                   trainable=False, aggregation="only_first_replica", name=name)

        self.probability = state("probability", self.initial_probability)
        self.heuristic = state("heuristic", 0.0)  # the last r_t, for logging
        self.sign_sum = state("sign_sum", 0.0)  # Σ sign(D(x_real)) over this interval's images
        self.image_count = state("image_count", 0.0)
        self.update_count = state("update_count", 0.0)
        self.built = True

    @property
    def p(self):
        """The augmentation probability, the paper's p (the variable `probability`)."""
        return self.probability

    def call(self, images, seed=None):
        if seed is None:
            raise ValueError("AdaptiveAugment needs a stateless seed: call it as layer(images, seed=seed).")
        images = _check_images(images, "AdaptiveAugment")
        probability = ops.convert_to_tensor(self.probability)
        batch = tf.shape(images)[0]
        seeds = tf.unstack(_split(seed, 2 * len(self.pipeline)))

        def augmented():
            result = images
            for index, name in enumerate(self.pipeline):
                chosen = tf.random.stateless_uniform((batch,), seed=seeds[2 * index]) < probability
                changed = AUGMENTATIONS[name](result, seed=seeds[2 * index + 1])
                result = ops.where(chosen[:, None, None, None], changed, result)
            return result

        # p = 0 until D overfits: skip computing augmentations nobody would keep
        return tf.cond(probability > 0.0, augmented, lambda: images)

    def update(self, real_logits):
        """Accumulate `sign(D(x_real))`; every `interval` calls, move p toward r_t = target. Returns p."""
        logits = ops.cast(real_logits, "float32")
        logits = ops.reshape(logits, (ops.shape(logits)[0], -1))
        # one vote per image, even for a D with several logits (patches) per image
        signs = ops.sum(ops.mean(ops.sign(logits), axis=1))
        images = ops.cast(ops.shape(logits)[0], "float32")
        replica = tf.distribute.get_replica_context()
        if replica is not None and replica.num_replicas_in_sync > 1:
            signs, images = replica.all_reduce("sum", [signs, images])
        sign_sum = self.sign_sum + signs
        image_count = self.image_count + images
        update_count = self.update_count + 1.0
        due = update_count >= self.interval
        heuristic = sign_sum / ops.maximum(image_count, 1.0)
        step = ops.sign(heuristic - self.target) * image_count / self.speed_images
        moved = ops.clip(self.probability + step, 0.0, _BELOW_ONE)
        zero = ops.zeros((), "float32")
        self.probability.assign(ops.where(due, moved, self.probability))
        self.heuristic.assign(ops.where(due, heuristic, self.heuristic))
        self.sign_sum.assign(ops.where(due, zero, sign_sum))
        self.image_count.assign(ops.where(due, zero, image_count))
        self.update_count.assign(ops.where(due, zero, update_count))
        return ops.convert_to_tensor(self.probability)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "pipeline": list(self.pipeline),
            "target": self.target,
            "interval": self.interval,
            "speed_images": self.speed_images,
            "initial_probability": self.initial_probability,
        }


def get(identifier):
    """An augmentation by name (a key of `AUGMENTATIONS`, or "ada" for a new `AdaptiveAugment()`), the callable
    itself, or None for none."""
    if identifier is None or callable(identifier):
        return identifier
    if identifier == "ada":
        return AdaptiveAugment()
    if identifier in AUGMENTATIONS:
        return AUGMENTATIONS[identifier]
    raise ValueError(
        f"Unknown augmentation {identifier!r}; choose one of {sorted([*AUGMENTATIONS, 'ada'])} or pass a callable."
    )
