"""Stream capture and CUDA graph replay in the CuPy stand-in (fake_cupy.py), checked against NumPy.

CUDA's rules: captured work is recorded, not run; a graph replays it on the buffers it used at capture,
reading their contents at launch; host synchronisation during a capture fails and invalidates it.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest
from fake_cupy import CUDARuntimeError, FakeCuda, make_fake_cupy


@pytest.fixture
def gpu() -> tuple[FakeCuda, Any]:
    state = FakeCuda(n_devices=1, total_memory=1 << 24)
    return state, make_fake_cupy(state)


def _device(cupy: Any, values: Any, dtype: Any = np.float32) -> Any:
    return cupy.array(np.asarray(values, dtype=dtype))


def _capture(cupy: Any, stream: Any, body: Callable[[], Any]) -> tuple[Any, Any]:
    with stream:
        stream.begin_capture()
        out = body()
        graph = stream.end_capture()
    return graph, out


def test_replay_reads_the_inputs_as_they_are_at_launch(gpu: Any) -> None:
    state, cupy = gpu
    a_host, b_host = np.arange(6, dtype=np.float32), np.full(6, 3, np.float32)
    a, b = _device(cupy, a_host), _device(cupy, b_host)
    s = cupy.cuda.Stream(non_blocking=True)
    graph, c = _capture(cupy, s, lambda: a * b + 1)
    assert isinstance(graph, cupy.cuda.Graph)
    assert np.isnan(c.get()).all()  # recorded, not run
    for new_a in (a_host * 2 - 5, np.linspace(-1, 1, 6, dtype=np.float32)):
        a[...] = new_a  # an in-place kernel outside the capture
        graph.launch(stream=s)
        np.testing.assert_array_equal(c.get(stream=s), new_a * b_host + 1)


def test_captured_in_place_writes_leave_old_contents_until_each_launch(gpu: Any) -> None:
    _, cupy = gpu
    x = _device(cupy, np.ones(4))
    i = _device(cupy, [3, 1], np.int64)

    def body() -> None:
        x[...] += 2
        x[0] = 7
        cupy.add(x, x, out=x)
        x[i] = -1
    s = cupy.cuda.Stream()
    graph, _ = _capture(cupy, s, body)
    np.testing.assert_array_equal(x.get(), np.ones(4))  # the capture did not run
    want = np.ones(4, np.float32)
    for _ in range(2):  # each launch runs the kernels once more, on the current contents
        want += 2
        want[0] = 7
        want += want
        want[[3, 1]] = -1
        graph.launch(stream=s)
        np.testing.assert_array_equal(x.get(stream=s), want)


def test_host_values_are_baked_at_capture_but_device_indices_are_read_at_launch(gpu: Any) -> None:
    _, cupy = gpu
    host = np.array([1.5, 2.5, 3.5], np.float32)
    scale = 4.0
    a = _device(cupy, [10, 20, 30, 40])
    idx = _device(cupy, [0, 2, 3], np.int64)
    y = cupy.zeros(3, dtype=np.float32)

    def body() -> Any:
        y[...] = host
        return a[idx] * scale + y
    s = cupy.cuda.Stream()
    graph, out = _capture(cupy, s, body)
    host[:] = 100  # a host array given to a kernel was copied into the graph
    scale = -1.0  # noqa: F841 - a later host value does not reach the graph
    idx[...] = _device(cupy, [3, 3, 1], np.int64)
    graph.launch(stream=s)
    want = np.array([40, 40, 20], np.float32) * 4.0 + np.array([1.5, 2.5, 3.5], np.float32)
    np.testing.assert_array_equal(out.get(stream=s), want)


def test_views_read_and_write_through_their_base(gpu: Any) -> None:
    state, cupy = gpu
    a = _device(cupy, np.arange(12).reshape(3, 4))
    z = cupy.zeros((4, 3), dtype=np.float32)

    def body() -> Any:
        z[1:3] = a.T[1:3] * 2  # a transposed view read, a slice of z written
        return a[:, ::2].sum(axis=1)
    s = cupy.cuda.Stream()
    before = state.kernel_launches
    graph, sums = _capture(cupy, s, body)
    assert state.kernel_launches == before  # nothing ran while capturing
    new_a = np.arange(12, dtype=np.float32).reshape(3, 4) ** 2
    a[...] = new_a
    graph.launch(stream=s)
    want_z = np.zeros((4, 3), np.float32)
    want_z[1:3] = new_a.T[1:3] * 2
    np.testing.assert_array_equal(z.get(stream=s), want_z)
    np.testing.assert_array_equal(sums.get(stream=s), new_a[:, ::2].sum(axis=1))


@pytest.mark.parametrize("host_read", [
    lambda cupy, x: x.get(), lambda cupy, x: float(x[0]), lambda cupy, x: int(x[0]), lambda cupy, x: bool(x[0]),
    lambda cupy, x: range(10)[x[1].astype(np.int64)], lambda cupy, x: cupy.asnumpy(x), lambda cupy, x: x.tolist(),
    lambda cupy, x: cupy.cuda.get_current_stream().synchronize(),
], ids=["get", "float", "int", "bool", "index", "asnumpy", "tolist", "synchronize"])
def test_host_synchronisation_during_capture_fails_and_invalidates_it(gpu: Any, host_read: Any) -> None:
    _, cupy = gpu
    x = _device(cupy, [1, 2, 3])
    s = cupy.cuda.Stream(non_blocking=True)
    with s:
        s.begin_capture()
        assert s.is_capturing()
        y = x + 1
        with pytest.raises(CUDARuntimeError) as err:
            host_read(cupy, y)
        assert err.value.status == 900 and str(err.value).startswith("cudaErrorStreamCaptureUnsupported")
        with pytest.raises(RuntimeError, match="invalidated the capture"):
            s.is_capturing()
        with pytest.raises(CUDARuntimeError) as later:
            y * 2
        assert later.value.status == 901
        with pytest.raises(CUDARuntimeError) as end:
            s.end_capture()
        assert end.value.status == 901
        assert not s.is_capturing()  # ending the failed capture left capture mode
    np.testing.assert_array_equal(x.get(), [1, 2, 3])


def test_legacy_stream_work_while_a_blocking_stream_captures_fails(gpu: Any) -> None:
    _, cupy = gpu
    x = _device(cupy, [1, 2])
    blocking, non_blocking = cupy.cuda.Stream(), cupy.cuda.Stream(non_blocking=True)
    non_blocking.begin_capture()
    np.testing.assert_array_equal((x + 1).get(), [2, 3])  # the legacy stream does not wait for non-blocking ones
    assert non_blocking.is_capturing()
    non_blocking.end_capture()

    blocking.begin_capture()
    with pytest.raises(CUDARuntimeError) as err:
        x + 1  # a kernel on the legacy stream
    assert err.value.status == 906
    with pytest.raises(CUDARuntimeError) as end:
        blocking.end_capture()
    assert end.value.status == 901


def test_capture_state_errors_follow_cuda(gpu: Any) -> None:
    _, cupy = gpu
    with pytest.raises(RuntimeError, match=r"cannot capture on the default \(legacy\) stream"):
        cupy.cuda.Stream.null.begin_capture()
    s = cupy.cuda.Stream()
    with pytest.raises(CUDARuntimeError) as not_capturing:
        s.end_capture()
    assert not_capturing.value.status == 401
    with pytest.raises(CUDARuntimeError) as bad_mode:
        s.begin_capture(mode=7)
    assert bad_mode.value.status == 1
    x = _device(cupy, [1, 2])
    s.begin_capture()
    with pytest.raises(CUDARuntimeError) as twice:
        s.begin_capture()
    assert twice.value.status == 401
    with s:
        y = x * 3
    graph = s.end_capture()  # the refused second begin did not invalidate the capture
    graph.launch(stream=s)
    np.testing.assert_array_equal(y.get(stream=s), [3, 6])
    with pytest.raises(NotImplementedError):
        cupy.cuda.Graph()


def test_pool_may_grow_in_relaxed_mode_only(gpu: Any) -> None:
    _, cupy = gpu
    pool = cupy.get_default_memory_pool()
    x = _device(cupy, np.ones(1000))
    s = cupy.cuda.Stream()
    used = pool.used_bytes()
    graph, y = _capture(cupy, s, lambda: x * 2)  # default mode: relaxed
    assert pool.used_bytes() > used
    graph.launch(stream=s)
    np.testing.assert_array_equal(y.get(stream=s), np.full(1000, 2, np.float32))

    runtime = cupy.cuda.runtime
    for mode in (runtime.streamCaptureModeGlobal, runtime.streamCaptureModeThreadLocal):
        with s:
            s.begin_capture(mode=mode)
            with pytest.raises(CUDARuntimeError) as err:
                x.reshape(10, 100) @ x.reshape(100, 10).astype(np.float64)  # needs new pool memory
            assert err.value.status == 900
            with pytest.raises(CUDARuntimeError) as end:
                s.end_capture()
            assert end.value.status == 901


def test_a_replay_is_one_launch_and_runs_on_its_stream(gpu: Any) -> None:
    state, cupy = gpu
    a, b = _device(cupy, [1, 2, 3]), _device(cupy, [4, 5, 6])
    eager_before = state.kernel_launches
    _ = (a * b + 1, a[1:], a.T, a.reshape(3, 1))  # two kernels; views launch none
    assert state.kernel_launches == eager_before + 2
    s, other = cupy.cuda.Stream(), cupy.cuda.Stream()
    graph, c = _capture(cupy, s, lambda: (a * b + 1) * 2)
    kernels, launches = state.kernel_launches, state.graph_launches
    graph.launch(stream=other)
    assert np.isnan(c.get(stream=s)).all()  # queued on `other`, which nobody waited for
    np.testing.assert_array_equal(c.get(stream=other), [10, 22, 38])
    a[...] = np.array([0, 0, 1], np.float32)
    with other:
        graph.launch()  # the current stream
        np.testing.assert_array_equal(c.get(), [2, 2, 14])
    assert state.graph_launches == launches + 2
    assert state.kernel_launches == kernels + 1  # only the in-place update of a


def test_uploads_in_a_graph_read_the_host_buffer_at_launch(gpu: Any) -> None:
    _, cupy = gpu
    held = [np.array([1, 2, 3], np.float32)]  # the pinned staging buffer the graph copies from
    staging = held[0]
    dst = cupy.empty(3, dtype=np.float32)
    dst[...] = 0
    s = cupy.cuda.Stream()

    def body() -> Any:
        dst.set(held[0], stream=s)
        return dst * 10
    graph, out = _capture(cupy, s, body)
    np.testing.assert_array_equal(dst.get(), [0, 0, 0])  # the copy was recorded, not done
    staging[:] = [7, 8, 9]
    graph.launch(stream=s)
    np.testing.assert_array_equal(out.get(stream=s), [70, 80, 90])
    del staging
    held.clear()
    graph.launch(stream=s)
    with pytest.raises(AssertionError, match="host buffer freed"):
        s.synchronize()


def test_memory_the_graph_uses_must_outlive_it(gpu: Any) -> None:
    _, cupy = gpu
    a = _device(cupy, np.arange(4))
    s = cupy.cuda.Stream()

    def body() -> Any:
        t = a * 2  # freed during the capture; its block is taken again by d
        c = t + 1
        del t
        d = c * 3
        return c, d
    graph, (c, d) = _capture(cupy, s, body)
    graph.launch(stream=s)  # reuse within the capture is safe
    np.testing.assert_array_equal(d.get(stream=s), (np.arange(4) * 2 + 1) * 3)
    del c  # the graph still writes c's memory, which the pool now gives to z
    z = cupy.zeros(4, dtype=np.float32)
    graph.launch(stream=s)
    with pytest.raises(AssertionError, match="freed device memory"):
        s.synchronize()
    np.testing.assert_array_equal(z.get(), np.zeros(4))
