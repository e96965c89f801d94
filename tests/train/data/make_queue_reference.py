"""Write queue_reference.json: the queue_cases run on TensorFlow's TF1 queues and input pipeline.

Run with a TensorFlow environment (not a gpugraph dependency):
    python tests/train/data/make_queue_reference.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import tensorflow.compat.v1 as tf  # noqa: E402

from queue_cases import CASES  # noqa: E402

tf.disable_v2_behavior()  # TF1 graph mode with ref variables, as tf.train's input pipeline was written for


def main() -> None:
    results = {}
    for name, case in CASES.items():
        with tf.Graph().as_default():
            results[name] = case(tf)
    path = HERE / "queue_reference.json"
    path.write_text(json.dumps(results, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
