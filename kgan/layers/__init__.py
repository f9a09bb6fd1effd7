"""Layers that GAN papers after DCGAN added to the discriminator (and, for attention, the generator).

`SpectralNormalization` divides a kernel by its largest singular value in the forward pass
(Miyato et al. 2018), `MinibatchDiscrimination` (Salimans et al. 2016) and `MinibatchStdDev`
(Karras et al. 2018) let the discriminator compare the samples of a batch so mode collapse shows,
`PackSamples` (Lin et al. 2018) lets it judge several samples jointly, `SelfAttention2D`
(Zhang et al. 2019) lets a feature map attend to all of its positions, and `PixelNormalization`
(Karras et al. 2018) normalises each pixel's feature vector in the generator, and the conditional
layers tell a network the class: `ConditionalBatchNormalization` (class-dependent γ, β; de Vries et
al. 2017) in G and `ProjectionDiscriminatorHead` (Miyato & Koyama 2018) on D. Each computes its
statistics in float32 under a mixed dtype policy and returns the policy's compute dtype. Each is a
plain Keras layer, registered for saving under the `kgan>` prefix, so models that use them save to
`.keras`, reload with `keras.models.load_model` and export as a SavedModel.
"""

from kgan.layers.attention import SelfAttention2D
from kgan.layers.conditional import ConditionalBatchNormalization, ProjectionDiscriminatorHead
from kgan.layers.minibatch import MinibatchDiscrimination, MinibatchStdDev
from kgan.layers.packing import PackSamples
from kgan.layers.pixel_norm import PixelNormalization
from kgan.layers.spectral_norm import SpectralNormalization

__all__ = [
    "ConditionalBatchNormalization", "MinibatchDiscrimination", "ProjectionDiscriminatorHead", "MinibatchStdDev", "PackSamples", "PixelNormalization", "SelfAttention2D", "SpectralNormalization",
]
