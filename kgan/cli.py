"""The `kgan` command line: `kgan train MODEL`, `kgan evaluate`, `kgan metrics train-features`, `kgan export`,
`kgan sample`, `kgan data check|split`.

Argument parsing only: each command maps its options onto a library call (`kgan.run.train`,
`kgan.evaluate.evaluate_source`, `kgan.export.export_generator`, `kgan.export.sample_images`,
`kgan.data.scan_source`, `kgan.data.split_source`). The models,
recipes and their defaults in the help come from `kgan.recipes.MODELS`.

Every count, size, rate and fraction is checked as it is parsed, by the small types below
(`positive_int`, `positive_float`, `non_negative_float`, `fraction_below`), so a bad value stops with
argparse's usage line and exit status 2 — `kgan train wgan-gp: error: argument --n-critic: must be
at least 1, got 0` — before any data is read or any network is built.
"""

import argparse
import math
import sys
import time

__all__ = ["build_parser", "fraction_below", "main", "non_negative_float", "positive_float", "positive_int"]


def positive_int(text):
    """An argparse type: a whole number of at least 1 (a count, a size, a number of steps)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def memory_size(text):
    """An argparse type: a size in bytes, or with a unit (500M, 4G); 0 is allowed."""
    from kgan.data.memory import parse_size

    try:
        return parse_size(text, option="size")
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error).removeprefix("size: ")) from None


def _finite_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None
    if not math.isfinite(value):  # float() reads "nan" and "inf", which no option means
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text!r}")
    return value


def positive_float(text):
    """An argparse type: a finite number above 0 (a learning rate)."""
    value = _finite_float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be above 0, got {value:g}")
    return value


def non_negative_int(text):
    """An argparse type: a whole number of at least 0 (a class index, a count that may be none)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be at least 0, got {value}")
    return value


def non_negative_float(text):
    """An argparse type: a finite number of at least 0 (a weight, a noise level; 0 turns it off)."""
    value = _finite_float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be at least 0, got {value:g}")
    return value


def fraction_below(high):
    """An argparse type: a number in [0, `high`) (a decay, a probability, a smoothing amount)."""

    def fraction(text):
        value = _finite_float(text)
        if not 0 <= value < high:
            raise argparse.ArgumentTypeError(f"must be in [0, {high:g}), got {value:g}")
        return value

    fraction.__name__ = f"fraction_below_{high:g}"
    return fraction


def _holdout(text):
    """`kgan data split --holdout`: a fraction in (0, 1) of the images, or a whole count of them."""
    value = positive_float(text)
    if value >= 1 and not value.is_integer():
        raise argparse.ArgumentTypeError(f"must be a fraction below 1 or a whole count of images, got {value:g}")
    return value


def _gp_weight(recipe):
    term = (recipe.penalties or {}).get("gp")
    return None if term is None else term.weight


# The recipe's values a run can change (RunConfig's fields of the same names): option, type, what it
# is, and its value in a recipe (None where the recipe has none).
_RECIPE_VALUES = [
    ("--batch-size", positive_int, "images per batch", lambda recipe: recipe.batch_size),
    ("--learning-rate", positive_float, "Adam learning rate of both nets", lambda recipe: recipe.d_optimizer.learning_rate),
    ("--n-critic", positive_int, "critic steps per generator step", lambda recipe: recipe.n_critic if recipe.n_critic > 1 else None),
    ("--gp-weight", non_negative_float, "gradient-penalty weight λ", _gp_weight),
    ("--latent-dim", positive_int, "size of z", lambda recipe: recipe.nets.latent_dim),
    ("--width", positive_int, "base channel width of both networks (32 on the toy faces)", lambda recipe: recipe.nets.width),
]


def _add_train_options(parser, model):
    from kgan.defaults import EPOCHS, IMAGE_SIZE, TOY_EPOCHS, TOY_IMAGE_SIZE
    from kgan.recipes import get_model
    from kgan.run import RunConfig

    entry = get_model(model)
    default = RunConfig()  # the run's defaults are the CLI's
    recipes = entry.recipe_names("images")
    data = parser.add_argument_group("data")
    data.add_argument(
        "--data",
        metavar="PATH",
        help="images to train on: a folder, a glob ('faces/*.jpg'), a .zip such as the book's faces.zip, or a "
        "prepared TFDS dataset ('tfds:anime_faces'). Without it kgan trains on its embedded procedural toy faces.",
    )
    data.add_argument(
        "--image-size", type=positive_int,
        help=f"side of the square training images (default: {IMAGE_SIZE}; {TOY_IMAGE_SIZE} on the toy faces)",
    )
    data.add_argument(
        "--memory-budget", type=memory_size, metavar="SIZE",
        help="most memory the decoded images may take, e.g. 500M or 4G; a larger source is streamed from disk, "
        "batch by batch, giving the same batches (default: a quarter of the available memory; 0: always stream)",
    )
    data.add_argument(
        "--toy-images", type=positive_int, default=default.toy_images,
        help=f"how many toy faces to draw without --data (default: {default.toy_images})",
    )
    run = parser.add_argument_group("training")
    run.add_argument(
        "--recipe",
        choices=recipes,
        default=entry.default,
        help="the training recipe (kgan.recipes): "
        + "; ".join(f"'{name}': {entry.recipes[name].description}" for name in recipes)
        + f" (default: {entry.default})",
    )
    run.add_argument("--epochs", type=positive_int, help=f"epochs to train (default: {EPOCHS}; {TOY_EPOCHS} on the toy faces)")
    run.add_argument(
        "--steps-per-epoch",
        type=positive_int,
        help="generator steps per epoch; the data then repeats as needed (default: one pass over the data)",
    )
    for option, kind, what, value_in in _RECIPE_VALUES:
        values = {name: value_in(entry.recipes[name]) for name in recipes}
        if any(value is not None for value in values.values()):  # an option only where some recipe has the value
            shown = ", ".join(f"{name} {value:g}" for name, value in values.items() if value is not None)
            run.add_argument(option, type=kind, help=f"{what} (default: the recipe's: {shown})")
    _add_trick_options(parser, entry)
    run.add_argument(
        "--seed", type=int, default=default.seed,
        help=f"seed of weights, latent draws and shuffling (default: {default.seed})",
    )
    run.add_argument(
        "--strategy",
        default=default.strategy,
        metavar="SPEC",
        help="tf.distribute strategy: auto (all GPUs, else none), default, mirrored, multiworker (TF_CONFIG or "
        f"SLURM), cpu:N (N logical CPUs) or tpu; --batch-size is the global batch (default: {default.strategy})",
    )
    run.add_argument(
        "--sync-bn",
        action="store_true",
        help="BatchNorm statistics over all replicas (default: each replica normalises its own share)",
    )
    out = parser.add_argument_group("output")
    out.add_argument("--out", metavar="DIR", help="run folder (default: runs/<model>-<recipe>)")
    out.add_argument(
        "--resume",
        action="store_true",
        help="continue the run in --out from its last backup (written every --backup-every steps and each epoch)",
    )
    out.add_argument(
        "--backup-every", type=positive_int, default=default.backup_every, metavar="STEPS",
        help=f"back up every STEPS steps (default: {default.backup_every})",
    )
    health = parser.add_argument_group("health")
    health.add_argument(
        "--no-monitor", dest="monitor", action="store_false",
        help="do not watch the run's health (by default kgan.monitor.GANMonitor warns when D wins, gradients explode, "
        "samples lose their diversity, losses oscillate or a value turns NaN, writes monitor.jsonl and ends with a verdict)",
    )
    health.add_argument(
        "--stop-on-failure", action="store_true",
        help="stop at the monitor's first failure (D wins, exploding gradients, lost diversity); NaN always stops",
    )
    health.add_argument(
        "--evaluate-every", type=positive_int, metavar="STEPS",
        help="score the generator every STEPS steps (toy faces: modes covered; images: SWD against 256 real images), "
        "into metrics.jsonl, the history and TensorBoard, keeping best_generator.keras (default: off)",
    )
    health.add_argument(
        "--tensorboard", action="store_true",
        help="write TensorBoard logs to <out>/tensorboard: per-step scalars, sample grids, evaluation scores",
    )
    out.add_argument(
        "--sample-every",
        type=positive_int,
        metavar="STEPS",
        help="also save a sample grid every STEPS steps (default: once per epoch only)",
    )


def _add_trick_options(parser, entry):
    """The catalogue of `kgan.recipes.Recipe`'s tricks, each changing the chosen recipe (default: the recipe's own)."""
    from kgan.augment import AUGMENTATIONS
    from kgan.losses import LOSSES
    from kgan.penalties import PENALTIES
    from kgan.recipes import PRECISIONS

    tricks = parser.add_argument_group("tricks (each changes the recipe; default: the recipe's own)")
    tricks.add_argument("--precision", choices=PRECISIONS, help="Keras dtype policy of both networks; losses stay float32")
    tricks.add_argument("--loss", choices=sorted(LOSSES), help="loss family of D and G (kgan.losses)")
    tricks.add_argument("--d-learning-rate", type=positive_float, metavar="RATE", help="D's Adam learning rate (TTUR)")
    tricks.add_argument("--g-learning-rate", type=positive_float, metavar="RATE", help="G's Adam learning rate (TTUR)")
    tricks.add_argument(
        "--augment", choices=sorted([*AUGMENTATIONS, "ada"]),
        help="augment everything D sees, differentiably (DiffAugment), or 'ada': adaptively, from D's overfitting",
    )
    tricks.add_argument("--ema", type=fraction_below(1), metavar="DECAY", help="keep an EMA of G's weights (e.g. 0.999): samples use it")
    tricks.add_argument("--label-smoothing", type=fraction_below(1), metavar="S", help="one-sided label smoothing: real targets 1 − S")
    # below 0.5 as the trainer requires: flipping half the labels or more swaps what D learns real and fake to be
    tricks.add_argument(
        "--label-flip", type=fraction_below(0.5), metavar="P", help="swap a sample's real/fake labels with probability P (< 0.5)"
    )
    tricks.add_argument("--instance-noise", type=non_negative_float, metavar="STD", help="noise on D's inputs, fading to 0 over the run")
    tricks.add_argument(
        "--penalty", action="append", default=[], metavar="NAME:WEIGHT[:k=v]",
        help=f"add a penalty on D (repeatable): NAME one of {', '.join(sorted(PENALTIES))}; options every=K (lazy), "
        "fade=F / warmup=F (fractions of the run), and the penalty's own (e.g. r1:0.1:every=4)",
    )
    if entry.trainer.__name__ == "DCGAN":
        tricks.add_argument(
            "--one-step", action="store_true", default=None,
            help="update D and G at once from one loss (kgan.trainers.OneStepGAN)",
        )
    _add_conditional_options(parser)


def _add_conditional_options(parser):
    from kgan.trainers.base import CONDITIONINGS

    conditional = parser.add_argument_group("conditional GANs (class labels)")
    conditional.add_argument(
        "--conditional", nargs="?", const="projection", choices=CONDITIONINGS, metavar="KIND",
        help="train a class-conditional GAN: 'projection' (the default KIND: a projection discriminator and a generator "
        "with class embedding and conditional BatchNorm), 'acgan' (an auxiliary classifier) or 'infogan' (codes "
        "the GAN finds itself, no labels). Labels come from --labels",
    )
    conditional.add_argument(
        "--labels", metavar="SPEC",
        help="where labels come from: on the toy faces an attribute or a combination joined by '+' (hair_color, "
        "eye_color, background, face_shape, hair_style; default hair_color); with --data 'folders' (the default: "
        "class subfolders, faces/<class>/*.png)",
    )
    conditional.add_argument("--info-codes", type=positive_int, metavar="K", help="InfoGAN: values of the categorical code (default 4)")
    conditional.add_argument(
        "--continuous-codes", type=non_negative_int, metavar="M", help="InfoGAN: continuous codes, the first M entries of z (default 0)"
    )
    conditional.add_argument(
        "--class-loss-weight", type=non_negative_float, metavar="W", help="weight of AC-GAN's class loss / InfoGAN's λ (default 1)"
    )


def build_parser():
    from kgan.defaults import IMAGE_SIZE
    from kgan.recipes import MODELS

    parser = argparse.ArgumentParser(
        prog="kgan",
        description="kgan — the Keras-3 GAN workbook: train the TF2 book's GANs with keras.Model.fit.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    train = commands.add_parser(
        "train",
        help="train a GAN and write sample grids, a loss plot and the models to a run folder",
        description="Train a GAN. Writes samples/*.png (10×10 grids from a fixed z), loss.png, history.json, "
        "steps.jsonl, backup/ and the final gan.keras / generator.keras / discriminator.keras under --out. "
        "'kgan train MODEL --help' lists a model's options.",
    )
    models = train.add_subparsers(dest="model", metavar="MODEL", required=True)
    for model, entry in MODELS.items():
        sub = models.add_parser(model, help=entry.summary, description=f"Train {entry.summary}.")
        _add_train_options(sub, model)
        sub.set_defaults(handler=_train)

    data = commands.add_parser("data", help="inspect image sources", description="Inspect image sources.")
    data_commands = data.add_subparsers(dest="data_command", metavar="ACTION", required=True)
    check = data_commands.add_parser(
        "check",
        help="scan a source and print how many images are readable, which were skipped and why, and their sizes",
        description="Scan PATH (a folder, glob, .zip or image) exactly as training would read it and print counts: "
        "readable images, skipped files with their reasons, other files ignored, sizes seen.",
    )
    check.add_argument("path", metavar="PATH", help="the source to scan")
    check.add_argument(
        "--image-size", type=positive_int, default=IMAGE_SIZE, help=f"size the images are decoded to (default: {IMAGE_SIZE})"
    )
    check.add_argument(
        "--labels", action="store_true",
        help="also read class labels from class subfolders (PATH/<class>/*.png) and count the images of each class",
    )
    check.set_defaults(handler=_data_check)
    split = data_commands.add_parser(
        "split",
        help="split a source into PREFIX-train.zip and PREFIX-holdout.zip (seeded), to score on images never trained on",
        description="Copy PATH's images into two zips in --out: a random held-out part of --holdout images "
        "(or a fraction, e.g. 0.2) and the rest for training. The same --seed gives the same split.",
    )
    split.add_argument("path", metavar="PATH", help="the source to split (folder, glob or .zip)")
    split.add_argument("--holdout", type=_holdout, required=True, help="images to hold out: a count, or a fraction below 1")
    split.add_argument("--out", required=True, metavar="DIR", help="folder for the two zips")
    split.add_argument("--seed", type=int, default=0, help="seed of the random split (default: 0)")
    split.set_defaults(handler=_data_split)

    evaluate = commands.add_parser(
        "evaluate",
        help="score a generator, or any folder/zip/.npz of generated images, against real images, with a protocol card",
        description="Score RUN_OR_MODEL — a run folder, a .keras file, an exported SavedModel, or a folder, zip or .npz of "
        "uint8 images from any generator — against the real images in --data. Prints a table of scores and the protocol "
        "card (n, resize, quantisation, feature extractor and its SHA-256, seed, versions) and writes both as JSON. "
        "Feature metrics (kid, fd, pr, coverage) need --features. Nothing is downloaded.",
    )
    evaluate.add_argument("source", metavar="RUN_OR_MODEL")
    evaluate.add_argument("--data", required=True, metavar="PATH", help="real images (folder, glob, zip); use images never trained on")
    evaluate.add_argument("--n", type=positive_int, default=5000, help="images per side (default: 5000; FD needs ≥ 2048 to be comparable)")
    evaluate.add_argument(
        "--metrics", default=None, metavar="LIST",
        help="comma-separated, of: swd, kid, fd, pr, coverage, modes (toy faces) (default: swd, plus kid,fd,pr,coverage "
        "with --features)",
    )
    evaluate.add_argument(
        "--features", metavar="PATH",
        help="feature extractor: an encoder from 'kgan metrics train-features', 'inception-v3:WEIGHTS.h5' (a file you "
        "supply; FID proper), a Keras model file or a SavedModel folder",
    )
    evaluate.add_argument("--seed", type=int, default=0, help="seed of z, the subsets and the projections (default: 0)")
    evaluate.add_argument("--out", metavar="JSON", help="where to write the scores (default: RUN/evaluation.json, else evaluation.json)")
    evaluate.set_defaults(handler=_evaluate)

    metrics = commands.add_parser("metrics", help="tools for the metrics", description="Tools for kgan's metrics.")
    metrics_commands = metrics.add_subparsers(dest="metrics_command", metavar="ACTION", required=True)
    features = metrics_commands.add_parser(
        "train-features",
        help="train kgan's small feature encoder on your real images (minutes on a CPU), for kid/fd/pr/coverage",
        description="Train a small self-supervised encoder on the real images in --data and save it as a .keras file "
        "(with a .json of how it was trained). Its Fréchet distance is not FID: use it to compare runs on the same data "
        "with the same encoder file (the protocol card records its SHA-256).",
    )
    features.add_argument("--data", required=True, metavar="PATH", help="real images to train on (folder, glob, zip)")
    features.add_argument("--out", required=True, metavar="FILE", help="the encoder file to write (.keras)")
    features.add_argument("--image-size", type=positive_int, default=IMAGE_SIZE, help=f"image side (default: {IMAGE_SIZE})")
    features.add_argument("--steps", type=positive_int, default=2000, help="training steps (default: 2000)")
    features.add_argument("--seed", type=int, default=0, help="seed (default: 0)")
    features.set_defaults(handler=_train_features)

    export = commands.add_parser(
        "export",
        help="export a trained generator as a TensorFlow SavedModel (loads without kgan)",
        description="Export the generator of RUN_DIR_OR_MODEL (a run folder, a trainer's gan.keras or a generator.keras) "
        "as a SavedModel with endpoints generate(z), generate_images(z), sample(n, seed) and serving_default.",
    )
    export.add_argument("model", metavar="RUN_DIR_OR_MODEL")
    export.add_argument("--out", required=True, metavar="DIR", help="folder to write the SavedModel to")
    export.set_defaults(handler=_export)
    sample = commands.add_parser(
        "sample",
        help="draw a grid of samples from a SavedModel or a .keras model",
        description="Draw N samples with a seed and save them as one PNG grid. SAVEDMODEL_OR_MODEL is an exported "
        "SavedModel folder, a run folder, or a .keras file; the same seed gives the same images from each "
        "(and a run's sample grids are --n 100 --seed <the run's seed>).",
    )
    sample.add_argument("model", metavar="SAVEDMODEL_OR_MODEL")
    sample.add_argument("--n", type=positive_int, default=64, help="how many images (default: 64)")
    sample.add_argument("--seed", type=int, default=0, help="seed of the latent draw (default: 0)")
    sample.add_argument("--out", default="samples.png", metavar="PNG", help="where to write the grid (default: samples.png)")
    sample.add_argument(
        "--label", type=non_negative_int, metavar="CLASS",
        help="a conditional generator: draw every sample of this class (default: random classes for the seed)",
    )
    sample.set_defaults(handler=_sample)
    return parser


def _train(args):
    from kgan.run import RunConfig, train

    config = RunConfig(
        model=args.model, recipe=args.recipe, data=args.data, toy_images=args.toy_images, image_size=args.image_size,
        epochs=args.epochs, steps_per_epoch=args.steps_per_epoch, seed=args.seed, strategy=args.strategy,
        sync_bn=args.sync_bn, out=args.out, resume=args.resume, backup_every=args.backup_every,
        sample_every=args.sample_every, batch_size=args.batch_size, learning_rate=args.learning_rate,
        n_critic=getattr(args, "n_critic", None), gp_weight=getattr(args, "gp_weight", None),
        latent_dim=args.latent_dim, width=args.width, monitor=args.monitor, stop_on_failure=args.stop_on_failure,
        evaluate_every=args.evaluate_every, tensorboard=args.tensorboard, precision=args.precision, loss=args.loss,
        d_learning_rate=args.d_learning_rate, g_learning_rate=args.g_learning_rate, augment=args.augment, ema=args.ema,
        label_smoothing=args.label_smoothing, label_flip=args.label_flip, instance_noise=args.instance_noise,
        penalties=tuple(args.penalty), one_step=getattr(args, "one_step", None), memory_budget=args.memory_budget,
        conditioning=args.conditional, labels=args.labels, info_codes=args.info_codes,
        continuous_codes=args.continuous_codes, class_loss_weight=args.class_loss_weight,
    )
    try:
        config.resolved_recipe()  # bad option values (an unknown penalty, a weight that is not a number) stop here
        config.resolved()
    except (TypeError, ValueError) as error:
        print(f"kgan train: error: {error}", file=sys.stderr)
        return 2
    train(config)
    return 0


def _data_check(args):
    from kgan.data import scan_source
    from kgan.data.labels import class_counts, class_summary, infer_labels

    start = time.perf_counter()
    report = scan_source(args.path, image_size=args.image_size, keep_images=False)  # counts only: nothing is held
    print(report.summary())
    if args.labels:
        labels, class_names = infer_labels(report.source, report.names)
        print(f"{len(class_names)} classes (class subfolders):")
        print(class_summary(class_names, class_counts(labels, len(class_names))))
    print(f"scanned in {time.perf_counter() - start:.1f} s")
    return 0


def _data_split(args):
    from kgan.data import split_source

    holdout = args.holdout if args.holdout < 1 else int(args.holdout)
    for part, (path, count) in split_source(args.path, holdout, args.out, seed=args.seed).items():
        print(f"kgan: {part}: {count:,} images → {path}")
    return 0


def _evaluate(args):
    import os

    from kgan.evaluate import DEFAULT_METRICS, evaluate_source

    if args.metrics:
        metrics = tuple(name.strip() for name in args.metrics.split(",") if name.strip())
    else:
        metrics = DEFAULT_METRICS if args.features else ("swd",)
    evaluation = evaluate_source(args.source, args.data, n=args.n, metrics=metrics, features=args.features, seed=args.seed)
    out = args.out or (os.path.join(args.source, "evaluation.json") if os.path.isdir(args.source) else "evaluation.json")
    print(evaluation.table())
    evaluation.save(out)
    print(f"kgan: wrote {out}")
    return 0


def _train_features(args):
    from kgan.data import scan_source
    from kgan.metrics.features import train_feature_encoder

    images = scan_source(args.data, image_size=args.image_size).images
    extractor = train_feature_encoder(images, args.out, image_size=args.image_size, steps=args.steps, seed=args.seed)
    print(f"kgan: trained a feature encoder on {len(images):,} images → {args.out} (sha256 {extractor.sha256})")
    return 0


def _export(args):
    from kgan.export import export_generator, load_generator

    export_generator(load_generator(args.model), args.out, class_names=_run_class_names(args.model))
    print(f"kgan: exported the generator of {args.model} to {args.out} (load it with tf.saved_model.load)")
    return 0


def _run_class_names(path):
    """A conditional run folder's class names (from its history.json), or None."""
    import json
    import os

    record = os.path.join(path, "history.json")
    if not os.path.isfile(record):
        return None
    with open(record) as file:
        return json.load(file).get("class_names")


def _sample(args):
    from kgan.export import sample_images
    from kgan.images import save_png, square_grid

    try:
        images = sample_images(args.model, args.n, args.seed, label=args.label)
    except ValueError as error:  # a label the generator has no class for, or a label for an unconditional one
        print(f"kgan sample: error: {error}", file=sys.stderr)
        return 2
    save_png(args.out, square_grid(images))
    of_class = "" if args.label is None else f" of class {args.label}"
    print(f"kgan: wrote {args.n} samples{of_class} (seed {args.seed}) to {args.out}")
    return 0


def main(argv=None):
    from kgan.callbacks import BackupError
    from kgan.data import DataSourceError

    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except (DataSourceError, BackupError) as error:  # the user's files, not kgan: the message says what to do
        command = " ".join(filter(None, ["kgan", args.command, getattr(args, "model", None)]))
        print(f"{command}: error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
