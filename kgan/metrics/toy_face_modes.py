"""Mode coverage of generated toy faces, the way Stacked MNIST counts it."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from kgan.datasets.toy_faces import decode_toy_faces, mode_index, num_modes

__all__ = ["ToyFaceModes", "expected_modes_uniform", "toy_face_modes"]


@dataclass(frozen=True)
class ToyFaceModes:
    """How many of the toy faces' modes a set of samples covers (see `toy_face_modes`)."""

    modes_covered: int  # distinct modes among the decoded samples
    num_modes: int
    kl_to_uniform: float | None  # KL(p ‖ uniform) in nats over decoded samples; None if none decoded
    decoded_fraction: float  # fraction of samples that decode as a toy face
    num_samples: int
    counts: np.ndarray  # (num_modes,) decoded samples per mode

    def to_dict(self):
        """The scores as plain JSON-ready values (`counts` as a list)."""
        return {
            "modes_covered": self.modes_covered,
            "num_modes": self.num_modes,
            "kl_to_uniform": self.kl_to_uniform,
            "decoded_fraction": self.decoded_fraction,
            "num_samples": self.num_samples,
            "counts": [int(count) for count in self.counts],
        }

    def __str__(self):
        kl = "n/a" if self.kl_to_uniform is None else f"{self.kl_to_uniform:.2f} nats"
        return (
            f"{self.modes_covered}/{self.num_modes} modes, KL {kl}, "
            f"{100 * self.decoded_fraction:.1f}% decodable"
        )


def toy_face_modes(images) -> ToyFaceModes:
    """Count the toy-face modes that uint8 samples cover, and how evenly.

    The Stacked MNIST protocol (Metz et al. 2017, Unrolled GANs; used again by
    VEEGAN and PacGAN): label every generated sample with its mode, then report
    the number of distinct modes covered and KL(p_generated ‖ uniform), the
    divergence of the mode histogram from the data's uniform one. Stacked MNIST
    labels its 1,000 modes with a pretrained classifier; toy faces need none:
    `decode_toy_faces` reads the five attributes exactly, and samples that do
    not decode (noise, blurs, half faces) belong to no mode. Both scores are
    over the decoded samples; `decoded_fraction` says how many that is.

    ``images``: uint8 ``[N, S, S, 3]`` (a generator's [-1, 1] output through
    `kgan.images.to_uint8`). KL is ``log(num_modes) - H(p)`` in nats:
    0 for a perfectly even spread, ``log(576)`` ≈ 6.36 for a single mode.

    Finite samples score below the ideal even for the data itself: N uniform
    draws cover only `expected_modes_uniform` (N) modes on average, and their
    histogram's KL is above 0 (about (K - 1) / (2 N) nats for N well above
    K = 576). Compare a generator with real toy faces scored at the same N.
    """
    labels, decoded = decode_toy_faces(images)
    modes = num_modes()
    counts = np.bincount(mode_index(labels[decoded]), minlength=modes)
    total = int(counts.sum())
    if total:
        p = counts[counts > 0] / total
        kl = float(math.log(modes) + np.sum(p * np.log(p)))
    else:
        kl = None
    num_samples = len(labels)
    return ToyFaceModes(
        modes_covered=int(np.count_nonzero(counts)),
        num_modes=modes,
        kl_to_uniform=kl,
        decoded_fraction=total / num_samples if num_samples else 0.0,
        num_samples=num_samples,
        counts=counts,
    )


def expected_modes_uniform(num_samples: int) -> float:
    """Modes that ``num_samples`` uniform draws over the toy faces cover on average.

    Each mode is missed by all draws with probability (1 - 1/K)^N, so the
    expectation is K (1 - (1 - 1/K)^N), K = `num_modes`() = 576: about 334.4
    for 500 samples, 575.9 for 5,000.
    """
    modes = num_modes()
    return modes * (1 - (1 - 1 / modes) ** num_samples)
