"""The TensorFlow reference (data/layers_reference.json) and a checker shared by the tests/layers files."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

import gpugraph as tf

DATA = Path(__file__).resolve().parent / "data"
sys.path.insert(0, str(DATA))

from layers_cases import NAME_CASES, VALUE_CASES, data  # noqa: E402,F401

REFERENCE = json.loads((DATA / "layers_reference.json").read_text(encoding="utf-8"))


def check_value_case(name: str, rtol: float = 1e-5, atol: float = 1e-5) -> None:
    """Build and run VALUE_CASES[name] with gpugraph; every fetched array equals TensorFlow's."""
    with tf.Graph().as_default():
        got = VALUE_CASES[name](tf)
    want = REFERENCE["values"][name]
    assert sorted(got) == sorted(want)
    for key, value in want.items():
        np.testing.assert_allclose(np.asarray(got[key]), np.asarray(value), rtol=rtol, atol=atol,
                                   err_msg=f"{name}: {key}")


def check_name_case(name: str) -> None:
    with tf.Graph().as_default():
        got = NAME_CASES[name](tf)
    want = REFERENCE["names"][name]
    for key in want:
        assert got[key] == want[key], f"{name}: {key}"
