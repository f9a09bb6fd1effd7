"""Is the input pipeline the bottleneck? Images/s of `make_anime_dataset` alone vs the DCGAN train step.

    python benchmarks/pipeline_vs_training.py --data ../shared/data/anime-faces-64.zip
    python benchmarks/pipeline_vs_training.py --quick        # toy faces, tiny nets: a smoke run

Prints the pipeline's scan (read, check, decode and resize every image once), the batches it then
serves from memory, and the training throughput for each recipe/width asked for, on the same batches.
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

import kgan  # noqa: E402


def images_per_second(iterator, batches, batch_size):
    start = time.perf_counter()
    for _ in range(batches):
        next(iterator)
    return batches * batch_size / (time.perf_counter() - start)


def pipeline_rates(args):
    if args.data:
        make = lambda: kgan.data.make_anime_dataset(args.data, args.batch_size, seed=0, repeat=True)  # noqa: E731
        count = len(kgan.data.resolve_source(args.data))
    else:
        make = lambda: kgan.datasets.make_toy_dataset(args.batch_size, num_images=args.toy_images, seed=0, repeat=True)  # noqa: E731
        count = args.toy_images
    start = time.perf_counter()
    iterator = iter(make())
    next(iterator)  # the shuffle buffer fills with every decoded image before the first batch
    first_pass = count / (time.perf_counter() - start)
    cached = images_per_second(iterator, args.pipeline_batches, args.batch_size)
    return first_pass, cached, iterator


def training_rate(iterator, recipe, width, args):
    keras.utils.set_random_seed(0)
    gan = kgan.recipes.build_gan("dcgan", recipe, width=width, seed=0)
    step = tf.function(gan.train_step)  # what fit runs per step, without fit's bookkeeping
    step(next(iterator))  # trace
    start = time.perf_counter()
    for _ in range(args.train_steps):
        step(next(iterator))
    # the step runs asynchronously; reading a variable waits for it to finish
    int(gan.g_optimizer.iterations)
    return args.train_steps * args.batch_size / (time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", help="image source (default: embedded toy faces)")
    parser.add_argument("--toy-images", type=int, default=4096)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--pipeline-batches", type=int, default=200)
    parser.add_argument("--train-steps", type=int, default=20)
    parser.add_argument("--configs", default="dcgan:64,dcgan:32,book:64", help="DCGAN recipe:width,...")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.toy_images, args.pipeline_batches, args.train_steps, args.configs = 256, 10, 2, "dcgan:4"

    first_pass, cached, iterator = pipeline_rates(args)
    print(f"{'what':<34}{'images/s':>12}")
    print(f"{'pipeline, scan (check + decode all)':<34}{first_pass:>12,.0f}")
    print(f"{'pipeline, batches from memory':<34}{cached:>12,.0f}")
    for config in args.configs.split(","):
        recipe, width = config.split(":")
        rate = training_rate(iterator, recipe, int(width), args)
        print(f"{f'train step, {recipe} width {width}':<34}{rate:>12,.1f}   ({cached / rate:,.0f}× headroom)")


if __name__ == "__main__":
    main()
