"""The TensorFlow reference of the separable and 3-D layers (data/layers_extra_reference.json) and its checker."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

import gpugraph as tf

DATA = Path(__file__).resolve().parent / "data"
sys.path.insert(0, str(DATA))

from layers_extra_cases import CASES  # noqa: E402

REFERENCE = json.loads((DATA / "layers_extra_reference.json").read_text(encoding="utf-8"))["cases"]


def check_case(name: str) -> None:
    """Build and run CASES[name] with gpugraph: values, gradients and names equal TensorFlow's."""
    with tf.Graph().as_default():
        got = CASES[name](tf)
    want = REFERENCE[name]
    assert got.pop("names") == want["names"]
    assert sorted(got) == sorted(k for k in want if k != "names")
    for key, value in got.items():
        np.testing.assert_allclose(np.asarray(value), np.asarray(want[key]), rtol=1e-5, atol=1e-5,
                                   err_msg=f"{name}: {key}")
