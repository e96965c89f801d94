"""Compiled loops on the pool's threads: every element once, the same bits as on one thread, a caller never
held by a pool another caller uses, and a forked child that still runs its loops."""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import threading

import numpy as np
import pytest

import gpugraph as tf
from gpugraph.fusion import compiled, parallel
from gpugraph.kernels.host_multi import HostMultiUpdate
from gpugraph.kernels.twins import TWINS
from gpugraph.ops import host_blas
from test_fusion_in_place import bias_relu_region, want

pytestmark = pytest.mark.skipif(not compiled.available(), reason="no host C++ compiler")

RANGE = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_longlong, ctypes.c_longlong)


def _pool() -> ctypes._CFuncPtr:
    entry = parallel.pool_entry()
    assert entry is not None
    run = ctypes.CFUNCTYPE(None, RANGE, ctypes.c_void_p, ctypes.c_longlong, ctypes.c_longlong, ctypes.c_int)(entry)
    return run


class _Recorder:
    """A range function that notes which thread ran which chunk. With ``wait_for_another``, the first chunk
    each thread runs waits (up to 10 s) until a thread of the other side (the caller, a worker) has run
    one: a callback takes the GIL, and a thread that keeps taking it back could run every chunk while the
    other waits for it, whatever the pool does; so the test sees both take part, whatever the load."""

    def __init__(self, wait_for_another: bool):
        self.chunks: list[tuple[int, int, int]] = []
        self.lock = threading.Lock()
        self.ran = {True: threading.Event(), False: threading.Event()}  # by side: the caller's, a worker's
        self.wait_for_another = wait_for_another
        self.caller = threading.get_ident()
        self.function = RANGE(self.run)

    def run(self, _ctx: int, begin: int, end: int) -> None:
        me = threading.get_ident()
        side = me == self.caller
        with self.lock:
            first = all(t != me for _, _, t in self.chunks)
            self.chunks.append((begin, end, me))
        self.ran[side].set()
        if self.wait_for_another and first:
            self.ran[not side].wait(10)

    def covered(self, n: int) -> bool:
        spans = sorted((b, e) for b, e, _ in self.chunks)
        return spans[0][0] == 0 and spans[-1][1] == n and all(a[1] == b[0] for a, b in zip(spans, spans[1:]))


def test_chunks_tile_the_range_and_workers_take_some() -> None:
    recorder = _Recorder(wait_for_another=True)
    _pool()(recorder.function, None, 1000, 7, 2)
    assert recorder.covered(1000) and len(recorder.chunks) == 143
    assert len({t for _, _, t in recorder.chunks}) == 2, "no worker ran a chunk"


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2 if hasattr(os, "sched_getaffinity") else True,
                    reason="needs two CPUs this process may run on (Linux)")
def test_workers_run_on_the_cpus_the_process_may_use_but_the_callers() -> None:
    """A worker woken on its caller's CPU would take that CPU from the caller, which then waits for one."""
    libc = ctypes.CDLL(None)
    libc.sched_getcpu.restype = ctypes.c_int
    seen: list[tuple[bool, int, frozenset[int]]] = []  # (on the caller, its CPU, the CPUs it may use)
    caller = threading.get_ident()

    class Noting(_Recorder):
        def run(self, ctx: int, begin: int, end: int) -> None:
            seen.append((threading.get_ident() == caller, libc.sched_getcpu(), frozenset(os.sched_getaffinity(0))))
            super().run(ctx, begin, end)

    recorder = Noting(wait_for_another=True)
    _pool()(recorder.function, None, 1000, 100, 2)
    allowed = frozenset(os.sched_getaffinity(0))
    caller_cpus = {cpu for on_caller, cpu, _ in seen if on_caller}
    workers = [(cpu, cpus) for on_caller, cpu, cpus in seen if not on_caller]
    assert workers, "no worker ran a chunk"
    for cpu, cpus in workers:
        (kept_off,) = allowed - cpus
        assert kept_off in caller_cpus and cpu != kept_off


@pytest.mark.parametrize("threads, chunk", [(1, 7), (2, 1000), (2, 5000)])
def test_one_thread_or_one_chunk_runs_on_the_caller_whole(threads: int, chunk: int) -> None:
    recorder = _Recorder(wait_for_another=False)
    _pool()(recorder.function, None, 1000, chunk, threads)
    assert recorder.chunks == [(0, 1000, recorder.caller)]


def test_a_second_caller_runs_its_loop_alone_while_the_pool_is_busy() -> None:
    inside, second_done = threading.Event(), threading.Event()
    held: list[tuple[int, int]] = []

    def holding(_ctx: int, begin: int, end: int) -> None:  # every chunk waits for the second call to end
        inside.set()
        second_done.wait(10)
        held.append((begin, end))

    holding_function = RANGE(holding)
    holder = threading.Thread(target=lambda: _pool()(holding_function, None, 200, 10, 2))
    holder.start()
    assert inside.wait(10)
    second = _Recorder(wait_for_another=False)
    _pool()(second.function, None, 300, 10, 2)
    second_done.set()
    holder.join(20)
    assert second.chunks == [(0, 300, second.caller)]
    assert sorted(held) == [(b, b + 10) for b in range(0, 200, 10)]


def _large_region_case(rows: int) -> tuple[compiled.CompiledRegion, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(rows)
    xs = rng.standard_normal((rows, 8)).astype(np.float32)
    bs = rng.standard_normal(8).astype(np.float32)
    return compiled.CompiledRegion(bias_relu_region()), xs, bs, np.asarray(2, np.float32)


@pytest.fixture
def small_threshold(monkeypatch: pytest.MonkeyPatch) -> None:
    """Loops of a few thousand elements go to the pool, in chunks of a few hundred, on two threads."""
    monkeypatch.setattr(parallel, "PARALLEL_ELEMENTS", 1024)
    monkeypatch.setattr(parallel, "MIN_CHUNK", 64)
    monkeypatch.setattr(parallel, "MAX_CHUNK", 200)
    monkeypatch.setattr(host_blas, "fixed_threads", lambda: 2)


@pytest.mark.parametrize("rows", [1000, 1001, 4099])
def test_a_region_split_across_threads_equals_numpy_bit_for_bit(rows: int, small_threshold: None) -> None:
    loop, xs, bs, two = _large_region_case(rows)
    assert parallel.loop_threads(xs.size) == 2 and parallel.chunk_elements(xs.size, 2, 8) % 8 == 0
    y, z = loop(xs, bs, two)
    want_y, want_z = want(xs, bs)
    assert y.tobytes() == want_y.tobytes() and z.tobytes() == want_z.tobytes()
    buffer = xs.copy()
    y, z = loop.into((buffer, None), buffer, bs, two)  # in place, chunk by chunk
    assert y is buffer and y.tobytes() == want_y.tobytes() and z.tobytes() == want_z.tobytes()


def test_a_session_with_one_intra_op_thread_keeps_loops_on_its_thread() -> None:
    seen: list[int] = []
    x = tf.placeholder(tf.float32, [None])
    y = tf.py_func(lambda v: (seen.append(parallel.loop_threads(1 << 30)), v)[1], [x], tf.float32)
    with tf.Session(config=tf.ConfigProto(intra_op_parallelism_threads=1)) as sess:
        sess.run(y, {x: np.ones(3, np.float32)})
    with tf.Session(config=tf.ConfigProto(intra_op_parallelism_threads=3)) as sess:
        sess.run(y, {x: np.ones(3, np.float32)})
    assert seen == [1, 3]
    assert parallel.loop_threads(parallel.PARALLEL_ELEMENTS - 1) == 1


def test_grouped_adam_split_across_threads_equals_the_twins(small_threshold: None) -> None:
    rng = np.random.default_rng(3)
    shapes = [(37, 11), (5,), (300,), (64, 13)]  # chunks straddle the variables' ends
    refs = [[rng.standard_normal(s).astype(np.float32), rng.standard_normal(s).astype(np.float32),
             rng.uniform(0.1, 1, s).astype(np.float32)] for s in shapes]
    grads = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    shared = [np.float32(v) for v in (0.9 ** 3, 0.999 ** 3, 1e-3, 0.9, 0.999, 1e-7)]
    expected = [[r.copy() for r in rs] for rs in refs]
    for rs, g in zip(expected, grads):
        TWINS["apply_adam"](np, *rs, *shared, g)
    update = HostMultiUpdate("apply_adam", 7, 6, "float32")
    while not update(shared, grads, refs, ()):  # compiled after a few calls; nothing written before
        pass
    for got, want_ in zip(refs, expected):
        for a, b in zip(got, want_):
            assert a.tobytes() == b.tobytes()


def _child_runs_a_loop(queue: multiprocessing.Queue) -> None:
    parallel.PARALLEL_ELEMENTS, parallel.MIN_CHUNK, parallel.MAX_CHUNK = 1024, 64, 200
    host_blas.fixed_threads = lambda: 2
    with tf.Graph().as_default():
        loop, xs, bs, two = _large_region_case(2000)
    y, _ = loop(xs, bs, two)
    queue.put(y.tobytes() == want(xs, bs)[0].tobytes())


def test_a_forked_child_runs_its_loops_on_a_pool_of_its_own(small_threshold: None) -> None:
    loop, xs, bs, two = _large_region_case(2000)
    loop(xs, bs, two)  # the parent's pool has a worker now
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_child_runs_a_loop, args=(queue,))
    child.start()
    child.join(60)
    assert child.exitcode == 0 and queue.get(timeout=5) is True
