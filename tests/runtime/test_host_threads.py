"""ConfigProto.intra_op_parallelism_threads: the host BLAS's threads during a run, its own count after."""

from __future__ import annotations

import os
import threading
from typing import Any

import numpy as np
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

import gpugraph as tf
from gpugraph.ops import host_blas
from gpugraph.runtime.host_threads import default_intra_op_threads, intra_op_threads

OWN_COUNT = 3  # the process's BLAS count in these tests: neither a session's setting nor the default


@pytest.fixture(autouse=True)
def _fresh_graph_and_blas_count() -> Any:
    tf.reset_default_graph()
    with threadpool_limits(OWN_COUNT, user_api="blas"):
        yield


def blas_threads() -> int:
    counts = {info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"}
    assert len(counts) == 1, counts
    return counts.pop()


def threads_seen_in_run(config: Any) -> int:
    """The BLAS's thread count as a py_func inside one run of a session made with ``config`` reads it."""
    seen = tf.py_func(lambda x: np.int64(blas_threads()), [tf.constant(0)], tf.int64)
    with tf.Session(config=config) as sess:
        return int(sess.run(seen))


def configured(threads: int) -> tf.ConfigProto:
    return tf.ConfigProto(intra_op_parallelism_threads=threads)


@pytest.mark.parametrize("threads", [1, 2, 5])
def test_the_sessions_count_holds_during_the_run_and_the_own_count_after(threads: int) -> None:
    assert threads_seen_in_run(configured(threads)) == threads
    assert blas_threads() == OWN_COUNT


def test_sessions_with_different_counts_in_one_process() -> None:
    seen = tf.py_func(lambda x: np.int64(blas_threads()), [tf.constant(0)], tf.int64)
    one, two = tf.Session(config=configured(1)), tf.Session(config=configured(2))
    assert [int(s.run(seen)) for s in (one, two, one, two)] == [1, 2, 1, 2]
    assert blas_threads() == OWN_COUNT
    one.close()
    two.close()


def test_a_run_on_another_python_thread_gets_its_count() -> None:
    seen = tf.py_func(lambda x: np.int64(blas_threads()), [tf.constant(0)], tf.int64)
    sess = tf.Session(config=configured(1))
    sess.run(seen)  # this thread sets OpenBLAS's count first: threadpoolctl would keep it to this thread
    results: list[int] = []
    worker = threading.Thread(target=lambda: results.append(int(sess.run(seen))))
    worker.start()
    worker.join()
    assert results == [1] and blas_threads() == OWN_COUNT
    sess.close()


def test_restored_when_the_run_fails() -> None:
    def fails(x: Any) -> Any:
        raise ValueError("no")

    out = tf.py_func(fails, [tf.constant(0)], tf.int64)
    with tf.Session(config=configured(1)) as sess, pytest.raises(tf.errors.OpError):
        sess.run(out)
    assert blas_threads() == OWN_COUNT


def test_default_leaves_the_own_count_to_user_code() -> None:
    assert threads_seen_in_run(None) == OWN_COUNT
    assert threads_seen_in_run(tf.ConfigProto()) == OWN_COUNT


def test_the_default_count_is_every_usable_core() -> None:
    """The count decides the values (how OpenBLAS splits a product), so it does not follow the load."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert default_intra_op_threads() == cores
    assert intra_op_threads(tf.ConfigProto()) == intra_op_threads(None) == cores
    assert intra_op_threads(configured(7)) == 7
    with tf.Session(config=configured(4)) as sess:
        assert intra_op_threads(sess) == 4
    with tf.Session() as sess:
        assert intra_op_threads(sess) == cores


def _threads_of_product(config: Any, shape_a: tuple[int, int], monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """BLAS counts a product of ``shape_a`` by its transpose's shape ran under, one per NumPy call."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal(shape_a, dtype=np.float32)
    b = rng.standard_normal(shape_a[::-1], dtype=np.float32)
    out = tf.matmul(tf.placeholder(tf.float32, shape_a), tf.constant(b))
    seen: list[int] = []
    real = np.matmul

    def spy(x: Any, y: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(blas_threads())
        return real(x, y, *args, **kwargs)

    with tf.Session(config=config) as sess:
        feed = {out.op.inputs[0]: a}
        sess.run(out, feed)  # compile first
        monkeypatch.setattr(np, "matmul", spy)
        got = sess.run(out, feed)
        monkeypatch.setattr(np, "matmul", real)
    np.testing.assert_allclose(got, a.astype(np.float64) @ b.astype(np.float64), rtol=1e-4, atol=1e-3)
    return seen


LARGE, SMALL = (256, 784), (64, 1024)  # 51M multiply-adds; 4.2M, under 2^24: one thread


def test_default_runs_large_products_on_the_default_count_and_small_ones_on_one_thread(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(host_blas, "default_threads", lambda: 1)
    assert _threads_of_product(None, LARGE, monkeypatch) == [1]
    monkeypatch.setattr(host_blas, "default_threads", lambda: 3)
    assert _threads_of_product(None, LARGE, monkeypatch) == [min(3, OWN_COUNT)]  # never above the BLAS's own
    assert _threads_of_product(None, SMALL, monkeypatch) == [1]
    assert blas_threads() == OWN_COUNT


def test_a_set_count_holds_for_large_products(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(host_blas, "default_threads", lambda: 1)
    assert _threads_of_product(configured(2), LARGE, monkeypatch) == [2]
    assert _threads_of_product(configured(4), LARGE, monkeypatch) == [4]
    assert _threads_of_product(configured(4), SMALL, monkeypatch) == [1]


@pytest.mark.parametrize("value", [-1, 2**31])
def test_a_bad_count_raises_naming_the_key(value: int) -> None:
    with pytest.raises(ValueError, match="intra_op_parallelism_threads"):
        tf.ConfigProto(intra_op_parallelism_threads=value)
    config = tf.ConfigProto()
    with pytest.raises(ValueError, match="inter_op_parallelism_threads"):
        config.inter_op_parallelism_threads = value
    with pytest.raises(TypeError, match="intra_op_parallelism_threads"):
        tf.ConfigProto(intra_op_parallelism_threads="2")


def test_inter_op_threads_are_accepted() -> None:
    out = tf.constant(2.0) * 3.0
    with tf.Session(config=tf.ConfigProto(inter_op_parallelism_threads=4)) as sess:
        assert sess.run(out) == 6.0
