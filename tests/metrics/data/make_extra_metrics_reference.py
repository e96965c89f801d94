"""Write extra_metrics_reference.json: every extra_metric_cases stream run through tf.compat.v1.metrics.

Run with a TensorFlow environment (not a gpugraph dependency):
    python tests/metrics/data/make_extra_metrics_reference.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import tensorflow.compat.v1 as tf  # noqa: E402

from extra_metric_cases import CASES, make_data, stream  # noqa: E402

tf.disable_v2_behavior()


def main() -> None:
    data = make_data()
    results = {name: stream(tf, name, data) for name in CASES}
    out = {"tensorflow": tf.__version__, "data": data, "cases": results}
    path = HERE / "extra_metrics_reference.json"
    path.write_text(json.dumps(out, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"wrote {path} ({len(results)} cases)")


if __name__ == "__main__":
    main()
