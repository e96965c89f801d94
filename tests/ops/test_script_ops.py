"""tf.py_func / tf.numpy_function / tf.py_function: host ops calling Python, with TF1's errors."""

from __future__ import annotations

import numpy as np
import pytest

import gpugraph as tf
from gpugraph.compiler.place import has_gpu_kernel


@pytest.fixture(autouse=True)
def _fresh_graph():
    tf.reset_default_graph()


def test_py_func_values_names_and_unknown_shapes() -> None:
    x = tf.constant([1.0, 2.0])
    y = tf.py_func(lambda a: a * 2, [x], tf.float32)
    pair = tf.py_func(lambda a: [a, a.sum()], [x], [tf.float32, tf.float32], name="pair")
    n = tf.numpy_function(lambda a: a + 1, [x], tf.float32)
    p = tf.py_function(lambda a: a.numpy() + 1, [x], tf.float32)
    assert (y.op.type, y.op.name, y.shape.ndims) == ("PyFunc", "PyFunc", None)
    assert [t.name for t in pair] == ["pair:0", "pair:1"]
    assert (n.op.type, p.op.type) == ("PyFunc", "EagerPyFunc")
    assert not has_gpu_kernel(y.op) and y.op.opdef.stateful
    assert tf.gradients(y, x) == [None]
    with tf.Session() as sess:
        got = sess.run([y, pair, n, p])
    np.testing.assert_array_equal(got[0], [2.0, 4.0])
    assert got[1][1] == 3.0 and got[1][1].dtype == np.float32
    np.testing.assert_array_equal(got[2], [2.0, 3.0])
    np.testing.assert_array_equal(got[3], [2.0, 3.0])


def test_stateful_func_runs_every_time() -> None:
    calls = []
    y = tf.py_func(lambda: calls.append(1) or np.int32(len(calls)), [], tf.int32)
    with tf.Session() as sess:
        assert [sess.run(y), sess.run(y)] == [1, 2]


def test_no_outputs_returns_the_op() -> None:
    seen = []
    op = tf.py_func(lambda a: seen.append(a.tolist()), [tf.constant([3])], [])
    assert isinstance(op, tf.Operation)
    with tf.Session() as sess:
        sess.run(op)
    assert seen == [[3]]


@pytest.mark.parametrize("exc, cls", [
    (ValueError("boom"), tf.errors.InvalidArgumentError), (KeyError("k"), tf.errors.UnknownError),
    (StopIteration(), tf.errors.OutOfRangeError), (NotImplementedError("no"), tf.errors.UnimplementedError),
])
def test_errors_in_func_are_tf1s_classes(exc: BaseException, cls: type) -> None:
    def func(a):
        raise exc
    y = tf.py_func(func, [tf.constant(1.0)], tf.float32, name="mine")
    with tf.Session() as sess, pytest.raises(cls) as info:
        sess.run(y)
    assert f"{type(exc).__name__}:" in str(info.value) and "mine" in str(info.value)


def test_wrong_returned_dtype_is_invalid_argument() -> None:
    y = tf.py_func(lambda a: a.astype(np.float64), [tf.constant([1.0])], tf.float32, name="mine")
    with tf.Session() as sess, pytest.raises(tf.errors.InvalidArgumentError,
                                             match="0-th value returned by pyfunc_.* is double, but expects float"):
        sess.run(y)
