"""Write moving_average_reference.json: moving_average_cases run with TensorFlow's TF1 API.

Run with a TensorFlow environment (not a gpugraph dependency):
    python tests/train/data/make_moving_average_reference.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import tensorflow.compat.v1 as tf  # noqa: E402

from moving_average_cases import run  # noqa: E402

tf.disable_v2_behavior()  # TF1 graph mode with ref variables


def main() -> None:
    out = {"tensorflow": tf.__version__, **run(tf)}
    path = HERE / "moving_average_reference.json"
    path.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
