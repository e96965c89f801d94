"""Common subexpression elimination in plans: the same computation runs once; state and order are kept."""

from __future__ import annotations

import numpy as np
import pytest

import gpugraph as tf


@pytest.fixture(autouse=True)
def _fresh_graph(monkeypatch):
    tf.reset_default_graph()
    monkeypatch.setenv("GPUGRAPH_FUSION", "0")  # CSE is tested on its own: no fused regions
    yield


def plan_of(sess):
    return list(sess._runs.values())[-1].plan  # the latest compiled run


def step_types(sess):
    return [step.op.type for step in plan_of(sess).steps]


def test_the_same_computation_runs_once():
    x = tf.placeholder(tf.float32, [3], name="x")
    a = tf.exp(x) * 2.0
    b = tf.exp(x) * 2.0  # built twice, as gradient code often does
    total = a + b
    with tf.Session() as sess:
        value = sess.run(total, {x: np.array([0.0, 1.0, 2.0], np.float32)})
        assert step_types(sess).count("Exp") == 1 and step_types(sess).count("Mul") == 1
    np.testing.assert_allclose(value, 4.0 * np.exp([0.0, 1.0, 2.0]), rtol=1e-6)


def test_different_attributes_or_inputs_are_not_merged():
    x = tf.placeholder(tf.float32, [2, 3], name="x")
    s0 = tf.reduce_sum(x, axis=0)
    s1 = tf.reduce_sum(x, axis=1)
    t0 = tf.reduce_sum(x * 2.0, axis=0)
    with tf.Session() as sess:
        a, b, c = sess.run([s0, s1, t0], {x: np.arange(6, dtype=np.float32).reshape(2, 3)})
        assert step_types(sess).count("Sum") == 3
    np.testing.assert_array_equal(a, [3, 5, 7])
    np.testing.assert_array_equal(b, [3, 12])
    np.testing.assert_array_equal(c, [6, 10, 14])


def test_random_ops_and_ops_after_a_write_are_never_merged():
    r1 = tf.random_uniform([4], seed=1)
    r2 = tf.random_uniform([4], seed=1)  # the same seeds: two draws that happen to be equal in TF1 too
    v = tf.Variable(1.0, name="v")
    before = v * 3.0
    update = tf.assign(v, 5.0)
    with tf.control_dependencies([update]):
        after = v * 3.0  # the same expression, but it must see the write
    with tf.Session() as sess:
        sess.run(v.initializer)
        a, b = sess.run([r1, r2])
        assert step_types(sess).count("RandomUniform") == 2
        np.testing.assert_array_equal(a, b)
        first, second = sess.run([before, after])
    assert (first, second) == (3.0, 15.0)


def test_two_fetches_of_one_computation_are_two_arrays():
    x = tf.placeholder(tf.float32, [2], name="x")
    a, b = x * 2.0, x * 2.0
    with tf.Session() as sess:
        va, vb = sess.run([a, b], {x: np.ones(2, np.float32)})
    va += 1.0  # the caller's own array
    np.testing.assert_array_equal(vb, [2.0, 2.0])
