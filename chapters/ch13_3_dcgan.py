"""
Title: DCGAN on anime faces (the book's chapter 13.3)
Description: A generator and a discriminator play the GAN game; kgan.DCGAN trains them with fit.

Run it:

    python chapters/ch13_3_dcgan.py                          # embedded toy faces, a few minutes
    python chapters/ch13_3_dcgan.py --data faces.zip         # the book's anime faces
    python chapters/ch13_3_dcgan.py --quick                  # a seconds-long smoke run

## The game

A generator G maps noise z ~ N(0, 1) to images; a discriminator D maps an image to a logit, "how
real does this look". D is trained to say 1 on real images and 0 on G's; G is trained to make D say
1 on its images. Goodfellow et al. (2014) showed that at the game's equilibrium G's distribution is
the data's. DCGAN (Radford et al. 2016) made the game trainable on images with all-convolutional
networks, BatchNorm, and Adam(2e-4, beta_1=0.5) — the recipe the book follows.
"""

import argparse
import os

import keras
import numpy as np

import kgan
from kgan.callbacks import SampleGrid, StepHistory
from kgan.plots import plot_history

parser = argparse.ArgumentParser(description=__doc__.split("\n")[1])
parser.add_argument("--data", help="faces.zip, a folder or a glob of images (default: embedded toy faces)")
parser.add_argument("--architecture", choices=kgan.nets.ARCHITECTURES, default="dcgan")
parser.add_argument("--epochs", type=int, default=3)
parser.add_argument("--out", default=os.path.join("runs", "ch13_3_dcgan"))
parser.add_argument("--quick", action="store_true", help="tiny networks, a few steps: checks the chapter runs")
args = parser.parse_args()
keras.utils.set_random_seed(0)

"""
## The data

`make_anime_dataset` reads the book's `faces.zip` in place (or a folder, or a glob), decodes and
resizes every image to 64×64, and scales pixels to [-1, 1] to match the generator's tanh. Without
`--data` we use kgan's embedded toy faces: procedural cartoon faces whose hair, eyes, face shape
and background come from small sets, so every image belongs to one of a few hundred known modes.
"""

image_size, width, batch_size = (16, 8, 16) if args.quick else (64, 64, 64)
if args.data:
    dataset = kgan.data.make_anime_dataset(args.data, batch_size, image_size=image_size, seed=0)
else:
    dataset = kgan.datasets.make_toy_dataset(batch_size, num_images=64 if args.quick else 4096, image_size=image_size)
print("one batch:", next(iter(dataset)).shape)

"""
## The networks

The generator turns z (100 numbers) into a 4×4 map with a stride-1 transposed convolution, then
doubles the resolution four times (4 → 8 → 16 → 32 → 64), halving the channels each time, with
BatchNorm and ReLU between and tanh at the end. The book's discriminator mirrors it with strided
convolutions, BatchNorm and LeakyReLU(0.2), then averages the map into one logit.

The `"book"` architecture is the book's code (3,578,624 and 6,565,633 parameters). Trained as the
book does on real faces it collapses after about 2,000 steps: D wins (its loss falls to 0.05) and G's
samples turn to checkerboards. The `"dcgan"` architecture applies what the DCGAN paper does and the
book does not — N(0, 0.02) initial weights, no ReLU on z, no BatchNorm on D's first layer, and the
paper's all-convolutional D — and that one trains. (Whole recipes — nets, optimizers, batch size,
tricks — are in `kgan.recipes`; `kgan train dcgan --recipe book` trains the book's.)
"""

generator = kgan.nets.build_generator(args.architecture, image_size=image_size, width=width)
discriminator = kgan.nets.build_discriminator(args.architecture, image_size=image_size, width=width)
print(f"{args.architecture}: generator {generator.count_params():,} parameters, discriminator {discriminator.count_params():,}")

"""
## The losses

With D's output a logit x, "D says real" is σ(x). D minimises the binary cross-entropy with real
labelled 1 and fake labelled 0; G minimises the cross-entropy of its fakes labelled 1 — the
*non-saturating* loss, whose gradient stays strong while D is winning. A logit of 0 means D is
unsure, and each cross-entropy is then log 2:
"""

zero = np.zeros((4, 1), "float32")
print("D loss at logits 0:", float(kgan.losses.bce_discriminator_loss(zero, zero)), "= 2·log 2 =", 2 * np.log(2))
print("G loss at logits 0:", float(kgan.losses.nonsaturating_generator_loss(zero)), "= log 2")

"""
## Training with fit

`kgan.DCGAN` is a small `keras.Model`: its `train_step` draws z, updates D once on a real and a fake
batch, then updates G once on fresh z — the book's loop — and logs `d_loss`, `g_loss` and the mean
probability D gives to real (`d_real`) and fake (`d_fake`) images. Because it is a Keras model, the
usual tools apply: callbacks, History, checkpoints. `SampleGrid` saves a 10×10 grid from a fixed z
after every epoch, so the grids show one set of faces taking shape.
"""

gan = kgan.DCGAN(generator, discriminator, seed=0)
gan.compile()  # the book's Adam(2e-4, beta_1=0.5) for both networks
steps = StepHistory()
grids = SampleGrid(os.path.join(args.out, "samples"), rows=4 if args.quick else 10, cols=4 if args.quick else 10)
gan.fit(
    dataset,
    epochs=1 if args.quick else args.epochs,
    steps_per_epoch=2 if args.quick else None,
    callbacks=[grids, steps],
    verbose=0 if args.quick else "auto",
)

"""
## What we got

The loss curves tell whether the game is balanced: in a healthy run D's loss hovers around 0.5–1.4
and `d_real` stays well below 1. If `d_loss` sinks towards 0 while `g_loss` climbs, D has won and G
no longer learns — the book recipe's collapse.
"""

plot_history(steps.history, os.path.join(args.out, "loss.png"), title=f"DCGAN ({args.architecture})")
print("samples:", grids.saved[-1])
print("loss curves:", os.path.join(args.out, "loss.png"))
