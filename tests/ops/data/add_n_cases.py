"""The add_n accuracy case shared by make_add_n_reference.py and test_math_ops.py."""

from __future__ import annotations

import numpy as np

TERMS = 50_000


def terms() -> np.ndarray:
    """50,000 float32 scalars of mixed sign and size."""
    rng = np.random.default_rng(20240611)
    return (rng.standard_normal(TERMS) * 10.0 ** rng.integers(-2, 3, TERMS) + 0.1).astype(np.float32)
