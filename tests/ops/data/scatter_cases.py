"""Scatter cases written once against the TF1 API: ``run(tf, case)`` gets the library to use.

``make_scatter_reference.py`` runs them with TensorFlow into ``scatter_reference.json``;
``tests/ops/test_scatter_ops.py`` runs them with gpugraph and compares.
"""

from __future__ import annotations

from typing import Any

import numpy as np

_REF_2D = [[1.0, 2.0], [3.0, -4.0], [5.0, 6.0], [0.5, -0.25]]

# name -> function in tf, initial value, indices, updates, dtype
CASES: dict[str, dict[str, Any]] = {
    "update_rows": dict(fn="scatter_update", ref=_REF_2D, indices=[3, 0], updates=[[9, 8], [7, 6]]),
    "add_repeated": dict(fn="scatter_add", ref=_REF_2D, indices=[1, 1, 3, 1], updates=[[1, 2], [3, 4], [5, 6], [7, 8]]),
    "add_int32_repeated": dict(fn="scatter_add", ref=[1, 2, 3], indices=[2, 2, 0], updates=[10, 20, 30],
                               dtype="int32"),
    "add_2d_indices": dict(fn="scatter_add", ref=[0.0, 1.0, 2.0, 3.0], indices=[[0, 3], [3, 3]],
                           updates=[[1.0, 2.0], [3.0, 4.0]]),
    "sub_repeated": dict(fn="scatter_sub", ref=_REF_2D, indices=[2, 0, 2], updates=[[1, 1], [2, 2], [0.5, 0.5]]),
    "mul_repeated": dict(fn="scatter_mul", ref=_REF_2D, indices=[0, 2, 0], updates=[[2, 3], [-1, 0.5], [4, -2]]),
    "div_repeated": dict(fn="scatter_div", ref=_REF_2D, indices=[1, 1], updates=[[2, 4], [0.5, -8]]),
    "max_repeated": dict(fn="scatter_max", ref=_REF_2D, indices=[0, 0, 3], updates=[[0, 7], [4, 1], [-1, 0]]),
    "min_repeated": dict(fn="scatter_min", ref=_REF_2D, indices=[2, 1, 2], updates=[[9, 1], [0, 0], [4, 8]]),
    "nd_update_elements": dict(fn="scatter_nd_update", ref=_REF_2D, indices=[[0, 1], [3, 0]], updates=[10, 20]),
    "nd_update_rows": dict(fn="scatter_nd_update", ref=_REF_2D, indices=[[2]], updates=[[-1, -2]]),
    "nd_add_repeated": dict(fn="scatter_nd_add", ref=_REF_2D, indices=[[1, 1], [1, 1], [0, 0]], updates=[1, 2, 3]),
    "nd_sub_repeated_rows": dict(fn="scatter_nd_sub", ref=_REF_2D, indices=[[3], [3]], updates=[[1, 1], [2, 3]]),
    "batch_update": dict(fn="batch_scatter_update", ref=[[0, 0, 0], [0, 0, 0]], indices=[[0, 2], [1, 0]],
                         updates=[[1, 2], [3, 4]]),
}


def run(tf: Any, case: dict[str, Any]) -> list[Any]:
    """The variable's value after the scatter, as nested lists."""
    dtype = np.dtype(case.get("dtype", "float32"))
    graph = tf.Graph()
    with graph.as_default():
        var = tf.Variable(np.asarray(case["ref"], dtype), name="v")
        out = getattr(tf, case["fn"])(var, np.asarray(case["indices"], np.int32),
                                      np.asarray(case["updates"], dtype))
        with tf.Session(graph=graph) as sess:
            sess.run(var.initializer)
            sess.run(out)
            return np.asarray(sess.run(var)).tolist()
