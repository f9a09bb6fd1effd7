"""Penalties on the discriminator, as pure functions `fn(discriminator, real, fake, seed=None) -> scalar`.

Trainers add them to the D loss by name with a weight (`GAN.compile(penalties={"gp": (10.0, fn)})`) and pass a
stateless `seed` (shape (2,)) for any random draw, so runs repeat exactly for a given trainer seed.
"""

import keras
import tensorflow as tf

__all__ = ["gradient_penalty"]


def _uniform(shape, seed):
    if seed is None:
        return tf.random.uniform(shape)
    return tf.random.stateless_uniform(shape, seed=seed)


@keras.saving.register_keras_serializable(package="kgan")
def gradient_penalty(critic, real, fake, seed=None, target=1.0, one_sided=False, epsilon=1e-12, t=None):
    """WGAN-GP's penalty (Gulrajani et al. 2017): `E[(‖∇ₓ D(x̂)‖₂ − target)²]` at random interpolates.

    `x̂ = t·x + (1 − t)·x̃` with one `t ~ U(0, 1)` per sample (any batch size). The norm is taken per
    sample over all non-batch axes as `sqrt(Σ g² + epsilon)`: the epsilon inside the root keeps the
    penalty's own gradient finite where D's gradient is zero. With `one_sided=True` only norms above
    `target` are penalised (`max(0, ‖g‖ − target)²`, the paper's one-sided variant). Pass `t`
    (shape (batch,)) to choose the interpolation weights yourself instead of drawing them.

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
