"""Network architectures. Nets know nothing of trainers: each builder returns a plain functional `keras.Model`.

- `build_generator` / `build_discriminator`: the image GANs' conv nets, architecture `"book"` (chapter
  13.3 as written) or `"dcgan"` (the DCGAN paper's);
- `build_mlp_generator` / `build_mlp_discriminator`: MLPs for 2D points (the mode-collapse lab).
"""

from kgan.nets.dcgan import ARCHITECTURES, MINIBATCH, NORMS, build_discriminator, build_generator
from kgan.nets.mlp import build_mlp_discriminator, build_mlp_generator

__all__ = ["ARCHITECTURES", "MINIBATCH", "NORMS", "build_discriminator", "build_generator"]
__all__ += ["build_mlp_discriminator", "build_mlp_generator"]
