"""tf.FIFOQueue and its kin: order, blocking at capacity, close and cancel, against TF1's recorded behaviour."""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pytest

import gpugraph as tf
from gpugraph.queues.host import dequeue_one, host_queue

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "data"))

from queue_cases import CASES  # noqa: E402

REFERENCE = json.loads((HERE / "data" / "queue_reference.json").read_text(encoding="utf-8"))
WAIT = 5.0  # seconds a thread may take to react; a bug fails the test after this rather than hanging it


@pytest.fixture(autouse=True)
def graph() -> Iterator[tf.Graph]:
    with tf.Graph().as_default() as g:
        yield g


@pytest.mark.parametrize("case", ["queue_op_names", "closed_queue_errors", "padded_batch", "cancelled_errors"])
def test_matches_tensorflow(case: str) -> None:
    assert CASES[case](tf) == REFERENCE[case]


def _in_thread(fn: Any) -> tuple[threading.Thread, list[Any]]:
    box: list[Any] = []

    def target() -> None:
        try:
            box.append(fn())
        except Exception as e:  # noqa: BLE001 - handed to the test
            box.append(e)
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread, box


def test_fifo_order_and_dequeue_up_to_after_close() -> None:
    q = tf.FIFOQueue(10, tf.int32, shapes=[[]])
    with tf.Session() as sess:
        sess.run(q.enqueue_many([[5, 3, 9]]))
        sess.run(q.enqueue(7))
        assert sess.run(q.dequeue()) == 5
        assert sess.run(q.size()) == 3
        sess.run(q.close())
        assert sess.run(q.is_closed())
        np.testing.assert_array_equal(sess.run(q.dequeue_up_to(2)), [3, 9])
        np.testing.assert_array_equal(sess.run(q.dequeue_up_to(2)), [7])
        with pytest.raises(tf.errors.OutOfRangeError, match="requested 2, current size 0"):
            sess.run(q.dequeue_up_to(2))


def test_enqueue_blocks_at_capacity_until_a_dequeue() -> None:
    q = tf.FIFOQueue(2, tf.int32, shapes=[[]])
    enqueue = q.enqueue_many([[1, 2, 3]])
    dequeue = q.dequeue()
    with tf.Session() as sess:
        thread, box = _in_thread(lambda: sess.run(enqueue))
        time.sleep(0.2)
        assert thread.is_alive() and sess.run(q.size()) == 2  # two in, the third waits for space
        assert sess.run(dequeue) == 1
        thread.join(WAIT)
        assert not thread.is_alive() and box == [None]
        assert [sess.run(dequeue) for _ in range(2)] == [2, 3]


def test_dequeue_blocks_until_data_and_close_wakes_it() -> None:
    q = tf.FIFOQueue(2, tf.float32, shapes=[[]])
    dequeue, enqueue, close = q.dequeue(), q.enqueue(4.0), q.close()
    with tf.Session() as sess:
        thread, box = _in_thread(lambda: sess.run(dequeue))
        time.sleep(0.2)
        assert thread.is_alive()
        sess.run(enqueue)
        thread.join(WAIT)
        assert box == [4.0]
        thread, box = _in_thread(lambda: sess.run(dequeue))
        time.sleep(0.2)
        sess.run(close)
        thread.join(WAIT)
        assert isinstance(box[0], tf.errors.OutOfRangeError) and "is closed and has insufficient" in str(box[0])


def test_random_shuffle_queue_is_a_permutation_keeping_min_after_dequeue() -> None:
    q = tf.RandomShuffleQueue(20, 5, tf.int32, shapes=[[]], seed=3)
    dequeue_many = q.dequeue_many(5)
    with tf.Session() as sess:
        sess.run(q.enqueue_many([list(range(10))]))
        first = sess.run(dequeue_many).tolist()  # 10 - 5 = 5 may go
        thread, box = _in_thread(lambda: sess.run(q.dequeue()))
        time.sleep(0.2)
        assert thread.is_alive() and sess.run(q.size()) == 5  # min_after_dequeue holds the rest back
        sess.run(q.close())  # once closed the rest may go
        thread.join(WAIT)
        rest = [box[0]] + sess.run(q.dequeue_up_to(10)).tolist()
    assert sorted(first + rest) == list(range(10))
    assert first + rest != list(range(10))  # shuffled (fixed seed: not the identity)


def test_priority_queue_dequeues_lowest_priority_first() -> None:
    q = tf.PriorityQueue(10, [tf.string], shapes=[[]])
    with tf.Session() as sess:
        sess.run(q.enqueue_many(([3, 1, 2], ["c", "a", "b"])))
        priorities, values = sess.run(q.dequeue_many(3))
    assert priorities.tolist() == [1, 2, 3] and values.tolist() == [b"a", b"b", b"c"]


def test_build_time_checks() -> None:
    named = tf.FIFOQueue(4, [tf.int32, tf.float32], shapes=[[], [2]], names=["a", "b"])
    with pytest.raises(ValueError, match="You must enqueue a dictionary in a Queue with names"):
        named.enqueue((1, [1.0, 2.0]))
    q = tf.FIFOQueue(3, [tf.int32], shapes=[[]])
    with pytest.raises(ValueError, match="incompatible"):
        q.enqueue([[1, 2]])
    with pytest.raises(ValueError, match="Shapes must be provided for all components"):
        tf.PaddingFIFOQueue(10, [tf.int32, tf.int32], shapes=[[None]])
    with pytest.raises(ValueError, match="All shapes must be fully defined"):
        tf.FIFOQueue(3, tf.int32, shapes=[[None]])


def test_host_api_dequeue_one_for_readers() -> None:
    q = tf.FIFOQueue(4, tf.string, shapes=[[]])
    with tf.Session() as sess:
        sess.run(q.enqueue_many([["f1", "f2"]]))
        assert dequeue_one(sess, q)[0] == b"f1"
        assert host_queue(sess, q.queue_ref).dequeue_one(timeout=1.0)[0] == b"f2"
        with pytest.raises(tf.errors.DeadlineExceededError):
            dequeue_one(sess, q, timeout=0.05)
        sess.run(q.close())
        with pytest.raises(tf.errors.OutOfRangeError, match="is closed and has insufficient elements"):
            dequeue_one(sess, q)


def test_session_close_cancels_a_blocked_enqueue() -> None:
    q = tf.FIFOQueue(1, tf.int32, shapes=[[]])
    enqueue = q.enqueue(1)
    sess = tf.Session()
    sess.run(enqueue)
    thread, box = _in_thread(lambda: sess.run(enqueue))
    time.sleep(0.2)
    sess.close()
    thread.join(WAIT)
    assert isinstance(box[0], tf.errors.CancelledError) and "Enqueue operation was cancelled" in str(box[0])
