"""Fixtures the metric tests share."""

import pytest

from tests.metrics.image_sets import features, real_and_fake


@pytest.fixture(scope="session")
def face_features():
    """Features of 1,000 real 32-px toy faces, and 1,000 other faces (pixels) to degrade."""
    real, fake = real_and_fake(1000, 32)
    return features(real), fake
