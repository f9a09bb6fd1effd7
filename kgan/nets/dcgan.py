"""The DCGAN generator and discriminator, as the book builds them and as the DCGAN paper does.

Architectures (a training *recipe* — nets, optimizers, losses, tricks — is `kgan.recipes`' business):

- ``"book"`` — chapter 13.3 of the TF2 book, layer for layer. At the book's sizes (64×64 images,
  z = 100, width 64) the generator has 3,578,624 parameters and the discriminator 6,565,633. The one
  change: the book reshapes z with the *static* batch size, which breaks export and odd-sized last
  batches; here the reshape keeps the batch dynamic. Measured on real anime faces, the book's recipe
  on it collapses by about 2,000 iterations (D loss → 0.05, checkerboard samples) — kept as the book has it.
- ``"dcgan"`` — Radford et al. 2016 where the book departs from it: weights drawn from N(0, 0.02),
  no ReLU applied to z, no BatchNorm on the discriminator's first layer, and the paper's all-conv
  discriminator (k4 s2 "same" convs down to 4×4, then one k4 "valid" conv to a logit) instead of the
  book's valid-padded stack with global average pooling. This is the architecture that trains.

Options for the tricks of later papers — spectral normalisation, minibatch discrimination / stddev,
self-attention, other normalisations, resize-convolution upsampling, dropout in G — use the layers of
`kgan.layers` and Keras; their defaults leave the two architectures as above.

Conditional nets (`num_classes=K`): the generator takes `[z, labels]`, concatenating z with a learned
class embedding (the layer named "class_embedding", Mirza & Osindero 2014) and, with
`conditional_bn`, normalising every hidden stage with class-dependent γ, β
(`kgan.layers.ConditionalBatchNormalization`, de Vries et al. 2017). The discriminator is told the
class through a projection head (`conditioning="projection"`: `ψ(φ(x)) + ⟨V[y], φ(x)⟩`, Miyato &
Koyama 2018), or names it: `"acgan"` adds K class logits after the real/fake logit (Odena et al. 2017),
`"infogan"` K code logits and `continuous_codes` code estimates (Chen et al. 2016), from the same features.

Both generators are the same shape: z → ConvTranspose k4 s1 "valid" to 4×4, then k4 s2 "same"
upsamplings that halve the channels, BN + ReLU between, tanh out. A stride-2 transposed conv can
paint a checkerboard: neighbouring output pixels are made from different kernel taps (even and odd
positions), so even a flat input comes out periodic. `upsample="resize"` swaps each for a
nearest-neighbour ×2 resize and a k3 "same" conv (Odena et al. 2016), which treats every output
pixel alike.
"""

import functools
import math

import keras
from keras import layers

from kgan.defaults import IMAGE_SIZE, LATENT_DIM, WIDTH
from kgan.layers import (
    ConditionalBatchNormalization, MinibatchDiscrimination, MinibatchStdDev, ProjectionDiscriminatorHead, SelfAttention2D,
    SpectralNormalization,
)
from kgan.layers.pixel_norm import PixelNormalization

__all__ = [
    "ARCHITECTURES", "CONDITIONINGS", "GENERATOR_NORMS", "MINIBATCH", "NORMS", "UPSAMPLINGS", "build_discriminator",
    "build_generator",
]

ARCHITECTURES = ("book", "dcgan")


def _check_architecture(architecture):
    if architecture not in ARCHITECTURES:
        raise ValueError(f"Unknown architecture {architecture!r}; choose one of {ARCHITECTURES}.")


def _num_upsamplings(image_size):
    """Number of stride-2 stages between a 4×4 map and `image_size` (which must be 4·2^k)."""
    stages = math.log2(image_size / 4) if image_size >= 8 else -1
    if stages < 1 or not float(stages).is_integer():
        raise ValueError(f"image_size must be a power of two >= 8, got {image_size}.")
    return int(stages)


def _kernel_initializer(architecture):
    # The paper's N(0, 0.02); the book keeps Keras' default (Glorot uniform).
    return keras.initializers.RandomNormal(0.0, 0.02) if architecture == "dcgan" else "glorot_uniform"


MINIBATCH = (None, "mbd", "mbstd")


def _spectral(layer, spectral_norm):
    """The layer, wrapped in kgan's SpectralNormalization (gradient through σ) when asked."""
    return SpectralNormalization(layer, name=f"{layer.name}_sn") if spectral_norm else layer


class _Attention:
    """Inserts one SelfAttention2D after the stage whose output is `resolution`×`resolution`."""

    def __init__(self, resolution, network):
        self.resolution, self.network, self.seen = resolution, network, []

    def __call__(self, x):
        size = x.shape[1]
        self.seen.append(size)
        if size == self.resolution:
            x = SelfAttention2D(name=f"attention_{size}")(x)
        return x

    def check(self):
        if self.resolution is not None and self.resolution not in self.seen:
            raise ValueError(
                f"attention_at={self.resolution} is not a resolution of this {self.network}; choose one of {self.seen}."
            )


UPSAMPLINGS = ("transpose", "resize")
NORMS = ("batch", "layer", "instance", None)  # the discriminator's
GENERATOR_NORMS = ("batch", "layer", "instance", "pixel", None)


def _check_choice(option, value, choices):
    if value not in choices:
        raise ValueError(f"Unknown {option} {value!r}; choose one of {choices}.")


def _upsampling(filters, upsample, init, spectral_norm, name, use_bias=False):
    """One ×2 upsampling as a callable: a k4 s2 transposed conv, or a nearest ×2 resize then a k3 conv.

    The conv keeps the transposed conv's name in both cases, so `get_layer(name)` finds the weights.
    """
    if upsample == "transpose":
        conv = layers.Conv2DTranspose(filters, 4, 2, "same", use_bias=use_bias, kernel_initializer=init, name=name)
        return _spectral(conv, spectral_norm)
    # Odena et al. 2016: after a nearest-neighbour resize every output pixel sees the same k3 kernel,
    # so a flat map stays flat; a k4 s2 transposed conv gives even and odd pixels different taps.
    resize = layers.UpSampling2D(2, interpolation="nearest", name=f"{name}_resize")
    conv = _spectral(layers.Conv2D(filters, 3, 1, "same", use_bias=use_bias, kernel_initializer=init, name=name), spectral_norm)
    return lambda x: conv(resize(x))


def build_generator(
    architecture="dcgan", image_size=IMAGE_SIZE, latent_dim=LATENT_DIM, width=WIDTH, channels=3, spectral_norm=False,
    attention_at=None, synchronized_bn=False, upsample="transpose", norm="batch", dropout=0.0, spherical_latent=False,
    num_classes=None, class_dim=None, conditional_bn=None, name="generator",
):
    """z of shape (batch, latent_dim) → images (batch, image_size, image_size, channels) in [-1, 1].

    `width` is the channel count of the last hidden stage (the book's `filter = 64`); earlier stages
    double it, so a 64×64 generator goes 8·width → 4·width → 2·width → width → channels.

    Args:
        spectral_norm: wrap every (transposed) conv in `kgan.layers.SpectralNormalization` (SAGAN and
            BigGAN normalise G too).
        attention_at: add a `SelfAttention2D` after the R×R stage.
        synchronized_bn: BatchNorm averages its statistics over all replicas of a distribution
            strategy (default: each replica normalises its own share of the batch).
        upsample: `"transpose"` (both architectures: k4 s2 transposed convs) or `"resize"` —
            nearest-neighbour `UpSampling2D` ×2 then a k3 "same" `Conv2D` (Odena et al. 2016,
            "Deconvolution and Checkerboard Artifacts"), for every stride-2 stage, `to_rgb`
            included. The 4×4 projection of z and every shape stay as they are.
        norm: the normalisation after each hidden layer (before its ReLU): `"batch"` (default, both
            architectures), `"layer"` (GroupNormalization with one group), `"instance"`
            (GroupNormalization with a group per channel, Ulyanov et al. 2016), `"pixel"`
            (`kgan.layers.pixel_norm.PixelNormalization`, Karras et al. 2018 — ProGAN puts it after
            the activation; here it takes BatchNorm's place, so the options differ in the norm only)
            or `None`. With `"pixel"` or `None` the hidden convs get a bias, which the other norms'
            learned offset makes redundant.
        dropout: a rate in [0, 1); when > 0, a `Dropout` after each hidden stage's ReLU — noise in G
            the way ganhacks #17 (and pix2pix, Isola et al. 2017) inject it. Keras applies dropout
            only with `training=True`, so it acts in the trainer's steps but not when sampling
            (`training=False`, as `kgan` samples), unlike pix2pix, which keeps it on at test time.
        spherical_latent: project z onto the sphere of radius √latent_dim first (ganhacks #3, "a
            spherical z"; StyleGAN normalises z the same way): a Gaussian z becomes uniform on the
            sphere. Done inside G, so every sampler — training, grids, export — draws from the
            same distribution.
        num_classes: a conditional generator of K classes, taking `[z, labels]` (labels int, (batch,)).
        class_dim: the size of the class embedding concatenated to z (default: min(latent_dim, 50)).
        conditional_bn: with `norm="batch"`, every hidden BatchNorm gets class-dependent γ, β
            (`ConditionalBatchNormalization`); default True for a conditional generator with BatchNorm.
    """
    _check_architecture(architecture)
    _check_choice("upsample", upsample, UPSAMPLINGS)
    _check_classes(num_classes)
    if conditional_bn is None:
        conditional_bn = num_classes is not None and norm == "batch"
    if conditional_bn and (num_classes is None or norm != "batch"):
        raise ValueError("conditional_bn needs num_classes and norm='batch'.")
    _check_choice("norm", norm, GENERATOR_NORMS)
    if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0 <= dropout < 1:
        raise ValueError(f"dropout must be a rate in [0, 1), got {dropout!r}.")
    stages = _num_upsamplings(image_size)
    init = _kernel_initializer(architecture)
    attend = _Attention(attention_at, "generator")
    hidden_bias = norm in ("pixel", None)  # pixel norm has no offset; no norm, no offset at all

    def finish_stage(x, stage_name):
        if conditional_bn:
            x = ConditionalBatchNormalization(num_classes, synchronized=synchronized_bn, name=f"{stage_name}_cbn")([x, labels])
        elif norm is not None:
            x = _normalization(norm, stage_name, synchronized_bn)(x)
        x = layers.ReLU(name=f"{stage_name}_relu")(x)
        if dropout:
            x = layers.Dropout(dropout, name=f"{stage_name}_dropout")(x)
        return attend(x)

    z = keras.Input(shape=(latent_dim,), name="z")
    x = PixelNormalization(name="z_on_sphere")(z) if spherical_latent else z  # z / rms(z): radius √latent_dim
    inputs, code_size = z, latent_dim
    if num_classes is not None:
        labels = keras.Input(shape=(), dtype="int32", name="labels")
        class_dim = class_dim or min(latent_dim, 50)
        embedded = layers.Embedding(num_classes, class_dim, name="class_embedding")(labels)
        x = layers.Concatenate(name="z_and_class")([x, embedded])
        inputs, code_size = [z, labels], latent_dim + class_dim
    x = layers.Reshape((1, 1, code_size), name="z_as_map")(x)  # -1 batch: export-safe
    if architecture == "book":
        x = layers.ReLU(name="z_relu")(x)  # the book applies ReLU to z itself
    filters = width * 2 ** (stages - 1)
    project = layers.Conv2DTranspose(filters, 4, 1, "valid", use_bias=hidden_bias, kernel_initializer=init, name="project")
    x = finish_stage(_spectral(project, spectral_norm)(x), "project")
    for stage in range(1, stages):
        filters //= 2
        x = _upsampling(filters, upsample, init, spectral_norm, f"up{stage}", use_bias=hidden_bias)(x)
        x = finish_stage(x, f"up{stage}")
    to_rgb = _upsampling(channels, upsample, init, spectral_norm, "to_rgb")
    images = layers.Activation("tanh", name="tanh")(to_rgb(x))
    attend.check()
    return keras.Model(inputs, images, name=name)


CONDITIONINGS = ("projection", "acgan", "infogan")


def _check_classes(num_classes):
    if num_classes is not None and (isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 2):
        raise ValueError(f"num_classes must be a whole number of at least 2, got {num_classes!r}.")


def _normalization(norm, name, synchronized_bn=False):
    """The normalisation after a hidden conv: BatchNorm, a per-sample GroupNorm, or pixel norm."""
    if norm == "batch":
        return layers.BatchNormalization(synchronized=synchronized_bn, name=f"{name}_bn")
    if norm == "pixel":
        return PixelNormalization(name=f"{name}_pn")
    # GroupNormalization normalises each sample on its own over (H, W) and a group of channels, with
    # a per-channel scale and offset, so samples stay independent (as a WGAN-GP critic needs).
    # One group: the "layer norm" of the WGAN-GP paper's critic; one group per channel: instance norm.
    if norm == "layer":
        return layers.GroupNormalization(groups=1, name=f"{name}_ln")
    return layers.GroupNormalization(groups=-1, name=f"{name}_in")


def build_discriminator(
    architecture="dcgan", image_size=IMAGE_SIZE, width=WIDTH, channels=3, norm="batch", spectral_norm=False,
    minibatch=None, attention_at=None, synchronized_bn=False, num_classes=None, conditioning=None, continuous_codes=0,
    name="discriminator",
):
    """Images (batch, image_size, image_size, channels) → one logit per image, shape (batch, 1).

    Args:
        norm: the normalisation after each conv (the paper's architecture skips the first): `"batch"`
            (both architectures' default), `"layer"` (GroupNormalization, one group), `"instance"`
            (GroupNormalization, one group per channel) or `None`. A WGAN-GP critic must not use
            `"batch"`: BatchNorm mixes the samples of a batch, so the gradient penalty's per-sample
            gradients are no longer per-sample; layer and instance norm keep samples apart (Gulrajani
            et al. 2017 recommend layer norm). SN-GAN discriminators use `spectral_norm=True, norm=None`.
        spectral_norm: wrap every conv and the logit layer in `kgan.layers.SpectralNormalization`.
        minibatch: let D compare the samples of a batch before its logit: `"mbstd"` appends the
            minibatch-stddev map (Karras et al.) to the last feature map, `"mbd"` appends minibatch
            discrimination features (Salimans et al., 100 kernels of dimension 5) to the flattened
            features, which then go through a Dense logit.
        attention_at: add a `SelfAttention2D` after the conv stage whose output is R×R.
        synchronized_bn: BatchNorm statistics over all replicas of a distribution strategy.
        num_classes, conditioning: a conditional discriminator of K classes. `"projection"`: inputs
            `[images, labels]`, the logit `ψ(φ(x)) + ⟨V[y], φ(x)⟩` (`ProjectionDiscriminatorHead`, φ the
            flattened (book: pooled) features, spectrally normalised with `spectral_norm`); `"acgan"`:
            output (batch, 1 + K), the logit then K class logits; `"infogan"`: output
            (batch, 1 + K + continuous_codes), the logit, K code logits and the continuous codes' estimates.
        continuous_codes: InfoGAN's continuous codes (only with `conditioning="infogan"`).
    """
    _check_architecture(architecture)
    _check_choice("norm", norm, NORMS)
    _check_choice("minibatch option", minibatch, MINIBATCH)
    _check_classes(num_classes)
    if (num_classes is None) != (conditioning is None):
        raise ValueError(f"A conditional discriminator needs num_classes and conditioning; got {num_classes!r}, {conditioning!r}.")
    if conditioning is not None:
        _check_choice("conditioning", conditioning, CONDITIONINGS)
    if continuous_codes and conditioning != "infogan":
        raise ValueError("continuous_codes are InfoGAN's: they need conditioning='infogan'.")
    attend = _Attention(attention_at, "discriminator")
    images = keras.Input(shape=(image_size, image_size, channels), name="images")
    body = _book_discriminator_body if architecture == "book" else _dcgan_discriminator_body
    normalization = functools.partial(_normalization, synchronized_bn=synchronized_bn)
    features = body(images, image_size, width, norm, spectral_norm, attend, normalization)
    attend.check()
    if minibatch == "mbstd":
        features = MinibatchStdDev(name="minibatch_stddev")(features)
    if architecture == "book" or minibatch == "mbd" or conditioning is not None:
        x = layers.GlobalAveragePooling2D(name="pool")(features) if architecture == "book" else layers.Flatten(name="flatten")(features)
        if minibatch == "mbd":
            x = MinibatchDiscrimination(100, 5, name="minibatch_discrimination")(x)
        if conditioning == "projection":
            # ψ(φ) is a Dense on the flattened 4×4 map: the paper's k4 "valid" logit conv, written as a matrix
            labels = keras.Input(shape=(), dtype="int32", name="labels")
            head = ProjectionDiscriminatorHead(num_classes, spectral_norm=spectral_norm, name="projection")
            return keras.Model([images, labels], head([x, labels]), name=name)
        logits = _spectral(layers.Dense(1, name="logit"), spectral_norm)(x)
        if conditioning is not None:  # AC-GAN's classifier / InfoGAN's Q head, on the same features
            width = num_classes + (continuous_codes if conditioning == "infogan" else 0)
            classes = _spectral(layers.Dense(width, name="class_logits"), spectral_norm)(x)
            logits = layers.Concatenate(name="logit_and_classes")([logits, classes])
    else:  # the paper's last layer: a k4 "valid" conv from the 4×4 map to one logit
        conv = layers.Conv2D(1, 4, 1, "valid", kernel_initializer=_kernel_initializer("dcgan"), name="logit_conv")
        logits = layers.Flatten(name="logit")(_spectral(conv, spectral_norm)(features))
    return keras.Model(images, logits, name=name)


def _book_discriminator_body(x, image_size, width, norm, spectral_norm, attend, normalization):
    # (filters, kernel, stride) of the book's five valid-padded convs, each followed by BN + LeakyReLU(0.2).
    stack = [(width, 4, 2), (width * 2, 4, 2), (width * 4, 4, 2), (width * 8, 3, 1), (width * 16, 3, 1)]
    size = image_size
    for index, (filters, kernel, stride) in enumerate(stack, start=1):
        size = (size - kernel) // stride + 1
        if size < 1:
            raise ValueError(f"The book's discriminator needs images of at least 54×54, got {image_size}.")
        conv = layers.Conv2D(filters, kernel, stride, "valid", use_bias=norm is None, name=f"conv{index}")
        x = _spectral(conv, spectral_norm)(x)
        if norm:
            x = normalization(norm, f"conv{index}")(x)
        x = attend(layers.LeakyReLU(0.2, name=f"conv{index}_lrelu")(x))
    return x


def _dcgan_discriminator_body(x, image_size, width, norm, spectral_norm, attend, normalization):
    stages = _num_upsamplings(image_size)
    init = _kernel_initializer("dcgan")
    filters = width
    for index in range(1, stages + 1):
        normalized = norm is not None and index > 1  # the paper leaves the first layer unnormalised
        conv = layers.Conv2D(filters, 4, 2, "same", use_bias=not normalized, kernel_initializer=init, name=f"conv{index}")
        x = _spectral(conv, spectral_norm)(x)
        if normalized:
            x = normalization(norm, f"conv{index}")(x)
        x = attend(layers.LeakyReLU(0.2, name=f"conv{index}_lrelu")(x))
        filters *= 2
    return x
