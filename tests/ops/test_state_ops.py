"""Variable state ops: VariableV2, Assign*, IsVariableInitialized, report, InitializedValue."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import gpugraph as tf
from gpugraph.ops import state_ops


@pytest.fixture(autouse=True)
def _fresh_graph():
    tf.reset_default_graph()
    yield


def test_assign_ops_have_ref_outputs_and_tf1_names():
    v = tf.Variable([1.0, 2.0], name="v")
    a = tf.assign(v, [3.0, 4.0])
    aa = tf.assign_add(v, [1.0, 1.0], name="bump")
    s = tf.assign_sub(v, [1.0, 1.0])
    assert (a.op.name, aa.op.name, s.op.name) == ("Assign", "bump", "AssignSub")
    assert a.dtype.name == "float32_ref"
    assert a.op.inputs[0] is v._ref()
    assert v.initializer.inputs[0] is v._ref()
    assert a.shape.as_list() == [2]


def test_assign_add_and_sub_on_uninitialized_variable_name_it():
    v = tf.Variable(1.0, name="counter")
    with tf.Session() as sess:
        for op in (tf.assign_add(v, 1.0), tf.assign_sub(v, 1.0)):
            with pytest.raises(tf.errors.FailedPreconditionError) as info:
                sess.run(op)
            assert "counter" in str(info.value)


def test_assign_writes_in_place_and_keeps_the_buffer():
    v = tf.Variable(np.zeros((2, 3), np.float32), name="v")
    p = tf.placeholder(tf.float32, shape=(2, 3))
    assign = tf.assign(v, p)
    add = tf.assign_add(v, p)
    sub = tf.assign_sub(v, p)
    with tf.Session() as sess:
        sess.run(v.initializer)
        buf = sess._cells[v.op].value
        sess.run(assign, {p: np.full((2, 3), 4.0)})
        sess.run(add, {p: np.ones((2, 3))})
        sess.run(sub, {p: np.full((2, 3), 2.0)})
        assert sess._cells[v.op].value is buf
        np.testing.assert_array_equal(buf, np.full((2, 3), 3.0))


def test_initializer_does_not_alias_the_initial_value():
    init = np.array([1.0, 2.0], np.float32)
    v = tf.Variable(init, name="v")
    inc = tf.assign_add(v, [1.0, 1.0])
    with tf.Session() as sess:
        sess.run(v.initializer)
        sess.run(inc)
        sess.run(v.initializer)  # re-initializing restores the initial value
        np.testing.assert_array_equal(sess.run(v), [1.0, 2.0])
    np.testing.assert_array_equal(init, [1.0, 2.0])


def test_assign_shape_checked_at_run_time_for_unknown_shapes():
    v = tf.Variable(np.zeros(2, np.float32), name="v")
    p = tf.placeholder(tf.float32)
    assign = tf.assign(v, p)
    with tf.Session() as sess:
        sess.run(v.initializer)
        with pytest.raises(tf.errors.InvalidArgumentError) as info:
            sess.run(assign, {p: np.zeros(3)})
        assert "Assign" in str(info.value) and "'v'" in str(info.value)
        assert "[2]" in str(info.value) and "[3]" in str(info.value)
        sess.run(assign, {p: [5.0, 6.0]})
        np.testing.assert_array_equal(sess.run(v), [5.0, 6.0])


def test_is_variable_initialized_and_report():
    a = tf.Variable(1.0, name="a")
    b = tf.Variable(2.0, name="b")
    ia = state_ops.is_variable_initialized(a)
    report = tf.report_uninitialized_variables([a, b])
    assert ia.dtype == tf.bool
    with tf.Session() as sess:
        assert not sess.run(ia)
        assert list(sess.run(report)) == [b"a", b"b"]
        sess.run(a.initializer)
        assert sess.run(ia)
        assert list(sess.run(report)) == [b"b"]


def test_initialized_value_falls_back_to_the_initial_value():
    v = tf.Variable([1.0, 2.0], name="v")
    iv = v.initialized_value()
    assert iv.op.type == "InitializedValue"
    assert iv.dtype == tf.float32
    bump = tf.assign_add(v, [10.0, 10.0])
    with tf.Session() as sess:
        np.testing.assert_array_equal(sess.run(iv), [1.0, 2.0])  # not initialized: the initial value
        sess.run(v.initializer)
        sess.run(bump)
        np.testing.assert_array_equal(sess.run(iv), [11.0, 12.0])
        out = sess.run(iv)
        out[0] = -1.0
        np.testing.assert_array_equal(sess.run(v), [11.0, 12.0])


def test_dependent_initializers_work_in_any_order():
    a = tf.Variable(tf.random_uniform([4], seed=3), name="a")
    b = tf.Variable(a * 2.0, name="b")
    c = tf.Variable(tf.zeros_like(b) + b + a, name="c")
    init = tf.variables_initializer([c, b, a])
    with tf.Session() as sess:
        sess.run(init)
        av, bv, cv = sess.run([a, b, c])
    np.testing.assert_allclose(bv, 2.0 * av)
    np.testing.assert_allclose(cv, 3.0 * av)
    assert b.initial_value.op.type == "Mul"  # initial_value itself is unchanged


def _run_concurrently(sess: tf.Session, op: tf.Operation, threads: int = 8, runs: int = 40) -> None:
    def work() -> None:
        for _ in range(runs):
            sess.run(op)
    workers = [threading.Thread(target=work) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()


@pytest.mark.parametrize("update, rows", [
    (lambda v, ones: tf.assign_add(v, ones, use_locking=True), 1000),
    (lambda v, ones: v.assign_sub(-ones, use_locking=True), 1000),
    (lambda v, ones: tf.scatter_add(v, tf.range(v.shape[0].value), ones, use_locking=True), 300),
], ids=["assign_add", "Variable.assign_sub", "scatter_add"])
def test_use_locking_makes_concurrent_updates_exact(update, rows):
    # TF1 gets exactly threads * runs in every element; unlocked in-place adds lose some
    v = tf.Variable(tf.zeros([rows, 1000]))
    op = update(v, tf.ones([rows, 1000])).op
    assert op.get_attr("use_locking") is True
    with tf.Session() as sess:
        sess.run(v.initializer)
        _run_concurrently(sess, op, threads=8, runs=20)
        np.testing.assert_array_equal(sess.run(v), np.full((rows, 1000), 160.0, np.float32))


def test_use_locking_defaults_are_tf1s():
    v = tf.Variable([1.0, 2.0])
    assert tf.assign(v, [0.0, 0.0]).op.get_attr("use_locking") is True
    assert v.assign([0.0, 0.0]).op.get_attr("use_locking") is False
    assert tf.assign_add(v, [1.0, 1.0]).op.get_attr("use_locking") is False
    assert tf.scatter_update(v, [0], [1.0]).op.get_attr("use_locking") is True
    assert tf.scatter_add(v, [0], [1.0]).op.get_attr("use_locking") is False
