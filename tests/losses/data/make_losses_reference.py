"""Write losses_reference.json: every loss_cases case evaluated by TensorFlow's tf.compat.v1.losses.

Run with a TensorFlow environment (not a gpugraph dependency):
    python tests/losses/data/make_losses_reference.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import tensorflow.compat.v1 as tf  # noqa: E402

from loss_cases import cases, evaluate, make_data  # noqa: E402

tf.disable_v2_behavior()


def main() -> None:
    data = make_data()
    results = [dict(case, **evaluate(tf, case, data)) for case in cases()]
    out = {"tensorflow": tf.__version__, "data": data, "cases": results}
    path = HERE / "losses_reference.json"
    path.write_text(json.dumps(out, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"wrote {path} ({len(results)} cases)")


if __name__ == "__main__":
    main()
