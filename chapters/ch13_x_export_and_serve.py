"""
Title: Export and serve: a generator anyone can load with TensorFlow alone
Description: Save a whole trainer, export its generator as a SavedModel, reload it in a fresh process, and walk the latent space.

Run it:

    python chapters/ch13_x_export_and_serve.py                 # trains a small DCGAN on toy faces first
    python chapters/ch13_x_export_and_serve.py --run runs/x    # uses a run folder from `kgan train`
    python chapters/ch13_x_export_and_serve.py --quick         # a seconds-long smoke run

## Two ways to keep a GAN

While training you want *everything* back: both networks, both optimizers' moments, the step count
and the noise stream — `gan.save("gan.keras")` and `keras.models.load_model` do that, and
`kgan train --resume` picks a killed run up at the step it reached. To *use* a generator you want
the opposite: a small, self-contained artefact that needs neither Keras nor kgan.
`kgan.export.export_generator` writes a TensorFlow SavedModel with three endpoints: `generate(z)`
(floats in [-1, 1]), `generate_images(z)` (uint8, ready to save) and `sample(n, seed)`, which draws
its own z inside the graph so the same seed gives the same faces anywhere.
"""

import argparse
import os
import subprocess
import sys

import keras
import numpy as np

import kgan
from kgan.images import image_grid, save_png, to_uint8
from kgan.latent import interpolate

parser = argparse.ArgumentParser(description=__doc__.split("\n")[1])
parser.add_argument("--run", help="a run folder written by `kgan train` (default: train a small one here)")
parser.add_argument("--out", default=os.path.join("runs", "ch13_x_export"))
parser.add_argument("--quick", action="store_true", help="tiny networks, a few steps: checks the chapter runs")
args = parser.parse_args()
os.makedirs(args.out, exist_ok=True)
keras.utils.set_random_seed(0)

"""
## A trained generator

We take the run you name, or train a small DCGAN on the toy faces, and save the whole trainer.
"""

if args.run:
    gan = keras.models.load_model(os.path.join(args.run, "gan.keras"))
else:
    size, width, steps = (16, 4, 2) if args.quick else (32, 32, 400)
    gan = kgan.recipes.build_gan("dcgan", image_size=size, width=width, seed=0)
    data = kgan.datasets.make_toy_dataset(32, num_images=256 if args.quick else 4096, image_size=size, repeat=True)
    gan.fit(data, epochs=1, steps_per_epoch=steps, verbose=0 if args.quick else "auto")
gan.save(os.path.join(args.out, "gan.keras"))
restored = keras.models.load_model(os.path.join(args.out, "gan.keras"))
print("optimizer steps after save → load:", int(restored.g_optimizer.iterations), "=", int(gan.g_optimizer.iterations))

"""
## Export, then load in a process that has never heard of kgan

The child process below imports TensorFlow only. It loads the SavedModel, asks it for 16 faces
with seed 7 and writes them as a grid.
"""

saved = kgan.export.export_generator(gan, os.path.join(args.out, "saved_model"))
child = r'''
import sys, numpy as np, tensorflow as tf
model = tf.saved_model.load(sys.argv[1])
images = model.sample(tf.constant(16), tf.constant(7, tf.int64)).numpy()
grid = images.reshape(4, 4, *images.shape[1:]).transpose(0, 2, 1, 3, 4).reshape(4 * images.shape[1], 4 * images.shape[2], 3)
tf.io.write_file(sys.argv[2], tf.io.encode_png(grid))
print("kgan imported in the child:", any(m.startswith("kgan") for m in sys.modules))
'''
grid_path = os.path.join(args.out, "served_samples.png")
result = subprocess.run([sys.executable, "-c", child, saved, grid_path], capture_output=True, text=True, check=True)
print(result.stdout.strip())
print("samples from the SavedModel:", grid_path)

"""
## Walking between two faces on the great circle

z ~ N(0, I) in 100 dimensions lives near a sphere of radius √100 = 10; the straight line between two
codes cuts through its nearly empty inside, where the generator has seen little. Spherical
interpolation (slerp) follows the sphere instead — the ganhacks advice. Each row below walks from one
face to another in 10 steps.
"""

rng = np.random.default_rng(0)
rows = [interpolate(rng.standard_normal(gan.latent_dim), rng.standard_normal(gan.latent_dim), 10) for _ in range(3)]
strip = to_uint8(gan(np.concatenate(rows), training=False))
strip_path = os.path.join(args.out, "slerp.png")
save_png(strip_path, image_grid(strip, 3, 10))
print("latent walk:", strip_path)
