"""Score generated images against real ones, offline, with a protocol card that says how the numbers were made.

    evaluation = kgan.evaluate.evaluate_source("runs/faces", data="faces-holdout.zip", n=5000,
                                               metrics=("swd", "kid", "fd", "pr", "coverage"),
                                               features="encoder.keras")
    print(evaluation.table())          # scores and the protocol card
    evaluation.save("runs/faces/evaluation.json")

Published GAN scores often disagree because of how they were computed, not what was generated:
sample size (FD is biased upward at small n), the resize filter, whether images were quantised
to uint8, which feature network (and which file of its weights). Every `Evaluation` therefore
carries a `ProtocolCard` — n real / n generated, image size and resize filter, quantisation, the
feature extractor and its SHA-256, the seed, the versions — and warns where n is too small for a
metric. `kgan evaluate` prints and saves both.

The generated side can be a run folder, a `.keras` file or an exported SavedModel (sampled with
`kgan.latent.sample_latent`, so a seed names the images; a conditional generator's classes drawn
with `kgan.latent.class_labels` from the same seed), or a folder, zip or `.npz` of images —
any library's samples, scored with the same protocol. `EvaluateCallback` computes a cheap metric
during training and keeps the best generator by it.
"""

import dataclasses
import importlib.metadata
import json
import os
import platform

import keras
import numpy as np
import tensorflow as tf

from kgan import data as kgan_data
from kgan.callbacks import read_jsonl
from kgan.export import sample_images
from kgan.images import check_uint8_images, to_uint8
from kgan.latent import class_labels, generate, generator_classes, sample_latent, sampling_generator
from kgan.metrics.features import load_extractor
from kgan.metrics.frechet import frechet_distance
from kgan.metrics.kid import kernel_distance
from kgan.metrics.manifold import density_coverage, precision_recall
from kgan.metrics.swd import sliced_wasserstein_distance
from kgan.metrics.toy_face_modes import toy_face_modes

__all__ = [
    "METRICS", "EvaluateCallback", "Evaluation", "ProtocolCard", "evaluate", "evaluate_source", "load_images",
]

# Each metric: what it reports, whether lower is better, and whether it needs a feature extractor.
METRICS = {
    "swd": ("multi-scale sliced Wasserstein distance ×10³ (Karras et al. 2018), per level and mean", True, False),
    "kid": ("kernel distance, unbiased MMD² with a cubic kernel, mean ± std over subsets (Bińkowski et al. 2018)", True, True),
    "fd": ("Fréchet distance of Gaussians fitted to features (Heusel et al. 2017)", True, True),
    "pr": ("improved precision and recall, k = 3 (Kynkäänniemi et al. 2019)", False, True),
    "coverage": ("density and coverage, k = 5 (Naeem et al. 2020)", False, True),
    "modes": ("toy-face modes covered of 576 and KL(generated ‖ uniform), like Stacked MNIST", False, False),
}
DEFAULT_METRICS = ("swd", "kid", "fd", "pr", "coverage")
# Below these sample sizes a metric's value is biased or too noisy to compare across papers.
MIN_SAMPLES = {"fd": 2048, "pr": 5000, "coverage": 5000, "kid": 1000, "modes": 576 * 4}


@dataclasses.dataclass
class ProtocolCard:
    """How a score was computed: enough to reproduce it, or to see why two scores are not comparable."""

    n_real: int
    n_generated: int
    image_size: int
    real_source: str
    generated_source: str
    real_resize: str
    quantisation: str
    extractor: dict | None
    seed: int
    settings: dict
    versions: dict
    warnings: list

    def lines(self):
        extractor = "none (pixel metrics only)"
        if self.extractor:
            e = self.extractor
            extractor = (f"{e.get('name')} {e.get('path') or ''} sha256 {e.get('sha256')}; input {e.get('input_size')} px, "
                         f"resize {e.get('resize')}, {e.get('feature_dim')} features")
        return [
            f"real:        {self.n_real:,} images from {self.real_source} at {self.image_size} px ({self.real_resize})",
            f"generated:   {self.n_generated:,} images from {self.generated_source}",
            f"quantised:   {self.quantisation}",
            f"features:    {extractor}",
            f"seed:        {self.seed}; settings: " + "; ".join(f"{k} {v}" for k, v in self.settings.items()),
            "versions:    " + ", ".join(f"{k} {v}" for k, v in self.versions.items()),
            *[f"WARNING:     {warning}" for warning in self.warnings],
        ]

    def __str__(self):
        return "\n".join(self.lines())


@dataclasses.dataclass
class Evaluation:
    """Scores (name → number) and the protocol card they were made under."""

    scores: dict
    card: ProtocolCard

    def table(self):
        width = max(len(name) for name in self.scores) if self.scores else 0
        rows = [f"  {name:<{width}}  {_format(value)}" for name, value in self.scores.items()]
        return "\n".join(["scores:", *rows, "protocol:", *("  " + line for line in self.card.lines())])

    def to_dict(self):
        return {"scores": self.scores, "protocol": dataclasses.asdict(self.card)}

    def save(self, path):
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        with open(path, "w") as file:
            json.dump(self.to_dict(), file, indent=2, default=_json_default)
        return path


def _format(value):
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _json_default(value):
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


# ---------------------------------------------------------------- image sets
def is_model(path):
    """Whether `path` names a generator (a run folder, a `.keras` file, a SavedModel) rather than images."""
    path = str(path)
    if path.endswith(".keras"):
        return True
    return os.path.isdir(path) and any(
        os.path.exists(os.path.join(path, name)) for name in ("saved_model.pb", "gan.keras", "generator.keras")
    )


def load_images(source, n=None, image_size=None, seed=0):
    """uint8 images (N, S, S, 3) from a folder, glob, zip or `.npz`, and how they were read.

    More than `n` images: a seeded random `n` of them. Files are decoded by `kgan.data` (bad ones
    skipped with a counted warning) and resized to `image_size` with antialiased bilinear filtering;
    an `.npz` must hold uint8 images (the array `images`, or its only array) of that size.

    Returns:
        (images, description of the source, description of the resize).
    """
    source = str(source)
    if source.endswith(".npz"):
        if not os.path.exists(source):
            raise FileNotFoundError(f"{source}: no such .npz file.")
        with np.load(source) as arrays:
            names = list(arrays.keys())
            key = "images" if "images" in names else names[0] if len(names) == 1 else None
            if key is None:
                raise ValueError(f"{source}: holds arrays {names}; name the images 'images'.")
            images = arrays[key]
        if images.dtype != np.uint8 or images.ndim != 4 or images.shape[-1] != 3:
            raise ValueError(
                f"{source}: '{key}' must be uint8 images (N, H, W, 3), got {images.dtype} {images.shape}; "
                "map floats in [-1, 1] with kgan.images.to_uint8 before saving."
            )
        if image_size and images.shape[1:3] != (image_size, image_size):
            raise ValueError(f"{source}: images are {images.shape[1]}×{images.shape[2]}, the comparison needs {image_size}×{image_size}.")
        resize = "none (read from .npz)"
        description = f"{source} ('{key}')"
    else:
        report = kgan_data.scan_source(source, image_size=image_size or 64)
        images = report.images
        sizes = sorted(report.sizes)
        size = images.shape[1]
        resize = ("none (all stored at that size)" if sizes == [(size, size)] else
                  f"bilinear with antialias from {', '.join(f'{w}×{h}' for w, h in sizes[:3])}"
                  f"{' …' if len(sizes) > 3 else ''}, rounded to uint8")
        description = report.description + (f" ({len(report.skipped)} bad files skipped)" if report.skipped else "")
    if n is not None and len(images) > n:
        images = images[np.sort(np.random.default_rng(seed).choice(len(images), n, replace=False))]
    return images, description, resize


# ---------------------------------------------------------------- scoring
def evaluate(real, generated, metrics=DEFAULT_METRICS, features=None, seed=0, real_source="real images",
             generated_source="generated images", real_resize="as given", quantisation=None):
    """Score uint8 `generated` images against uint8 `real` ones; returns an `Evaluation`.

    Args:
        metrics: names in `METRICS`.
        features: a `kgan.metrics.features.FeatureExtractor`, or a spec `load_extractor` reads (a
            kgan encoder `.keras` file, "inception-v3:WEIGHTS.h5", a Keras model or SavedModel);
            needed by kid, fd, pr and coverage.
        seed: seed of every random choice (SWD's patches and directions, KID's subsets).
    """
    real, generated = _check_images(real, "real"), _check_images(generated, "generated")
    if real.shape[1:] != generated.shape[1:]:
        raise ValueError(f"real images are {real.shape[1:]} and generated ones {generated.shape[1:]}: compare equal sizes.")
    unknown = [name for name in metrics if name not in METRICS]
    if unknown:
        raise ValueError(f"unknown metrics {unknown}; choose from {', '.join(METRICS)}.")
    needs_features = [name for name in metrics if METRICS[name][2]]
    extractor = None
    if needs_features:
        if features is None:
            raise ValueError(
                f"--metrics {','.join(needs_features)} need features: pass --features (an encoder trained by "
                "'kgan metrics train-features', 'inception-v3:WEIGHTS.h5', a Keras model or a SavedModel)."
            )
        extractor = load_extractor(features) if isinstance(features, (str, os.PathLike)) else features
    scores, settings = {}, {}
    if "swd" in metrics:
        swd = sliced_wasserstein_distance(real, generated, seed=seed)
        for resolution, value in swd.levels.items():
            scores[f"swd_{resolution}"] = float(value)
        scores["swd"] = float(swd.average)
        settings["swd"] = "128 7×7 patches per image per level, 512 directions, down to 16 px"
    if extractor is not None:
        real_features, fake_features = extractor(real), extractor(generated)
        if "kid" in metrics:
            mean, std = kernel_distance(real_features, fake_features, seed=seed)
            scores["kid"], scores["kid_std"] = float(mean), float(std)
            settings["kid"] = "100 subsets of min(1000, n)"
        if "fd" in metrics:
            scores["fd"] = float(frechet_distance(real_features, fake_features))
        if "pr" in metrics:
            scores["precision"], scores["recall"] = map(float, precision_recall(real_features, fake_features, k=3))
            settings["pr"] = "k 3"
        if "coverage" in metrics:
            scores["density"], scores["coverage"] = map(float, density_coverage(real_features, fake_features, k=5))
            settings["coverage"] = "k 5"
    if "modes" in metrics:
        modes = toy_face_modes(generated)
        scores["modes"] = modes.modes_covered
        scores["modes_kl"] = modes.kl_to_uniform
        scores["modes_decoded"] = modes.decoded_fraction
    warnings = [
        f"{name}: n = {min(len(real), len(generated)):,} is below {MIN_SAMPLES[name]:,}; the value is biased or noisy "
        "and comparable only with scores at the same n"
        for name in metrics if name in MIN_SAMPLES and min(len(real), len(generated)) < MIN_SAMPLES[name]
    ]
    if len(real) != len(generated) and any(name in metrics for name in ("fd", "pr", "coverage")):
        warnings.append(f"n real ({len(real):,}) ≠ n generated ({len(generated):,}): FD and the k-NN metrics depend on both")
    card = ProtocolCard(
        n_real=len(real), n_generated=len(generated), image_size=int(real.shape[1]), real_source=str(real_source),
        generated_source=str(generated_source), real_resize=real_resize,
        quantisation=quantisation or "uint8 on both sides (0..255 integers, as PNG files hold them)",
        extractor=extractor.describe() if extractor is not None else None, seed=int(seed), settings=settings,
        versions=_versions(), warnings=warnings,
    )
    return Evaluation(scores, card)


def evaluate_source(source, data, n=5000, metrics=DEFAULT_METRICS, features=None, seed=0):
    """Score a generator (run folder, `.keras`, SavedModel) or an image set against the images in `data`.

    A generator draws `n` samples from `kgan.latent.sample_latent(n, latent_dim, seed)`, mapped to
    uint8; an image set contributes a seeded random `n` of its images. `data` gives a seeded random
    `n` of its images, resized to the generated images' size.
    """
    if is_model(source):
        generated = sample_images(source, n, seed)
        generated_source = f"{source} (n {n}, z seed {seed})"
        quantisation = "generated floats in [-1, 1] → round((x + 1) · 127.5) clipped to 0..255; real images uint8 as stored"
    else:
        generated, generated_source, _ = load_images(source, n, seed=seed)
        quantisation = "uint8 on both sides (0..255 integers, as image files hold them)"
    real, real_source, real_resize = load_images(data, n, image_size=generated.shape[1], seed=seed)
    return evaluate(
        real, generated, metrics, features=features, seed=seed, real_source=real_source,
        generated_source=generated_source, real_resize=real_resize, quantisation=quantisation,
    )


def _check_images(images, which):
    images = check_uint8_images(images, f"{which} images")
    if len(images) < 2:
        raise ValueError(f"{which} images: need at least 2, got {len(images)}.")
    return images


def _versions():
    try:
        version = importlib.metadata.version("kgan")
    except importlib.metadata.PackageNotFoundError:  # run from a source tree that was never installed
        version = "unknown (not installed)"
    return {"kgan": version, "tensorflow": tf.__version__, "keras": keras.__version__,
            "numpy": np.__version__, "python": platform.python_version()}


# ---------------------------------------------------------------- during training
class EvaluateCallback(keras.callbacks.Callback):
    """Score the generator every `every_n_steps` steps with one cheap metric; keep the best generator.

    Each score goes into `self.history` (name → [(step, value)]), one JSON line in
    `<directory>/metrics.jsonl`, TensorBoard (`tensorboard_dir`) and, when it is the best so far,
    `<directory>/best_generator.keras` (with `best.json` naming the step and score).

    Args:
        real: uint8 real images to compare with (a few hundred suffice for SWD's trend).
        metric: "swd" (lower is better), "modes" (toy faces, higher is better) or a feature metric
            ("kid", "fd") with `features`.
        n: generated samples per evaluation (the same z every time, drawn with `seed`; for a conditional
            generator the same classes too, `kgan.latent.class_labels(n, K, seed)`).
    """

    def __init__(self, real, directory, every_n_steps=500, metric="swd", n=256, features=None, seed=0,
                 tensorboard_dir=None):
        super().__init__()
        if metric not in METRICS or metric in ("pr", "coverage"):
            raise ValueError(f"EvaluateCallback metric must be swd, kid, fd or modes, got {metric!r}.")
        self.real = None if real is None else _check_images(real, "real")[:n]
        self.directory = str(directory)
        self.every_n_steps = int(every_n_steps)
        self.metric = metric
        self.n = int(n)
        self.features = load_extractor(features) if isinstance(features, (str, os.PathLike)) else features
        self.seed = seed
        self.tensorboard_dir = tensorboard_dir
        self.history = {}
        self.best = None  # (step, value)
        self._writer = None

    @property
    def lower_is_better(self):
        return METRICS[self.metric][1]

    def on_train_batch_end(self, batch, logs=None):
        step = int(self.model.generator_steps)
        if step % self.every_n_steps == 0:
            self.evaluate(step)

    def resume(self, step):
        """Go on from `step` of an interrupted run: its scores up to `step` are read back from `metrics.jsonl`."""
        path = os.path.join(self.directory, "metrics.jsonl")
        if not os.path.exists(path):
            return
        for record in read_jsonl(path, until_step=step):  # a line cut short by a kill is dropped
            for name, score in record.items():
                if name != "step":
                    self.history.setdefault(name, []).append((record["step"], score))
        scores = self.history.get(self.metric, [])
        if scores:
            self.best = (min if self.lower_is_better else max)(scores, key=lambda item: item[1])

    def evaluate(self, step):
        """Score the generator now; returns {name: value}."""
        z = sample_latent(self.n, self.model.latent_dim, self.seed)
        generator = sampling_generator(self.model)
        num_classes = generator_classes(generator)
        if num_classes is None:
            generated = np.concatenate([to_uint8(generator(z[i : i + 250], training=False)) for i in range(0, self.n, 250)])
        else:
            labels = class_labels(self.n, num_classes, self.seed)
            generated = np.concatenate(
                [to_uint8(generate(generator, z[i : i + 250], labels[i : i + 250])) for i in range(0, self.n, 250)]
            )
        if self.metric == "modes":
            scores = {"modes": toy_face_modes(generated).modes_covered}
        else:
            scores = evaluate(self.real, generated, (self.metric,), features=self.features, seed=self.seed).scores
            scores = {self.metric: scores[self.metric]}
        value = scores[self.metric]
        for name, score in scores.items():
            self.history.setdefault(name, []).append((step, score))
        os.makedirs(self.directory, exist_ok=True)
        with open(os.path.join(self.directory, "metrics.jsonl"), "a") as file:
            file.write(json.dumps({"step": step, **scores}) + "\n")
        if self.tensorboard_dir:
            if self._writer is None:
                self._writer = tf.summary.create_file_writer(self.tensorboard_dir)
            with self._writer.as_default():
                for name, score in scores.items():
                    tf.summary.scalar(f"evaluation/{name}", score, step=step)
            self._writer.flush()
        better = self.best is None or (value < self.best[1] if self.lower_is_better else value > self.best[1])
        if better:
            self.best = (step, value)
            generator.save(os.path.join(self.directory, "best_generator.keras"))
            with open(os.path.join(self.directory, "best.json"), "w") as file:
                json.dump({"step": step, "metric": self.metric, "value": value}, file)
        return scores
