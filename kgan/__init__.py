"""kgan — the Keras-3 GAN workbook.

The GAN chapter of the TF2 deep-learning book (DCGAN, WGAN-GP on anime faces) rebuilt as small
`keras.Model` trainers that you train with `fit`:

    import kgan
    gan = kgan.DCGAN(kgan.nets.build_generator(), kgan.nets.build_discriminator(), seed=0)
    gan.compile()                                   # the book's Adam(2e-4, beta_1=0.5) for both nets
    gan.fit(kgan.data.make_anime_dataset("faces.zip", batch_size=64, seed=0), epochs=10)

or, everything `kgan train` does (recipe, data, resume, grids, backups, artefacts), from Python:

    result = kgan.run.train(kgan.run.RunConfig(model="dcgan", data="faces.zip", epochs=10))

The package, from the bottom up: `layers`, `losses`, `penalties`, `augment` (pure pieces); `nets`,
`trainers`, `data` (reading), `callbacks`, `export`, `figures`; `datasets` (toy faces, 2D toys, the
TFDS builder) and `recipes` (the registry of models and recipes); `metrics`; `monitor` (the run's
health) and `evaluate` (scores with a protocol card); `run`; and the `cli` on top.
"""

import os

# The trainers use tf.GradientTape and tf.data, so Keras must run on its TensorFlow backend.
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
# Hide TensorFlow's C++ INFO and WARNING lines (oneDNN, CPU features, rendezvous) that drown a
# learner's output; errors still show. Set TF_CPP_MIN_LOG_LEVEL=0 before importing kgan to see all.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

try:
    import tensorflow  # noqa: F401
except ImportError as error:  # pragma: no cover - depends on the install
    raise ImportError(
        "kgan needs TensorFlow. Install it with an extra: pip install -e '.[cpu]' "
        "(CPU wheel) or pip install -e '.[gpu]' (CUDA)."
    ) from error

import keras

if keras.backend.backend() != "tensorflow":  # pragma: no cover - depends on the environment
    raise ImportError(
        f"kgan needs Keras' TensorFlow backend, but KERAS_BACKEND is {keras.backend.backend()!r}."
    )

__version__ = "0.1.0"

# The public face imports everything; each module imports only what lies below it (tests/test_layering.py).
# Importing kgan.datasets registers the TFDS builder anime_faces.
from kgan import augment, callbacks, data, datasets, defaults, distribute, evaluate, export, figures  # noqa: E402
from kgan import images, latent, layers, losses, metrics, monitor, nets, penalties, plots, recipes, run  # noqa: E402
from kgan.trainers import DCGAN, GAN, WGANGP, OneStepGAN  # noqa: E402

__all__ = [
    "DCGAN", "GAN", "OneStepGAN", "WGANGP",
    "augment", "callbacks", "data", "datasets", "defaults", "distribute", "evaluate", "export", "figures", "images",
    "latent", "layers", "losses", "metrics", "monitor", "nets", "penalties", "plots", "recipes", "run", "__version__",
]
