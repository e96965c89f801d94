"""Write tensor_index_reference.json: tensor_index_cases run with TensorFlow's TF1 API.

Run with a TensorFlow environment (not a gpugraph dependency):
    python tests/ops/data/make_tensor_index_reference.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import tensorflow.compat.v1 as tf  # noqa: E402

from tensor_index_cases import NAMES, index_type_error, run  # noqa: E402

tf.disable_v2_behavior()


def main() -> None:
    out = {"tensorflow": tf.__version__, "cases": {name: run(tf, name) for name in NAMES},
           "index_type_error": index_type_error(tf)}
    path = HERE / "tensor_index_reference.json"
    path.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
