"""Small MLP generator and discriminator for 2D toy data (the mode-collapse lab, `kgan.datasets.toy2d`).

The generator maps z (batch, latent_dim) to points (batch, output_dim) through ReLU layers, optionally
with BatchNorm (PacGAN's 2D generator: four layers of 400 ReLU units with BatchNorm), and a linear
output (the 2D grid spans ±4, beyond tanh's range).

The discriminator maps points to one logit per sample, or per *pack*, and takes the tricks of later
papers as options:

- `spectral_norm=True` wraps every Dense layer, the logit's included, in
  `kgan.layers.SpectralNormalization` (Miyato et al. 2018);
- `minibatch="mbd"` appends `kgan.layers.MinibatchDiscrimination` features (Salimans et al. 2016)
  to the last hidden layer's, `minibatch="mbstd"` appends `kgan.layers.MinibatchStdDev`'s one
  feature (Karras et al. 2018): both let D compare the samples of a batch;
- `pack=m` is PacGAN (Lin et al. 2018): `kgan.layers.PackSamples` concatenates m consecutive samples into one
  input of size m·input_dim, so D sees (and scores) m samples jointly and the losses average over
  batch / m logits. A collapsed generator is then easier to spot: m samples from one mode look
  nothing like m samples from the data.
"""

import keras
from keras import layers

from kgan.layers import MinibatchDiscrimination, MinibatchStdDev, PackSamples, SpectralNormalization
from kgan.nets.dcgan import MINIBATCH

__all__ = ["build_mlp_generator", "build_mlp_discriminator"]


def _activation(name, label):
    if name == "leaky_relu":
        return layers.LeakyReLU(0.2, name=label)
    return layers.Activation(name, name=label)


def build_mlp_generator(
    latent_dim=2,
    hidden=(128, 128, 128),
    output_dim=2,
    activation="relu",
    batch_norm=False,
    output_scale=1.0,
    name="mlp_generator",
):
    """z (batch, latent_dim) → points (batch, output_dim): Dense → [BatchNorm] → activation per hidden width, linear out.

    `batch_norm=True` puts BatchNorm before each hidden activation (PacGAN's generator:
    `hidden=(400,) * 4, batch_norm=True`). `output_scale` multiplies the output (a `Rescaling`
    layer): set it to the data's range (4 for the ±4 grid) and the network works in units of the
    data's scale, as image generators do with tanh and pixels in [−1, 1]. A freshly built generator
    puts z into a blob of std ≈ 0.1 around the origin; with `output_scale` it starts, and moves,
    on the data's scale.
    """
    z = keras.Input(shape=(latent_dim,), name="z")
    x = z
    for index, units in enumerate(hidden, start=1):
        x = layers.Dense(units, use_bias=not batch_norm, name=f"dense{index}")(x)
        if batch_norm:
            x = layers.BatchNormalization(name=f"dense{index}_bn")(x)
        x = _activation(activation, f"dense{index}_{activation}")(x)
    points = layers.Dense(output_dim, name="points")(x)
    if output_scale != 1:
        points = layers.Rescaling(float(output_scale), name="output_scale")(points)
    return keras.Model(z, points, name=name)


def build_mlp_discriminator(
    input_dim=2,
    hidden=(128, 128, 128),
    activation="leaky_relu",
    spectral_norm=False,
    minibatch=None,
    pack=1,
    mbd_kernels=50,
    mbd_dim=5,
    mbstd_group=4,
    name="mlp_discriminator",
):
    """Points (batch, input_dim) → logits (batch / pack, 1).

    Args:
        hidden: widths of the hidden Dense layers.
        activation: their activation (`"leaky_relu"` is LeakyReLU(0.2), else any Keras name).
        spectral_norm: wrap every Dense, the logit's included, in `kgan.layers.SpectralNormalization`.
        minibatch: `None`, `"mbd"` (MinibatchDiscrimination with `mbd_kernels` kernels of dimension
            `mbd_dim`) or `"mbstd"` (MinibatchStdDev over groups of `mbstd_group`), appended to the
            last hidden layer's features, before the logit. Both make a sample's score depend on its
            batch: not for a WGAN-GP critic.
        pack: PacGAN's packing degree; the batch must be a multiple of it (`PackSamples`).
    """
    if minibatch not in MINIBATCH:
        raise ValueError(f"Unknown minibatch option {minibatch!r}; choose one of {MINIBATCH}.")

    def dense(units, label):
        layer = layers.Dense(units, name=label)
        return SpectralNormalization(layer, name=f"{label}_sn") if spectral_norm else layer

    points = keras.Input(shape=(input_dim,), name="points")
    x = PackSamples(pack, name=f"pack{pack}")(points) if pack > 1 else points
    for index, units in enumerate(hidden, start=1):
        x = _activation(activation, f"dense{index}_{activation}")(dense(units, f"dense{index}")(x))
    if minibatch == "mbd":
        x = MinibatchDiscrimination(mbd_kernels, mbd_dim, name="minibatch_discrimination")(x)
    elif minibatch == "mbstd":
        # MinibatchStdDev works on (batch, H, W, C) maps: features are a 1×1 map with C channels.
        x = layers.Reshape((1, 1, x.shape[-1]), name="features_as_map")(x)
        x = MinibatchStdDev(mbstd_group, name="minibatch_stddev")(x)
        x = layers.Reshape((x.shape[-1],), name="map_as_features")(x)
    logits = dense(1, "logit")(x)
    return keras.Model(points, logits, name=name)
