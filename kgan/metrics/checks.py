"""Input checks the metrics share, so every metric names the bad argument the same way."""

import numpy as np

__all__ = ["check_feature_pair"]


def check_feature_pair(real_features, fake_features, needs=None):
    """Both feature sets as float64 (N, d) arrays of equal d, or a ValueError naming the bad one.

    `needs` maps "real_features" / "fake_features" to (minimum count, what that minimum is for), e.g.
    `{"real_features": (4, "more than k = 3 samples for k-th neighbour radii")}`; a set it does not
    name needs one sample.
    """
    pair = {"real_features": np.asarray(real_features, np.float64), "fake_features": np.asarray(fake_features, np.float64)}
    for name, features in pair.items():
        if features.ndim != 2:
            raise ValueError(f"{name} must be a 2D array (samples, features), got shape {features.shape}.")
    real, fake = pair.values()
    if real.shape[1] != fake.shape[1]:
        raise ValueError(f"Feature dimensions differ: {real.shape[1]} and {fake.shape[1]}.")
    for name, features in pair.items():
        minimum, purpose = (needs or {}).get(name, (1, "at least one sample"))
        if len(features) < minimum:
            raise ValueError(f"{name} needs {purpose}, got {len(features)}.")
    return real, fake
