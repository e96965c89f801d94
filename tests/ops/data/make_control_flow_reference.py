"""Write control_flow_reference.json: the programs of control_flow_cases.py run by TensorFlow's TF1 API.

Run with a TensorFlow environment (not a gpugraph dependency):
    python tests/ops/data/make_control_flow_reference.py
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

from control_flow_cases import PROGRAMS, run_program  # noqa: E402

tf.disable_v2_behavior()
tf.disable_control_flow_v2()  # TF1's graphs: cond/Merge, while/Exit names


def plain(value: Any) -> Any:
    if hasattr(value, "indices") and hasattr(value, "dense_shape"):  # the gradient of a gather: densify it
        dense = np.zeros(value.dense_shape, value.values.dtype)
        np.add.at(dense, value.indices, value.values)
        return dense.tolist()
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return np.asarray(value).tolist()


def main() -> None:
    results = {name: plain(run_program(tf, name)) for name in PROGRAMS}
    path = HERE / "control_flow_reference.json"
    path.write_text(json.dumps({"tensorflow": tf.__version__, "programs": results}) + "\n", encoding="utf-8")
    print(f"wrote {path} ({len(results)} programs)")


if __name__ == "__main__":
    main()
