"""Write layers_extra_reference.json: the layers_extra_cases graphs built and run by tf.compat.v1.layers.

Run with a TensorFlow environment (not a gpugraph dependency):
    TF_USE_LEGACY_KERAS=1 python tests/layers/data/make_layers_extra_reference.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import tensorflow.compat.v1 as tf  # noqa: E402

from layers_extra_cases import CASES  # noqa: E402

tf.disable_v2_behavior()


def _rounded(value: object) -> object:
    """Floats to 7 significant digits, which float32 results carry, to keep the file small."""
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, float):
        return float(np.format_float_positional(np.float32(value), precision=7, unique=False, fractional=False))
    return value


def main() -> None:
    out = {}
    for name, fn in CASES.items():
        with tf.Graph().as_default():
            out[name] = _rounded(fn(tf))
    path = HERE / "layers_extra_reference.json"
    path.write_text(json.dumps({"tensorflow": tf.__version__, "cases": out}, separators=(",", ":")) + "\n")
    print(f"wrote {path} ({len(out)} cases, {path.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
