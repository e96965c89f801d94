"""Values printed by tf.Assert, tf.Print and tf.print, written once against the TF1 API.

``make_debug_reference.py`` records TensorFlow's text into ``debug_reference.json``;
``tests/ops/test_debug_ops.py`` checks gpugraph's text against it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

# name -> (values as nested lists, dtype)
VALUES: dict[str, tuple[Any, str]] = {
    "float_2x3": ([[1.5, 2.25, 3.0], [4e-7, 1e10, -0.0]], "float32"),
    "float64_thirds": ([1 / 3, 2 / 3, 1e-300, 123456789.125], "float64"),
    "float_special": ([float("inf"), float("-inf"), 0.1, 100.0], "float32"),
    "int_2x3x2": (np.arange(12).reshape(2, 3, 2).tolist(), "int32"),
    "int_long": (list(range(20)), "int64"),
    "int_8x8": (np.arange(64).reshape(8, 8).tolist(), "int32"),
    "bool": ([True, False, True], "bool"),
    "scalar": (2.5, "float32"),
    "strings": (["ab", "c"], "string"),
    "empty": ([], "float32"),
}
SUMMARIZE = (None, 1, 5, -1)


def feed_value(name: str) -> np.ndarray:
    value, dtype = VALUES[name]
    return np.asarray(value, dtype=object if dtype == "string" else dtype)
