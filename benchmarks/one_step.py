"""Seconds per training step: the alternating `DCGAN` vs the one-step `OneStepGAN`, on the same nets.

    python benchmarks/one_step.py                                  # dcgan nets, 32 px, width 32, batch 64
    python benchmarks/one_step.py --image-size 64 --width 64 --steps 50

The alternating step runs G twice (a fake batch for D's update, another for G's) and D three times
(real and fake for D, fake again for G); the one-step trainer runs G once and D twice and takes both
gradients from that one pass (see `kgan.trainers.one_step`). Both trainers start from the same
weights (`kgan.recipes.build_nets` under the same seed), use default Adam, and run their
`train_step` as one `tf.function` (graph mode, no XLA) on the same in-memory batches of toy faces,
read through a `tf.data` pipeline with autotuning off. Each timed step waits for its result; the
two trainers take turns step by step, so a busy machine slows both alike. Reported: the median (and
the fastest) of `--steps` timed steps after `--warmup` untimed ones (the first traces the graph).
"""

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import tensorflow as tf

import kgan
from kgan.trainers.one_step import OneStepGAN

# network passes per step without relativistic losses or penalties that run D themselves
TRAINERS = {"DCGAN (alternating)": (kgan.DCGAN, "2 G + 3 D"), "OneStepGAN": (OneStepGAN, "1 G + 2 D")}


def real_batches(args, count=4):
    """A few batches, decoded once and kept in memory, so the timed steps measure training alone."""
    data = kgan.datasets.make_toy_dataset(
        args.batch_size, num_images=count * args.batch_size, image_size=args.image_size, seed=0, repeat=True
    )
    options = tf.data.Options()
    options.autotune.enabled = False
    iterator = iter(data.with_options(options))
    return [next(iterator) for _ in range(count)]


def compiled_step(trainer_class, args):
    keras.utils.set_random_seed(0)  # the same initial weights for every trainer
    spec = kgan.recipes.Nets("dcgan", width=args.width)
    generator, discriminator = kgan.recipes.build_nets(spec, image_size=args.image_size)
    gan = trainer_class(generator, discriminator, seed=0)
    gan.compile()
    step = tf.function(gan.train_step)  # what fit runs per step, without fit's bookkeeping

    def timed(batch):
        start = time.perf_counter()
        step(batch)
        int(gan.g_optimizer.iterations)  # the step may run asynchronously: reading a variable waits for it
        return time.perf_counter() - start

    return timed


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--image-size", type=int, default=32)
    parser.add_argument("--width", type=int, default=32)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--steps", type=int, default=20, help="timed steps per trainer")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps first (the first traces the graph)")
    parser.add_argument("--quick", action="store_true", help="16 px, width 4, batch 8, 2 timed steps: a smoke run")
    args = parser.parse_args()
    if args.quick:
        args.image_size, args.width, args.batch_size, args.steps, args.warmup = 16, 4, 8, 2, 1
    if args.steps < 1 or args.warmup < 1:
        parser.error("--steps and --warmup must be at least 1")

    batches = real_batches(args)
    steps = {name: compiled_step(trainer_class, args) for name, (trainer_class, _) in TRAINERS.items()}
    times = {name: [] for name in TRAINERS}
    for index in range(args.warmup + args.steps):
        batch = batches[index % len(batches)]
        for name, timed in steps.items():  # taking turns: background load hits both trainers alike
            seconds = timed(batch)
            if index >= args.warmup:
                times[name].append(seconds)

    device = "GPU" if tf.config.list_physical_devices("GPU") else "CPU"
    print(f"dcgan nets, {args.image_size} px, width {args.width}, batch {args.batch_size}, {device}; "
          f"median of {args.steps} steps after {args.warmup} warm-up")
    print(f"{'trainer':<22}{'passes/step':>13}{'s/step':>10}{'fastest':>10}{'vs DCGAN':>10}")
    baseline = statistics.median(times["DCGAN (alternating)"])
    for name, (_, passes) in TRAINERS.items():
        median = statistics.median(times[name])
        print(f"{name:<22}{passes:>13}{median:>10.4f}{min(times[name]):>10.4f}{median / baseline:>9.2f}×")


if __name__ == "__main__":
    main()
