"""The book's sizes: the defaults of every network builder, reader, dataset, recipe and run in kgan.

Written once here, so that `kgan train`, `kgan.recipes`, `kgan.nets` and `kgan.data` agree.
"""

IMAGE_SIZE = 64  # the book resizes its 96×96 faces to 64×64
LATENT_DIM = 100  # z has 100 dimensions
WIDTH = 64  # the book's `filter = 64`: the channels of the generator's last hidden stage
TOY_IMAGES = 4096  # toy faces drawn when a run is given no data
