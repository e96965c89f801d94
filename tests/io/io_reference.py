"""Loads TensorFlow's reference values (data/io_reference.json, made by data/make_io_reference.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

DATA = Path(__file__).resolve().parent / "data"
REFERENCE: dict[str, Any] = json.loads((DATA / "io_reference.json").read_text())


def expected(value: dict[str, Any]) -> np.ndarray:
    if value["dtype"] == "string":
        out = np.empty(len(value["hex"]), dtype=object)
        out[:] = [bytes.fromhex(h) for h in value["hex"]]
        return out.reshape(value["shape"])
    return np.array(value["values"], dtype=value["dtype"]).reshape(value["shape"])


def assert_same(got: Any, value: dict[str, Any]) -> None:
    if "indices" in value:
        np.testing.assert_array_equal(got.indices, np.array(value["indices"], np.int64).reshape(-1, len(
            value["dense_shape"])))
        assert_same(got.values, value["values"])
        np.testing.assert_array_equal(got.dense_shape, value["dense_shape"])
        return
    want = expected(value)
    got = np.asarray(got)
    assert got.shape == want.shape and got.dtype == want.dtype, (got, want)
    assert got.tolist() == want.tolist()
