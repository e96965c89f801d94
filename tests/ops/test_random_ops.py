"""Random ops: TF1's graph/op seeds, per-session streams, distributions."""

from __future__ import annotations

import numpy as np
import pytest

import gpugraph as tf
from gpugraph.ops import random_ops


@pytest.fixture(autouse=True)
def _fresh_graph():
    tf.reset_default_graph()
    yield


def _two_sessions(t, runs=2):
    out = []
    for _ in range(2):
        with tf.Session() as sess:
            out.append([sess.run(t) for _ in range(runs)])
    return out


def test_op_seed_gives_the_same_values_in_every_new_session():
    r = tf.random_uniform([5], seed=42)
    (a1, a2), (b1, b2) = _two_sessions(r)
    np.testing.assert_array_equal(a1, b1)
    np.testing.assert_array_equal(a2, b2)
    assert not np.array_equal(a1, a2)  # successive runs draw new values


def test_graph_seed_alone_makes_every_op_deterministic_and_distinct():
    tf.set_random_seed(1234)
    r1 = tf.random_normal([4])
    r2 = tf.random_normal([4])
    (a,), (b,) = _two_sessions([r1, r2], runs=1)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[0], a[1])  # different ops, different op seeds


def test_same_graph_rebuilt_with_the_same_seed_gives_the_same_values():
    def build_and_run():
        with tf.Graph().as_default() as g:
            tf.set_random_seed(7)
            t = tf.truncated_normal([6])
            with tf.Session(graph=g) as sess:
                return sess.run(t)

    np.testing.assert_array_equal(build_and_run(), build_and_run())


def test_no_seed_differs_across_sessions():
    r = tf.random_uniform([8])
    (a,), (b,) = _two_sessions(r, runs=1)
    assert not np.array_equal(a, b)


def test_different_op_seeds_differ():
    a = tf.random_uniform([6], seed=1)
    b = tf.random_uniform([6], seed=2)
    with tf.Session() as sess:
        av, bv = sess.run([a, b])
    assert not np.array_equal(av, bv)


def test_get_seed_rules():
    assert random_ops.get_seed(None) is None
    assert random_ops.get_seed(5) == (random_ops.DEFAULT_GRAPH_SEED, 5)
    tf.set_random_seed(3)
    assert random_ops.get_seed(9) == (3, 9)
    tf.constant(0.0)
    assert random_ops.get_seed(None) == (3, 0)  # op seeds counted per graph, as TF's get_seed
    assert random_ops.get_seed(None) == (3, 1)
    tf.set_random_seed(0)
    assert random_ops.get_seed(0) == (0, 2**31 - 1)  # (0, 0) is reserved by TF1


def test_random_uniform_range_dtype_and_names():
    r = tf.random_uniform([4000], -2.0, 3.0, seed=1)
    assert r.name == "random_uniform:0"
    assert r.dtype == tf.float32
    i = tf.random_uniform([4000], 2, 7, dtype=tf.int32, seed=1)
    assert i.dtype == tf.int32
    d = tf.random_uniform([3], dtype=tf.float64, name="d")
    assert d.name == "d/RandomUniform:0"  # TF draws [0, 1) unscaled for the defaults 0 and 1
    with tf.Session() as sess:
        rv, iv, dv = sess.run([r, i, d])
    assert rv.min() >= -2.0 and rv.max() < 3.0
    assert abs(rv.mean() - 0.5) < 0.1
    assert iv.min() == 2 and iv.max() == 6
    assert dv.dtype == np.float64
    with pytest.raises(ValueError):
        tf.random_uniform([2], 0, dtype=tf.int32)  # ints need maxval


def test_random_normal_and_truncated_normal_statistics():
    n = tf.random_normal([20000], mean=3.0, stddev=2.0, seed=5)
    t = tf.truncated_normal([20000], mean=-1.0, stddev=0.5, seed=6)
    with tf.Session() as sess:
        nv, tv = sess.run([n, t])
    assert abs(nv.mean() - 3.0) < 0.06 and abs(nv.std() - 2.0) < 0.06
    assert np.all(np.abs(tv + 1.0) <= 2 * 0.5)  # within two standard deviations
    assert abs(tv.mean() + 1.0) < 0.02
    assert abs(tv.std() - 0.5 * 0.8796) < 0.02
    assert nv.dtype == np.float32


def test_random_shape_must_be_static_and_dtype_floating():
    with pytest.raises(ValueError):
        tf.random_normal([None, 2])
    with pytest.raises(TypeError):
        tf.random_normal([2], dtype=tf.int32)
    with pytest.raises(TypeError):
        tf.random_uniform(tf.constant([2.0]))  # a shape tensor must be int32 or int64


def test_random_aliases_module():
    assert tf.random.uniform is tf.random_uniform
    assert tf.random.normal is tf.random_normal
