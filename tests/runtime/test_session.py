"""Session: fetch structures, feeds and their checks, default sessions, errors, isolation, threads."""

from __future__ import annotations

import collections
import threading

import numpy as np
import pytest

import gpugraph as tf


@pytest.fixture(autouse=True)
def _fresh_graph():
    tf.reset_default_graph()
    yield


# --- construction and fetch structures ---
def test_session_signature_and_graph():
    g = tf.Graph()
    with g.as_default():
        c = tf.constant(3.0)
    sess = tf.Session(graph=g, config=None)
    assert sess.graph is g
    assert sess.run(c) == 3.0
    sess.close()
    assert tf.Session().graph is tf.get_default_graph()
    with pytest.raises(TypeError):
        tf.Session(graph="not a graph")


def test_fetch_nested_structures():
    Pair = collections.namedtuple("Pair", ["a", "b"])
    a = tf.constant(1.0, name="a")
    b = tf.constant([2, 3], name="b")
    noop = tf.no_op(name="noop")
    with tf.Session() as sess:
        out = sess.run({"x": [a, (b, noop)], "y": Pair(a, {"z": b}), "n": "a:0", "op": "noop"})
    assert out["x"][0] == 1.0
    assert isinstance(out["x"][1], tuple)
    np.testing.assert_array_equal(out["x"][1][0], [2, 3])
    assert out["x"][1][1] is None
    assert isinstance(out["y"], Pair)
    assert out["y"].a == 1.0
    np.testing.assert_array_equal(out["y"].b["z"], [2, 3])
    assert out["n"] == 1.0
    assert out["op"] is None


def test_fetch_by_name_and_scalar_types():
    with tf.name_scope("loss"):
        tf.reduce_mean(tf.constant([1.0, 3.0]), name="mse")
    v = tf.Variable(1.0, name="v")
    tf.global_variables_initializer()
    with tf.Session() as sess:
        assert sess.run("init") is None
        mse = sess.run("loss/mse:0")
        assert mse == 2.0
        assert isinstance(mse, np.float32)  # numpy scalars for 0-d results, as TF1
        assert sess.run(v) == 1.0
        assert isinstance(sess.run([v])[0], np.float32)


def test_bad_fetches():
    other = tf.Graph()
    with other.as_default():
        foreign = tf.constant(1.0)
    with tf.Session() as sess:
        with pytest.raises(ValueError):
            sess.run(foreign)
        with pytest.raises(TypeError):
            sess.run(None)
        with pytest.raises(TypeError):
            sess.run(3)
        with pytest.raises(ValueError):
            sess.run("nope:0")
        with pytest.raises(ValueError):
            sess.run([tf.constant(1.0), "missing"])


# --- once-per-run evaluation and value lifetime ---
def test_each_tensor_is_computed_once_per_run():
    counter = tf.Variable(0, name="counter")
    bump = tf.assign_add(counter, 1)
    doubled = bump * 2
    with tf.Session() as sess:
        sess.run(counter.initializer)
        out = sess.run([bump, bump, doubled])
        assert [int(o) for o in out] == [1, 1, 2]
        assert sess.run(counter) == 1


def test_random_tensor_fetched_twice_in_one_run_is_identical():
    r = tf.random_uniform([4])
    s = r + 0.0
    with tf.Session() as sess:
        a, b, c = sess.run([r, r, s])
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, c)
        assert not np.array_equal(a, sess.run(r))  # a new run, new values


def test_values_do_not_persist_between_runs_except_variables():
    w = tf.constant(3)
    x = w + 2
    y, z = x + 5, x * 3
    v = tf.Variable(0)
    inc = tf.assign_add(v, 1)
    with tf.Session() as sess:
        assert y.eval() == 10
        assert z.eval() == 15
        sess.run(v.initializer)
        sess.run(inc)
        sess.run(inc)
        assert v.eval() == 2


# --- default sessions ---
def test_eval_and_run_use_the_default_session():
    x = tf.Variable(3, name="x")
    y = tf.Variable(4, name="y")
    f = x * x * y + y + 2
    sess = tf.Session()
    sess.run(x.initializer)
    sess.run(y.initializer)
    assert sess.run(f) == 42
    sess.close()
    with tf.Session() as sess:
        assert tf.get_default_session() is sess
        x.initializer.run()
        y.initializer.run()
        assert f.eval() == 42
        assert x.eval() == 3
    assert tf.get_default_session() is None


def test_eval_without_default_session_raises():
    c = tf.constant(1.0)
    with pytest.raises(ValueError):
        c.eval()
    with pytest.raises(ValueError):
        c.op.run()


def test_eval_with_explicit_session_and_feed():
    p = tf.placeholder(tf.float32, shape=[2])
    sess = tf.Session()
    np.testing.assert_array_equal((p * 2.0).eval(feed_dict={p: [1.0, 2.0]}, session=sess), [2.0, 4.0])
    sess.close()


def test_eval_in_a_session_of_another_graph_raises():
    g = tf.Graph()
    with g.as_default():
        c = tf.constant(1.0)
    with tf.Session():
        with pytest.raises(ValueError):
            c.eval()


def test_session_as_default_nests():
    c = tf.constant(1.0)
    s1, s2 = tf.Session(), tf.Session()
    with s1.as_default():
        with s2.as_default():
            assert tf.get_default_session() is s2
        assert tf.get_default_session() is s1
        assert c.eval() == 1.0
    assert tf.get_default_session() is None
    assert not s1._closed  # as_default does not close
    s1.close()
    s2.close()


def test_with_block_makes_the_session_graph_default_and_closes():
    g = tf.Graph()
    with tf.Session(graph=g) as sess:
        assert tf.get_default_graph() is g
        c = tf.constant(2.0)
        assert c.graph is g
        assert sess.run(c) == 2.0
    assert tf.get_default_graph() is not g
    with pytest.raises(RuntimeError):
        sess.run(c)


def test_interactive_session_installs_itself_until_closed():
    x = tf.Variable(3, name="x")
    init = tf.global_variables_initializer()
    sess = tf.InteractiveSession()
    assert tf.get_default_session() is sess
    init.run()
    assert (x * 2).eval() == 6
    sess.close()
    assert tf.get_default_session() is None
    with pytest.raises(RuntimeError):
        sess.run(x)


def test_run_after_close_raises_runtime_error():
    c = tf.constant(1.0)
    sess = tf.Session()
    sess.close()
    sess.close()  # closing twice is fine
    with pytest.raises(RuntimeError):
        sess.run(c)


# --- variable isolation ---
def test_each_session_owns_its_own_copy_of_variables():
    w = tf.Variable(1.0, name="w")
    inc = tf.assign_add(w, 1.0)
    s1, s2 = tf.Session(), tf.Session()
    s1.run(w.initializer)
    s2.run(w.initializer)
    s1.run(inc)
    s1.run(inc)
    assert s1.run(w) == 3.0
    assert s2.run(w) == 1.0
    s3 = tf.Session()
    with pytest.raises(tf.errors.FailedPreconditionError):
        s3.run(w)
    for s in (s1, s2, s3):
        s.close()


def test_sessions_in_two_threads_keep_separate_variables():
    w = tf.Variable(0.0, name="w")
    inc = tf.assign_add(w, 1.0)
    results = {}

    def worker(key, n):
        with tf.Session(graph=w.graph) as sess:
            sess.run(w.initializer)
            for _ in range(n):
                sess.run(inc)
            results[key] = sess.run(w)

    threads = [threading.Thread(target=worker, args=(k, n)) for k, n in (("a", 5), ("b", 9))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == {"a": 5.0, "b": 9.0}


# --- feeds ---
def test_feeds_by_tensor_name_and_non_placeholder():
    x = tf.placeholder(tf.float32, shape=(None, 2), name="x")
    y = x * 2.0
    z = y + 1.0
    with tf.Session() as sess:
        np.testing.assert_array_equal(sess.run(y, {"x:0": [[1.0, 2.0]]}), [[2.0, 4.0]])
        # any tensor can be fed, cutting off what computes it
        np.testing.assert_array_equal(sess.run(z, {y: [[10.0, 10.0]]}), [[11.0, 11.0]])
        with pytest.raises(TypeError):
            sess.run(y, {"x": [[1.0, 2.0]]})  # an op name is not a tensor
        with pytest.raises(TypeError):
            sess.run(y, {x: tf.constant([[1.0, 2.0]])})


def test_feed_wrong_shape_names_placeholder_and_both_shapes():
    x = tf.placeholder(tf.float32, shape=(None, 3), name="input_x")
    y = x * 2.0
    with tf.Session() as sess:
        with pytest.raises(ValueError) as info:
            sess.run(y, {x: np.zeros((2, 4))})
    msg = str(info.value)
    assert "input_x:0" in msg
    assert "(2, 4)" in msg
    assert "(?, 3)" in msg


def test_feed_wrong_rank_raises_value_error():
    x = tf.placeholder(tf.float32, shape=(3,), name="x")
    with tf.Session() as sess:
        with pytest.raises(ValueError):
            sess.run(x + 1.0, {x: 1.0})


def test_feed_values_must_fit_the_dtype():
    i = tf.placeholder(tf.int32, name="i")
    f = tf.placeholder(tf.float32, name="f")
    b = tf.placeholder(tf.bool, name="b")
    with tf.Session() as sess:
        with pytest.raises((TypeError, ValueError)):
            sess.run(i + 1, {i: 1.5})
        with pytest.raises((TypeError, ValueError)):
            sess.run(f + 1.0, {f: "abc"})
        with pytest.raises((TypeError, ValueError)):
            sess.run(i + 1, {i: 2 ** 40})
        with pytest.raises((TypeError, ValueError)):
            sess.run(tf.logical_not(b), {b: 1.0})
        assert sess.run(i + 1, {i: 2.0}) == 3  # integral floats are accepted
        out = sess.run(f * 1.0, {f: np.array([1, 2], np.int64)})
        assert out.dtype == np.float32


def test_feed_validation_happens_before_anything_runs():
    v = tf.Variable(0, name="v")
    x = tf.placeholder(tf.float32, shape=(2,), name="x")
    inc = tf.assign_add(v, 1)
    with tf.Session() as sess:
        sess.run(v.initializer)
        with pytest.raises(ValueError):
            sess.run([inc, x * 2.0], {x: np.zeros(3)})
        with pytest.raises(tf.errors.InvalidArgumentError):
            sess.run([inc, x * 2.0])
        assert sess.run(v) == 0


def test_missing_feed_raises_invalid_argument_naming_placeholder():
    x = tf.placeholder(tf.float32, shape=(None, 3), name="features")
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError) as info:
            sess.run(x * 2.0)
    assert "features" in str(info.value)
    assert info.value.op is x.op


def test_uninitialized_variable_raises_failed_precondition_naming_it():
    w = tf.Variable(1.0, name="weights")
    with tf.Session() as sess:
        with pytest.raises(tf.errors.FailedPreconditionError) as info:
            sess.run(w * 2.0)
        assert "weights" in str(info.value)
        with pytest.raises(tf.errors.FailedPreconditionError):
            sess.run(w)
        with pytest.raises(tf.errors.FailedPreconditionError):
            sess.run(tf.assign_add(w, 1.0))


def test_uninitialized_check_happens_before_anything_runs():
    v = tf.Variable(0, name="v")
    w = tf.Variable(1.0, name="w")
    inc = tf.assign_add(v, 1)
    with tf.Session() as sess:
        sess.run(v.initializer)
        with pytest.raises(tf.errors.FailedPreconditionError):
            sess.run([inc, w * 2.0])
        assert sess.run(v) == 0


def test_run_time_numpy_failures_become_invalid_argument_naming_the_op():
    x = tf.placeholder(tf.float32, shape=None, name="x")
    r = tf.reshape(x, [5], name="bad_reshape")
    a = tf.placeholder(tf.float32, shape=(None, None), name="a")
    m = tf.matmul(a, a, name="bad_matmul")
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError) as info:
            sess.run(r, {x: np.zeros(6)})
        assert "bad_reshape" in str(info.value)
        assert info.value.op is r.op
        with pytest.raises(tf.errors.InvalidArgumentError) as info:
            sess.run(m, {a: np.zeros((2, 3))})
        assert "bad_matmul" in str(info.value)
        # the session stays usable after a failure
        np.testing.assert_array_equal(sess.run(r, {x: np.arange(5)}), np.arange(5))


def test_errors_module_names():
    assert issubclass(tf.errors.InvalidArgumentError, tf.errors.OpError)
    assert tf.errors.InvalidArgumentError.error_code == tf.errors.INVALID_ARGUMENT
    e = tf.errors.FailedPreconditionError(None, None, "msg")
    assert str(e) == "msg" and e.message == "msg"


# --- threads ---
def test_concurrent_runs_from_many_threads_are_correct():
    x = tf.placeholder(tf.float32, shape=(None, 3), name="x")
    w = tf.Variable(np.arange(6, dtype=np.float32).reshape(3, 2), name="w")
    y = tf.reduce_sum(tf.matmul(x, w) * 2.0, axis=1)
    wv = np.arange(6, dtype=np.float32).reshape(3, 2)
    errors = []
    with tf.Session() as sess:
        sess.run(w.initializer)

        def worker(seed):
            rng = np.random.default_rng(seed)
            try:
                for _ in range(200):
                    xv = rng.standard_normal((int(rng.integers(1, 5)), 3)).astype(np.float32)
                    got = sess.run(y, {x: xv})
                    np.testing.assert_allclose(got, (xv @ wv * 2.0).sum(axis=1), rtol=1e-5)
            except Exception as e:  # collected and re-raised in the main thread
                errors.append(e)

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sess.plan_builds == 2  # the initializer, and one plan shared by all threads
    assert errors == []


# --- fetched values are not aliased to session storage ---
def test_fetched_values_are_not_aliased_to_variables():
    v = tf.Variable(np.zeros(3, np.float32), name="v")
    inc = tf.assign_add(v, np.ones(3, np.float32))
    ident = tf.identity(v)
    part = v[0:2]
    resh = tf.reshape(v, [3, 1])
    with tf.Session() as sess:
        sess.run(v.initializer)
        fetched = sess.run(v)
        fetched[:] = 100.0  # mutating a fetched value leaves the variable alone
        np.testing.assert_array_equal(sess.run(v), [0, 0, 0])
        before = [sess.run(t) for t in (v, v.value(), ident, part, resh)]
        after_inc = sess.run(inc)
        sess.run(inc)
        for b in before:  # earlier fetches do not change after later assigns
            assert float(np.ravel(b)[0]) == 0.0
        np.testing.assert_array_equal(after_inc, [1, 1, 1])
        np.testing.assert_array_equal(sess.run(v), [2, 2, 2])


def test_fetched_constants_and_feeds_are_copies():
    c = tf.constant([1.0, 2.0])
    p = tf.placeholder(tf.float32, shape=(2,))
    fed = np.array([5.0, 6.0], np.float32)
    with tf.Session() as sess:
        out = sess.run(c)
        out[0] = 99.0
        np.testing.assert_array_equal(sess.run(c), [1.0, 2.0])
        got = sess.run(p, {p: fed})
        got[0] = -1.0
        assert fed[0] == 5.0


def test_error_code_mapping():
    assert tf.errors.exception_type_from_error_code(tf.errors.NOT_FOUND) is tf.errors.NotFoundError
    assert tf.errors.error_code_from_exception_type(tf.errors.OutOfRangeError) == tf.errors.OUT_OF_RANGE
    import pickle

    e = pickle.loads(pickle.dumps(tf.errors.InvalidArgumentError(None, None, "boom")))
    assert isinstance(e, tf.errors.InvalidArgumentError) and e.message == "boom"


def test_run_accepts_options_and_run_metadata():
    c = tf.constant(2.0)
    with tf.Session("") as sess:
        assert sess.run(c, options=None, run_metadata=None) == 2.0
        assert sess.run([]) == []
        assert sess.run({}) == {}


def test_make_callable_and_feeding_a_variable():
    x = tf.placeholder(tf.float32, shape=(), name="x")
    v = tf.Variable(1.0, name="v")
    y = x * v
    with tf.Session() as sess:
        sess.run(v.initializer)
        f = sess.make_callable([y], feed_list=[x])
        assert f(2.0) == [2.0]
        assert f(3.0) == [3.0]
        assert sess.plan_builds == 2  # the initializer and the callable
        with pytest.raises(TypeError):
            f()
        assert sess.run(y, {x: 2.0, v: 10.0}) == 20.0  # a variable can be fed
        assert sess.run(v) == 1.0


def test_default_config_applies_to_sessions_without_config_and_explicit_config_wins() -> None:
    from gpugraph.runtime.default_config import set_default_config

    default = tf.ConfigProto(allow_soft_placement=False)
    explicit = tf.ConfigProto(log_device_placement=False)
    set_default_config(default)
    try:
        with tf.Graph().as_default():
            assert tf.Session()._config.allow_soft_placement is False
            assert tf.Session(config=explicit)._config is explicit
    finally:
        set_default_config(None)
    with tf.Graph().as_default():
        assert tf.Session()._config is None


def test_control_dependency_on_a_placeholder_is_met_by_its_feed():
    # tf.metrics.mean and TF1 input code order updates after a fed placeholder; unfed, TF1 asks for the feed.
    with tf.Graph().as_default():
        p = tf.placeholder(tf.float32, [2], name="p")
        v = tf.Variable(0.0)
        with tf.control_dependencies([p]):
            bump = tf.assign_add(v, 1.0)
        with tf.Session() as sess:
            sess.run(v.initializer)
            assert sess.run(bump, {p: [1.0, 2.0]}) == 1.0
            with pytest.raises(tf.errors.InvalidArgumentError, match="must feed a value for placeholder tensor 'p'"):
                sess.run(bump)
