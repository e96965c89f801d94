"""Write dynamic_shape_reference.json: dynamic_shape_cases built and run by TensorFlow's TF1 API.

Run with a TensorFlow environment (not a gpugraph dependency):
    python tests/ops/data/make_dynamic_shape_reference.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import numpy as np  # noqa: E402
import tensorflow.compat.v1 as tf  # noqa: E402

from dynamic_shape_cases import CASES, STATIC_ONLY, static_shape  # noqa: E402

tf.disable_v2_behavior()


def main() -> None:
    out: dict = {"tensorflow": tf.__version__, "cases": {}, "static": {}}
    for name, make in CASES.items():
        with tf.Graph().as_default():
            t, feeds = make(tf)
            with tf.Session() as sess:
                value = np.asarray(sess.run(t, feeds))
        out["cases"][name] = {"shape": static_shape(t), "dtype": t.dtype.name, "value": value.tolist()}
    for name, make in STATIC_ONLY.items():
        with tf.Graph().as_default():
            t, _ = make(tf)
            out["static"][name] = {"shape": static_shape(t), "dtype": t.dtype.name, "op": t.op.name}
    path = HERE / "dynamic_shape_reference.json"
    path.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {path} ({len(out['cases'])} cases)")


if __name__ == "__main__":
    main()
