"""The global step helpers of tf.train."""

from __future__ import annotations

import pytest

import gpugraph as tf


@pytest.fixture(autouse=True)
def _fresh_graph():
    tf.reset_default_graph()
    yield


def test_create_and_get_global_step():
    assert tf.train.get_global_step() is None
    step = tf.train.get_or_create_global_step()
    assert step.name == "global_step:0"
    assert step.dtype.base_dtype == tf.int64
    assert not step.trainable
    assert tf.get_collection(tf.GraphKeys.GLOBAL_STEP) == [step]
    assert tf.train.get_global_step() is step
    assert tf.train.get_or_create_global_step() is step
    with pytest.raises(ValueError):
        tf.train.create_global_step()


def test_global_step_found_by_name_and_checked():
    v = tf.Variable(0, name="global_step", trainable=False)
    assert tf.train.get_global_step() is v._ref()
    with tf.Graph().as_default():
        tf.Variable(0.0, name="global_step")
        with pytest.raises(TypeError):
            tf.train.get_global_step()


def test_minimize_with_created_global_step():
    w = tf.Variable(3.0, name="w")
    step = tf.train.get_or_create_global_step()
    with tf.name_scope("scoped"):
        train = tf.train.GradientDescentOptimizer(0.1).minimize(w * w, global_step=step)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(4):
            sess.run(train)
        assert tf.train.global_step(sess, step) == 4
