"""Write layers_reference.json: the layers_cases graphs built and run by TensorFlow's tf.compat.v1.layers.

Run with a TensorFlow environment (not a gpugraph dependency):
    TF_USE_LEGACY_KERAS=1 python tests/layers/data/make_layers_reference.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import tensorflow.compat.v1 as tf  # noqa: E402

from layers_cases import NAME_CASES, VALUE_CASES  # noqa: E402

tf.disable_v2_behavior()  # TF1 graph mode with ref variables, as tf.layers was written for


def _rounded(value: object) -> object:
    """Floats to 7 significant digits, which float32 results carry, to keep the file small."""
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    if isinstance(value, float):
        return float(np.format_float_positional(np.float32(value), precision=7, unique=False, fractional=False))
    return value


def _in_fresh_graph(fn: object) -> dict:
    with tf.Graph().as_default():
        return fn(tf)  # type: ignore[operator]


def main() -> None:
    values = {name: _rounded(_in_fresh_graph(fn)) for name, fn in VALUE_CASES.items()}
    names = {name: _in_fresh_graph(fn) for name, fn in NAME_CASES.items()}
    out = {"tensorflow": tf.__version__, "values": values, "names": names}
    path = HERE / "layers_reference.json"
    path.write_text(json.dumps(out, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"wrote {path} ({len(values)} value cases, {len(names)} name cases, {path.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
