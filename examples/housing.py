"""A stand-in for sklearn's fetch_california_housing: synthetic data of the same shape.

The seed programs fetch the California housing data set over the network; these examples run
offline, so they use a fixed, synthetic linear-regression problem with the same shapes
(20640 samples, 8 features) and the same attribute names (.data, .target).
"""

from types import SimpleNamespace

import numpy as np


def fetch_california_housing(n_samples: int = 20640, n_features: int = 8, seed: int = 42) -> SimpleNamespace:
    rng = np.random.RandomState(seed)
    data = rng.normal(loc=3.0, scale=2.0, size=(n_samples, n_features))
    true_theta = rng.uniform(-1.0, 1.0, size=n_features)
    target = 2.0 + (data - 3.0) @ true_theta * 0.5 + rng.normal(scale=0.1, size=n_samples)
    return SimpleNamespace(data=data, target=target)


def standard_scale(x: np.ndarray) -> np.ndarray:
    """What sklearn's StandardScaler().fit_transform does: zero mean, unit variance per column."""
    std = x.std(axis=0)
    std[std == 0] = 1.0
    return (x - x.mean(axis=0)) / std
