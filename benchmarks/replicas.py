"""Throughput of the DCGAN train step on 1 vs N replicas of a MirroredStrategy (logical CPUs here, GPUs there).

    python benchmarks/replicas.py                        # cpu:1 vs cpu:2, the DCGAN at width 32, batch 64
    python benchmarks/replicas.py --strategies mirrored  # on a GPU machine: all visible GPUs
    python benchmarks/replicas.py --quick                # tiny nets, a smoke run

Each strategy runs in its own process (logical devices are fixed when TensorFlow starts). The global
batch stays the same, so N replicas each take batch/N; on a 2-core CPU this measures the overhead of
splitting, not a speed-up.
"""

import argparse
import json
import os
import subprocess
import sys

WORKER = r"""
import json, sys, time
import kgan
strategy = kgan.distribute.get_strategy(sys.argv[1])
import keras, tensorflow as tf
width, batch, steps, size = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
keras.utils.set_random_seed(0)
with strategy.scope():
    gan = kgan.recipes.build_gan("dcgan", image_size=size, width=width, seed=0)
data = kgan.datasets.make_toy_dataset(batch, num_images=max(4 * batch, 256), image_size=size, repeat=True)
gan.fit(data, epochs=1, steps_per_epoch=3, verbose=0)  # trace and warm up
start = time.perf_counter()
gan.fit(data, epochs=1, steps_per_epoch=steps, verbose=0)
seconds = time.perf_counter() - start
print(json.dumps({"replicas": strategy.num_replicas_in_sync, "images_per_second": steps * batch / seconds}))
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--strategies", default="cpu:1,cpu:2")
    parser.add_argument("--width", type=int, default=32)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.width, args.batch_size, args.steps, args.image_size = 4, 8, 2, 16
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    print(f"{'strategy':<12}{'replicas':>9}{'images/s':>12}")
    for spec in args.strategies.split(","):
        result = subprocess.run(
            [sys.executable, "-c", WORKER, spec, str(args.width), str(args.batch_size), str(args.steps), str(args.image_size)],
            capture_output=True, text=True, env=env, check=True,
        )
        out = json.loads(result.stdout.strip().splitlines()[-1])
        print(f"{spec:<12}{out['replicas']:>9}{out['images_per_second']:>12.1f}")


if __name__ == "__main__":
    main()
