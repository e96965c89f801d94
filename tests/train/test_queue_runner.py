"""tf.train.QueueRunner and start_queue_runners: threads fill a queue, close it at the end of input, stop
with their Coordinator; MonitoredTrainingSession starts and stops them itself."""

from __future__ import annotations

import threading
import time
from typing import Iterator

import numpy as np
import pytest

import gpugraph as tf

WAIT = 5.0


@pytest.fixture(autouse=True)
def graph() -> Iterator[tf.Graph]:
    with tf.Graph().as_default() as g:
        yield g


def test_end_of_input_closes_the_queue() -> None:
    source = tf.train.limit_epochs(tf.constant([1, 2, 3]), num_epochs=2)
    q = tf.FIFOQueue(4, tf.int32, shapes=[[]])
    qr = tf.train.QueueRunner(q, [q.enqueue_many([source])] * 2)
    assert qr.name == q.name and qr.close_op.name == "fifo_queue_Close" and qr.cancel_op.name == "fifo_queue_Close_1"
    dequeue = q.dequeue()
    with tf.Session() as sess:
        sess.run(tf.local_variables_initializer())
        threads = qr.create_threads(sess, start=True)
        assert len(threads) == 2 and qr.create_threads(sess) == []  # already running in this session
        got = []
        with pytest.raises(tf.errors.OutOfRangeError, match="is closed and has insufficient elements"):
            while True:
                got.append(int(sess.run(dequeue)))
        for t in threads:
            t.join(WAIT)
        assert not any(t.is_alive() for t in threads) and qr.exceptions_raised == []
    assert sorted(got) == [1, 1, 2, 2, 3, 3]


def test_request_stop_cancels_blocked_enqueues_and_join_returns() -> None:
    q = tf.FIFOQueue(2, tf.float32, shapes=[[]])
    tf.train.add_queue_runner(tf.train.QueueRunner(q, [q.enqueue(1.0)]))
    with tf.Session() as sess:
        coord = tf.train.Coordinator()
        threads = tf.train.start_queue_runners(sess, coord)
        assert len(threads) == 2 and all(t.daemon for t in threads)  # the enqueuer and the canceller
        deadline = time.time() + WAIT
        while sess.run(q.size()) < 2 and time.time() < deadline:
            time.sleep(0.01)
        assert sess.run(q.size()) == 2  # full: the enqueue thread is blocked
        coord.request_stop()
        coord.join(threads, stop_grace_period_secs=WAIT)
        assert not any(t.is_alive() for t in threads)


def test_an_error_in_an_enqueue_op_reaches_coordinator_join() -> None:
    x = tf.placeholder(tf.float32, shape=[])  # never fed: the run fails
    q = tf.FIFOQueue(2, tf.float32, shapes=[[]])
    tf.train.add_queue_runner(tf.train.QueueRunner(q, [q.enqueue(x)]))
    with tf.Session() as sess:
        coord = tf.train.Coordinator()
        threads = tf.train.start_queue_runners(sess, coord)
        assert coord.wait_for_stop(WAIT)
        with pytest.raises(tf.errors.InvalidArgumentError):
            coord.join(threads, stop_grace_period_secs=WAIT)


def test_start_queue_runners_needs_a_session() -> None:
    with pytest.raises(ValueError, match="No default session is registered"):
        tf.train.start_queue_runners()


def test_monitored_training_session_runs_the_pipeline_to_its_end() -> None:
    x = tf.train.slice_input_producer([tf.range(5)], num_epochs=2, shuffle=False)[0]
    batch = tf.train.batch([x], batch_size=2, allow_smaller_final_batch=True)
    got = []
    before = threading.active_count()
    with tf.train.MonitoredTrainingSession() as sess:
        while not sess.should_stop():
            got.append(sess.run(batch).tolist())
    deadline = time.time() + WAIT
    while threading.active_count() > before and time.time() < deadline:
        time.sleep(0.01)
    assert threading.active_count() <= before  # the runner threads ended with the session
    np.testing.assert_array_equal(sum(got, []), [0, 1, 2, 3, 4, 0, 1, 2, 3, 4])
