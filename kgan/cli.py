"""The `kgan` command line: `kgan train dcgan|wgan-gp`, `kgan export`, `kgan sample`, `kgan data check`."""

import argparse
import json
import os
import sys
import time

__all__ = ["main", "build_parser"]


def _add_train_options(parser, model):
    from kgan.profiles import DEFAULT_PROFILES, PROFILES

    profiles = PROFILES[model]
    data = parser.add_argument_group("data")
    data.add_argument(
        "--data",
        metavar="PATH",
        help="images to train on: a folder, a glob ('faces/*.jpg'), a .zip such as the book's faces.zip, or a "
        "prepared TFDS dataset ('tfds:anime_faces'). Without it kgan trains on its embedded procedural toy faces.",
    )
    data.add_argument("--image-size", type=int, default=64, help="side of the square training images (default: 64)")
    data.add_argument("--toy-images", type=int, default=4096, help="how many toy faces to draw without --data (default: 4096)")
    run = parser.add_argument_group("training")
    run.add_argument(
        "--profile",
        choices=sorted(profiles),
        default=DEFAULT_PROFILES[model],
        help="; ".join(f"'{name}': {recipe.description}" for name, recipe in profiles.items())
        + f" (default: {DEFAULT_PROFILES[model]})",
    )
    run.add_argument("--epochs", type=int, default=5, help="epochs to train (default: 5)")
    run.add_argument(
        "--steps-per-epoch",
        type=int,
        help="generator steps per epoch; the data then repeats as needed (default: one pass over the data)",
    )
    run.add_argument("--batch-size", type=int, help="images per batch (default: the profile's, 64 or the book's 512 for WGAN-GP)")
    run.add_argument("--learning-rate", type=float, help="Adam learning rate of both nets (default: the profile's)")
    if model == "wgan-gp":
        run.add_argument("--n-critic", type=int, help="critic steps per generator step (default: the book's 5)")
        run.add_argument("--gp-weight", type=float, help="gradient-penalty weight λ (default: the book's 10)")
    run.add_argument("--latent-dim", type=int, default=100, help="size of z (default: 100)")
    run.add_argument("--width", type=int, default=64, help="base channel width of both networks (default: the book's 64)")
    run.add_argument("--seed", type=int, default=0, help="seed of weights, latent draws and shuffling (default: 0)")
    run.add_argument(
        "--strategy",
        default="auto",
        metavar="SPEC",
        help="tf.distribute strategy: auto (all GPUs, else none), default, mirrored, multiworker (TF_CONFIG or "
        "SLURM), cpu:N (N logical CPUs) or tpu; --batch-size is the global batch (default: auto)",
    )
    run.add_argument(
        "--sync-bn",
        action="store_true",
        help="BatchNorm statistics over all replicas (default: each replica normalises its own share)",
    )
    out = parser.add_argument_group("output")
    out.add_argument("--out", metavar="DIR", help="run folder (default: runs/<model>-<profile>)")
    out.add_argument(
        "--resume",
        action="store_true",
        help="continue the run in --out from its last backup (written every --backup-every steps and each epoch)",
    )
    out.add_argument("--backup-every", type=int, default=100, metavar="STEPS", help="back up every STEPS steps (default: 100)")
    out.add_argument(
        "--sample-every",
        type=int,
        metavar="STEPS",
        help="also save a sample grid every STEPS steps (default: once per epoch only)",
    )


def build_parser():
    parser = argparse.ArgumentParser(
        prog="kgan",
        description="kgan — the Keras-3 GAN workbook: train the TF2 book's GANs with keras.Model.fit.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    train = commands.add_parser(
        "train",
        help="train a GAN and write sample grids, a loss plot and the models to a run folder",
        description="Train a GAN. Writes samples/*.png (10×10 grids from a fixed z), loss.png, history.json, "
        "checkpoints/ and the final generator.keras / discriminator.keras under --out. "
        "'kgan train MODEL --help' lists a model's options.",
    )
    data = commands.add_parser("data", help="inspect image sources", description="Inspect image sources.")
    data_commands = data.add_subparsers(dest="data_command", metavar="ACTION", required=True)
    check = data_commands.add_parser(
        "check",
        help="scan a source and print how many images are readable, which were skipped and why, and their sizes",
        description="Scan PATH (a folder, glob, .zip or image) exactly as training would read it and print counts: "
        "readable images, skipped files with their reasons, other files ignored, sizes seen.",
    )
    check.add_argument("path", metavar="PATH", help="the source to scan")
    check.add_argument("--image-size", type=int, default=64, help="size the images are decoded to (default: 64)")
    check.set_defaults(handler=_data_check)

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
        "SavedModel folder, a run folder, or a .keras file; the same seed gives the same images from each.",
    )
    sample.add_argument("model", metavar="SAVEDMODEL_OR_MODEL")
    sample.add_argument("--n", type=int, default=64, help="how many images (default: 64)")
    sample.add_argument("--seed", type=int, default=0, help="seed of the latent draw (default: 0)")
    sample.add_argument("--out", default="samples.png", metavar="PNG", help="where to write the grid (default: samples.png)")
    sample.set_defaults(handler=_sample)

    from kgan.profiles import MODEL_SUMMARIES

    models = train.add_subparsers(dest="model", metavar="MODEL", required=True)
    for model, summary in MODEL_SUMMARIES.items():
        sub = models.add_parser(model, help=summary, description=f"Train {summary}.")
        _add_train_options(sub, model)
        sub.set_defaults(handler=_train)
    return parser


def _train(args):
    import keras

    import kgan
    from kgan.callbacks import SampleGrid, StepBackup, StepHistory
    from kgan.plots import plot_history

    strategy = kgan.distribute.get_strategy(args.strategy)  # first: cpu:N must precede other TF work
    recipe = kgan.profiles.get_profile(args.model, args.profile)
    batch_size = args.batch_size or recipe.batch_size
    out = args.out or os.path.join("runs", f"{args.model}-{args.profile}")
    os.makedirs(out, exist_ok=True)
    keras.utils.set_random_seed(args.seed)

    with strategy.scope():  # networks and both optimizers are created (and built) in the scope
        gan = kgan.profiles.build_gan(
            args.model, args.profile, image_size=args.image_size, latent_dim=args.latent_dim, width=args.width,
            seed=args.seed, learning_rate=args.learning_rate,
            n_critic=getattr(args, "n_critic", None), gp_weight=getattr(args, "gp_weight", None),
            synchronized_bn=args.sync_bn,
        )
    data_name = args.data or f"embedded toy faces ({args.toy_images})"
    if args.data and args.data.startswith("tfds:"):  # streamed from disk; its shuffle buffer is not resumable
        stream = kgan.data.make_anime_dataset(
            args.data, batch_size, image_size=args.image_size, seed=args.seed, repeat=True, critic_batches=gan.n_critic
        )
        num_images = kgan.data.tfds_num_examples(args.data)
    else:
        if args.data:
            images = kgan.data.scan_source(args.data, image_size=args.image_size).images
        else:
            images, _ = kgan.data.toy_faces(args.toy_images, image_size=args.image_size, seed=args.seed)
        # One endless stream of batches in which step k's batch depends only on the seed and k, so a
        # resumed run picks the stream up at the step it had reached.
        stream = kgan.data.batches_from_images(
            images, batch_size, seed=args.seed, repeat=True, critic_batches=gan.n_critic, description=data_name
        )
        num_images = len(images)
    steps_per_epoch = args.steps_per_epoch or num_images // batch_size // gan.n_critic
    if steps_per_epoch < 1:
        raise kgan.data.DataSourceError(f"{data_name}: {num_images} images make no full step of {batch_size} × {gan.n_critic}.")
    total_steps = args.epochs * steps_per_epoch

    backup_dir = os.path.join(out, "backup")
    done = kgan.callbacks.StepBackup.restore(gan, backup_dir) if args.resume else 0
    print(
        f"kgan: training {args.model} ({args.profile} profile, G {gan.generator.count_params():,} / "
        f"D {gan.discriminator.count_params():,} parameters, batch {batch_size}, "
        f"{strategy.num_replicas_in_sync} replica{'s' if strategy.num_replicas_in_sync > 1 else ''}) on {data_name} → {out}"
        + (f"; resuming at step {done}" if done else "")
    )

    samples = SampleGrid(os.path.join(out, "samples"), every_n_steps=args.sample_every, seed=args.seed)
    steps = StepHistory()
    callbacks = [
        samples,
        steps,
        StepBackup(backup_dir, every_n_steps=args.backup_every),
        keras.callbacks.ModelCheckpoint(os.path.join(out, "checkpoints", "last.weights.h5"), save_weights_only=True),
    ]
    start = time.perf_counter()
    epochs_logged = {}
    while done < total_steps:
        epoch = done // steps_per_epoch
        # a resumed run first finishes its interrupted epoch, then goes on epoch by epoch
        last_epoch = epoch + 1 if done % steps_per_epoch else args.epochs
        history = gan.fit(
            stream.skip(done), initial_epoch=epoch, epochs=last_epoch,
            steps_per_epoch=steps_per_epoch - done % steps_per_epoch if done % steps_per_epoch else steps_per_epoch,
            callbacks=callbacks,
        )
        for name, values in history.history.items():
            epochs_logged.setdefault(name, []).extend(values)
        done = gan.generator_steps
    seconds = time.perf_counter() - start

    gan.save(os.path.join(out, "gan.keras"))
    gan.generator.save(os.path.join(out, "generator.keras"))
    gan.discriminator.save(os.path.join(out, "discriminator.keras"))
    steps_run = len(steps.history.get("d_loss", []))
    record = {
        "args": {k: v for k, v in vars(args).items() if k != "handler"},
        "epochs": epochs_logged,
        "steps": steps.history,
        "total_steps": done,
        "seconds": seconds,
        "images_per_second": steps_run * batch_size * gan.n_critic / seconds if steps_run else None,
    }
    with open(os.path.join(out, "history.json"), "w") as file:
        json.dump(record, file)
    if steps_run:
        plot_history(steps.history, os.path.join(out, "loss.png"), title=f"{args.model} ({args.profile}) on {data_name}")
        last = {name: values[-1] for name, values in epochs_logged.items()}
        print(
            f"kgan: {steps_run} steps in {seconds:.1f} s ({record['images_per_second']:.1f} real images/s); final "
            + ", ".join(f"{k}={v:.4f}" for k, v in last.items())
        )
    print(f"kgan: {done} generator steps in all; wrote {samples.saved[-1] if samples.saved else 'no new grid'}, "
          f"loss.png and the models (gan.keras, generator.keras, discriminator.keras) in {out}")
    return 0


def _data_check(args):
    from kgan.data import scan_source

    start = time.perf_counter()
    report = scan_source(args.path, image_size=args.image_size)
    print(report.summary())
    print(f"scanned in {time.perf_counter() - start:.1f} s")
    return 0


def _load_generator(path):
    """The generator in a run folder, a trainer's .keras file or a generator's .keras file."""
    import keras

    import kgan  # noqa: F401  (registers kgan's classes for loading)

    if os.path.isdir(path):
        for name in ("gan.keras", "generator.keras"):
            if os.path.exists(os.path.join(path, name)):
                path = os.path.join(path, name)
                break
        else:
            raise FileNotFoundError(f"{path}: no gan.keras or generator.keras in this folder.")
    model = keras.models.load_model(path)
    return getattr(model, "generator", model)


def _export(args):
    from kgan.export import export_generator

    export_generator(_load_generator(args.model), args.out)
    print(f"kgan: exported the generator of {args.model} to {args.out} (load it with tf.saved_model.load)")
    return 0


def _sample(args):
    import math

    import tensorflow as tf

    from kgan.export import sample_latent
    from kgan.images import image_grid, save_png, to_uint8

    if os.path.exists(os.path.join(args.model, "saved_model.pb")):
        exported = tf.saved_model.load(args.model)  # keep a reference: its variables live as long as it does
        images = exported.sample(tf.constant(args.n), tf.constant(args.seed, tf.int64)).numpy()
    else:
        generator = _load_generator(args.model)
        z = sample_latent(args.n, generator.input_shape[-1], args.seed)
        images = to_uint8(generator(z, training=False))
    cols = math.ceil(math.sqrt(args.n))
    rows = math.ceil(args.n / cols)
    padded = list(images) + [images[0] * 0] * (rows * cols - len(images))
    save_png(args.out, image_grid(padded, rows, cols))
    print(f"kgan: wrote {args.n} samples (seed {args.seed}) to {args.out}")
    return 0


def main(argv=None):
    args = build_parser().parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
