"""Graphs whose shapes are given as tensors, built the same way by TensorFlow and by gpugraph.

Each case takes the ``tf`` module and returns (tensor, feeds as {placeholder: value}); the reference
holds TensorFlow's static shape (None: unknown rank) and, where deterministic, the fetched value.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

X = np.arange(24, dtype=np.float32).reshape(2, 3, 4)


def _x(tf: Any, batch_known: bool) -> Any:
    return tf.placeholder(tf.float32, [2 if batch_known else None, 3, 4], name="x")


def _case(build: Callable[[Any, Any], Any], batch_known: bool = False) -> Callable[[Any], Any]:
    def make(tf: Any) -> Any:
        x = _x(tf, batch_known)
        return build(tf, x), {x: X}
    return make


CASES: dict[str, Callable[[Any], Any]] = {
    "reshape_shape_of_x": _case(lambda tf, x: tf.reshape(x * 2.0, tf.shape(x))),
    "reshape_mixed_list": _case(lambda tf, x: tf.reshape(x, [-1, tf.shape(x)[1] * 2])),
    "reshape_mixed_list_known": _case(lambda tf, x: tf.reshape(x, [-1, tf.shape(x)[1] * 2]), True),
    "reshape_stack_batch": _case(lambda tf, x: tf.reshape(x, tf.stack([tf.shape(x)[0], 12]))),
    "reshape_stack_batch_known": _case(lambda tf, x: tf.reshape(x, tf.stack([tf.shape(x)[0], 12])), True),
    "reshape_concat": _case(lambda tf, x: tf.reshape(x, tf.concat([tf.shape(x)[:1], [-1]], 0)), True),
    "reshape_two_unknown": _case(lambda tf, x: tf.reshape(x, [tf.shape(x)[0], -1])),
    "reshape_const_tensor": _case(lambda tf, x: tf.reshape(x, tf.constant([4, 6])), True),
    "zeros_shape_of_x": _case(lambda tf, x: tf.zeros(tf.shape(x))),
    "zeros_shape_of_x_known": _case(lambda tf, x: tf.zeros(tf.shape(x)), True),
    "ones_int64_shape": _case(lambda tf, x: tf.ones(tf.shape(x, out_type=tf.int64), dtype=tf.int32)),
    "fill_stack": _case(lambda tf, x: tf.fill(tf.stack([tf.shape(x)[0], 2]), 7.5)),
    "range_shape_dim": _case(lambda tf, x: tf.range(tf.shape(x)[0])),
    "range_const": _case(lambda tf, x: tf.range(3, 10, 2)),
    "range_float_down": _case(lambda tf, x: tf.range(tf.cast(tf.shape(x)[0], tf.float32) + 0.5, 0, -0.5)),
    "range_mixed_dtypes": _case(lambda tf, x: tf.range(1, 4.5)),
    "stack_shape": _case(lambda tf, x: tf.stack([tf.shape(x)[0], 10])),
    "tile_shape": _case(lambda tf, x: tf.tile(x, tf.shape(x)[::-1][:3] * 0 + tf.constant([1, 2, 1])), True),
    "tile_mixed_list": _case(lambda tf, x: tf.tile(x, [1, tf.shape(x)[0], 1])),
    "size_rank": _case(lambda tf, x: tf.stack([tf.size(x), tf.rank(x)])),
    "random_uniform_shape": _case(lambda tf, x: tf.shape(tf.random_uniform(tf.shape(x)))),
    "random_normal_static": _case(lambda tf, x: tf.shape(tf.random_normal(tf.shape(x))), True),
    "truncated_normal_list": _case(lambda tf, x: tf.shape(tf.truncated_normal([tf.shape(x)[0], 5]))),
    "random_int_shape": _case(lambda tf, x: tf.shape(tf.random_uniform(tf.shape(x), maxval=4, dtype=tf.int32))),
}

# Static shapes of tensors that are never fetched (their values are random): name -> builder.
STATIC_ONLY: dict[str, Callable[[Any], Any]] = {
    "random_uniform": _case(lambda tf, x: tf.random_uniform(tf.shape(x))),
    "random_uniform_known": _case(lambda tf, x: tf.random_uniform(tf.shape(x)), True),
    "random_normal_list": _case(lambda tf, x: tf.random_normal([tf.shape(x)[0], 5])),
    "truncated_normal": _case(lambda tf, x: tf.truncated_normal(tf.shape(x))),
    "random_int": _case(lambda tf, x: tf.random_uniform(tf.shape(x), maxval=4, dtype=tf.int32)),
    "random_uniform_v2": _case(lambda tf, x: tf.random.uniform(tf.shape(x)[1:])),
}


def static_shape(t: Any) -> list[Any] | None:
    return None if t.shape.ndims is None else [None if d is None else int(d) for d in t.shape.as_list()]
