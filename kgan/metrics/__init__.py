"""Metrics: how far generated samples are from the data, computed offline (nothing is ever downloaded).

Images (uint8, as files hold them):
- `sliced_wasserstein_distance`: multi-scale SWD on Laplacian-pyramid patches (Karras et al. 2018);
- on features from an extractor (`features`: kgan's encoder trained on your images, Inception-V3
  from a weights file you supply, any Keras model or SavedModel): `kernel_distance` (KID),
  `frechet_distance` (and the streaming `FrechetDistance`), `precision_recall`, `density_coverage`;
- `toy_face_modes`: modes of kgan's toy faces covered, decoded exactly from the pixels;
- conditional generators of toy faces: `conditional_accuracy` (the decoded attribute is the class
  asked for), `class_mode_coverage` (modes within each class), `code_agreement` (InfoGAN's code
  against an attribute, best one-to-one matching), all three from `score_conditional_generator`.

Points and distributions (the book's 2D chapters):
- `mode_coverage`: modes of a 2D Gaussian mixture covered, and the fraction of high-quality samples;
- `js_divergence`, `wasserstein_1d`, `histogram_2d`: the JS divergence against the earth mover's distance.

`kgan.evaluate` scores a generator with these and a protocol card.
"""

from kgan.metrics.conditional import (
    ClassCoverage, CodeAgreement, ConditionalAccuracy, class_mode_coverage, code_agreement, conditional_accuracy,
    score_conditional_generator,
)
from kgan.metrics.divergences import histogram_2d, js_divergence, wasserstein_1d
from kgan.metrics.features import FeatureExtractor, inception_v3, load_extractor, train_feature_encoder
from kgan.metrics.frechet import FrechetDistance, frechet_distance, frechet_distance_from_statistics
from kgan.metrics.kid import kernel_distance
from kgan.metrics.manifold import density_coverage, precision_recall
from kgan.metrics.mode_coverage import Coverage, mode_coverage
from kgan.metrics.swd import sliced_wasserstein_distance
from kgan.metrics.toy_face_modes import ToyFaceModes, expected_modes_uniform, toy_face_modes

__all__ = [
    "ClassCoverage", "CodeAgreement", "ConditionalAccuracy", "class_mode_coverage", "code_agreement",
    "conditional_accuracy", "score_conditional_generator",
    "Coverage", "FeatureExtractor", "FrechetDistance", "ToyFaceModes", "density_coverage", "expected_modes_uniform",
    "frechet_distance", "frechet_distance_from_statistics", "histogram_2d", "inception_v3", "js_divergence",
    "kernel_distance", "load_extractor", "mode_coverage", "precision_recall", "sliced_wasserstein_distance",
    "toy_face_modes", "train_feature_encoder", "wasserstein_1d",
]
