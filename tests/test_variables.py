"""tf.Variable: names, dtypes, initializers, assignments in place, collections, init helpers."""

from __future__ import annotations

import numpy as np
import pytest

import gpugraph as tf


@pytest.fixture(autouse=True)
def _fresh_graph():
    tf.reset_default_graph()
    yield


def test_variable_names_dtypes_and_shape():
    x = tf.Variable(3.0, name="x")
    assert x.name == "x:0"
    assert x.op.name == "x"
    assert x.op.type == "VariableV2"
    assert x.dtype.name == "float32_ref"
    assert x.dtype.base_dtype == tf.float32
    assert x.shape == tf.TensorShape([])
    assert x.get_shape() == tf.TensorShape([])
    assert x.graph is tf.get_default_graph()
    assert x.initializer.name == "x/Assign"
    assert x.initial_value.name == "x/initial_value:0"
    assert x.value().name == "x/read:0"
    assert x.value().dtype == tf.float32
    assert repr(x) == "<tf.Variable 'x:0' shape=() dtype=float32_ref>"
    y = tf.Variable([[1, 2], [3, 4]])
    assert y.name == "Variable:0"
    assert y.dtype.name == "int32_ref"
    assert y.shape.as_list() == [2, 2]
    z = tf.Variable(np.zeros(3), name="x")
    assert z.name == "x_1:0"
    assert z.dtype.base_dtype == tf.float64


def test_variable_dtype_argument_and_callable_initial_value():
    v = tf.Variable([1, 2], dtype=tf.float32, name="v")
    assert v.dtype.base_dtype == tf.float32
    w = tf.Variable(lambda: tf.ones([2, 3]), name="w")
    assert w.shape.as_list() == [2, 3]
    assert w.initial_value.name.startswith("w/Initializer/")
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        np.testing.assert_array_equal(sess.run(v), [1.0, 2.0])
        np.testing.assert_array_equal(sess.run(w), np.ones((2, 3)))
    with pytest.raises(ValueError):
        tf.Variable(None)
    with pytest.raises(TypeError):
        tf.Variable(1.5, dtype=tf.int32)


def test_variable_initial_value_must_have_a_known_shape():
    p = tf.placeholder(tf.float32, shape=(None, 2))
    with pytest.raises(ValueError):
        tf.Variable(p)
    v = tf.Variable(p, validate_shape=False, name="loose")
    with tf.Session() as sess:
        sess.run(v.initializer, {p: np.ones((3, 2))})
        assert sess.run(v).shape == (3, 2)


def test_variable_created_inside_control_dependencies_ignores_them():
    c = tf.constant(1.0)
    with tf.control_dependencies([c]):
        v = tf.Variable(2.0)
    assert v.op.control_inputs == []
    assert v.initializer.control_inputs == []


def test_collections_and_trainable():
    a = tf.Variable(1.0, name="a")
    b = tf.Variable(2.0, name="b", trainable=False)
    c = tf.Variable(3.0, name="c", collections=[tf.GraphKeys.LOCAL_VARIABLES])
    d = tf.Variable(4.0, name="d", collections=["mine"], trainable=False)
    with tf.variable_scope("scope"):
        e = tf.Variable(5.0, name="e")
    assert tf.global_variables() == [a, b, e]
    assert tf.trainable_variables() == [a, c, e]
    assert tf.local_variables() == [c]
    assert tf.get_collection("mine") == [d]
    assert tf.global_variables(scope="scope") == [e]
    assert tf.get_collection(tf.GraphKeys.GLOBAL_VARIABLES) == [a, b, e]
    assert a.trainable and not b.trainable


def test_initializers_and_report_uninitialized():
    x = tf.Variable(1.0, name="x")
    y = tf.Variable(2.0, name="y")
    loc = tf.Variable(3.0, name="loc", collections=[tf.GraphKeys.LOCAL_VARIABLES])
    g_init = tf.global_variables_initializer()
    l_init = tf.local_variables_initializer()
    assert g_init.name == "init"
    assert l_init.name == "init_1"
    report = tf.report_uninitialized_variables()
    with tf.Session() as sess:
        np.testing.assert_array_equal(sess.run(report), np.array([b"x", b"y", b"loc"], dtype=object))
        sess.run(tf.variables_initializer([y]))
        got = sess.run(report)
        assert got.dtype == object
        assert list(got) == [b"x", b"loc"]
        sess.run(g_init)
        assert list(sess.run(report)) == [b"loc"]
        sess.run(l_init)
        assert sess.run(report).shape == (0,)
        assert sess.run([x, y, loc]) == [1.0, 2.0, 3.0]
        assert sess.run(tf.is_variable_initialized(x))
    assert tf.variables_initializer([]).type == "NoOp"


def test_assign_methods_and_functions():
    v = tf.Variable(10.0, name="v")
    a = v.assign(4.0)
    b = v.assign_add(3.0)
    c = v.assign_sub(2.0)
    d = tf.assign(v, 1.0)
    e = tf.assign_add(v, 1.0)
    f = tf.assign_sub(v, 0.5)
    assert a.op.type == "Assign" and b.op.type == "AssignAdd" and c.op.type == "AssignSub"
    assert isinstance(v.assign(1.0, read_value=False), tf.Operation)
    with tf.Session() as sess:
        sess.run(v.initializer)
        assert sess.run(a) == 4.0
        assert sess.run(b) == 7.0
        assert sess.run(c) == 5.0
        assert v.eval() == 5.0
        assert sess.run(d) == 1.0
        assert sess.run(e) == 2.0
        assert sess.run(f) == 1.5
        assert sess.run(v.value()) == 1.5


def test_assign_checks_dtype_and_shape_at_build_time():
    v = tf.Variable(np.zeros((2, 2), np.float32))
    with pytest.raises((TypeError, ValueError)):
        tf.assign(v, tf.zeros((2, 2), dtype=tf.int32))
    with pytest.raises(TypeError):
        tf.assign(tf.Variable([1, 2]), [1.5, 2.0])
    with pytest.raises(ValueError):
        v.assign(np.zeros((3, 2), np.float32))
    with pytest.raises(TypeError):
        tf.assign(tf.constant(1.0), 2.0)  # not a variable


def test_assign_without_validate_shape_changes_the_shape():
    v = tf.Variable(np.zeros(2, np.float32), name="v")
    grow = tf.assign(v, np.ones(4, np.float32), validate_shape=False)
    with tf.Session() as sess:
        sess.run(v.initializer)
        sess.run(grow)
        np.testing.assert_array_equal(sess.run(v), np.ones(4))


def test_updates_happen_in_place():
    v = tf.Variable(np.zeros(3, np.float32), name="v")
    step = tf.assign_add(v, np.ones(3, np.float32))
    loss = tf.reduce_sum(tf.square(v - 5.0))
    train = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
    again = tf.assign(v, np.full(3, 2.0, np.float32))
    with tf.Session() as sess:
        sess.run(v.initializer)
        buf = sess._cells[v.op].value
        for _ in range(3):
            sess.run(step)
            sess.run(train)
        sess.run(again)
        assert sess._cells[v.op].value is buf
        np.testing.assert_array_equal(buf, [2.0, 2.0, 2.0])


def test_variable_operators_read_the_value():
    v = tf.Variable([1.0, 2.0], name="v")
    exprs = [v + 1.0, 1.0 + v, v * v, -v, v[0], v - 1.0, v / 2.0, v ** 2.0, v > 1.0]
    with tf.Session() as sess:
        sess.run(v.initializer)
        got = sess.run(exprs)
    want = [[2, 3], [2, 3], [1, 4], [-1, -2], 1.0, [0, 1], [0.5, 1], [1, 4], [False, True]]
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)
    with pytest.raises(TypeError):
        bool(v)


def test_variable_in_tf_functions_and_convert():
    v = tf.Variable([[1.0, 2.0]], name="v")
    m = tf.matmul(v, tf.constant([[1.0], [1.0]]))
    assert m.op.inputs[0] is v.value()
    assert tf.convert_to_tensor(v) is v.value()
    with tf.Session() as sess:
        sess.run(v.initializer)
        assert sess.run(m)[0, 0] == 3.0


def test_initialized_value_and_dependent_initial_values():
    w1 = tf.Variable(tf.random_normal([3]), name="w1")
    w2 = tf.Variable(w1.initialized_value() * 2.0, name="w2")
    w3 = tf.Variable(w1 + 1.0, name="w3")  # TF1 guards this read too
    init = tf.global_variables_initializer()
    with tf.Session() as sess:
        sess.run(init)
        a, b, c = sess.run([w1, w2, w3])
        np.testing.assert_allclose(b, a * 2.0, rtol=1e-6)
        np.testing.assert_allclose(c, a + 1.0, rtol=1e-6)
        # once w1 is initialized, initialized_value reads its current value
        sess.run(tf.assign(w1, [1.0, 1.0, 1.0]))
        sess.run(w2.initializer)
        np.testing.assert_array_equal(sess.run(w2), [2.0, 2.0, 2.0])
        np.testing.assert_array_equal(sess.run(w1.initialized_value()), [1.0, 1.0, 1.0])


def test_load_sets_a_value():
    v = tf.Variable([0.0, 0.0], name="v")
    with tf.Session() as sess:
        sess.run(v.initializer)
        v.load([3.0, 4.0], sess)
        np.testing.assert_array_equal(sess.run(v), [3.0, 4.0])


def test_numpy_on_the_left_of_a_variable_builds_a_tensor():
    v = tf.Variable([1.0, 2.0], name="v")
    y = np.array([1.0, 1.0], np.float32) + v
    assert isinstance(y, tf.Tensor)
    with pytest.raises(TypeError):
        iter(v)
    with pytest.raises(NotImplementedError):
        np.asarray(v)
    with tf.Session() as sess:
        sess.run(v.initializer)
        np.testing.assert_array_equal(sess.run(y), [2.0, 3.0])
