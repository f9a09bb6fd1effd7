"""`python -m kgan.datasets build anime_faces --manual_dir M --data_dir D`: TFDS's build command,
without the `tfds` program's start-up imports of apache_beam and mlcroissant."""

from kgan.datasets import tfds_build

tfds_build()
