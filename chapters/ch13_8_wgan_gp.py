"""
Title: From JS divergence to the Wasserstein distance: WGAN-GP (the book's chapters 13.7–13.8)
Description: Why the GAN loss stalls when distributions do not overlap, and how a critic with a gradient penalty fixes it.

Run it:

    python chapters/ch13_8_wgan_gp.py                          # toy faces, a few minutes
    python chapters/ch13_8_wgan_gp.py --data faces.zip         # the book's anime faces
    python chapters/ch13_8_wgan_gp.py --recipe book            # the book's recipe as written
    python chapters/ch13_8_wgan_gp.py --quick                  # a seconds-long smoke run

## 13.7 When the JS divergence has nothing to say

With an optimal discriminator, the original GAN loss measures the Jensen–Shannon divergence
between the data and the generator's distribution. The book's example: P is uniform on the segment
x = 0, y ∈ [0, 1]; Q_θ is the same segment moved to x = θ. As long as θ ≠ 0 the two never overlap,
and JS(P, Q_θ) = log 2 — the same for θ = 0.01 as for θ = 1. A generator following JS gets no hint
which way to move. The earth mover's (Wasserstein-1) distance, the cheapest way to carry P's mass
onto Q_θ, is |θ|: it shrinks smoothly as Q_θ approaches P.
"""

import argparse
import os

import keras
import numpy as np

import kgan
from kgan.callbacks import SampleGrid, StepHistory
from kgan.datasets import parallel_lines
from kgan.metrics import histogram_2d, js_divergence, wasserstein_1d
from kgan.plots import plot_history

parser = argparse.ArgumentParser(description=__doc__.split("\n")[1])
parser.add_argument("--data", help="faces.zip, a folder or a glob of images (default: embedded toy faces)")
parser.add_argument("--recipe", choices=kgan.recipes.get_model("wgan-gp").recipe_names("images"), default="gulrajani")
parser.add_argument("--epochs", type=int, default=3)
parser.add_argument("--out", default=os.path.join("runs", "ch13_8_wgan_gp"))
parser.add_argument("--quick", action="store_true", help="tiny networks, a few steps: checks the chapter runs")
args = parser.parse_args()
os.makedirs(args.out, exist_ok=True)
keras.utils.set_random_seed(0)

"""
We compute both for a range of θ, from samples: JS on a fine 2D histogram, EM along x (both
distributions share their y-marginal, so the cheapest plan moves every point sideways by |θ|).
"""

extent = ((-1.05, 1.05), (0.0, 1.0))
thetas = np.linspace(-1, 1, 41)
js, em = [], []
for theta in thetas:
    p, q = parallel_lines(theta, 1000)
    js.append(js_divergence(histogram_2d(p, (42, 10), extent), histogram_2d(q, (42, 10), extent)))
    em.append(wasserstein_1d(p[:, 0], q[:, 0]))
for theta in (-1.0, -0.5, 0.0, 0.05, 1.0):
    index = int(np.argmin(np.abs(thetas - theta)))
    print(f"θ = {thetas[index]:+.2f}   JS = {js[index]:.4f} (log 2 = {np.log(2):.4f})   EM = {em[index]:.3f}")

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

figure, axis = plt.subplots(figsize=(6, 3.5))
axis.plot(thetas, js, "o-", markersize=3, label="JS(P, Q_θ)")
axis.plot(thetas, em, "s-", markersize=3, label="EM(P, Q_θ)")
axis.set_xlabel("θ")
axis.legend()
axis.grid(alpha=0.3)
figure.tight_layout()
figure.savefig(os.path.join(args.out, "js_vs_em.png"), dpi=100)
plt.close(figure)
print("plot:", os.path.join(args.out, "js_vs_em.png"))

"""
## 13.8 WGAN-GP

WGAN trains a *critic* D to estimate the Wasserstein distance through its dual form,
`W(P, Q) = max over 1-Lipschitz D of E_P[D(x)] − E_Q[D(x)]`, and the generator to shrink it. The
critic outputs raw scores (no sigmoid), and its losses are

    critic:    mean D(fake) − mean D(real) + λ · GP
    generator: −mean D(fake)

Gulrajani et al. keep D 1-Lipschitz softly: at random points x̂ = t·x + (1−t)·x̃ between real and
fake images, they push the norm of ∇D(x̂) towards 1 with the *gradient penalty*
GP = E[(‖∇ₓ D(x̂)‖ − 1)²]. For a linear critic D(x) = w·x + b the gradient is w everywhere, so the
penalty is exactly (‖w‖ − 1)²:
"""

images = keras.Input((4, 4, 3))
dense = keras.layers.Dense(1)
linear_critic = keras.Model(images, dense(keras.layers.Flatten()(images)))
w = np.full((48, 1), 2.0 / np.sqrt(48), "float32")  # ‖w‖ = 2
dense.set_weights([w, np.zeros(1, "float32")])
real_toy, fake_toy = np.random.default_rng(0).normal(size=(2, 8, 4, 4, 3)).astype("float32")
print("GP of a linear critic with ‖w‖ = 2:", float(kgan.penalties.gradient_penalty(linear_critic, real_toy, fake_toy)), "= (2 − 1)²")

"""
`kgan.WGANGP` runs `n_critic` (5) critic updates per generator update, each on fresh real images and
fresh z: every dataset element carries 5 real batches (`critic_batches=5`), so one `fit` step is one
generator step. It logs `d_loss`, `g_loss`, `gp` and `w_dist`, the critic's estimate of the
Wasserstein distance — unlike the DCGAN losses, a number that should fall as the samples improve.

Two recipes (`kgan.recipes`): `"book"` runs the book's code as written — the DCGAN networks with
BatchNorm in the critic, batch 512, Adam(5e-4, beta_1=0.5). BatchNorm makes each sample's score
depend on the rest of the batch, so ∇ₓD(x̂) is no longer a per-sample gradient and the penalty does
not constrain what it claims to; the paper says to drop it. `"gulrajani"` follows the paper: layer
norm in the critic, Adam(1e-4, beta_1=0.5, beta_2=0.9).
"""

recipe = kgan.recipes.get_recipe("wgan-gp", args.recipe)
print(recipe)
image_size, width = (16, 4) if args.quick else (64, 64)
batch_size = 8 if args.quick else recipe.batch_size
gan = kgan.recipes.build_gan("wgan-gp", recipe, image_size=image_size, width=width, seed=0)
if args.data:
    dataset = kgan.data.make_anime_dataset(args.data, batch_size, image_size=image_size, seed=0, critic_batches=gan.n_critic)
else:
    num_images = 80 if args.quick else 8192
    dataset = kgan.datasets.make_toy_dataset(batch_size, num_images=num_images, image_size=image_size, critic_batches=gan.n_critic)

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
## Reading the curves

`w_dist` should rise quickly while the critic learns, then fall as the generator catches up; `gp`
should stay small (the critic stays near 1-Lipschitz). A critic with BatchNorm (the book recipe)
shows a noisier, less meaningful `w_dist`.
"""

plot_history(steps.history, os.path.join(args.out, "loss.png"), title=f"WGAN-GP ({args.recipe})")
print("samples:", grids.saved[-1])
print("loss curves:", os.path.join(args.out, "loss.png"))
