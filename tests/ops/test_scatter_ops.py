"""tf.scatter_* / tf.scatter_nd_* / tf.count_up_to: in-place updates equal TensorFlow's (reference data)."""

from __future__ import annotations

import importlib.util
import json
from collections import namedtuple
from pathlib import Path

import numpy as np
import pytest

import gpugraph as tf
from gpugraph.ops import xp_compat

DATA = Path(__file__).resolve().parent / "data"
_spec = importlib.util.spec_from_file_location("scatter_cases", DATA / "scatter_cases.py")
cases = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(cases)
REFERENCE = json.loads((DATA / "scatter_reference.json").read_text())["cases"]


@pytest.fixture(autouse=True)
def _fresh_graph():
    tf.reset_default_graph()


@pytest.mark.parametrize("name", sorted(cases.CASES))
def test_scatter_matches_tensorflow(name: str) -> None:
    got = np.asarray(cases.run(tf, cases.CASES[name]))
    np.testing.assert_allclose(got, np.asarray(REFERENCE[name]), rtol=1e-6)


def test_scatter_returns_the_ref_named_as_tf1_and_writes_in_place() -> None:
    v = tf.Variable([1.0, 2.0, 3.0], name="v")
    out = tf.scatter_add(v, [0, 0], [1.0, 1.0])
    assert (out.op.name, out.op.type, out.dtype.name) == ("ScatterAdd", "ScatterAdd", "float32_ref")
    assert [t.name for t in out.op.inputs] == ["v:0", "ScatterAdd/indices:0", "ScatterAdd/updates:0"]
    with tf.Session() as sess:
        sess.run(v.initializer)
        buf = sess._cells[v.op].value
        np.testing.assert_array_equal(sess.run(out), [3.0, 2.0, 3.0])
        assert sess._cells[v.op].value is buf


def test_build_time_shape_and_dtype_errors_are_tf1s() -> None:
    v = tf.Variable([1.0, 2.0, 3.0], name="v")
    with pytest.raises(ValueError, match="Shapes must be equal rank, but are 1 and 2"):
        tf.scatter_update(v, [[0, 1]], [1.0, 2.0])
    with pytest.raises(ValueError, match="Dimension 0 in both shapes must be equal, but are 2 and 1"):
        tf.scatter_add(v, [0], [1.0, 2.0])
    with pytest.raises(TypeError, match="indices"):
        tf.scatter_add(v, tf.constant([0.0]), [1.0])


def test_out_of_range_indices_are_invalid_argument() -> None:
    v = tf.Variable([1.0, 2.0, 3.0], name="v")
    bad = tf.scatter_update(v, [5], [1.0])
    bad_nd = tf.scatter_nd_add(v, [[7]], [1.0])
    with tf.Session() as sess:
        sess.run(v.initializer)
        with pytest.raises(tf.errors.InvalidArgumentError, match=r"indices\[0\] = 5 is not in \[0, 3\)"):
            sess.run(bad)
        with pytest.raises(tf.errors.InvalidArgumentError,
                           match=r"indices\[0\] = \[7\] does not index into shape \[3\]"):
            sess.run(bad_nd)


def test_uninitialized_variable_is_named() -> None:
    v = tf.Variable([1.0], name="never_set")
    with tf.Session() as sess, pytest.raises(tf.errors.FailedPreconditionError, match="never_set"):
        sess.run(tf.scatter_add(v, [0], [1.0]))


def test_count_up_to_returns_old_value_then_out_of_range() -> None:
    c = tf.Variable(3, name="c")
    up = tf.count_up_to(c, 5)
    assert (up.op.type, up.dtype, up.shape.as_list()) == ("CountUpTo", tf.int32, [])
    with tf.Session() as sess:
        sess.run(c.initializer)
        assert [sess.run(up), sess.run(up)] == [3, 4]
        with pytest.raises(tf.errors.OutOfRangeError, match="Reached limit of 5"):
            sess.run(up)
        assert sess.run(c) == 5
    with pytest.raises(TypeError):
        tf.count_up_to(tf.Variable(1.0), 3)


Slices = namedtuple("Slices", ["values", "indices"])


def test_variable_methods() -> None:
    v = tf.Variable([[1.0, 2.0], [3.0, 4.0]], name="v")
    ops = [v.scatter_sub(Slices(np.float32([[1, 1]]), [1])), v.scatter_nd_add([[0, 0]], [10.0]),
           v.scatter_max(Slices(np.float32([[0, 9]]), [0]))]
    with pytest.raises(TypeError, match="sparse_delta is not IndexedSlices"):
        v.scatter_add([1.0])
    with tf.Session() as sess:
        sess.run(v.initializer)
        for op in ops:
            sess.run(op)
        np.testing.assert_array_equal(sess.run(v), [[11.0, 9.0], [2.0, 3.0]])
        c = tf.Variable(0, name="c")
        sess.run(c.initializer)
        assert sess.run(c.count_up_to(2)) == 0


@pytest.mark.parametrize("divide", [False, True])
def test_device_product_scatter_equals_ufunc_at(divide: bool) -> None:
    """The segmented product used on CuPy (no atomic multiply) against NumPy's sequential ufunc.at."""
    rng = np.random.default_rng(0)
    target = rng.uniform(0.5, 2.0, (6, 3))
    rows = rng.integers(0, 6, 37)
    updates = rng.uniform(0.5, 2.0, (37, 3))
    want = target.copy()
    (np.divide if divide else np.multiply).at(want, rows, updates)
    got = target.copy()
    xp_compat.scatter_product_rows(np, got, rows, updates, divide=divide)
    np.testing.assert_allclose(got, want, rtol=1e-12)
