"""Write scatter_reference.json: scatter_cases run with TensorFlow's TF1 API.

Run with a TensorFlow environment (not a gpugraph dependency):
    python tests/ops/data/make_scatter_reference.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import tensorflow.compat.v1 as tf  # noqa: E402

from scatter_cases import CASES, run  # noqa: E402

tf.disable_v2_behavior()


def main() -> None:
    out = {"tensorflow": tf.__version__, "cases": {name: run(tf, case) for name, case in CASES.items()}}
    path = HERE / "scatter_reference.json"
    path.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
