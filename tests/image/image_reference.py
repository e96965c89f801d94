"""Loads TensorFlow's reference outputs (tests/image/data/image_reference.json)."""

from __future__ import annotations

import base64
import functools
import json
from pathlib import Path
from typing import Any

import numpy as np

PATH = Path(__file__).resolve().parent / "data" / "image_reference.json"


@functools.cache
def data() -> dict[str, Any]:
    return json.loads(PATH.read_text())


def _array(entry: dict[str, Any]) -> np.ndarray:
    return np.asarray(entry["values"], dtype=entry["dtype"]).reshape(entry["shape"])


def case(key: str) -> np.ndarray:
    return _array(data()["cases"][key])


def image(key: str) -> np.ndarray:
    return _array(data()["inputs"][key])


def codec(key: str) -> bytes:
    return base64.b64decode(data()["codecs"][key])


def assert_tf_equal(got: Any, want: np.ndarray, rtol: float = 1e-5, atol: float = 1e-6) -> None:
    got = np.asarray(got)
    assert got.dtype == want.dtype and got.shape == want.shape, (
        f"{got.dtype}{got.shape} != TF's {want.dtype}{want.shape}")
    if want.dtype.kind == "f":
        np.testing.assert_allclose(got, want, rtol=rtol, atol=atol)
    else:
        np.testing.assert_array_equal(got, want)
