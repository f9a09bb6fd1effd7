"""Shared fixtures: a factory of tiny trainers and tiny image folders, so every test runs in seconds on a CPU."""

import os
import zipfile

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from tests.helpers import IMAGE_SIZE, LATENT_DIM, WIDTH, write_png  # noqa: E402
from tests.messy_files import FIXTURES, OTHER_FILES  # noqa: E402


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
def make_gan():
    """A factory of tiny trainers: 16×16 images, z of 8, width 4, built under `seed`.

        gan = make_gan()                                    # a compiled kgan.DCGAN
        gan = make_gan("wgan-gp", n_critic=2)               # a compiled kgan.WGANGP (layer-norm critic)
        gan = make_gan(compile=False, ema_decay=0.9)        # trainer options pass through
        gan = make_gan(generator={"spectral_norm": True})   # network builder options

    Keyword arguments other than those go to the trainer's constructor (`ema_decay`, `gp_weight`, ...);
    `compile_options` to `compile`.
    """
    import keras

    import kgan

    def make(model="dcgan", seed=0, compile=True, generator=None, discriminator=None, compile_options=None, **options):
        keras.utils.set_random_seed(seed)
        g = kgan.nets.build_generator("dcgan", IMAGE_SIZE, LATENT_DIM, WIDTH, **(generator or {}))
        if model == "wgan-gp":
            d = kgan.nets.build_discriminator("dcgan", IMAGE_SIZE, WIDTH, **{"norm": "layer", **(discriminator or {})})
            gan = kgan.WGANGP(g, d, seed=seed, **options)
        elif model == "dcgan":
            d = kgan.nets.build_discriminator("dcgan", IMAGE_SIZE, WIDTH, **(discriminator or {}))
            gan = kgan.DCGAN(g, d, seed=seed, **options)
        else:
            d = kgan.nets.build_discriminator("dcgan", IMAGE_SIZE, WIDTH, **(discriminator or {}))
            gan = kgan.GAN(g, d, seed=seed, **options)
        if compile:
            gan.compile(**(compile_options or {}))
        return gan

    return make


@pytest.fixture
def messy_folder(tmp_path):
    root = tmp_path / "messy"
    for name, (data, _) in {**FIXTURES, **{k: (v, None) for k, v in OTHER_FILES.items()}}.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    return root


@pytest.fixture
def messy_zip(messy_folder, tmp_path):
    archive = tmp_path / "messy.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in sorted(messy_folder.rglob("*")):
            if path.is_file():
                zf.write(path, "messy/" + path.relative_to(messy_folder).as_posix())
        zf.writestr("__MACOSX/messy/._rgb.png", b"resource fork")
    return archive
