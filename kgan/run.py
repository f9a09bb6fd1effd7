"""The training run as a library call: `kgan.run.train(RunConfig(...))` is everything `kgan train` does.

    import kgan
    result = kgan.run.train(kgan.run.RunConfig(model="dcgan", data="faces.zip", epochs=10, out="runs/faces"))
    result.gan                 # the trained trainer (networks, optimizers, noise stream)
    result.samples[-1]         # the last sample grid written
    result.history["d_loss"]   # one value per step

One run: the distribution strategy; the recipe's trainer, networks and both optimizers built in the
strategy's scope (`kgan.recipes.build_gan`); the data (`kgan.data.load`, or the embedded toy faces);
with `resume`, the last readable backup of the run folder (made with the same options) and the step
it reached; `fit` with the callbacks (sample grids from a fixed z named by step, per-step history in
`steps.jsonl`, a crash-safe backup every `backup_every` steps, the health monitor, optional scores
every N steps and TensorBoard, and any of yours); then the artefacts: `gan.keras` (trainer with
optimizers), `generator.keras`, `discriminator.keras`, `history.json` (with the monitor's verdict
and findings), `monitor.jsonl`, `loss.png`, and the pictures of `kgan.figures` (`progress.png`/`.gif`,
`interpolation.png`, `neighbours.png`). On toy faces the run ends by counting the final generator's
face modes (`kgan.metrics.toy_face_modes`).

A run resumed after an interruption ends where the uninterrupted run ends, bit for bit on CPU: step
k's batch and noise depend only on the seed and k, and the backup holds every weight, both
optimizers and the noise stream. Its record is one run too: `steps.jsonl`, `history.json` and
`loss.png` cover every step since the start, and the grids go on numbering from the resumed step.
"""

import dataclasses
import glob
import json
import os
import re
import time

import keras
import numpy as np
import tensorflow as tf

from kgan import data as kgan_data
from kgan.callbacks import BackupError, SampleGrid, StepBackup, StepHistory, truncate_jsonl
from kgan.data.pipeline import streamed_read_error
from kgan.data.labels import class_summary
from kgan.datasets import toy_faces
from kgan.datasets.toy_faces import MIN_DECODE_SIZE, toy_face_classes
from kgan.defaults import EPOCHS, IMAGE_SIZE, TOY_EPOCHS, TOY_IMAGE_SIZE, TOY_IMAGES, TOY_WIDTH
from kgan.distribute import agree_on_step, get_strategy, worker_index
from kgan.evaluate import EvaluateCallback
from kgan.figures import interpolation_grid, nearest_neighbours, progress_strip, save_gif
from kgan.images import to_uint8
from kgan.latent import generate_samples, sampling_generator
from kgan.metrics.conditional import score_conditional_generator
from kgan.metrics.toy_face_modes import expected_modes_uniform, toy_face_modes
from kgan.monitor import GANMonitor
from kgan.plots import plot_history
from kgan.recipes import PenaltyTerm, Recipe, build_gan, get_model, get_recipe

__all__ = ["RunConfig", "RunResult", "train"]


@dataclasses.dataclass
class RunConfig:
    """One training run: what to train, on what, for how long, and where its files go.

    Attributes:
        model: a model of `kgan.recipes.MODELS` ("dcgan", "wgan-gp").
        recipe: one of the model's recipe names (default: its default recipe), or a `kgan.recipes.Recipe`.
        data: images to train on (anything `kgan.data.load` reads: a folder, glob, zip, or
            "tfds:NAME[:SPLIT]"); `None` trains on `toy_images` embedded toy faces.
        image_size: side of the training images (`None`: 64, or 32 on the toy faces).
        epochs, steps_per_epoch: the run's length in generator steps is their product;
            `steps_per_epoch=None` is one pass over the data. `epochs=None`: 5, or 40 on the toy faces.
        seed: seed of the weights, the noise stream and the data order.
        strategy: a `kgan.distribute.get_strategy` spec ("auto", "mirrored", "multiworker", "cpu:N", ...);
            `sync_bn` makes BatchNorm use statistics over all replicas.
        out: the run folder (default `runs/<model>-<recipe>`).
        resume: go on from the last backup in `out` (a fresh start when there is none). The backup must
            have been made with the same options, except those of `RESUMABLE_CHANGES` (the run's length,
            its output and health options, the strategy, the memory budget).
        backup_every: steps between backups (also one at every epoch's end); at least 1.
        memory_budget: the most memory the decoded training images may take ("2G", bytes; default: a
            quarter of the available memory); a larger source is streamed (`kgan.data.load`).
        sample_every: steps between extra sample grids (default: one grid per epoch only).
        batch_size, learning_rate, n_critic, gp_weight, latent_dim, width: change the recipe's values
            (`None`: the recipe's own, except on the toy faces, whose width is 32; see `Recipe.override`).
        precision, loss, d_learning_rate, g_learning_rate, augment, ema, label_smoothing, label_flip,
            instance_noise, one_step: the recipe's tricks (`kgan.recipes.Recipe`; `None`: the recipe's own).
        penalties: more penalties for D, as `kgan.recipes.PenaltyTerm.parse` reads them ("r1:0.1:every=4").
        monitor: watch the run's health (`kgan.monitor.GANMonitor`): warnings on the console and in
            `monitor.jsonl`, and a verdict at the end.
        stop_on_failure: stop the run at the monitor's first failure (D wins, exploding gradients,
            lost diversity; NaN/Inf always stops).
        conditioning: train a class-conditional GAN (`kgan.recipes.Recipe.conditioning`): "projection",
            "acgan" (both learn from labelled data) or "infogan" (learns its own codes, no labels).
        labels: where the labels come from: on the toy faces an attribute or a combination
            ("hair_color", "hair_color+eye_color"; default "hair_color"), on data "folders" (class
            subfolders, the default: `faces/<class>/*.png`).
        info_codes, continuous_codes, class_loss_weight: InfoGAN's categorical code size and continuous
            codes, AC-GAN's / InfoGAN's class-term weight (`None`: the recipe's).
        evaluate_every: score the generator every this many steps (`kgan.evaluate.EvaluateCallback`:
            toy-face modes on toy faces, else SWD against 256 real images), keeping `best_generator.keras`.
        tensorboard: write TensorBoard logs (scalars, sample grids, scores) to `<out>/tensorboard`.
        verbose: Keras' progress display for `fit` ("auto", 0, 1, 2); 0 also silences kgan's own lines.
    """

    model: str = "dcgan"
    recipe: str | Recipe | None = None
    data: str | None = None
    toy_images: int = TOY_IMAGES
    image_size: int | None = None
    epochs: int | None = None
    steps_per_epoch: int | None = None
    seed: int = 0
    strategy: str = "auto"
    sync_bn: bool = False
    out: str | None = None
    resume: bool = False
    backup_every: int = 100
    memory_budget: int | str | None = None
    sample_every: int | None = None
    batch_size: int | None = None
    learning_rate: float | None = None
    n_critic: int | None = None
    gp_weight: float | None = None
    latent_dim: int | None = None
    width: int | None = None
    precision: str | None = None
    loss: str | None = None
    d_learning_rate: float | None = None
    g_learning_rate: float | None = None
    augment: str | None = None
    ema: float | None = None
    label_smoothing: float | None = None
    label_flip: float | None = None
    instance_noise: float | None = None
    penalties: tuple = ()
    one_step: bool | None = None
    conditioning: str | None = None
    labels: str | None = None
    info_codes: int | None = None
    continuous_codes: int | None = None
    class_loss_weight: float | None = None
    monitor: bool = True
    stop_on_failure: bool = False
    evaluate_every: int | None = None
    tensorboard: bool = False
    verbose: str | int = "auto"

    def resolved(self):
        """This config with its `None` sizes made concrete: the toy faces train at 32 px, width 32, 40 epochs
        (`kgan.defaults`: the demo's budget on a 2-core CPU); data trains at 64 px for 5 epochs.

        Raises:
            ValueError: a count (size, epochs, steps, batch, width…) that is not a whole number ≥ 1; the message names it.
        """
        self.validate()
        toy = self.data is None
        labelled = self.conditioning in ("projection", "acgan")
        if self.labels is not None and not labelled:
            raise ValueError("RunConfig.labels: only a projection or acgan GAN trains on labels (set conditioning).")
        if labelled and not toy and self.labels not in (None, "folders"):
            raise ValueError(f"RunConfig.labels: data is labelled by its class subfolders (labels='folders'), got {self.labels!r}.")
        labels = (_TOY_LABELS if toy else "folders") if labelled and self.labels is None else self.labels
        return dataclasses.replace(
            self, labels=labels,
            image_size=_default(self.image_size, TOY_IMAGE_SIZE if toy else IMAGE_SIZE),
            epochs=_default(self.epochs, TOY_EPOCHS if toy else EPOCHS),
            width=_default(self.width, TOY_WIDTH if toy else None),
        )

    def validate(self):
        """Raise a `ValueError` naming each count that is not a whole number ≥ 1 (`None` means "the default")."""
        for name in _COUNTS:
            value = getattr(self, name)
            if value is None and name not in _REQUIRED_COUNTS:
                continue
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"RunConfig.{name} must be a whole number, at least 1, got {value!r}.")

    def backup_options(self):
        """The options a backup stores and a resume must match (`RESUMABLE_CHANGES` left out), JSON-ready."""
        resolved = self.resolved()
        options = json.loads(json.dumps(dataclasses.replace(resolved, recipe=resolved.recipe_name()).to_dict()))
        return {name: value for name, value in options.items() if name not in RESUMABLE_CHANGES}

    def recipe_name(self):
        """The recipe's name, or "custom" for a `Recipe` object."""
        if isinstance(self.recipe, Recipe):
            return "custom"
        return self.recipe or get_model(self.model).default

    def resolved_recipe(self):
        """The recipe this run trains with: the named one, with this config's changes."""
        extra = dict(PenaltyTerm.parse(spec) for spec in self.penalties)
        return get_recipe(self.model, self.recipe).override(
            batch_size=self.batch_size, learning_rate=self.learning_rate, n_critic=self.n_critic,
            gp_weight=self.gp_weight, latent_dim=self.latent_dim, width=self.width, precision=self.precision,
            loss=self.loss, d_learning_rate=self.d_learning_rate, g_learning_rate=self.g_learning_rate,
            augment=self.augment, ema=self.ema, label_smoothing=self.label_smoothing, label_flip=self.label_flip,
            instance_noise=self.instance_noise, one_step=self.one_step, add_penalties=extra or None,
            conditioning=self.conditioning, info_codes=self.info_codes, continuous_codes=self.continuous_codes,
            class_loss_weight=self.class_loss_weight,
        )

    def to_dict(self):
        config = dataclasses.asdict(self)
        if isinstance(self.recipe, Recipe):
            config["recipe"] = "custom"
        return config


def _default(value, default):
    return default if value is None else value


_COUNTS = ("toy_images", "image_size", "epochs", "steps_per_epoch", "backup_every", "sample_every", "batch_size",
           "n_critic", "latent_dim", "width", "evaluate_every", "info_codes")
_TOY_LABELS = "hair_color"  # 4 classes, each a quarter of the faces
_REQUIRED_COUNTS = ("toy_images", "backup_every")

# Options a resumed run may change: how long it runs, where and how often it writes, how it is watched,
# the hardware (strategy) and how the data is read. Every other option shapes the weights or the data
# order, and a backup made with another value is refused.
RESUMABLE_CHANGES = frozenset({
    "epochs", "out", "resume", "backup_every", "sample_every", "verbose", "monitor", "stop_on_failure",
    "evaluate_every", "tensorboard", "strategy", "sync_bn", "memory_budget",
})


@dataclasses.dataclass
class RunResult:
    """What a run produced.

    Attributes:
        gan: the trained trainer.
        out: the run folder.
        total_steps: generator steps taken in all, including those before a resume.
        resumed_from: the step the run resumed at (0 for a fresh start).
        history: per-step logged values of the whole run, the steps before a resume included (`StepHistory`).
        epochs: per-epoch means of the whole run.
        samples: the sample grids written, in order.
        seconds, images_per_second: wall time of the training, and real images consumed per second.
        verdict: the health monitor's one-sentence verdict (None without a monitor).
        findings: the monitor's findings (`kgan.monitor.Finding`), in order.
        modes: on toy faces, the final generator's `kgan.metrics.ToyFaceModes` (else None).
        conditional: on toy faces, a conditional generator's scores
            (`kgan.metrics.conditional.score_conditional_generator`), else None.
    """

    gan: keras.Model
    out: str
    total_steps: int
    resumed_from: int
    history: dict
    epochs: dict
    samples: list
    seconds: float
    images_per_second: float | None
    verdict: str | None = None
    findings: list = dataclasses.field(default_factory=list)
    modes: object = None
    conditional: dict | None = None


def _load_data(config, batch_size, n_critic):
    """`kgan.data.Batches` for the run: an endless stream of (n_critic stacked) batches, labelled when
    `config.labels` says where labels come from."""
    options = dict(
        image_size=config.image_size, seed=config.seed, repeat=True, critic_batches=n_critic,
        memory_budget=config.memory_budget,
    )
    if config.data is None:
        images, attributes = toy_faces(config.toy_images, image_size=config.image_size, seed=config.seed)
        if config.labels is not None:
            options["labels"], options["class_names"] = toy_face_classes(attributes, config.labels)
        return kgan_data.load(images, batch_size, description=f"embedded toy faces ({config.toy_images})", **options)
    if config.labels is not None:
        options["labels"] = "inferred"
    return kgan_data.load(config.data, batch_size, **options)


def _class_probabilities(batches):
    """The data's class frequencies (G draws its labels from them), or None for unlabelled data."""
    if batches.class_counts is None:
        return None
    counts = np.asarray(batches.class_counts, np.float64)
    return tuple(counts / counts.sum())


def train(config, callbacks=()):
    """Run `config` (a `RunConfig`); `callbacks` are added to kgan's own. Returns a `RunResult`.

    Raises:
        kgan.data.DataSourceError: the data is missing, unreadable, or too small for one step.
        kgan.callbacks.BackupError: `resume` from a backup made with other options, or from backups that
            cannot be read; or a backup cannot be written (a full disk).
        ValueError: an unknown model, recipe or option.
    """
    backup_options = config.backup_options()
    config = config.resolved()
    say = print if config.verbose != 0 else (lambda *args, **kwargs: None)
    strategy = get_strategy(config.strategy)  # first: cpu:N must precede other TensorFlow work
    recipe = config.resolved_recipe()
    if recipe.nets.data != "images":
        raise ValueError(
            f"Recipe {config.recipe_name()!r} trains on 2D points; build it with kgan.recipes.build_gan and train it "
            "on kgan.datasets.mixture_dataset (see benchmarks/mode_collapse.py)."
        )
    out = config.out or os.path.join("runs", f"{config.model}-{config.recipe_name()}")
    worker = worker_index(strategy)
    # each worker keeps its own run folder (backups, record, grids): workers need not share a file system,
    # and on a shared one they must not append to the same files
    out = os.path.join(out, f"worker-{worker}") if worker else out
    os.makedirs(out, exist_ok=True)
    backup_dir = os.path.join(out, "backup")
    if config.resume:  # before anything is built: a backup of other nets would fail to load, cryptically
        StepBackup.check_config(backup_dir, backup_options, ignore=RESUMABLE_CHANGES)
    keras.utils.set_random_seed(config.seed)

    batches = _load_data(config, recipe.batch_size, recipe.n_critic)
    say(f"kgan: {batches.how}" if batches.how else f"kgan: {batches.description}")
    if batches.class_names is not None:
        say(f"kgan: {len(batches.class_names)} classes ({config.labels}):\n"
            + class_summary(batches.class_names, batches.class_counts))
    steps_per_epoch = config.steps_per_epoch or batches.num_images // recipe.batch_size // recipe.n_critic
    if steps_per_epoch < 1:
        raise kgan_data.DataSourceError(
            f"{batches.description}: {batches.num_images} images make no full step of "
            f"{recipe.batch_size} × {recipe.n_critic}."
        )
    total_steps = config.epochs * steps_per_epoch
    with strategy.scope():  # networks and both optimizers are created (and built) in the scope
        gan = build_gan(
            config.model, recipe, image_size=config.image_size, seed=config.seed, total_steps=total_steps,
            synchronized_bn=config.sync_bn, num_classes=len(batches.class_names) if batches.class_names else None,
            class_probabilities=_class_probabilities(batches),
        )

    try:
        done = agree_on_step(strategy, StepBackup.restore(gan, backup_dir) if config.resume else 0)
    except RuntimeError as error:  # workers that restored different steps
        raise BackupError(str(error)) from error
    resumed_from = done
    replicas = strategy.num_replicas_in_sync
    say(
        f"kgan: training {config.model} ({config.recipe_name()} recipe, G {gan.generator.count_params():,} / "
        f"D {gan.discriminator.count_params():,} parameters, batch {recipe.batch_size}, "
        f"{replicas} replica{'s' if replicas > 1 else ''}) on {batches.description} → {out}"
        + (f"; resuming at step {done}" if done else "")
    )
    if done and not batches.resumable:
        say(f"kgan: {batches.description}: from step {done} on, the batches differ from those an uninterrupted run "
            "would have seen (the weights and noise stream resume exactly).")

    tensorboard_dir = os.path.join(out, "tensorboard") if config.tensorboard else None
    samples = SampleGrid(
        os.path.join(out, "samples"), every_n_steps=config.sample_every, seed=config.seed, tensorboard_dir=tensorboard_dir
    )
    real_images = _real_sample(batches.dataset, REAL_SAMPLES)  # for the scores and the nearest-neighbour check
    # One record of the whole run: a resume reads the steps before it back and cuts the logs at its step
    # (the steps after it run again); a fresh start begins new ones.
    steps = StepHistory(os.path.join(out, "steps.jsonl"))
    steps.resume(done)
    for log_name in ("monitor.jsonl", "metrics.jsonl"):
        truncate_jsonl(os.path.join(out, log_name), done)
    earlier_grids = _grids_until(samples.directory, samples.prefix, done) if done else []
    counts_modes = config.data is None and config.image_size >= MIN_DECODE_SIZE  # toy faces this size decode exactly
    monitor = None
    if config.monitor:
        monitor = GANMonitor(
            os.path.join(out, "monitor.jsonl"), seed=config.seed, toy_faces=counts_modes,
            stop_on_failure=config.stop_on_failure, backup_dir=backup_dir, say=say,
            learning_rate=recipe.d_optimizer.learning_rate, resume_command=_resume_command(config, out),
            verdict_at_train_end=False,  # a resumed run fits in parts: one verdict, at the end
        )
        monitor.resume(done, steps.history)
    evaluator = None
    if config.evaluate_every:
        evaluator = EvaluateCallback(
            real_images, out, every_n_steps=config.evaluate_every, metric="modes" if counts_modes else "swd",
            n=256, seed=config.seed, tensorboard_dir=tensorboard_dir,
        )
        evaluator.resume(done)
    callbacks = [
        samples,
        steps,
        *([monitor] if monitor else []),  # before the backup, so a NaN step stops the run before it is saved
        *([evaluator] if evaluator else []),
        *([keras.callbacks.TensorBoard(tensorboard_dir, update_freq=10, write_graph=False, profile_batch=0)]
          if tensorboard_dir else []),
        StepBackup(backup_dir, every_n_steps=config.backup_every, config=backup_options, history=steps),
        *callbacks,
    ]
    start = time.perf_counter()
    while done < total_steps and not gan.stop_training:
        epoch, into_epoch = divmod(done, steps_per_epoch)
        # a resumed run first finishes its interrupted epoch, then goes on epoch by epoch
        try:
            gan.fit(
                batches.from_step(done), initial_epoch=epoch, epochs=epoch + 1 if into_epoch else config.epochs,
                steps_per_epoch=steps_per_epoch - into_epoch, callbacks=callbacks, verbose=config.verbose,
            )
        except tf.errors.OpError as error:  # a streamed file that vanished mid-run: a sentence, not a graph trace
            data_error = streamed_read_error(error)
            if data_error is None:
                raise
            raise data_error from None
        done = gan.generator_steps
    seconds = time.perf_counter() - start
    epochs_logged = _epoch_means(steps.history, steps_per_epoch)

    modes = conditional = None
    if counts_modes:  # toy faces: how many of their 576 modes the generator draws
        modes = toy_face_modes(generated_uint8(sampling_generator(gan), MODE_SAMPLES, config.seed))
        if gan.num_classes is not None:
            conditional = score_conditional_generator(
                sampling_generator(gan), gan.conditioning, config.labels, MODE_SAMPLES, config.seed
            )

    gan.save(os.path.join(out, "gan.keras"))
    sampling_generator(gan).save(os.path.join(out, "generator.keras"))  # the weight average, when the recipe keeps one
    gan.discriminator.save(os.path.join(out, "discriminator.keras"))
    steps_run = done - resumed_from  # by this call
    rate = steps_run * recipe.batch_size * recipe.n_critic / seconds if steps_run else None
    record = {
        "config": config.to_dict(),
        "recipe": dataclasses.asdict(recipe),
        "epochs": epochs_logged,
        "steps": steps.history,
        "total_steps": done,
        "resumed_from": resumed_from,
        "seconds": seconds,
        "images_per_second": rate,
        "verdict": monitor.verdict() if monitor else None,
        "findings": [dataclasses.asdict(finding) for finding in monitor.findings] if monitor else [],
        "modes": modes.to_dict() if modes else None,
        "conditional": conditional,
        "class_names": list(batches.class_names) if batches.class_names else None,
        "evaluations": evaluator.history if evaluator else {},
    }
    with open(os.path.join(out, "history.json"), "w") as file:
        json.dump(record, file)
    title = f"{config.model} ({config.recipe_name()}) on {batches.description}"
    recorded = len(next(iter(steps.history.values()), []))
    if steps_run:
        plot_history(
            steps.history, os.path.join(out, "loss.png"), title=title,
            metrics=evaluator.history if evaluator else None, first_step=done - recorded + 1,
        )
        _draw_pictures(gan, earlier_grids + samples.saved, real_images, out, config.seed, samples.layout)
        last = {name: values[-1] for name, values in epochs_logged.items()}
        say(
            f"kgan: {steps_run} steps in {seconds:.1f} s ({rate:.1f} real images/s); final "
            + ", ".join(f"{k}={v:.4f}" for k, v in last.items())
        )
    if modes is not None:
        say(f"kgan: toy-face modes of {MODE_SAMPLES:,} samples: {modes} (real toy faces at this n: "
            f"{expected_modes_uniform(MODE_SAMPLES):.0f} modes expected)")
    if conditional is not None:
        say(f"kgan: {conditional['summary']}")
    if monitor:
        monitor.write_verdict()
        say(f"kgan: monitor verdict: {monitor.verdict()}" + (f" (details: {monitor.log_path})" if monitor.findings else ""))
    say(f"kgan: {done} generator steps in all; wrote {samples.saved[-1] if samples.saved else 'no new grid'}, "
        "loss.png, progress.png/.gif, interpolation.png, neighbours.png and the models (gan.keras, generator.keras, "
        f"discriminator.keras) in {out}")
    return RunResult(
        gan=gan, out=out, total_steps=done, resumed_from=resumed_from, history=steps.history, epochs=epochs_logged,
        samples=list(samples.saved), seconds=seconds, images_per_second=rate,
        verdict=monitor.verdict() if monitor else None, findings=list(monitor.findings) if monitor else [], modes=modes,
        conditional=conditional,
    )



def _epoch_means(history, steps_per_epoch):
    """Per-epoch means of per-step values (what Keras logs at each epoch's end), over the whole record."""
    return {
        name: [float(np.mean(values[i : i + steps_per_epoch])) for i in range(0, len(values), steps_per_epoch)]
        for name, values in history.items()
    }


def _grids_until(directory, prefix, step):
    """The grids an earlier part of a resumed run wrote, up to `step`, in step order."""
    found = []
    for path in glob.glob(os.path.join(directory, f"{prefix}_step_*.png")):
        match = re.fullmatch(rf"{re.escape(prefix)}_step_(\d+)\.png", os.path.basename(path))
        if match and int(match.group(1)) <= step:
            found.append((int(match.group(1)), path))
    return [path for _, path in sorted(found)]


MODE_SAMPLES = 2000  # samples the final toy-face mode count draws
REAL_SAMPLES = 2000  # real images kept for in-training scores and the nearest-neighbour check


def _real_sample(dataset, n):
    """Up to n real training images as uint8, from the start of the run's stream."""
    images, count = [], 0
    for batch in dataset:
        batch = np.asarray(batch[0] if isinstance(batch, (tuple, list)) else batch)
        batch = batch.reshape(-1, *batch.shape[-3:])  # (batch, n_critic, H, W, C) → images
        images.append(to_uint8(batch))
        count += len(batch)
        if count >= n:
            break
    return np.concatenate(images)[:n]


def _draw_pictures(gan, grids, real_images, out, seed, layout=None):
    """The run's pictures: grids over training (strip, GIF), latent walks, the nearest real neighbours.

    `layout`: the grids' (rows, columns); a conditional generator's grids have a row per class, and the
    strip keeps them all when there are at most 4 (else 2 rows, as for an unconditional grid).
    """
    if grids:
        tiles = layout or (10, 10)
        rows = tiles[0] if tiles[0] <= 4 else 2
        progress_strip(grids, rows=rows, tiles=tiles, max_bands=12, path=os.path.join(out, "progress.png"))
        save_gif(grids, os.path.join(out, "progress.gif"), last_seconds=2.0)
    generator = sampling_generator(gan)
    interpolation_grid(generator, seed=seed, path=os.path.join(out, "interpolation.png"))
    generated = generated_uint8(generator, 64, seed)
    nearest_neighbours(generated, real_images, grid_rows=16, path=os.path.join(out, "neighbours.png"))


def generated_uint8(generator, n, seed):
    """n uint8 samples of `generator` from `kgan.latent.sample_latent(n, …, seed)`, in inference mode."""
    return to_uint8(generate_samples(generator, n, seed=seed, batch_size=250))


def _resume_command(config, out):
    data = f" --data {config.data}" if config.data else ""
    conditional = f" --conditional {config.conditioning}" if config.conditioning else ""
    return f"kgan train {config.model}{data}{conditional} --out {out} --resume"
