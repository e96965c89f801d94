"""Optimizers built with use_locking=True: concurrent training steps lose no update."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import gpugraph as tf

THREADS, RUNS = 8, 20
SHAPE = (1000, 1000)


@pytest.fixture(autouse=True)
def _fresh_graph():
    tf.reset_default_graph()
    yield


def _train_concurrently(sess: tf.Session, train_op: tf.Operation) -> None:
    def work() -> None:
        for _ in range(RUNS):
            sess.run(train_op)
    workers = [threading.Thread(target=work) for _ in range(THREADS)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()


# momentum 0 keeps the exact count while the step still updates two variables (var and accum) under locks
@pytest.mark.parametrize("make, expected", [
    (lambda: tf.train.GradientDescentOptimizer(1.0, use_locking=True), np.float32(THREADS * RUNS)),
    (lambda: tf.train.MomentumOptimizer(1.0, 0.0, use_locking=True), np.float32(THREADS * RUNS)),
], ids=["GradientDescent", "Momentum"])
def test_locked_optimizer_steps_are_exact_under_threads(make, expected):
    w = tf.Variable(tf.zeros(SHAPE))
    train_op = make().minimize(-tf.reduce_sum(w))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        _train_concurrently(sess, train_op)
        np.testing.assert_array_equal(sess.run(w), np.full(SHAPE, expected))


@pytest.mark.parametrize("make", [
    lambda: tf.train.GradientDescentOptimizer(0.1, use_locking=True),
    lambda: tf.train.MomentumOptimizer(0.1, 0.9, use_locking=True),
    lambda: tf.train.AdamOptimizer(0.1, use_locking=True),
    lambda: tf.train.RMSPropOptimizer(0.1, use_locking=True),
    lambda: tf.train.RMSPropOptimizer(0.1, centered=True, use_locking=True),
    lambda: tf.train.AdagradOptimizer(0.1, use_locking=True),
    lambda: tf.train.AdadeltaOptimizer(0.1, use_locking=True),
], ids=["GradientDescent", "Momentum", "Adam", "RMSProp", "CenteredRMSProp", "Adagrad", "Adadelta"])
def test_every_update_op_of_a_locking_optimizer_locks(make):
    # TF1 sets use_locking on each Apply* op from the constructor
    w = tf.Variable(tf.ones([3]))
    train_op = make().minimize(tf.reduce_sum(w * w))
    updates = [op for op in tf.get_default_graph().get_operations() if op.type.startswith("Apply")]
    assert len(updates) == 1
    for op in updates:
        assert op.get_attr("use_locking") is True, op.name
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(train_op)
