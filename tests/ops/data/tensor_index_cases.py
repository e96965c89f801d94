"""Indexing with run-time Tensors and other TF1 behaviours, written once against the TF1 API.

``run(tf, name)`` builds and runs one case with the library given (TensorFlow or gpugraph) and returns
plain lists: values, gradients and static shapes. ``make_tensor_index_reference.py`` runs them with
TensorFlow into ``tensor_index_reference.json``; ``tests/ops/test_tensor_index.py`` compares gpugraph.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

X = (np.arange(15, dtype=np.float64).reshape(5, 3) - 4.0) / 3.0
W = np.linspace(-1.0, 2.0, 15).reshape(5, 3)


def _static(t: Any) -> Any:
    dims = t.shape.as_list() if t.shape.ndims is not None else None
    return dims


def _indexed(tf: Any, fn: Callable[..., Any], feeds: dict[str, int]) -> dict[str, Any]:
    """``fn(x, i, j)`` with int32 placeholders i and j fed ``feeds``; value, static shape and d(sum(out * w))/dx."""
    x = tf.placeholder(tf.float64, [5, 3], name="x")
    i = tf.placeholder(tf.int32, [], name="i")
    j = tf.placeholder(tf.int32, [], name="j")
    out = fn(tf, x, i, j)
    weight = tf.constant(np.linspace(0.5, 1.5, 64))
    flat = tf.reshape(out, [-1])
    loss = tf.reduce_sum(flat * weight[:tf.size(flat)])
    (dx,) = tf.gradients(loss, [x])
    with tf.Session() as sess:
        value, grad = sess.run([out, dx], {x: X, i: feeds.get("i", 0), j: feeds.get("j", 0)})
    return {"value": np.asarray(value).tolist(), "grad": np.asarray(grad).tolist(), "shape": _static(out)}


INDEX_CASES: dict[str, tuple[Callable[..., Any], dict[str, int]]] = {
    "row": (lambda tf, x, i, j: x[i], {"i": 2}),
    "row_negative": (lambda tf, x, i, j: x[i], {"i": -2}),
    "column": (lambda tf, x, i, j: x[:, i], {"i": 1}),
    "element": (lambda tf, x, i, j: x[i, j], {"i": 4, "j": -1}),
    "row_then_new_axis": (lambda tf, x, i, j: x[i, None, 1:], {"i": 3}),
    "ellipsis_column": (lambda tf, x, i, j: x[..., i], {"i": 2}),
    "rows_i_to_j": (lambda tf, x, i, j: x[i:j], {"i": 1, "j": 4}),
    "rows_from_i": (lambda tf, x, i, j: x[i:], {"i": 3}),
    "rows_to_negative_j": (lambda tf, x, i, j: x[:j], {"j": -2}),
    "rows_clamped": (lambda tf, x, i, j: x[i:j], {"i": -9, "j": 99}),
    "rows_empty": (lambda tf, x, i, j: x[i:j], {"i": 4, "j": 1}),
    "rows_reversed": (lambda tf, x, i, j: x[j:i:-1], {"i": 0, "j": 3}),
    "columns_i_to_plus_2": (lambda tf, x, i, j: x[1:4, i:i + 2], {"i": 1}),
    "row_and_column_slice": (lambda tf, x, i, j: x[i, j:], {"i": 1, "j": 1}),
    "strided_slice_tensors": (lambda tf, x, i, j: tf.strided_slice(x, tf.stack([i, 0]), tf.stack([j, 2]), [1, 1]),
                              {"i": 1, "j": 3}),
    "strided_slice_shrink": (lambda tf, x, i, j: tf.strided_slice(x, [i, 0], [i + 1, 3], [1, 1],
                                                                  shrink_axis_mask=1), {"i": 2}),
    "slice_begin_tensor": (lambda tf, x, i, j: tf.slice(x, [i, 0], [2, -1]), {"i": 2}),
    "slice_size_tensor": (lambda tf, x, i, j: tf.slice(x, tf.stack([i, 1]), tf.stack([j, -1])), {"i": 1, "j": 3}),
}


def _while_sum(tf: Any) -> dict[str, Any]:
    """A loop body reading ``elems[t]`` (TF1's usual pattern) and the gradient through it."""
    x = tf.placeholder(tf.float64, [5, 3], name="x")

    def body(t, acc):
        return t + 1, acc + x[t] * tf.cast(t + 1, tf.float64)

    _, total = tf.while_loop(lambda t, acc: t < 5, body, [tf.constant(0), tf.zeros([3], tf.float64)])
    (dx,) = tf.gradients(tf.reduce_sum(total * tf.constant([1.0, -2.0, 0.5], tf.float64)), [x])
    with tf.Session() as sess:
        value, grad = sess.run([total, dx], {x: X})
    return {"value": value.tolist(), "grad": grad.tolist(), "shape": _static(total)}


def _variable_row(tf: Any) -> dict[str, Any]:
    v = tf.Variable(X, name="v")
    i = tf.placeholder(tf.int64, [], name="i")
    row = v[i]
    (dv,) = tf.gradients(tf.reduce_sum(row * row), [v])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        value, grad = sess.run([row, dv], {i: 1})
    return {"value": value.tolist(), "grad": np.asarray(grad).tolist(), "shape": _static(row)}


def _two_tensor_array_reads(tf: Any) -> dict[str, Any]:
    x = tf.placeholder(tf.float64, [3], name="x")
    ta = tf.TensorArray(tf.float64, size=2, clear_after_read=False).write(0, x * 2.0).write(1, x * x)
    total = ta.read(0) * 1.5 + ta.read(1) + ta.read(0) + ta.read(1) * 3.0
    (dx,) = tf.gradients(tf.reduce_sum(total), [x])
    with tf.Session() as sess:
        value, grad = sess.run([total, dx], {x: [1.0, -2.0, 0.5]})
    return {"value": value.tolist(), "grad": grad.tolist(), "shape": _static(total)}


def _where_coordinates(tf: Any, fn: str) -> dict[str, Any]:
    c = tf.placeholder(tf.bool, [2, 3], name="c")
    out = getattr(tf, fn)(c)
    with tf.Session() as sess:
        value = sess.run(out, {c: [[True, False, True], [False, False, True]]})
    return {"value": value.tolist(), "dtype": out.dtype.name, "shape": _static(out)}


def _scatter_list_with_tensor(tf: Any) -> dict[str, Any]:
    v = tf.Variable([1.0, 2.0, 3.0], name="v")
    t = tf.placeholder(tf.float32, [], name="t")
    update = tf.scatter_add(v, [0, 2], [t, 1.0])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        value = sess.run(update, {t: 5.0})
    return {"value": value.tolist(), "shape": _static(update)}


OTHER_CASES: dict[str, Callable[..., dict[str, Any]]] = {
    "while_body_reads_row": _while_sum,
    "variable_row": _variable_row,
    "two_tensor_array_reads": _two_tensor_array_reads,
    "where_coordinates": lambda tf: _where_coordinates(tf, "where"),
    "where_v2_coordinates": lambda tf: _where_coordinates(tf, "where_v2"),
    "scatter_add_list_with_tensor": _scatter_list_with_tensor,
}

NAMES = sorted(INDEX_CASES) + sorted(OTHER_CASES)


def run(tf: Any, name: str) -> dict[str, Any]:
    with tf.Graph().as_default():
        if name in INDEX_CASES:
            fn, feeds = INDEX_CASES[name]
            return _indexed(tf, fn, feeds)
        return OTHER_CASES[name](tf)


def index_type_error(tf: Any) -> str:
    """TF1's build-time error for a float Tensor as an index."""
    x = tf.zeros([5, 3])
    try:
        x[tf.constant(1.0)]
    except TypeError as e:
        return str(e)
    return ""
