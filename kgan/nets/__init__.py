"""Network builders. Nets know nothing of trainers: each builder returns a plain functional `keras.Model`."""

from kgan.nets.dcgan import NORMS, PROFILES, build_discriminator, build_generator
from kgan.nets.mlp import PackSamples, build_mlp_discriminator, build_mlp_generator

__all__ = ["NORMS", "PROFILES", "build_discriminator", "build_generator"]
__all__ += ["PackSamples", "build_mlp_discriminator", "build_mlp_generator"]
