"""Writes learning_rate_decay_reference.json: tf.compat.v1.train schedules evaluated at several steps.

Run with a TensorFlow environment (not a gpugraph dependency):
    /path/to/tf/bin/python tests/train/make_learning_rate_decay_reference.py
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import tensorflow.compat.v1 as tf

STEPS = [0, 1, 4, 5, 9, 10, 11, 19, 20, 21, 34, 35, 36, 40, 55, 100, 1000]

# (function name, positional args with "global_step" where the int64 step variable goes, keyword args)
CASES = [
    ("exponential_decay", [0.1, "global_step", 10, 0.96], {}),
    ("exponential_decay", [0.1, "global_step", 10, 0.5], {"staircase": True}),
    ("exponential_decay", [1.0, "global_step", 3, 0.9], {}),
    ("natural_exp_decay", [0.5, "global_step", 5, 0.3], {}),
    ("natural_exp_decay", [0.5, "global_step", 5, 0.3], {"staircase": True}),
    ("inverse_time_decay", [0.2, "global_step", 7, 0.5], {}),
    ("inverse_time_decay", [0.2, "global_step", 7, 0.5], {"staircase": True}),
    ("polynomial_decay", [0.1, "global_step", 20], {}),
    ("polynomial_decay", [0.1, "global_step", 20], {"end_learning_rate": 0.001, "power": 0.5}),
    ("polynomial_decay", [0.1, "global_step", 20], {"end_learning_rate": 0.01, "power": 2.0, "cycle": True}),
    ("polynomial_decay", [0.1, "global_step", 20], {"cycle": True}),
    ("piecewise_constant", ["global_step", [10, 20, 35], [1.0, 0.5, 0.1, 0.01]], {}),
    ("piecewise_constant", ["global_step", [10], [0.3, 0.03]], {}),
]


def main() -> None:
    tf.disable_eager_execution()
    out = []
    for fn, args, kwargs in CASES:
        g = tf.Graph()
        with g.as_default():
            step = tf.Variable(0, dtype=tf.int64, name="global_step")
            value = tf.placeholder(tf.int64, [])
            set_step = tf.assign(step, value)
            lr = getattr(tf.train, fn)(*[step if a == "global_step" else a for a in args], **kwargs)
            with tf.Session() as sess:
                sess.run(tf.global_variables_initializer())
                values = []
                for s in STEPS:
                    sess.run(set_step, {value: s})
                    v = sess.run(lr)
                    assert v.dtype == np.float32
                    values.append(float(v))
        out.append({"fn": fn, "args": args, "kwargs": kwargs, "values": values})
    lines = [json.dumps(case) for case in out]  # one case a line: small diffs when it is regenerated
    text = (f'{{"tensorflow": "{tf.__version__}", "steps": {json.dumps(STEPS)},\n "cases": [\n  '
            + ",\n  ".join(lines) + "\n]}\n")
    path = Path(__file__).with_name("learning_rate_decay_reference.json")
    path.write_text(text)


if __name__ == "__main__":
    main()
