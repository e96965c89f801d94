"""Loads norm_reference.json (TensorFlow's results for data/norm_cases.py) and compares gpugraph's."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

DATA = Path(__file__).resolve().parent / "data"
sys.path.insert(0, str(DATA))

import norm_cases  # noqa: E402

import gpugraph as tf  # noqa: E402

REFERENCE = json.loads((DATA / "norm_reference.json").read_text(encoding="utf-8"))["cases"]


def _array(v: dict[str, Any]) -> np.ndarray:
    return np.array(v["data"], dtype=v["dtype"]).reshape(v["shape"])


def check_case(name: str, rtol: float = 2e-5, atol: float = 2e-6) -> None:
    """Values, tensor names and gradients of case ``name`` equal TensorFlow's."""
    want = REFERENCE[name]
    got = norm_cases.evaluate(tf, name)
    assert got["names"] == want["names"], name
    for k, v in want["values"].items():
        w = _array(v)
        assert got["values"][k].dtype == w.dtype and got["values"][k].shape == w.shape, (name, k)
        np.testing.assert_allclose(got["values"][k], w, rtol=rtol, atol=atol, err_msg=f"{name} output {k}")
    assert sorted(got["grads"]) == sorted(want["grads"]), name
    for k, v in want["grads"].items():
        if v is None:
            assert got["grads"][k] is None, f"{name}: TensorFlow gives no gradient for {k}"
            continue
        np.testing.assert_allclose(got["grads"][k], _array(v), rtol=rtol, atol=atol, err_msg=f"{name} grad {k}")
