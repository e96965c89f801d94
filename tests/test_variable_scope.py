"""variable_scope / get_variable: TF1's naming, reuse and sharing rules."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import gpugraph as tf


@pytest.fixture(autouse=True)
def _fresh_graph():
    tf.reset_default_graph()
    yield


def test_get_variable_names_come_from_variable_scopes():
    with tf.variable_scope("foo"):
        with tf.variable_scope("bar"):
            v = tf.get_variable("v", [1])
    assert v.name == "foo/bar/v:0"
    assert v.shape.as_list() == [1]
    assert v.dtype.base_dtype == tf.float32
    assert tf.global_variables() == [v]
    assert tf.trainable_variables() == [v]


def test_get_variable_ignores_name_scopes_but_other_ops_do_not():
    with tf.name_scope("ns"):
        with tf.variable_scope("vs"):
            v = tf.get_variable("v", [1])
            c = tf.constant(1.0, name="c")
    assert v.name == "vs/v:0"
    assert c.name == "ns/vs/c:0"


def test_duplicate_get_variable_raises():
    with tf.variable_scope("foo"):
        tf.get_variable("v", [1])
        with pytest.raises(ValueError, match="Variable foo/v already exists, disallowed"):
            tf.get_variable("v", [1])


def test_reuse_true_returns_the_same_variable_and_missing_raises():
    with tf.variable_scope("foo"):
        v = tf.get_variable("v", [1])
    with tf.variable_scope("foo", reuse=True):
        v1 = tf.get_variable("v", [1])
        v2 = tf.get_variable("v")  # shape and initializer not needed
        with pytest.raises(ValueError, match="Variable foo/w does not exist"):
            tf.get_variable("w", [1])
    assert v1 is v and v2 is v


def test_reuse_with_mismatched_shape_or_dtype_raises():
    with tf.variable_scope("foo"):
        tf.get_variable("v", [2, 3])
        tf.get_variable("i", [2], dtype=tf.int32)
    with tf.variable_scope("foo", reuse=True):
        with pytest.raises(ValueError, match=r"Trying to share variable foo/v, but specified shape \(3, 2\) "
                                             r"and found shape \(2, 3\)"):
            tf.get_variable("v", [3, 2])
        with pytest.raises(ValueError, match="specified dtype float32 and found dtype int32_ref"):
            tf.get_variable("i")
        assert tf.get_variable("v", [2, None]).shape.as_list() == [2, 3]  # compatible shapes are fine


def test_reuse_variables_on_a_captured_scope():
    with tf.variable_scope("foo") as scope:
        v = tf.get_variable("v", [1])
        scope.reuse_variables()
        v1 = tf.get_variable("v", [1])
        assert scope.reuse is True
    assert v1 is v


def test_auto_reuse_creates_then_returns():
    def foo():
        with tf.variable_scope("foo", reuse=tf.AUTO_REUSE):
            return tf.get_variable("v", [1])

    v1, v2 = foo(), foo()
    assert v1 is v2
    assert len(tf.global_variables()) == 1


def test_nested_scopes_inherit_reuse():
    with tf.variable_scope("root"):
        with tf.variable_scope("child"):
            w = tf.get_variable("w", [1])
    with tf.variable_scope("root", reuse=True) as root:
        with tf.variable_scope("child", reuse=False) as child:  # False cannot turn reuse off
            assert child.reuse is True
            assert tf.get_variable("w") is w
    assert root.reuse is True
    with tf.variable_scope("a", reuse=tf.AUTO_REUSE):
        with tf.variable_scope("b") as b:
            assert b.reuse is tf.AUTO_REUSE
            x = tf.get_variable("x", [1])
            assert tf.get_variable("x", [1]) is x


def test_reentering_a_captured_scope():
    with tf.variable_scope("foo") as vs:
        v = tf.get_variable("v", [1])
    with tf.variable_scope(vs, reuse=True) as vs1:
        assert vs1.name == "foo"
        assert tf.get_variable("v") is v
        c = tf.constant(1.0, name="c")
    assert c.name == "foo_1/c:0"  # a new name scope, as in TF1
    with tf.variable_scope(vs, auxiliary_name_scope=False) as vs2:
        with tf.name_scope(vs2.original_name_scope):
            d = tf.constant(1.0, name="d")
            w = tf.get_variable("w", [1])
    assert vs2.original_name_scope == "foo/"
    assert d.name == "foo/d:0"
    assert w.name == "foo/w:0"


def test_captured_scope_keeps_its_own_reuse_not_the_parents():
    with tf.variable_scope("a") as a:
        pass
    with tf.variable_scope("b", reuse=True):
        with tf.variable_scope(a) as again:
            assert again.reuse is False
            tf.get_variable("v", [1])


def test_default_name_scopes_are_uniquified_and_counters_reset():
    with tf.variable_scope("foo") as vs:
        with tf.variable_scope(None, default_name="bar"):
            a = tf.get_variable("a", [1])
        with tf.variable_scope(None, default_name="bar"):
            b = tf.get_variable("b", [1])
    with tf.variable_scope(vs):
        with tf.variable_scope(None, default_name="bar"):
            c = tf.get_variable("c", [1])
    assert a.name == "foo/bar/a:0"
    assert b.name == "foo/bar_1/b:0"
    assert c.name == "foo/bar/c:0"  # counters of a left scope restart


def test_default_name_with_reuse_raises_and_validation():
    with pytest.raises(ValueError):
        with tf.variable_scope(None, default_name="x", reuse=True):
            pass
    with pytest.raises(TypeError):
        tf.variable_scope(None)
    with pytest.raises(ValueError):
        tf.variable_scope("x", reuse="yes")
    with pytest.raises(TypeError):
        with tf.variable_scope(3):
            pass
    assert tf.get_variable_scope().name == ""  # a failed enter leaves no scope behind


def test_scope_name_and_original_name_scope():
    with tf.variable_scope("s") as s1:
        pass
    with tf.variable_scope("s") as s2:
        pass
    assert s1.name == s2.name == "s"
    assert s1.original_name_scope == "s/"
    assert s2.original_name_scope == "s_1/"
    assert tf.get_variable_scope().name == ""


def test_seed_sharing_variables_first_relu_creates_then_reuse():
    n_features = 3

    def relu(X):
        with tf.variable_scope("relu"):
            threshold = tf.get_variable("threshold", shape=(), initializer=tf.constant_initializer(0.0))
            w_shape = (int(X.get_shape()[1]), 1)
            w = tf.Variable(tf.random_normal(w_shape), name="weights")
            b = tf.Variable(0.0, name="bias")
            z = tf.add(tf.matmul(X, w), b, name="z")
            return tf.maximum(z, threshold, name="max")

    X = tf.placeholder(tf.float32, shape=(None, n_features), name="X")
    with tf.variable_scope("", default_name="") as scope:
        first_relu = relu(X)
        scope.reuse_variables()
        relus = [first_relu] + [relu(X) for _ in range(4)]
    output = tf.add_n(relus, name="output")
    names = [v.name for v in tf.global_variables()]
    assert names.count("relu/threshold:0") == 1
    assert "relu/weights:0" in names and "relu_4/weights:0" in names
    assert [r.name for r in relus] == ["relu/max:0"] + [f"relu_{i}/max:0" for i in range(1, 5)]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        result = output.eval(feed_dict={X: [[1, 2, 3], [4, 5, 6]]})
    assert result.shape == (2, 1)
    assert np.all(result >= 0.0)


def test_seed_sharing_variables_reuse_per_iteration():
    def relu(X):
        threshold = tf.get_variable("threshold", shape=(), initializer=tf.constant_initializer(0.0))
        w = tf.Variable(tf.random_normal((int(X.get_shape()[1]), 1)), name="weights")
        b = tf.Variable(0.0, name="bias")
        z = tf.add(tf.matmul(X, w), b, name="z")
        return tf.maximum(z, threshold, name="max")

    X = tf.placeholder(tf.float32, shape=(None, 3), name="X")
    relus = []
    for relu_index in range(5):
        with tf.variable_scope("relu", reuse=(relu_index >= 1)):
            relus.append(relu(X))
    thresholds = [v for v in tf.global_variables() if "threshold" in v.name]
    assert [v.name for v in thresholds] == ["relu/threshold:0"]
    assert relus[3].name == "relu_3/max:0"


def test_seed_sharing_variables_threshold_created_outside():
    def relu(X):
        with tf.variable_scope("relu", reuse=True):
            threshold = tf.get_variable("threshold")
            return tf.maximum(X, threshold, name="max")

    X = tf.placeholder(tf.float32, shape=(None, 3), name="X")
    with tf.variable_scope("relu"):
        threshold = tf.get_variable("threshold", shape=(), initializer=tf.constant_initializer(0.5))
    relus = [relu(X) for _ in range(5)]
    assert threshold.name == "relu/threshold:0"
    assert [r.op.name for r in relus] == [f"relu_{i}/max" for i in range(1, 6)]
    output = tf.add_n(relus, name="output")
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        np.testing.assert_allclose(sess.run(output, {X: [[0.0, 1.0, 2.0]]}), [[2.5, 5.0, 10.0]])


def test_scope_initializer_and_dtype_are_inherited():
    with tf.variable_scope("s", initializer=tf.constant_initializer(7.0)):
        a = tf.get_variable("a", [2])
        with tf.variable_scope("inner"):
            b = tf.get_variable("b", [2])
            c = tf.get_variable("c", [2], initializer=tf.zeros_initializer())
    with tf.variable_scope("d", dtype=tf.float64):
        d = tf.get_variable("d", [1])
    assert d.dtype.base_dtype == tf.float64
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        np.testing.assert_array_equal(sess.run(a), [7.0, 7.0])
        np.testing.assert_array_equal(sess.run(b), [7.0, 7.0])
        np.testing.assert_array_equal(sess.run(c), [0.0, 0.0])


def test_get_variable_initializer_kinds():
    a = tf.get_variable("a", initializer=[1.0, 2.0])  # a constant: shape comes from it
    b = tf.get_variable("b", initializer=tf.constant([[1, 2]]))
    c = tf.get_variable("c", initializer=np.array([1.0, 2.0]))
    d = tf.get_variable("d", [2], dtype=tf.int32)  # default initializer for ints: zeros
    e = tf.get_variable("e", [2, 2], initializer=tf.ones_initializer)  # a class is instantiated
    f = tf.get_variable("f", [3], initializer=lambda shape, dtype: tf.fill(shape, 2.0))
    g = tf.get_variable("g", [40, 60])  # default: glorot uniform
    assert b.dtype.base_dtype == tf.int32
    assert c.dtype.base_dtype == tf.float64  # numpy values keep their dtype, as TF1
    assert d.dtype.base_dtype == tf.int32
    with pytest.raises(ValueError, match="If initializer is a constant, do not specify shape"):
        tf.get_variable("h", [2], initializer=[1.0, 2.0])
    with pytest.raises(ValueError, match="don't match"):
        tf.get_variable("i", initializer=[1, 2], dtype=tf.float32)
    with pytest.raises(ValueError):
        tf.get_variable("j")  # no shape, no value
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        av, bv, cv, dv, ev, fv, gv = sess.run([a, b, c, d, e, f, g])
    np.testing.assert_array_equal(av, [1.0, 2.0])
    np.testing.assert_array_equal(bv, [[1, 2]])
    np.testing.assert_array_equal(cv, [1.0, 2.0])
    np.testing.assert_array_equal(dv, [0, 0])
    np.testing.assert_array_equal(ev, np.ones((2, 2)))
    np.testing.assert_array_equal(fv, [2.0, 2.0, 2.0])
    limit = np.sqrt(6.0 / (40 + 60))
    assert np.abs(gv).max() <= limit and gv.std() > limit / 3


def test_get_variable_collections_trainable_and_local():
    a = tf.get_variable("a", [1], trainable=False)
    b = tf.get_variable("b", [1], collections=[tf.GraphKeys.LOCAL_VARIABLES])
    c = tf.get_local_variable("c", [1])
    assert tf.global_variables() == [a]
    assert tf.trainable_variables() == [b]
    assert tf.local_variables() == [b, c]


def test_regularizer_adds_a_loss():
    with tf.variable_scope("layer", regularizer=lambda v: tf.reduce_sum(v) * 0.5):
        w = tf.get_variable("w", [2], initializer=tf.ones_initializer())
        tf.get_variable("nr", [2], regularizer=tf.no_regularizer)
    losses = tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES)
    assert len(losses) == 1
    assert losses[0].name.startswith("layer/w/Regularizer/")
    with tf.Session() as sess:
        sess.run(w.initializer)
        assert sess.run(losses[0]) == 1.0


def test_custom_getters_wrap_creation_and_chain():
    calls = []

    def suffix(getter, name, *args, **kwargs):
        calls.append(("suffix", name))
        return getter(name + "_x", *args, **kwargs)

    def untrainable(getter, *args, **kwargs):
        calls.append(("untrainable", kwargs["name"]))
        kwargs["trainable"] = False
        return getter(*args, **kwargs)

    with tf.variable_scope("s", custom_getter=suffix):
        v = tf.get_variable("v", [1])
        with tf.variable_scope("t", custom_getter=untrainable):
            w = tf.get_variable("w", [1])
    assert v.name == "s/v_x:0"
    assert w.name == "s/t/w_x:0"
    assert calls == [("suffix", "s/v"), ("untrainable", "s/t/w"), ("suffix", "s/t/w")]
    assert tf.trainable_variables() == [v]


def test_scope_variable_listing():
    with tf.variable_scope("net") as net:
        a = tf.get_variable("a", [1])
        b = tf.get_variable("b", [1], trainable=False)
    tf.get_variable("other", [1])
    assert net.global_variables() == [a, b]
    assert net.trainable_variables() == [a]


def test_variable_scopes_are_thread_local_but_the_store_is_shared():
    graph = tf.get_default_graph()
    with tf.variable_scope("main"):
        tf.get_variable("shared", [1])
    seen = {}

    def worker():
        with graph.as_default():
            seen["scope"] = tf.get_variable_scope().name
            try:
                tf.get_variable("main/shared", [1])
            except ValueError as e:
                seen["error"] = str(e)

    with tf.variable_scope("outer"):
        t = threading.Thread(target=worker)
        t.start()
        t.join()
    assert seen["scope"] == ""
    assert "already exists" in seen["error"]


def test_values_select_the_graph():
    g = tf.Graph()
    with g.as_default():
        x = tf.constant(1.0)
    with tf.variable_scope("s", values=[x]):
        assert tf.get_default_graph() is g
        v = tf.get_variable("v", [1])
    assert v.graph is g
    assert tf.get_default_graph() is not g
