"""Shapes given as tensors: static shapes and values against TensorFlow (dynamic_shape_reference.json)."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import numpy as np
import pytest
from op_testing import run

import gpugraph as tf

DATA = Path(__file__).resolve().parent / "data"
sys.path.insert(0, str(DATA))

from dynamic_shape_cases import CASES, STATIC_ONLY, static_shape  # noqa: E402

REFERENCE = json.loads((DATA / "dynamic_shape_reference.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", sorted(CASES))
def test_static_shape_and_value_match_tensorflow(name: str) -> None:
    want = REFERENCE["cases"][name]
    t, feeds = CASES[name](tf)
    assert static_shape(t) == want["shape"]
    assert t.dtype.name == want["dtype"]
    np.testing.assert_array_equal(run(t, feed=feeds), np.asarray(want["value"], dtype=want["dtype"]))


@pytest.mark.parametrize("name", sorted(STATIC_ONLY))
def test_random_ops_static_shape_match_tensorflow(name: str) -> None:
    want = REFERENCE["static"][name]
    t, _ = STATIC_ONLY[name](tf)
    assert (static_shape(t), t.dtype.name) == (want["shape"], want["dtype"])


def test_random_op_takes_run_time_shape_as_input_and_keeps_seeded_streams() -> None:
    tf.set_random_seed(3)
    x = tf.placeholder(tf.float32, [None, 4])
    r = tf.random_uniform(tf.shape(x), name="ru")
    raw = tf.get_default_graph().get_operation_by_name("ru/RandomUniform")
    assert raw.type == "RandomUniform" and raw.inputs[0].op.type == "Shape"
    with tf.Session() as sess:
        first = sess.run(r, {x: np.zeros((3, 4))})
        second = sess.run(r, {x: np.zeros((3, 4))})
    with tf.Session() as sess:
        again = sess.run(r, {x: np.zeros((3, 4))})
    assert first.shape == (3, 4) and np.all((first >= 0) & (first < 1))
    assert not np.array_equal(first, second)
    np.testing.assert_array_equal(first, again)


def test_known_shape_tensor_keeps_the_attr_shaped_ops() -> None:
    y = tf.placeholder(tf.float32, [2, 3])
    assert tf.reshape(y, tf.stack([tf.shape(y)[0], 3])).op.type == "Reshape"
    assert tf.zeros(tf.shape(y)).op.type == "Fill"
    assert not tf.random_normal(tf.shape(y)).op.inputs[0].op.inputs[0].op.inputs


@pytest.mark.parametrize("build, feed, message", [
    (lambda s: tf.reshape(tf.range(12), s, name="rs"), [5, -1],
     "Input to reshape is a tensor with 12 values, but the requested shape requires a multiple of 5"),
    (lambda s: tf.reshape(tf.range(12), s, name="rs"), [5, 3],
     "Input to reshape is a tensor with 12 values, but the requested shape has 15"),
    (lambda s: tf.reshape(tf.range(12), s, name="rs"), [-1, -1], "Only one input size may be -1, not both 0 and 1"),
    (lambda s: tf.reshape(tf.range(12), s, name="rs"), [-2, -6], "Size 0 must be non-negative, not -2"),
    (lambda s: tf.fill(s, 1.0, name="fl"), [-1, 3], "Dimension -1 must be >= 0"),
    (lambda s: tf.random_uniform(s, name="rr"), [-1, 3], "Dimension -1 must be >= 0"),
    (lambda s: tf.random_normal(s, name="rn"), [2, -3], "Dimension -3 must be >= 0"),
    (lambda s: tf.truncated_normal(s, name="tn"), [-1, 3], "Dimension -1 must be >= 0"),
    (lambda s: tf.random_uniform(s, maxval=5, dtype=tf.int32, name="ri"), [-1, 3], "Dimension -1 must be >= 0"),
    (lambda s: tf.tile(tf.ones([2, 2]), s, name="tl"), [-1, 3], "Expected multiples[0] >= 0, but got -1"),
])
def test_run_time_shape_errors_name_the_op(build, feed, message) -> None:
    # messages as TensorFlow words them for the same graphs
    s = tf.placeholder(tf.int32, [2])
    t = build(s)
    with pytest.raises(tf.errors.InvalidArgumentError, match=re.escape(message)) as info:
        run(t, feed={s: feed})
    scope = t.op.name.split("/")[0]
    assert info.value.op.name.split("/")[0] == scope and str(info.value).startswith(scope)


@pytest.mark.parametrize("delta, message", [
    (0, "Requires delta != 0: 0"), (1, "Requires start <= limit when delta > 0: 5/0"),
])
def test_range_errors(delta: int, message: str) -> None:
    d = tf.placeholder(tf.int32, [])
    with pytest.raises(tf.errors.InvalidArgumentError, match=message):
        run(tf.range(5, 0, d, name="rg"), feed={d: delta})


def test_gradients_flow_through_run_time_shapes() -> None:
    x = tf.placeholder(tf.float64, [None, 3])
    v = tf.placeholder(tf.float64, [])
    reshaped = tf.reshape(x, tf.stack([3, tf.shape(x)[0]]))
    tiled = tf.tile(x, tf.stack([tf.shape(x)[0], 1]))
    filled = tf.fill(tf.shape(x), v)
    w = np.arange(6.0).reshape(3, 2)
    loss = tf.reduce_sum(reshaped * w) + tf.reduce_sum(tiled ** 2) + tf.reduce_sum(filled * 2.0)
    gx, gv = tf.gradients(loss, [x, v])
    xv = np.array([[1.0, -2.0, 3.0], [0.5, 4.0, -1.0]])
    got_x, got_v = run(gx, gv, feed={x: xv, v: 1.5})
    # independent: d/dx of sum(x.reshape(3,2)*w) + 2*sum over the 2 tiles of x**2; d/dv = 2 * x.size
    np.testing.assert_allclose(got_x, w.reshape(2, 3) + 2 * 2 * xv)
    assert got_v == pytest.approx(12.0)


def test_constant_tensor_arguments_are_accepted_where_values_must_be_static() -> None:
    y = tf.constant(np.arange(24.0).reshape(2, 3, 4))
    sliced = tf.slice(y, tf.constant([0, 1, 0]), tf.stack([1, -1, 2]))
    expanded = tf.expand_dims(y, tf.constant(1))
    assert sliced.shape.as_list() == [1, 2, 2] and expanded.shape.as_list() == [2, 1, 3, 4]
    np.testing.assert_array_equal(run(sliced), np.arange(24.0).reshape(2, 3, 4)[:1, 1:, :2])
    with pytest.raises(TypeError, match="run time"):
        tf.expand_dims(y, tf.placeholder(tf.int32, []))


def test_float_shape_tensor_is_refused_at_build_time() -> None:
    with pytest.raises(TypeError, match="int32, int64"):
        tf.reshape(tf.ones([4]), tf.placeholder(tf.float32, [2]))
