"""Shared fixtures: tiny networks and tiny image folders, so every test runs in seconds on a CPU."""

import os
import pathlib
import zipfile

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]
SHARED_FACES = ROOT.parent / "shared" / "data" / "anime-faces-64.zip"


def write_png(path, image):
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(tf.io.encode_png(np.asarray(image, np.uint8)).numpy())
    return path


@pytest.fixture
def image_folder(tmp_path):
    """Six distinct 12×12 RGB PNGs in `faces/` (two in a subfolder) plus the pixel arrays, sorted by path."""
    rng = np.random.default_rng(0)
    folder = tmp_path / "faces"
    names = ["a.png", "b.png", "c.png", "d.png", "sub/e.png", "sub/f.png"]
    pixels = {}
    for name in names:
        pixels[str(folder / name)] = rng.integers(0, 256, (12, 12, 3), dtype=np.uint8)
        write_png(folder / name, pixels[str(folder / name)])
    (folder / "notes.txt").write_text("not an image")
    ordered = [pixels[key] for key in sorted(pixels)]
    return folder, np.stack(ordered)


@pytest.fixture
def image_zip(image_folder, tmp_path):
    """The same images zipped under a top folder, as the book's faces.zip is."""
    folder, pixels = image_folder
    archive = tmp_path / "faces.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                zf.write(path, "faces/" + path.relative_to(folder).as_posix())
    return archive, pixels


@pytest.fixture
def tiny_nets():
    """A dcgan-profile generator/discriminator pair for 16×16 images, latent size 8, width 4."""
    import keras

    import kgan

    keras.utils.set_random_seed(0)
    generator = kgan.nets.build_generator("dcgan", image_size=16, latent_dim=8, width=4)
    discriminator = kgan.nets.build_discriminator("dcgan", image_size=16, width=4)
    return generator, discriminator
