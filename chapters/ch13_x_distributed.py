"""
Title: One GAN, many devices: tf.distribute with kgan's trainers
Description: MirroredStrategy on one host, MultiWorkerMirroredStrategy across hosts, and what changes for a GAN.

Run it:

    python chapters/ch13_x_distributed.py                       # 2 logical CPUs standing in for 2 GPUs
    python chapters/ch13_x_distributed.py --strategy mirrored   # all GPUs of this host
    python chapters/ch13_x_distributed.py --quick               # a seconds-long smoke run

## The recipe

TensorFlow's distribution engine copies the model onto every device (a *replica*), splits each global
batch between them, and sums the gradients before every update. For that to work with a GAN:

1. build the networks **and both optimizers** inside `strategy.scope()` — `kgan.recipes.build_gan`
   (or `compile`) builds the optimizers, so their state is mirrored and checkpoints restore it;
2. give each replica **different noise** — kgan folds the replica id into the latent seed (Keras'
   own SeedGenerator would hand every replica the same z);
3. divide each replica's loss by the number of replicas — kgan's trainers do, so a step on a
   global batch B is the same step as on one device with B (the tests check this to 1e-5);
4. decide about BatchNorm: by default each replica normalises its own share of the batch;
   `synchronized_bn=True` (`kgan train --sync-bn`) averages the statistics over all replicas.

## Many hosts

On each of two hosts, set `TF_CONFIG` — the same cluster, a different task index — and run the same
command; each host uses all its GPUs, and the global batch is split across every GPU of both:

    # host A (10.0.0.1)                                  # host B (10.0.0.2)
    export TF_CONFIG='{"cluster": {"worker":             export TF_CONFIG='{"cluster": {"worker":
      ["10.0.0.1:12345", "10.0.0.2:12345"]},               ["10.0.0.1:12345", "10.0.0.2:12345"]},
      "task": {"type": "worker", "index": 0}}'             "task": {"type": "worker", "index": 1}}'
    kgan train dcgan --data faces.zip --strategy multiworker --batch-size 256 --out /local/run

Under SLURM, `--strategy multiworker` reads the cluster from SLURM's variables instead. Each worker
keeps its own run folder (the chief `--out`, worker i `<out>/worker-i`: backups, record, grids), so
`--out` may be local disk or shared. `--resume` on every host restarts all of them from the same
step: the workers compare the steps they restored and stop, saying so, if one of them holds another.
`--batch-size` is the global batch; keeping it fixed keeps the training the same, and growing it with
the number of devices (the usual choice) may call for a proportionally larger learning rate with a
warm-up.
"""

import argparse
import os

import kgan

parser = argparse.ArgumentParser(description=__doc__.split("\n")[1])
parser.add_argument("--strategy", default="cpu:2", help="a kgan.distribute.get_strategy spec (default: cpu:2)")
parser.add_argument("--out", default=os.path.join("runs", "ch13_x_distributed"))
parser.add_argument("--quick", action="store_true", help="tiny networks, a few steps: checks the chapter runs")
args = parser.parse_args()

"""
## Training under a strategy

The strategy must exist before TensorFlow does any other work (for `cpu:N` it splits the CPU into N
logical devices).
"""

strategy = kgan.distribute.get_strategy(args.strategy)
print("replicas in sync:", strategy.num_replicas_in_sync)

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

keras.utils.set_random_seed(0)
size, width, batch, steps = (16, 4, 8, 2) if args.quick else (32, 32, 64, 200)
with strategy.scope():
    gan = kgan.recipes.build_gan("dcgan", image_size=size, width=width, seed=0)

"""
Every replica draws its own z from the same trainer seed:
"""

z = strategy.experimental_local_results(tf.function(lambda: strategy.run(gan.sample_latent, args=(2,)))())
for replica, values in enumerate(z):
    print(f"replica {replica}: z[0, :3] = {values.numpy()[0, :3]}")

dataset = kgan.datasets.make_toy_dataset(batch, num_images=256 if args.quick else 4096, image_size=size, repeat=True)
grids = kgan.callbacks.SampleGrid(os.path.join(args.out, "samples"), rows=4, cols=4)
history = gan.fit(dataset, epochs=1, steps_per_epoch=steps, callbacks=[grids], verbose=0 if args.quick else "auto")
print("final losses:", {k: round(float(v[-1]), 4) for k, v in history.history.items()})
print("samples:", grids.saved[-1])
