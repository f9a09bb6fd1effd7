"""Feature extractors for the Fréchet distance, KID and precision/recall, all offline.

Sample-based image metrics compare two sets of images through a network's features. Which network,
which weights file, which resize and which input range all change the numbers, so an extractor
carries them (`FeatureExtractor.describe()` is the protocol card) and its weights' SHA-256:

    features = kgan.metrics.features                            # this module
    extractor = features.train_feature_encoder(real, "encoder.keras")   # (a) kgan's own, minutes on CPU
    extractor = features.load_extractor("encoder.keras")        # ... the same features, later
    extractor = features.load_extractor("inception-v3:inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5")  # (b)
    extractor = features.load_extractor("my_model.keras")       # (c) any Keras model or SavedModel folder
    f_real, f_fake = extractor(real), extractor(fake)           # uint8 (N, H, W, 3) → float32 (N, D)

Nothing here downloads weights: kgan's encoder is trained on the user's images, Inception's weights
come from a file the user brings.
"""

import hashlib
import json
import math
import os
import pathlib
import time
import warnings

import keras
import numpy as np
import tensorflow as tf
from keras import layers

from kgan.images import check_uint8_images

__all__ = [
    "ENCODER_NAME",
    "FeatureExtractor",
    "file_sha256",
    "folder_sha256",
    "inception_v3",
    "load_extractor",
    "resize_filter",
    "train_feature_encoder",
]

ENCODER_NAME = "kgan_feature_encoder"  # the saved encoder model's name: how load_extractor knows it
INCEPTION_SIZE = 299
INCEPTION_NOTOP = "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5"
INCEPTION_URL = "https://storage.googleapis.com/tensorflow/keras-applications/inception_v3/" + INCEPTION_NOTOP

# ---------------------------------------------------------------------------------------------- hashing


def file_sha256(path):
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def folder_sha256(path):
    """Hex SHA-256 over a folder's files in sorted order: each file's relative POSIX path, a NUL, its
    size as 8 little-endian bytes, then its bytes. The same for a copy of the folder anywhere."""
    root = pathlib.Path(path)
    digest = hashlib.sha256()
    for file in sorted(p for p in root.rglob("*") if p.is_file()):
        relative = file.relative_to(root).as_posix()
        digest.update(relative.encode("utf-8") + b"\0" + file.stat().st_size.to_bytes(8, "little"))
        with open(file, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()


# ----------------------------------------------------------------------------------------- the extractor


def _sides(size):
    """An input size (int, (H, W) or None) as an (H, W) tuple or None."""
    if size is None:
        return None
    if isinstance(size, int | np.integer):
        return int(size), int(size)
    height, width = size
    return int(height), int(width)


def resize_filter(source, target):
    """What resizing (H, W) `source` to `target` does: "none", "bilinear, antialias" (shrinking) or
    "bilinear" (enlarging, where antialiasing changes nothing)."""
    if target is None or tuple(source) == tuple(target):
        return "none"
    shrinks = source[0] > target[0] or source[1] > target[1]
    return "bilinear, antialias" if shrinks else "bilinear"


def _prepare(pixels, size, input_range):
    """uint8 (B, H, W, 3) → float32 at `size` (H, W) in `input_range`: resize in [0, 255], then scale.

    `tf.image.resize(antialias=True)`: a triangle filter as wide as the shrink factor, so shrinking
    averages every source pixel instead of sampling a few (PIL's bilinear does the same).
    """
    x = tf.cast(pixels, tf.float32)
    if size is not None and tuple(x.shape[1:3]) != tuple(size):
        x = tf.image.resize(x, size, method="bilinear", antialias=True)
    low, high = input_range
    return x * ((high - low) / 255.0) + low


class FeatureExtractor:
    """A network that maps uint8 images to features, and the facts that fix what its numbers mean.

    Attributes:
        name: "kgan-encoder", "inception-v3", "keras-model" or "savedmodel".
        path: the weights file or SavedModel folder (None for a model held only in memory).
        sha256: hex SHA-256 of that file (of a folder: see `folder_sha256`).
        input_size: the side (or (H, W)) images are resized to; None: used at their own size.
        input_range: (low, high) that pixel values 0 and 255 become.
        feature_dim: D, the length of a feature vector.
        info: extra facts (kgan's encoder: how it was trained).
        model: the underlying Keras model or loaded SavedModel.

    `fn` maps float32 (B, H, W, 3) in `input_range`, at `input_size`, to (B, D) features in inference
    mode; the factories below build it (`load_extractor`, `inception_v3`, `train_feature_encoder`).
    """

    def __init__(self, fn, *, name, input_size, input_range=(-1.0, 1.0), feature_dim=None, path=None, sha256=None,
                 model=None, info=None):
        low, high = (float(value) for value in input_range)
        if not low < high:
            raise ValueError(f"input_range must be (low, high) with low < high, got {input_range}.")
        self._fn = fn
        self.name = name
        self.path = None if path is None else str(path)
        self.sha256 = sha256
        sides = _sides(input_size)
        self.input_size = None if sides is None else (sides[0] if sides[0] == sides[1] else sides)
        self.input_range = (low, high)
        self.feature_dim = None if feature_dim is None else int(feature_dim)
        self.model = model
        self.info = dict(info or {})
        self.resizes = {}  # "HxW" of the images seen → the filter applied to them

    @property
    def resize(self):
        """The resize applied: one filter when every call saw one image size; before any call, the policy."""
        if not self.resizes:
            return "none" if self.input_size is None else "bilinear (antialias when shrinking)"
        filters = set(self.resizes.values())
        if len(filters) == 1:
            return filters.pop()
        return "; ".join(f"{size}: {method}" for size, method in sorted(self.resizes.items()))

    def __call__(self, images, batch_size=250):
        """uint8 images (N, H, W, 3) → float32 features (N, D), `batch_size` images at a time."""
        images = check_uint8_images(images, "A feature extractor's input", allow_empty=True)
        size = _sides(self.input_size)
        self.resizes[f"{images.shape[1]}x{images.shape[2]}"] = resize_filter(images.shape[1:3], size)
        outputs = []
        for start in range(0, len(images), int(batch_size)):
            x = _prepare(images[start : start + int(batch_size)], size, self.input_range)
            features = tf.convert_to_tensor(self._fn(x))
            if features.shape.rank != 2:
                raise ValueError(
                    f"The {self.name} extractor must give features of shape (batch, D), got {tuple(features.shape)}; "
                    "end the model with pooling or a Flatten."
                )
            outputs.append(tf.cast(features, tf.float32).numpy())
        if not outputs:
            return np.zeros((0, self.feature_dim or 0), np.float32)
        features = np.concatenate(outputs)
        if self.feature_dim is None:
            self.feature_dim = features.shape[1]
        return features

    def describe(self):
        """The extractor's protocol card: a JSON-ready dict."""
        card = {
            "name": self.name,
            "path": self.path,
            "sha256": self.sha256,
            "input_size": list(self.input_size) if isinstance(self.input_size, tuple) else self.input_size,
            "input_range": list(self.input_range),
            "resize": self.resize,
            "feature_dim": self.feature_dim,
        }
        if self.resizes:
            card["image_sizes"] = sorted(self.resizes)
        if self.info:
            card["info"] = self.info
        return card

    def __repr__(self):
        return (f"FeatureExtractor(name={self.name!r}, path={self.path!r}, input_size={self.input_size}, "
                f"feature_dim={self.feature_dim})")


def _keras_fn(model):
    call = tf.function(lambda x: model(x, training=False), reduce_retracing=True)
    return lambda x: call(tf.cast(x, model.compute_dtype))


def _static_dim(value):
    return None if value is None else int(value)


def _keras_extractor(model, name, path=None, sha256=None, input_range=(-1.0, 1.0), info=None):
    shape = model.input_shape
    if isinstance(shape, list):
        if len(shape) != 1:
            raise ValueError(f"A feature model must take one image input, {model.name!r} takes {len(shape)}.")
        shape = shape[0]
    if len(shape) != 4 or shape[-1] != 3:
        raise ValueError(f"A feature model must take (batch, H, W, 3) images, {model.name!r} takes {shape}.")
    height, width = _static_dim(shape[1]), _static_dim(shape[2])
    size = (height, width) if height and width else None
    output = model.output_shape
    feature_dim = output[-1] if isinstance(output, tuple) and len(output) == 2 else None
    return FeatureExtractor(_keras_fn(model), name=name, input_size=size, input_range=input_range,
                            feature_dim=feature_dim, path=path, sha256=sha256, model=model, info=info)


# ------------------------------------------------------------------------------ (a) kgan's own encoder

_BLUR_SIGMA = 1.5  # pixels, at the encoder's input size
_MAX_NOISE = 0.2  # Gaussian noise std in [-1, 1] units (≈ 25 grey levels)
_DEGRADATION_WEIGHT = 1.0  # of the degradation head's loss beside the reconstruction's


def _encoder_stages(image_size):
    stages = math.log2(image_size / 4) if image_size >= 8 else -1
    if stages < 1 or not float(stages).is_integer():
        raise ValueError(f"image_size must be a power of two >= 8, got {image_size}.")
    return int(stages)


def _build_encoder(image_size, feature_dim, width):
    """Images in [-1, 1] → (B, feature_dim): k4 s2 convs (channels doubling from `width`) down to 4×4,
    ReLU, no normalisation (features of one image must not depend on its batch), Flatten,
    one linear Dense. Flatten keeps *where* things are, which a global pooling would throw away."""
    images = keras.Input((image_size, image_size, 3), name="images")
    x, filters = images, width
    for stage in range(1, _encoder_stages(image_size) + 1):
        x = layers.Conv2D(filters, 4, 2, "same", name=f"conv{stage}")(x)
        x = layers.ReLU(name=f"conv{stage}_relu")(x)
        filters *= 2
    x = layers.Flatten(name="flatten")(x)
    features = layers.Dense(feature_dim, name="features")(x)
    return keras.Model(images, features, name="encoder")


def _build_decoder(image_size, feature_dim, width):
    """The mirror image: (B, feature_dim) → a 4×4 map → k4 s2 transposed convs → (image_size², 3)."""
    stages = _encoder_stages(image_size)
    filters = width * 2 ** (stages - 1)
    features = keras.Input((feature_dim,), name="features")
    x = layers.Dense(4 * 4 * filters, name="project")(features)
    x = layers.ReLU(name="project_relu")(layers.Reshape((4, 4, filters), name="to_map")(x))
    for stage in range(1, stages):
        filters //= 2
        x = layers.Conv2DTranspose(filters, 4, 2, "same", name=f"up{stage}")(x)
        x = layers.ReLU(name=f"up{stage}_relu")(x)
    images = layers.Conv2DTranspose(3, 4, 2, "same", name="to_rgb")(x)
    return keras.Model(features, images, name="decoder")


def _gaussian_kernel(sigma):
    radius = max(1, math.ceil(2.5 * sigma))
    taps = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    kernel = np.outer(taps, taps) / np.sum(taps) ** 2
    return tf.constant(np.tile(kernel[:, :, None, None], (1, 1, 3, 1)), tf.float32), radius


def _blur(images, kernel, radius):
    padded = tf.pad(images, [[0, 0], [radius, radius], [radius, radius], [0, 0]], mode="REFLECT")
    return tf.nn.depthwise_conv2d(padded, kernel, [1, 1, 1, 1], "VALID")


def _degrade(clean, seed, kernel, radius):
    """Blur and noise of random strength, each on for half the images: (degraded, (B, 2) strengths in [0, 1]).

    Blur strength b blends the image with its Gaussian blur (σ = 1.5 px): (1 − b)·x + b·blur(x);
    noise strength s adds N(0, (0.2·s)²). The result is clipped to [-1, 1], as pixels are.
    """
    n = tf.shape(clean)[0]
    seeds = tf.random.experimental.stateless_split(seed, 5)

    def strength(on_seed, level_seed):
        on = tf.cast(tf.random.stateless_uniform([n], on_seed) < 0.5, tf.float32)
        return on * tf.random.stateless_uniform([n], level_seed)

    blur, noise = strength(seeds[0], seeds[1]), strength(seeds[2], seeds[3])
    x = clean + blur[:, None, None, None] * (_blur(clean, kernel, radius) - clean)
    x = x + (_MAX_NOISE * noise)[:, None, None, None] * tf.random.stateless_normal(tf.shape(clean), seeds[4])
    return tf.clip_by_value(x, -1.0, 1.0), tf.stack([blur, noise], axis=1)


def train_feature_encoder(images, out_path, *, image_size=64, feature_dim=128, width=16, steps=2000, batch_size=64,
                          learning_rate=1e-3, seed=0, verbose=True):
    """Train kgan's feature encoder on the user's real images (no labels, no downloads) and save it.

    The objective is self-supervised and picks what the features must see:

    - *denoising autoencoder*: each image gets blur and noise of random strength (each on for half
      the images), and a decoder must rebuild the **clean** image from the 128-d bottleneck — so the
      features must hold the image's content: layout, colours, shapes, texture;
    - *degradation head*: a linear layer on the same bottleneck must tell how strong the blur and
      the noise were — so the features also move, linearly, with blur and noise. A denoising
      autoencoder alone learns to *ignore* noise, the opposite of what a GAN metric needs (on toy
      faces without the head, noise of σ = 16 grey levels moved the mean feature less than a second
      sample of real faces did; with it, several times more).

    The encoder is k4 s2 convolutions (16, 32, 64, 128 channels at 64 px) to a 4×4 map, flattened to
    a linear `feature_dim` bottleneck; no BatchNorm, so an image's features never depend on its
    batch. After training, a fixed standardisation (the bottleneck's per-dimension mean and variance
    on the training images) is appended, so that real images give features of mean 0 and variance 1:
    KID's polynomial kernel `(xᵀy / D + 1)³` and the k-NN radii of precision/recall then see a sane
    scale. The features are **not** L2-normalised: the standardisation already fixes their scale,
    and normalising would throw away their length, one of the ways a degraded image can move.

    **Not FID.** The Fréchet distance on these features is not comparable with any published FID:
    a different network, trained on your own data. Its numbers compare runs on the same data
    measured with the same encoder file — which is why the extractor carries the file's SHA-256.
    Call it "FD (kgan encoder <sha256[:12]>)", never "FID".

    Args:
        images: uint8 (N, H, W, 3), the real images; resized to `image_size` the way the extractor
            resizes (bilinear, antialiased when shrinking).
        out_path: the `.keras` file to write (the encoder only); its training facts go to
            `<out_path>.json` beside it.
        image_size: the encoder's input side (a power of two ≥ 8).
        feature_dim: D, the bottleneck's size.
        width: channels of the first conv; each later stage doubles them.
        steps, batch_size, learning_rate: Adam steps, images per step, step size. The defaults take
            about 2½ minutes at 64 px on an idle 2-core CPU (≈ 70 ms a step; the time does not grow
            with the number of images).
        seed: fixes the weights' initialisation (`keras.utils.set_random_seed`), the order of the
            images and every degradation: the same seed gives the same encoder on a CPU.
        verbose: print progress about ten times.

    Returns the `FeatureExtractor` ("kgan-encoder") of the saved file; `extractor.info` holds the
    training facts (reconstruction loss on a fixed batch at the start and at the end, seconds, ...).
    """
    images = check_uint8_images(images, "A feature extractor's input", allow_empty=True)
    out_path = pathlib.Path(out_path)
    if out_path.suffix != ".keras":
        raise ValueError(f"The encoder is saved as a .keras file, got {str(out_path)!r}.")
    if len(images) < 2:
        raise ValueError(f"Training an encoder needs at least 2 images, got {len(images)}.")
    batch_size = min(int(batch_size), len(images))
    size = (int(image_size), int(image_size))
    started = time.perf_counter()

    keras.utils.set_random_seed(seed)
    encoder = _build_encoder(image_size, feature_dim, width)
    decoder = _build_decoder(image_size, feature_dim, width)
    head = layers.Dense(2, name="degradation")
    head.build((None, feature_dim))
    variables = encoder.trainable_variables + decoder.trainable_variables + head.trainable_variables
    optimizer = keras.optimizers.Adam(learning_rate)
    optimizer.build(variables)
    kernel, radius = _gaussian_kernel(_BLUR_SIGMA)
    pixels = tf.constant(images)

    def losses(batch, degradation_seed):
        clean = _prepare(batch, size, (-1.0, 1.0))
        degraded, strengths = _degrade(clean, degradation_seed, kernel, radius)
        features = encoder(degraded, training=True)
        reconstruction = tf.reduce_mean(tf.square(decoder(features, training=True) - clean))
        degradation = tf.reduce_mean(tf.square(head(features) - strengths))
        return reconstruction, degradation

    @tf.function
    def train_step(indices, step):
        with tf.GradientTape() as tape:
            step_seed = tf.stack([tf.constant(seed, tf.int64), step])
            reconstruction, degradation = losses(tf.gather(pixels, indices), step_seed)
            loss = reconstruction + _DEGRADATION_WEIGHT * degradation
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        return reconstruction, degradation

    rng = np.random.default_rng(seed)
    held = rng.permutation(len(images))[: min(256, len(images))]  # a fixed batch, fixed degradations

    def held_losses():
        parts = [losses(tf.gather(pixels, held[i : i + 64]), tf.constant([seed, -1 - i], tf.int64))
                 for i in range(0, len(held), 64)]
        weights = [min(64, len(held) - i) for i in range(0, len(held), 64)]
        return tuple(float(np.average([float(p[k]) for p in parts], weights=weights)) for k in (0, 1))

    start_reconstruction, start_degradation = held_losses()
    order, position = rng.permutation(len(images)), 0
    report_every = max(1, steps // 10)
    for step in range(steps):
        if position + batch_size > len(images):  # a new epoch: a new order
            order, position = rng.permutation(len(images)), 0
        indices = order[position : position + batch_size]
        position += batch_size
        reconstruction, degradation = train_step(tf.constant(indices), tf.constant(step, tf.int64))
        if verbose and ((step + 1) % report_every == 0 or step + 1 == steps):
            print(f"encoder step {step + 1}/{steps}: reconstruction {float(reconstruction):.4f}, "
                  f"degradation {float(degradation):.4f} ({time.perf_counter() - started:.0f} s)")
    final_reconstruction, final_degradation = held_losses()

    # per-dimension standardisation on (up to 10,000 of) the training images, baked into the saved encoder
    subset = np.sort(np.random.default_rng([seed, 1]).permutation(len(images))[:10_000])
    raw = FeatureExtractor(_keras_fn(encoder), name="raw", input_size=size)(images[subset])
    mean, variance = raw.mean(axis=0), raw.var(axis=0)
    inputs = keras.Input((image_size, image_size, 3), name="images")
    standardize = layers.Normalization(mean=mean.tolist(), variance=variance.tolist(), name="standardize")
    model = keras.Model(inputs, standardize(encoder(inputs)), name=ENCODER_NAME)

    out_path.parent.mkdir(parents=True, exist_ok=True)
    model.save(out_path)
    digest = file_sha256(out_path)
    info = {
        "kind": "kgan-encoder",
        "objective": "denoising autoencoder + blur/noise strength head",
        "sha256": digest,
        "image_count": len(images),
        "source_image_size": list(images.shape[1:3]),
        "image_size": int(image_size),
        "feature_dim": int(feature_dim),
        "width": int(width),
        "steps": int(steps),
        "batch_size": batch_size,
        "learning_rate": float(learning_rate),
        "seed": int(seed),
        "input_range": [-1.0, 1.0],
        "reconstruction_loss": {"start": start_reconstruction, "final": final_reconstruction},
        "degradation_loss": {"start": start_degradation, "final": final_degradation},
        "seconds": round(time.perf_counter() - started, 1),
        "versions": {"keras": keras.__version__, "tensorflow": tf.__version__},
    }
    pathlib.Path(f"{out_path}.json").write_text(json.dumps(info, indent=2) + "\n")
    if verbose:
        print(f"encoder saved to {out_path} (sha256 {digest[:12]}…, {info['seconds']:.0f} s): reconstruction "
              f"{start_reconstruction:.4f} → {final_reconstruction:.4f} on {len(held)} held images")
    return _keras_extractor(model, "kgan-encoder", out_path, digest, info=info)


# ---------------------------------------------------------------------- (b) Inception-V3 from a file


def inception_v3(weights_path):
    """Inception-V3's 2048-d pool features, from a weights file the user brings: nothing is downloaded.

    The file that fits is Keras' `inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5` (87 MB),
    fetched once on a machine with internet — e.g. with `keras.applications.InceptionV3(weights=
    "imagenet", include_top=False)`, which caches it in `~/.keras/models/`, or from
    https://storage.googleapis.com/tensorflow/keras-applications/inception_v3/ — and copied here.
    A `.weights.h5` saved by Keras 3 from `InceptionV3(include_top=False)` works too.

    Images are resized to 299×299 (bilinear; antialiased when shrinking) and mapped to Inception's
    [-1, 1]. The Fréchet distance on these features is FID as defined, but its value also depends on
    the resize filter and on the weights: pytorch-fid and clean-fid use the TF-slim graph of the
    original FID code ported to PyTorch, not Keras' port of the weights, and resize differently, so
    values here are close to theirs but not identical. Compare FIDs computed the same way.

    Raises FileNotFoundError when the file is missing, ValueError when it does not fit; both name it.
    """
    path = os.fspath(weights_path)
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f"Inception-V3 weights file {path!r} not found. kgan never downloads weights: get Keras' "
            f"{INCEPTION_NOTOP} on a machine with internet ({INCEPTION_URL}) and pass its path."
        )
    model = keras.applications.InceptionV3(
        include_top=False, weights=None, pooling="avg", input_shape=(INCEPTION_SIZE, INCEPTION_SIZE, 3)
    )
    try:
        with warnings.catch_warnings():  # Keras 3.15 warns about every Inception block of a .weights.h5 it loads fine
            warnings.filterwarnings("ignore", message="Skipping nested container")
            model.load_weights(path)
    except Exception as error:  # h5py, Keras' loaders and the file system each raise their own kind
        raise ValueError(
            f"The weights file {path!r} does not fit InceptionV3(include_top=False): expected Keras' "
            f"{INCEPTION_NOTOP} (or a .weights.h5 saved from that model). {type(error).__name__}: {error}"
        ) from error
    return _keras_extractor(model, "inception-v3", path, file_sha256(path))


# ------------------------------------------------------------------- (c) any Keras model or SavedModel

_EXPECTED = ("expected a .keras or .h5 Keras model file, a SavedModel folder (with saved_model.pb), "
             "or 'inception-v3:PATH' (Inception-V3 with your copy of Keras' weights file)")


def _sidecar(path):
    sidecar = pathlib.Path(f"{path}.json")
    if not sidecar.is_file():
        return None
    try:
        return json.loads(sidecar.read_text())
    except ValueError:
        warnings.warn(f"Ignoring {sidecar}: not valid JSON.", stacklevel=3)
        return None


def _load_keras_file(path, input_range):
    try:
        model = keras.saving.load_model(path, compile=False)
    except Exception as error:
        hint = " (a weights-only Inception file? use 'inception-v3:PATH')" if path.endswith(".h5") else ""
        raise ValueError(f"Could not load the Keras model {path!r}{hint}: {type(error).__name__}: {error}") from error
    if not isinstance(model, keras.Model):
        raise ValueError(f"{path!r} holds a {type(model).__name__}, not a Keras model.")  # noqa: TRY004 (a bad file)
    digest = file_sha256(path)
    info = _sidecar(path)
    if info is not None and info.get("kind") != "kgan-encoder":
        info = None  # some other file's notes
    if info is not None and info.get("sha256") not in (None, digest):
        warnings.warn(f"{path}.json describes another file (its sha256 differs); ignoring it.", stacklevel=3)
        info = None
    is_encoder = model.name == ENCODER_NAME or info is not None
    if input_range is None:
        input_range = tuple((info or {}).get("input_range", (-1.0, 1.0)))
    return _keras_extractor(model, "kgan-encoder" if is_encoder else "keras-model", path, digest, input_range,
                            info if is_encoder else None)


def _signature_input(function, path):
    """(name, TensorSpec) of a SavedModel function's one image input."""
    args, kwargs = function.structured_input_signature
    specs = [(None, spec) for spec in args] + sorted(kwargs.items())
    if len(specs) != 1 or not isinstance(specs[0][1], tf.TensorSpec):
        raise ValueError(f"The SavedModel {path!r} must take one image tensor, its signature is {specs}.")
    return specs[0]


def _single_output(outputs, path):
    if isinstance(outputs, dict):
        if len(outputs) != 1:
            raise ValueError(f"The SavedModel {path!r} gives several outputs {sorted(outputs)}; expected one.")
        outputs = next(iter(outputs.values()))
    return outputs


def _load_savedmodel(path, input_range, input_size):
    loaded = tf.saved_model.load(path)
    signatures = getattr(loaded, "signatures", {})
    if "serving_default" in signatures:
        function = signatures["serving_default"]
        name, spec = _signature_input(function, path)

        def call(x):
            x = tf.cast(x, spec.dtype)
            return _single_output(function(**{name: x}) if name else function(x), path)

        output_spec = _single_output(function.structured_outputs, path)
    elif callable(loaded) and getattr(loaded.__call__, "concrete_functions", None):
        function = loaded.__call__
        concrete = function.concrete_functions[0]
        name, spec = _signature_input(concrete, path)

        def call(x):
            return _single_output(function(tf.cast(x, spec.dtype)), path)

        output_spec = _single_output(concrete.structured_outputs, path)
    else:
        raise ValueError(f"The SavedModel {path!r} has neither a serving_default signature nor a traced __call__.")
    shape = spec.shape
    if shape.rank != 4 or shape[-1] not in (3, None):
        raise ValueError(f"The SavedModel {path!r} must take (batch, H, W, 3) images, its input is {shape}.")
    if input_size is None and shape[1] is not None and shape[2] is not None:
        input_size = (int(shape[1]), int(shape[2]))
    feature_dim = output_spec.shape[-1] if getattr(output_spec, "shape", None) is not None else None
    return FeatureExtractor(call, name="savedmodel", input_size=input_size, input_range=input_range or (-1.0, 1.0),
                            feature_dim=feature_dim, path=path, sha256=folder_sha256(path), model=loaded)


def load_extractor(spec, *, input_range=None, input_size=None):
    """A `FeatureExtractor` from a spec string (or a Keras model, or an extractor, returned as is).

    Specs:
        - "inception-v3:PATH": Inception-V3's pool features with the weights file at PATH (`inception_v3`);
        - "model.keras" / "model.h5": a Keras model file whose output is (batch, D) features; kgan's
          own encoder (`train_feature_encoder`) is recognised by its name or its `.json` sidecar;
        - "folder/": a SavedModel (it has saved_model.pb), e.g. from `model.export(folder)`; its
          `serving_default` signature is called (or its traced `__call__`), and its input size is read
          from the signature when static.

    `input_range`: the (low, high) pixel values 0 and 255 become; [-1, 1] unless the model is kgan's
    encoder (its sidecar says) or you say otherwise, e.g. `input_range=(0, 255)`. `input_size`: the
    side to resize to when the model's own input size is not static (default: the images' own size).

    Raises FileNotFoundError for a missing path, ValueError for anything else unusable; both name the spec.
    """
    if isinstance(spec, FeatureExtractor):
        return spec
    if isinstance(spec, keras.Model):
        return _keras_extractor(spec, "keras-model", input_range=input_range or (-1.0, 1.0))
    spec = os.fspath(spec)
    if spec.startswith("inception-v3:"):
        if input_range is not None or input_size is not None:
            raise ValueError("Inception-V3 fixes its own input range and size; do not pass input_range or input_size.")
        return inception_v3(spec[len("inception-v3:") :])
    if not os.path.exists(spec):
        raise FileNotFoundError(f"No feature extractor at {spec!r}: {_EXPECTED}.")
    if os.path.isdir(spec):
        if not os.path.isfile(os.path.join(spec, "saved_model.pb")):
            raise ValueError(f"{spec!r} is a folder without saved_model.pb: {_EXPECTED}.")
        return _load_savedmodel(spec, input_range, input_size)
    if not spec.endswith((".keras", ".h5", ".hdf5")):
        raise ValueError(f"Unknown feature extractor file {spec!r}: {_EXPECTED}.")
    extractor = _load_keras_file(spec, input_range)
    if input_size is not None and extractor.input_size is None:
        extractor.input_size = input_size
    return extractor
