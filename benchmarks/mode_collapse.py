"""Mode collapse on PacGAN's 2D mixtures: how many modes each GAN configuration covers, and how precisely.

    python benchmarks/mode_collapse.py --jobs 2             # every configuration, 5 seeds (16 min on 2 cores)
    python benchmarks/mode_collapse.py --configs gan-long --jobs 2  # the control: plain GAN as long as best (5 min)
    python benchmarks/mode_collapse.py --configs gan best --seeds 0 1
    python benchmarks/mode_collapse.py --quick              # 1 seed, few steps, two configurations: a smoke run

Every configuration trains through kgan's own trainers (`kgan.DCGAN` for the BCE GANs, `kgan.WGANGP`
for WGAN-GP, with `fit`) on the ring of 8 and the grid of 25 Gaussians (`kgan.toy`), once per seed,
and is scored the way PacGAN and VEEGAN score it: 2,500 generated samples, a sample is *high quality*
within 3σ of its nearest mode, a mode is *covered* with at least 20 high-quality samples
(`kgan.toy.mode_coverage`). The table prints mean ± std over seeds.

Every random draw goes through the seed: `keras.utils.set_random_seed(seed)` before the networks
are built, the trainer's latent seed, the data stream's seed, and the evaluation's z.
"""

import argparse
import dataclasses
import functools
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
from keras import ops  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import kgan  # noqa: E402
from kgan.nets import build_mlp_discriminator, build_mlp_generator  # noqa: E402
from kgan.toy import generate_samples, grid_of_gaussians, mixture_dataset, mode_coverage, ring_of_gaussians  # noqa: E402


@dataclasses.dataclass(frozen=True)
class Config:
    """One row of the table: networks, trainer, optimiser and training length."""

    description: str
    trainer: str = "gan"  # "gan": kgan.DCGAN (BCE losses); "wgan-gp": kgan.WGANGP
    g_hidden: tuple = (128, 128, 128)
    d_hidden: tuple = (128, 128, 128)
    spectral_norm: bool = False
    minibatch: str = None  # None, "mbd", "mbstd"
    pack: int = 1
    zero_gp: float = 0.0  # weight of a zero-centred gradient penalty on D, in the data's units (see build_trainer)
    zero_gp_fade: float = 0.5  # the penalty fades to 0 over this fraction of the training
    n_critic: int = 5  # WGAN-GP only
    learning_rate: float = 1e-3
    betas: tuple = (0.5, 0.9)
    batch_size: int = 100
    step_scale: float = 1.0  # generator steps = --steps × step_scale
    g_ema: float = 0.0  # > 0: the generator ends with an exponential moving average of its weights (per-step decay)


CONFIGS = {
    "gan": Config("plain GAN: BCE losses, MLP G and D (3×128)"),
    "gan+mbd": Config("+ minibatch discrimination (Salimans 2016), 5 kernels of dim 3", minibatch="mbd"),
    "gan+mbstd": Config("+ minibatch stddev (Karras 2018), groups of 4", minibatch="mbstd"),
    "gan+sn": Config("+ spectral norm on every D layer (Miyato 2018)", spectral_norm=True),
    "pacgan2": Config("PacGAN2 (Lin 2018): D judges 2 samples packed", pack=2),
    "wgan-gp": Config(
        "WGAN-GP (Gulrajani 2017): n_critic 5, λ 10, Adam(1e-4, 0.5, 0.9); 1/5 of the G steps = as many D steps",
        trainer="wgan-gp", learning_rate=1e-4, step_scale=0.2,
    ),
    "gan-long": Config("plain GAN, trained as long as best (control)", step_scale=4.0),
    "best": Config(
        "plain GAN + zero-centred GP on D (λ = 1/160 in data units, i.e. 0.1 on the grid) faded out over "
        "the first half + EMA of G's weights (decay 0.9995/step); 4× the steps", zero_gp=1 / 160, g_ema=0.9995,
        step_scale=4.0,
    ),
}
DEFAULT_CONFIGS = tuple(name for name in CONFIGS if name != "gan-long")  # the control costs another 5 min
QUICK_CONFIGS = ("gan", "best")
MIXTURES = {"ring": ring_of_gaussians, "grid": grid_of_gaussians}


def faded_zero_gp(optimizer, fade_steps):
    """kgan's gradient penalty with target 0, E‖∇D(x̂)‖² at real–fake interpolates (Thanh-Tung et al. 2019),
    multiplied by a factor that falls linearly from 1 to 0 over the first `fade_steps` updates of `optimizer`.

    Early on it keeps D smooth, so G feels every mode and none is dropped; faded out, it no longer blunts
    the D gradients that pull G's last stray samples onto the modes.
    """

    def penalty(discriminator, real, fake, seed=None):
        fade = ops.maximum(0.0, 1.0 - ops.cast(optimizer.iterations, "float32") / float(fade_steps))
        # Once faded out, skip computing it (a second-order gradient: most of a step's cost).
        return tf.cond(
            fade > 0,
            lambda: fade * kgan.penalties.gradient_penalty(discriminator, real, fake, seed=seed, target=0.0),
            lambda: tf.zeros((), real.dtype),
        )

    return penalty


class GeneratorEMA(keras.callbacks.Callback):
    """Keep an exponential moving average of the generator's weights; at the end of `fit`, load it into G.

    Once D can no longer tell G's clusters from the data (its loss sits at 2·log 2), its gradients are
    noise, and Adam — which normalises gradient size — keeps moving G by about one learning rate per
    step: a cluster of σ = 0.01 can drift off its mode in the last thousand steps. The average over the
    last ~1/(1 − decay) steps sits where the drift is centred (Polyak averaging; ProGAN's G EMA).
    `decay` is per generator step; the callback runs once per `steps_per_execution` steps and applies
    `decay ** steps_done` then.
    """

    def __init__(self, decay):
        super().__init__()
        self.decay = float(decay)

    def on_train_begin(self, logs=None):
        self.average = [weight.numpy() for weight in self.model.generator.weights]
        self.seen = int(self.model.g_optimizer.iterations)

    def on_train_batch_end(self, batch, logs=None):
        now = int(self.model.g_optimizer.iterations)
        keep = self.decay ** (now - self.seen)
        self.seen = now
        for average, weight in zip(self.average, self.model.generator.weights):
            average *= keep
            average += (1.0 - keep) * weight.numpy()

    def on_train_end(self, logs=None):
        for average, weight in zip(self.average, self.model.generator.weights):
            weight.assign(average)


def build_trainer(config, mixture, seed, steps):
    """The compiled trainer for `config` on `mixture`, networks built under `seed`.

    G's output is scaled to the data's range, `scale` = the largest |coordinate| of a mode (1 for the
    ring, 4 for the grid), as images are scaled to [−1, 1]. Both learning rates decay linearly to 0
    over `steps`. The zero-centred GP's weight is `zero_gp · scale²`: a penalty on the gradient
    with respect to x / scale, so one λ serves both mixtures.
    """
    keras.utils.set_random_seed(seed)
    scale = float(np.abs(mixture.means).max())
    generator = build_mlp_generator(latent_dim=2, hidden=config.g_hidden, output_scale=scale)
    discriminator = build_mlp_discriminator(
        hidden=config.d_hidden, spectral_norm=config.spectral_norm, minibatch=config.minibatch, pack=config.pack,
        mbd_kernels=5, mbd_dim=3,
    )
    if config.trainer == "wgan-gp":
        gan = kgan.WGANGP(generator, discriminator, n_critic=config.n_critic, seed=seed)
    else:
        gan = kgan.DCGAN(generator, discriminator, seed=seed)

    def adam(updates):
        schedule = keras.optimizers.schedules.PolynomialDecay(config.learning_rate, updates, 0.0)
        return keras.optimizers.Adam(schedule, *config.betas)

    d_optimizer, g_optimizer = adam(steps * gan.n_critic), adam(steps)  # D updates n_critic times per step
    penalties = None  # the trainer's own (WGAN-GP: its gradient penalty)
    if config.zero_gp:
        fade = faded_zero_gp(d_optimizer, config.zero_gp_fade * steps * gan.n_critic)
        penalties = {"zero_gp": (config.zero_gp * scale**2, fade)}
    # Many steps per call: the nets are tiny, so per-step overhead would otherwise dominate.
    gan.compile(d_optimizer=d_optimizer, g_optimizer=g_optimizer, penalties=penalties, steps_per_execution=min(50, steps))
    return gan


def run(config, mixture, seed, steps, num_samples=2500):
    """Train one configuration on one mixture with one seed; its `Coverage` on `num_samples` fresh samples."""
    steps = config_steps(config, steps)
    gan = build_trainer(config, mixture, seed, steps)
    dataset = mixture_dataset(mixture.means, mixture.std, config.batch_size, seed=seed, critic_batches=gan.n_critic)
    callbacks = [GeneratorEMA(config.g_ema)] if config.g_ema else []
    gan.fit(dataset, epochs=1, steps_per_epoch=steps, verbose=0, callbacks=callbacks)
    samples = generate_samples(gan.generator, num_samples, seed=10_000 + seed)
    return mode_coverage(samples, mixture.means, mixture.std)


def config_steps(config, steps):
    return max(1, round(steps * config.step_scale))


def summarize(coverages):
    """'modes ± std   quality ± std' over seeds (population std)."""
    modes = np.array([c.modes_covered for c in coverages], float)
    quality = 100 * np.array([c.high_quality for c in coverages])
    return f"{modes.mean():10.1f} ± {modes.std():3.1f}   {quality.mean():8.1f} ± {quality.std():3.1f}"


def _task(name, mix_name, seed, steps, num_samples):
    """One (configuration, mixture, seed) run: its Coverage and its wall time."""
    start = time.perf_counter()
    coverage = run(CONFIGS[name], MIXTURES[mix_name](), seed, steps, num_samples)
    return coverage, time.perf_counter() - start


def _single_threaded():
    # A worker of --jobs N: one core each, so N workers share N cores without oversubscribing them.
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--configs", nargs="+", choices=list(CONFIGS), help="rows to run (default: all but gan-long)")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    parser.add_argument("--steps", type=int, default=8000, help="generator steps of a configuration with step_scale 1")
    parser.add_argument("--samples", type=int, default=2500, help="generated samples scored per run")
    parser.add_argument("--jobs", type=int, default=1, help="runs in parallel, one process and one core each")
    parser.add_argument("--quick", action="store_true", help="1 seed, 200 steps, two configurations: a smoke run")
    args = parser.parse_args()
    names = args.configs or (QUICK_CONFIGS if args.quick else DEFAULT_CONFIGS)
    seeds = args.seeds[:1] if args.quick else args.seeds
    steps = 200 if args.quick else args.steps
    tasks = [(name, mix_name, seed) for name in names for mix_name in MIXTURES for seed in seeds]

    print(f"{len(names)} configurations × {len(MIXTURES)} mixtures × seeds {seeds}: {len(tasks)} runs; "
          f"{args.samples} samples scored per run", flush=True)
    start = time.perf_counter()
    results = {}

    def record(task, outcome):
        coverage, seconds = outcome
        name, mix_name, seed = task
        results[task] = coverage
        print(f"  {name:10s} {mix_name} seed {seed}: {coverage}  ({seconds:.0f} s)", flush=True)

    if args.jobs > 1:
        import concurrent.futures
        import multiprocessing

        context = multiprocessing.get_context("spawn")
        with concurrent.futures.ProcessPoolExecutor(args.jobs, mp_context=context, initializer=_single_threaded) as pool:
            futures = {pool.submit(_task, *task, steps, args.samples): task for task in tasks}
            for future in concurrent.futures.as_completed(futures):
                record(futures[future], future.result())
    else:
        for task in tasks:
            record(task, _task(*task, steps, args.samples))

    header = (f"{'configuration':12s} {'G steps':>7s} │ {'ring: modes /8':>14s}   {'% high quality':>14s} │ "
              f"{'grid: modes /25':>15s}   {'% high quality':>14s}")
    print()
    print(header)
    print("─" * len(header))
    for name in names:
        ring = [results[name, "ring", seed] for seed in seeds]
        grid = [results[name, "grid", seed] for seed in seeds]
        print(f"{name:12s} {config_steps(CONFIGS[name], steps):7d} │ {summarize(ring)} │ {summarize(grid)}")
    print()
    for name in names:
        print(f"{name:12s} {CONFIGS[name].description}")
    print(f"\nmean ± std over seeds {seeds}, {args.samples} samples per run. PacGAN (Lin et al. 2018) reports "
          "≈24.8/25 modes at ≈94 % high quality on this grid for its best packing.")
    print(f"wall time: {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
