"""Write add_n_reference.json: TensorFlow's tf.add_n over many float32 terms, and the exact sum.

Run with a TensorFlow environment (not a gpugraph dependency):
    python tests/ops/data/make_add_n_reference.py
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import tensorflow.compat.v1 as tf  # noqa: E402

from add_n_cases import TERMS, terms  # noqa: E402


def main() -> None:
    tf.disable_v2_behavior()
    xs = terms()
    with tf.Graph().as_default():
        total = tf.add_n([tf.constant(x) for x in xs])
        with tf.Session() as sess:
            tf_sum = float(sess.run(total))
    exact = math.fsum(float(x) for x in xs)
    (HERE / "add_n_reference.json").write_text(json.dumps({"terms": TERMS, "tf": tf_sum, "exact": exact}) + "\n")


if __name__ == "__main__":
    main()
