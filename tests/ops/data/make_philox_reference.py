"""Write philox_reference.json: TF1's seeded random ops (TensorFlow's CPU kernels), two runs of each case.

Run with a TensorFlow environment (not a gpugraph dependency):
    python tests/ops/data/make_philox_reference.py

``CASES`` and ``build``/``draw`` are shared with tests/ops/test_philox_random.py, which runs the same
graphs under gpugraph (``tf`` is either module).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
LOGITS = [[0.5, -1.0, 2.0, 0.0, 1.0], [-3.0, 0.25, 0.25, 1.5, -0.5], [0.0, 0.0, 0.0, 0.0, 0.0]]

# name -> (op, graph seed, op seed, kwargs); shapes cover sizes not a multiple of 4 and above 256
CASES: dict[str, tuple[str, int | None, int | None, dict[str, Any]]] = {
    "uniform_f32_op_seed": ("uniform", None, 5, {"shape": [301]}),
    "uniform_f32_graph_seed": ("uniform", 1234, None, {"shape": [3, 7], "minval": -2.0, "maxval": 3.0}),
    "uniform_f32_zero_seeds": ("uniform", 0, 0, {"shape": [6]}),
    "uniform_f16": ("uniform", 7, 3, {"shape": [7], "dtype": "float16"}),
    "uniform_f64": ("uniform", None, 11, {"shape": [5], "dtype": "float64", "maxval": 4}),
    "uniform_i32": ("uniform", 99, 1, {"shape": [257], "minval": -5, "maxval": 17, "dtype": "int32"}),
    "uniform_i32_wide": ("uniform", 99, 2, {"shape": [5], "minval": -2**31, "maxval": 2**31 - 1, "dtype": "int32"}),
    "uniform_i64": ("uniform", 5, None, {"shape": [9], "minval": -2**40, "maxval": 2**40 + 3, "dtype": "int64"}),
    "normal_f32": ("normal", 42, 17, {"shape": [2, 131], "mean": 1.0, "stddev": 2.0}),
    "normal_f32_graph_seed": ("normal", 42, None, {"shape": [5]}),
    "normal_f16": ("normal", 3, 4, {"shape": [6], "dtype": "float16"}),
    "normal_f64": ("normal", 3, 5, {"shape": [7], "dtype": "float64"}),
    "truncated_f32": ("truncated", 8, 9, {"shape": [263]}),
    "truncated_f16": ("truncated", 8, 10, {"shape": [5], "dtype": "float16"}),
    "truncated_f64": ("truncated", 8, 11, {"shape": [9], "dtype": "float64", "stddev": 0.5}),
    "shuffle_1d": ("shuffle", 21, 1, {"value": list(range(10))}),
    "shuffle_2d": ("shuffle", 21, 2, {"value": [[i, -i] for i in range(7)]}),
    "shuffle_long": ("shuffle", None, 3, {"value": list(range(300))}),
    "multinomial_i64": ("multinomial", 12, 1, {"logits": LOGITS, "num_samples": 10}),
    "categorical_i32": ("categorical", 12, None, {"logits": LOGITS[:2], "num_samples": 7, "dtype": "int32"}),
}


def draw(tf: Any, op: str, op_seed: int | None, kwargs: dict[str, Any]) -> Any:
    kw = dict(kwargs)
    if "dtype" in kw:
        kw["dtype"] = getattr(tf, kw["dtype"])
    if op == "uniform":
        return tf.random_uniform(seed=op_seed, **kw)
    if op == "normal":
        return tf.random_normal(seed=op_seed, **kw)
    if op == "truncated":
        return tf.truncated_normal(seed=op_seed, **kw)
    if op == "shuffle":
        return tf.random_shuffle(kw["value"], seed=op_seed)
    if op == "multinomial":
        return tf.multinomial(kw["logits"], kw["num_samples"], seed=op_seed)
    return tf.random.categorical(kw["logits"], kw["num_samples"], dtype=kw["dtype"], seed=op_seed)


def build(tf: Any, name: str) -> Any:
    """The case's tensor, in a new default graph (a graph seed of None leaves it unset)."""
    op, graph_seed, op_seed, kwargs = CASES[name]
    if graph_seed is not None:
        tf.set_random_seed(graph_seed)
    if op_seed is None:
        draw(tf, op, None, kwargs)  # takes op seed 0 of the graph seed: the case gets the next one
    return draw(tf, op, op_seed, kwargs)


def layer_values(tf: Any) -> dict[str, Any]:
    """A glorot_uniform dense kernel, a truncated_normal_initializer variable and a dropout mask."""
    tf.set_random_seed(2024)
    x = tf.placeholder(tf.float32, [None, 6])
    tf.layers.dense(x, 5, name="dense")
    w = tf.get_variable("w", [3, 130], initializer=tf.truncated_normal_initializer(stddev=0.1))
    dropped = tf.nn.dropout(tf.ones([4, 50]), rate=0.3)
    kernel = tf.get_default_graph().get_tensor_by_name("dense/kernel:0")
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        k, wv, d1 = sess.run([kernel, w, dropped])
        d2 = sess.run(dropped)
    return {"kernel": k.tolist(), "w": wv.tolist(), "dropout_runs": [d1.tolist(), d2.tolist()]}


def main() -> None:
    import tensorflow.compat.v1 as tf

    tf.disable_v2_behavior()
    cases = {}
    for name in CASES:
        with tf.Graph().as_default():
            t = build(tf, name)
            with tf.Session() as sess:
                cases[name] = [sess.run(t).tolist() for _ in range(2)]
    with tf.Graph().as_default():
        layers = layer_values(tf)
    out = {"tensorflow": tf.__version__, "cases": cases, "layers": layers}
    path = HERE / "philox_reference.json"
    path.write_text(json.dumps(out, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"wrote {path} ({path.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
