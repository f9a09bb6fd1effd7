"""Mode collapse on PacGAN's 2D mixtures: how many modes each GAN configuration covers, and how precisely.

    python benchmarks/mode_collapse.py --jobs 2             # every configuration, 5 seeds (16 min on 2 cores)
    python benchmarks/mode_collapse.py --configs gan-long --jobs 2  # the control: plain GAN as long as best (5 min)
    python benchmarks/mode_collapse.py --configs gan best --seeds 0 1
    python benchmarks/mode_collapse.py --quick              # 1 seed, few steps, two configurations: a smoke run

Every row is a recipe of `kgan.recipes` (the `mlp*` recipes of the dcgan and wgan-gp models), built with
`kgan.recipes.build_gan` and trained with `fit` on the ring of 8 and the grid of 25 Gaussians
(`kgan.datasets`), once per seed, and is scored the way PacGAN and VEEGAN score it: 2,500 generated
samples, a sample is *high quality* within 3σ of its nearest mode, a mode is *covered* with at least 20
high-quality samples (`kgan.metrics.mode_coverage`). The table prints mean ± std over seeds.

Every random draw goes through the seed: `keras.utils.set_random_seed(seed)` before the networks
are built, the trainer's latent seed, the data stream's seed, and the evaluation's z.
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from kgan.datasets import grid_of_gaussians, mixture_dataset, ring_of_gaussians  # noqa: E402
from kgan.latent import generate_samples  # noqa: E402
from kgan.metrics import mode_coverage  # noqa: E402
from kgan.recipes import build_gan, get_recipe  # noqa: E402

# Each row of the table: a recipe of kgan.recipes and its training length, in multiples of --steps.
ROWS = {
    "gan": ("dcgan", "mlp", 1.0),
    "gan+mbd": ("dcgan", "mlp+mbd", 1.0),
    "gan+mbstd": ("dcgan", "mlp+mbstd", 1.0),
    "gan+sn": ("dcgan", "mlp+sn", 1.0),
    "pacgan2": ("dcgan", "pacgan2", 1.0),
    "wgan-gp": ("wgan-gp", "mlp", 0.2),  # 5 critic updates per step: as many D updates as the others
    "gan-long": ("dcgan", "mlp", 4.0),  # control: the plain GAN, trained as long as best
    "best": ("dcgan", "mlp-best", 4.0),
}
DEFAULT_ROWS = tuple(name for name in ROWS if name != "gan-long")  # the control costs another 5 min
QUICK_ROWS = ("gan", "best")
MIXTURES = {"ring": ring_of_gaussians, "grid": grid_of_gaussians}


def describe(name):
    model, recipe, scale = ROWS[name]
    return f"{model} recipe {recipe!r}: {get_recipe(model, recipe).description}" + (f"; {scale:g}× the steps" if scale != 1 else "")


def run(name, mixture, seed, steps, num_samples=2500):
    """Train one row on one mixture with one seed; its `Coverage` on `num_samples` fresh samples.

    The recipe is built for the mixture's scale (`data_scale`: G's output and the penalty weights), and
    scored on its generator weight average when the recipe keeps one.
    """
    model, recipe, _ = ROWS[name]
    steps = row_steps(name, steps)
    keras.utils.set_random_seed(seed)
    # Many steps per call: the nets are tiny, so per-step overhead would otherwise dominate.
    gan = build_gan(model, recipe, seed=seed, total_steps=steps, data_scale=mixture.scale, steps_per_execution=min(50, steps))
    dataset = mixture_dataset(mixture.means, mixture.std, get_recipe(model, recipe).batch_size, seed=seed,
                              critic_batches=gan.n_critic)
    gan.fit(dataset, epochs=1, steps_per_epoch=steps, verbose=0)
    samples = generate_samples(gan.ema_generator(), num_samples, seed=10_000 + seed)
    return mode_coverage(samples, mixture.means, mixture.std)


def row_steps(name, steps):
    return max(1, round(steps * ROWS[name][2]))


def summarize(coverages):
    """'modes ± std   quality ± std' over seeds (population std)."""
    modes = np.array([c.modes_covered for c in coverages], float)
    quality = 100 * np.array([c.high_quality for c in coverages])
    return f"{modes.mean():10.1f} ± {modes.std():3.1f}   {quality.mean():8.1f} ± {quality.std():3.1f}"


def _task(name, mix_name, seed, steps, num_samples):
    """One (configuration, mixture, seed) run: its Coverage and its wall time."""
    start = time.perf_counter()
    coverage = run(name, MIXTURES[mix_name](), seed, steps, num_samples)
    return coverage, time.perf_counter() - start


def _single_threaded():
    # A worker of --jobs N: one core each, so N workers share N cores without oversubscribing them.
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--configs", nargs="+", choices=list(ROWS), help="rows to run (default: all but gan-long)")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    parser.add_argument("--steps", type=int, default=8000, help="generator steps of a row trained 1× (others scale it)")
    parser.add_argument("--samples", type=int, default=2500, help="generated samples scored per run")
    parser.add_argument("--jobs", type=int, default=1, help="runs in parallel, one process and one core each")
    parser.add_argument("--quick", action="store_true", help="1 seed, 200 steps, two configurations: a smoke run")
    args = parser.parse_args()
    names = args.configs or (QUICK_ROWS if args.quick else DEFAULT_ROWS)
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
        print(f"{name:12s} {row_steps(name, steps):7d} │ {summarize(ring)} │ {summarize(grid)}")
    print()
    for name in names:
        print(f"{name:12s} {describe(name)}")
    print(f"\nmean ± std over seeds {seeds}, {args.samples} samples per run. PacGAN (Lin et al. 2018) reports "
          "≈24.8/25 modes at ≈94 % high quality on this grid for its best packing.")
    print(f"wall time: {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
