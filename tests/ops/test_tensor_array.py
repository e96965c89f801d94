"""tf.TensorArray: write/read/gather/scatter/unstack/stack/concat/size and their gradients against
TensorFlow-generated data; dynamic size inside a loop; element shapes; run-time errors."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

import gpugraph as tf
from gpugraph import errors

sys.path.insert(0, str(Path(__file__).resolve().parent / "data"))
from control_flow_cases import assert_matches, load_reference, run_program  # noqa: E402

REFERENCE = load_reference()


def test_ops_and_gradients_match_tensorflow() -> None:
    got = run_program(tf, "tensor_array_ops")
    assert got["names"] == REFERENCE["tensor_array_ops"]["names"]
    assert_matches(got["values"], REFERENCE["tensor_array_ops"]["values"])


def test_dynamic_size_grows_inside_a_loop_and_its_gradient_matches_numpy() -> None:
    x = tf.placeholder(tf.float32, [None, 2])
    n = tf.shape(x)[0]
    ta = tf.TensorArray(tf.float32, size=1, dynamic_size=True)
    _, ta = tf.while_loop(lambda i, ta: i < n, lambda i, ta: (i + 1, ta.write(i, tf.gather(x, i) ** 2)), [0, ta])
    stacked = ta.stack()
    grad = tf.gradients(tf.reduce_sum(stacked * [1.0, 3.0]), x)[0]
    values = np.arange(14, dtype=np.float32).reshape(7, 2)
    with tf.Session() as sess:
        s, size, g = sess.run([stacked, ta.size(), grad], {x: values})
    np.testing.assert_array_equal(s, values ** 2)
    assert size == 7
    np.testing.assert_array_equal(g, 2 * values * [1.0, 3.0])


def test_element_shape_is_inferred_from_writes_and_shared_by_later_arrays() -> None:
    ta = tf.TensorArray(tf.float32, size=3)
    assert ta.element_shape.ndims is None
    ta2 = ta.write(0, tf.zeros([2, 4]))
    assert ta.element_shape.as_list() == [2, 4] and ta2.stack().shape.as_list() == [None, 2, 4]
    with pytest.raises(ValueError, match="Inconsistent shapes"):
        ta2.write(1, tf.zeros([3]))


def test_reading_an_array_never_written_is_a_run_time_error() -> None:
    ta = tf.TensorArray(tf.float32, size=2)
    with tf.Session() as sess:
        with pytest.raises(errors.InvalidArgumentError, match="TensorArrayReadV3"):
            sess.run(ta.read(0))


def test_arrays_are_fresh_each_run() -> None:
    x = tf.placeholder(tf.float32, [])
    ta = tf.TensorArray(tf.float32, size=2).write(0, x).write(1, x * 2.0)
    with tf.Session() as sess:
        np.testing.assert_array_equal(sess.run(ta.stack(), {x: 1.0}), [1.0, 2.0])
        np.testing.assert_array_equal(sess.run(ta.stack(), {x: 5.0}), [5.0, 10.0])
