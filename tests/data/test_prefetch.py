"""prefetch: runs ahead on a thread, surfaces pipeline errors, and stops its thread when done."""

from __future__ import annotations

import threading
import time

import pytest

import gpugraph as tf
from gpugraph.data.prefetch import THREAD_NAME


def _prefetch_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == THREAD_NAME and t.is_alive()]


def _wait_for_no_threads(timeout: float = 2.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if not _prefetch_threads():
            return True
        time.sleep(0.02)
    return False


def test_prefetch_runs_ahead_of_the_consumer() -> None:
    produced: list[int] = []

    def gen():
        for i in range(10):
            produced.append(i)
            yield i

    ds = tf.data.Dataset.from_generator(gen, tf.int64, tf.TensorShape([])).prefetch(3)
    nxt = tf.data.make_one_shot_iterator(ds).get_next()
    with tf.Session() as sess:
        assert sess.run(nxt) == 0
        end = time.monotonic() + 2.0
        while len(produced) < 5 and time.monotonic() < end:
            time.sleep(0.01)
        assert len(produced) >= 4  # the queue filled up while nobody asked
        assert len(produced) <= 6  # bounded: 1 consumed + 3 queued + 1 waiting to be put (+ slack of 1)
        assert [sess.run(nxt) for _ in range(9)] == list(range(1, 10))
        with pytest.raises(tf.errors.OutOfRangeError):
            sess.run(nxt)
    assert _wait_for_no_threads()


def test_pipeline_error_surfaces_on_get_next_naming_the_dataset_op() -> None:
    def gen():
        yield 1
        raise RuntimeError("disk on fire")

    ds = tf.data.Dataset.from_generator(gen, tf.int64).map(lambda x: x * 2).prefetch(tf.data.experimental.AUTOTUNE)
    nxt = tf.data.make_one_shot_iterator(ds).get_next()
    with tf.Session() as sess:
        assert sess.run(nxt) == 2
        with pytest.raises(tf.errors.InvalidArgumentError, match="GeneratorDataset: RuntimeError: disk on fire"):
            sess.run(nxt)
    assert _wait_for_no_threads()


def test_threads_stop_on_session_close_and_on_reinitialisation() -> None:
    ds = tf.data.Dataset.range(1000).repeat().prefetch(2)
    it = tf.data.make_initializable_iterator(ds)
    nxt = it.get_next()
    sess = tf.Session()
    sess.run(it.initializer)
    assert sess.run(nxt) == 0
    assert len(_prefetch_threads()) == 1
    sess.run(it.initializer)  # the old pipeline's thread ends, a new one starts
    assert sess.run(nxt) == 0
    time.sleep(0.2)
    assert len(_prefetch_threads()) == 1
    sess.close()
    assert _wait_for_no_threads()
