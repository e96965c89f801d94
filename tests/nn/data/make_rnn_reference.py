"""Write rnn_reference.json: the rnn_cases nets run with TensorFlow's TF1 RNN API.

Run with a TensorFlow environment (not a gpugraph dependency):
    TF_USE_LEGACY_KERAS=1 python tests/nn/data/make_rnn_reference.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import tensorflow.compat.v1 as tf  # noqa: E402

from rnn_cases import DYNAMIC_CASES, STATIC_CASES, run_case  # noqa: E402

tf.disable_v2_behavior()


def _rounded(value):
    """Floats to 7 significant digits: float32 precision, half the file size."""
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    return float(np.format_float_positional(np.float32(value), precision=7, unique=False, trim="-")) \
        if isinstance(value, float) else value


def main() -> None:
    cases = {name: run_case(tf, build) for name, build in {**STATIC_CASES, **DYNAMIC_CASES}.items()}
    out = {"tensorflow": tf.__version__, "cases": _rounded(cases)}
    path = HERE / "rnn_reference.json"
    path.write_text(json.dumps(out, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"wrote {path} ({len(cases)} cases, {path.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
