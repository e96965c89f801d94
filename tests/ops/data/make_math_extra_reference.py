"""Write math_extra_reference.json: math_extra_cases built and run by TensorFlow's TF1 API.

Run with a TensorFlow environment (not a gpugraph dependency):
    python tests/ops/data/make_math_extra_reference.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import numpy as np  # noqa: E402
import tensorflow.compat.v1 as tf  # noqa: E402

from math_extra_cases import CASES  # noqa: E402

tf.disable_v2_behavior()


def _encode(v: np.ndarray) -> dict:
    v = np.asarray(v)
    flat = [None if isinstance(x, float) and np.isnan(x) else x for x in v.reshape(-1).tolist()]
    flat = [("inf" if x == np.inf else "-inf") if isinstance(x, float) and np.isinf(x) else x for x in flat]
    return {"dtype": v.dtype.name, "shape": list(v.shape), "value": flat}


def main() -> None:
    out: dict = {"tensorflow": tf.__version__, "cases": {}}
    for name, make in CASES.items():
        with tf.Graph().as_default():
            tensors = make(tf)
            with tf.Session() as sess:
                values = sess.run(tensors)
        out["cases"][name] = [_encode(v) for v in values]
    (HERE / "math_extra_reference.json").write_text(json.dumps(out, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
