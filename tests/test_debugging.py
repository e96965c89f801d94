"""tf.debugging / tf.assert_*: static failures at build time, Assert ops otherwise, TF1's messages."""

from __future__ import annotations

import numpy as np
import pytest

import gpugraph as tf


@pytest.fixture(autouse=True)
def _fresh_graph():
    tf.reset_default_graph()


def _fails(check, feed, match: str) -> None:
    with tf.Session() as sess, pytest.raises(tf.errors.InvalidArgumentError, match=match):
        sess.run(check, feed)


def test_dynamic_assert_equal_message_is_tf1s() -> None:
    x = tf.placeholder(tf.float32, name="x")
    check = tf.assert_equal(x, 1.0, message="msg")
    assert check.type == "Assert" and check.name == "assert_equal/Assert/Assert"
    with tf.Session() as sess:
        sess.run(check, {x: [1.0, 1.0]})
        with pytest.raises(tf.errors.InvalidArgumentError) as info:
            sess.run(check, {x: [1.0, 2.0]})
    # TensorFlow 2.21 (tf.compat.v1): the same text, from its node assert_equal/Assert/AssertGuard/Assert
    assert info.value.message.split("\n")[0] == (
        "assertion failed: [msg] [Condition x == y did not hold element-wise:] [x (x:0) = ] [1 2] "
        "[y (assert_equal/y:0) = ] [1]")


def test_static_failures_raise_when_built() -> None:
    with pytest.raises(tf.errors.InvalidArgumentError) as info:
        tf.assert_equal(tf.constant([1, 2]), tf.constant([1, 3]))
    assert str(info.value) == ("Condition x == y did not hold element-wise:\nx (Const:0) = \n[1 2]\n"
                               "y (Const_1:0) = \n[1 3]")
    with pytest.raises(tf.errors.InvalidArgumentError, match="^m\nCondition x < y did not hold"):
        tf.assert_less(tf.constant([1, 2]), tf.constant([1, 3]), message="m")
    with pytest.raises(ValueError, match=r"^Tensor Const_4:0 must have rank 2.  Received rank 1, shape \(2,\)$"):
        tf.assert_rank(tf.constant([1, 2]), 2)
    with pytest.raises(ValueError, match="must have rank at least 3"):
        tf.assert_rank_at_least(tf.constant([1, 2]), 3)
    with pytest.raises(ValueError, match=r"must have rank in \(0, 2\)"):
        tf.assert_rank_in(tf.constant([1, 2]), (0, 2))


@pytest.mark.parametrize("fn, good, bad, sym", [
    (tf.assert_positive, [1.0, 2.0], [0.0, 1.0], ">"),
    (tf.assert_negative, [-1.0], [0.0], "<"),
    (tf.assert_non_negative, [0.0, 3.0], [-1.0], ">="),
    (tf.assert_non_positive, [0.0, -3.0], [1.0], "<="),
])
def test_sign_checks(fn, good, bad, sym) -> None:
    x = tf.placeholder(tf.float32, name="x")
    check = fn(x)
    with tf.Session() as sess:
        sess.run(check, {x: good})
    _fails(check, {x: bad}, rf"Condition x {sym} 0 did not hold element-wise:\] \[x \(x:0\) = \]")


@pytest.mark.parametrize("fn, good, bad", [
    (tf.assert_less, [0.0, 1.0], [2.0, 0.0]), (tf.assert_less_equal, [2.0, 1.0], [3.0, 0.0]),
    (tf.assert_greater, [3.0, 4.0], [2.0, 5.0]), (tf.assert_greater_equal, [2.0, 9.0], [1.0, 9.0]),
    (tf.assert_none_equal, [1.0, 3.0], [2.0, 3.0]), (tf.debugging.assert_equal, [2.0, 2.0], [2.0, 3.0]),
])
def test_binary_checks_against_two(fn, good, bad) -> None:
    x = tf.placeholder(tf.float32, name="x")
    check = fn(x, 2.0)
    with tf.Session() as sess:
        sess.run(check, {x: good})
    _fails(check, {x: bad}, "assertion failed")


def test_assert_near_uses_tolerances() -> None:
    x = tf.placeholder(tf.float64, name="x")
    check = tf.assert_near(x, np.float64(1.0), rtol=0.0, atol=1e-3)
    with tf.Session() as sess:
        sess.run(check, {x: [1.0005]})
    _fails(check, {x: [1.002]}, "x and y not equal to tolerance")


def test_dynamic_rank_check_and_static_pass() -> None:
    x = tf.placeholder(tf.float32, name="x")
    check = tf.assert_rank(x, 2)
    with tf.Session() as sess:
        sess.run(check, {x: np.zeros((2, 2))})
    _fails(check, {x: np.zeros(3)}, r"Tensor x:0 must have rank\] \[2\] \[Received shape: \] \[3\]")
    ok = tf.assert_rank(tf.zeros([2, 3]), 2)
    assert ok.type == "NoOp" and ok.name.endswith("static_checks_determined_all_ok")


def test_type_checks() -> None:
    assert tf.assert_type(tf.constant(1), tf.int32).type == "NoOp"
    with pytest.raises(TypeError, match="must be of type"):
        tf.assert_type(tf.constant(1.0), tf.int32)
    with pytest.raises(TypeError, match='Expected "x" to be integer type'):
        tf.assert_integer(tf.constant(1.0))
    with pytest.raises(ValueError, match="Expected scalar shape for"):
        tf.assert_scalar(tf.constant([1.0]))
    assert tf.assert_scalar(tf.constant(1.0)).shape.ndims == 0
    with pytest.raises(TypeError, match='"proper" iterable'):
        tf.assert_proper_iterable(np.zeros(2))
    tf.assert_proper_iterable([1, 2])
    assert tf.assert_same_float_dtype([tf.constant(1.0), tf.constant(2.0)]) == tf.float32
    assert tf.assert_same_float_dtype() == tf.float32
    with pytest.raises(ValueError, match="must be of the same type"):
        tf.assert_same_float_dtype([tf.constant(1.0), tf.constant(np.float64(2.0))])
    with pytest.raises(ValueError, match="Expected floating point type"):
        tf.assert_same_float_dtype([tf.constant(1)])


def test_get_logger_is_tensorflows() -> None:
    assert tf.get_logger().name == "tensorflow"
