"""Write cosine_decay_reference.json: tf.compat.v1.train's cosine schedules with restarts and linear decay.

Run with a TensorFlow environment (not a gpugraph dependency):
    python tests/train/data/make_cosine_decay_reference.py
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import tensorflow.compat.v1 as tf

STEPS = [0, 1, 4, 9, 10, 11, 19, 29, 30, 31, 50, 69, 70, 71, 100, 149, 150, 151, 1000]

# (function name, positional args with "global_step" where the int64 step variable goes, keyword args)
CASES = [
    ("cosine_decay_restarts", [0.1, "global_step", 10], {}),
    ("cosine_decay_restarts", [0.1, "global_step", 10], {"t_mul": 1.0}),
    ("cosine_decay_restarts", [0.5, "global_step", 10], {"t_mul": 1.5, "m_mul": 0.8, "alpha": 0.1}),
    ("cosine_decay_restarts", [0.5, "global_step", 20], {"t_mul": 3.0, "m_mul": 0.5}),
    ("linear_cosine_decay", [0.1, "global_step", 100], {}),
    ("linear_cosine_decay", [0.2, "global_step", 50], {"num_periods": 2.0, "alpha": 0.1, "beta": 0.01}),
    ("noisy_linear_cosine_decay", [0.1, "global_step", 100], {"initial_variance": 0.0}),
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
        out.append({"fn": fn, "args": args, "kwargs": kwargs, "name": lr.op.name, "values": values})
    lines = [json.dumps(case) for case in out]
    text = (f'{{"tensorflow": "{tf.__version__}", "steps": {json.dumps(STEPS)},\n "cases": [\n  '
            + ",\n  ".join(lines) + "\n]}\n")
    Path(__file__).with_name("cosine_decay_reference.json").write_text(text)


if __name__ == "__main__":
    main()
