"""The book's sizes: the defaults of every network builder, reader, dataset, recipe and run in kgan.

Written once here, so that `kgan train`, `kgan.recipes`, `kgan.nets` and `kgan.data` agree.
"""

IMAGE_SIZE = 64  # the book resizes its 96×96 faces to 64×64
LATENT_DIM = 100  # z has 100 dimensions
WIDTH = 64  # the book's `filter = 64`: the channels of the generator's last hidden stage
TOY_IMAGES = 4096  # toy faces drawn when a run is given no data

# The toy-faces demo (`kgan train dcgan` with no data) trains smaller: at 64 px a DCGAN gets ~500 steps in
# 10 minutes on 2 CPU cores — too few to form faces; at 32 px with width 32 a step is ~15× cheaper.
TOY_IMAGE_SIZE = 32  # the smallest size `decode_toy_faces` reads exactly
TOY_WIDTH = 32
TOY_EPOCHS = 40  # of TOY_IMAGES / batch 64 = 64 steps: 2,560 generator steps
EPOCHS = 5  # a run on the user's data
# Decoded images are held in memory up to this fraction of the memory available when they are loaded; a
# larger source is streamed from disk (`kgan.data.load`, option memory_budget).
MEMORY_FRACTION = 0.25
