"""Write norm_reference.json: the norm_cases graphs (moments, batch norms, l2_normalize, lrn, top_k,
in_top_k) run on TensorFlow's TF1 API, with gradients from tf.gradients.

Run with a TensorFlow environment (not a gpugraph dependency):
    python tests/ops/data/make_norm_reference.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import tensorflow.compat.v1 as tf  # noqa: E402

from norm_cases import CASES, evaluate  # noqa: E402

tf.disable_v2_behavior()


def _plain(v: Any) -> Any:
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    if isinstance(v, np.ndarray):
        return {"dtype": str(v.dtype), "shape": list(v.shape), "data": v.reshape(-1).tolist()}
    return v


def main() -> None:
    cases = {name: _plain(evaluate(tf, name)) for name in CASES}
    out = {"tensorflow": tf.__version__, "cases": cases}
    path = HERE / "norm_reference.json"
    path.write_text(json.dumps(out, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"wrote {path} ({len(cases)} cases)")


if __name__ == "__main__":
    main()
