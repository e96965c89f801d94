"""tf.train.Coordinator and LooperThread: stopping threads together, re-raising their errors."""

from __future__ import annotations

import threading
import time

import pytest

import gpugraph as tf


def test_threads_stop_together_and_join_returns() -> None:
    coord = tf.train.Coordinator()
    counts = [0, 0]

    def worker(i: int) -> None:
        while not coord.should_stop():
            counts[i] += 1
            if i == 0 and counts[0] >= 50:
                coord.request_stop()
            time.sleep(0.001)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    coord.join(threads, stop_grace_period_secs=5)
    assert coord.should_stop() and coord.joined
    assert counts[0] >= 50 and counts[1] > 0 and not any(t.is_alive() for t in threads)


def test_an_exception_in_a_thread_is_reraised_by_join() -> None:
    coord = tf.train.Coordinator()

    def worker() -> None:
        with coord.stop_on_exception():
            raise RuntimeError("boom")

    t = threading.Thread(target=worker)
    t.start()
    assert coord.wait_for_stop(5)
    with pytest.raises(RuntimeError, match="boom"):
        coord.join([t])
    with pytest.raises(RuntimeError, match="boom"):
        coord.raise_requested_exception()


def test_out_of_range_is_a_clean_stop_and_the_first_error_wins() -> None:
    coord = tf.train.Coordinator()
    coord.request_stop(tf.errors.OutOfRangeError(None, None, "end of input"))
    assert coord.should_stop()
    coord.join([])  # nothing raised
    coord.clear_stop()
    assert not coord.should_stop() and not coord.joined
    coord.request_stop(ValueError("first"))
    coord.request_stop(KeyError("second"))
    with pytest.raises(ValueError, match="first"):
        coord.join()


def test_straggler_threads_are_reported() -> None:
    coord = tf.train.Coordinator()
    release = threading.Event()
    t = threading.Thread(target=release.wait, name="slow-one", daemon=True)
    t.start()
    coord.request_stop()
    with pytest.raises(RuntimeError, match="slow-one"):
        coord.join([t], stop_grace_period_secs=0.05)
    release.set()
    t.join()


def test_wait_for_stop_times_out_without_a_stop() -> None:
    coord = tf.train.Coordinator()
    start = time.time()
    assert coord.wait_for_stop(0.05) is False
    assert time.time() - start >= 0.04


def test_looper_thread_calls_its_target_until_stopped_and_is_registered() -> None:
    coord = tf.train.Coordinator()
    calls: list[int] = []
    looper = tf.train.LooperThread.loop(coord, 0.001, target=calls.append, args=(1,))
    assert looper.daemon
    while len(calls) < 5:
        time.sleep(0.001)
    coord.request_stop()
    coord.join(stop_grace_period_secs=5)  # the registered looper is joined too
    assert not looper.is_alive()


def test_looper_errors_reach_the_coordinator() -> None:
    coord = tf.train.Coordinator()

    def fail() -> None:
        raise ValueError("bad step")

    tf.train.LooperThread.loop(coord, None, target=fail)
    with pytest.raises(ValueError, match="bad step"):
        coord.join(stop_grace_period_secs=5)
    with pytest.raises(ValueError, match="Coordinator"):
        tf.train.LooperThread("not a coordinator", 1.0)
