"""Backends: NumPy, cupy_available, the one-line fallback log, and CupyBackend against a fake cupy.

The fake cupy (fake_cupy.py) keeps CuPy 14's contracts: asynchronous uploads on a stream, a memory pool
per device with used versus cached bytes, and CuPy's error types.
"""

from __future__ import annotations

import gc
import logging
import sys

import numpy as np
import pytest

from gpugraph.runtime import backend as backend_mod
from gpugraph.runtime.backend import NUMPY, cupy_available, default_backend, note_numpy_fallback
from gpugraph.runtime.gpu_manager import GpuManager
from gpugraph.runtime.memory import MemoryConfig

from fake_cupy import CUDARuntimeError, FakeCuda, make_fake_cupy


@pytest.fixture
def fake():
    state = FakeCuda()
    return state, make_fake_cupy(state)


@pytest.fixture
def cupy_backend(fake, monkeypatch):
    from gpugraph.runtime.cupy_backend import CupyBackend

    state, cupy = fake
    monkeypatch.setitem(sys.modules, "cupy", cupy)
    return state, cupy, CupyBackend(1)


# --- NumPy backend ---

def test_numpy_backend_is_the_default_and_host():
    assert default_backend() is NUMPY
    assert (NUMPY.name, NUMPY.xp, NUMPY.device, NUMPY.is_host) == ("numpy", np, "/device:CPU:0", True)
    a = np.arange(3)
    assert NUMPY.to_device(a) is a and NUMPY.to_host(a) is a
    NUMPY.synchronize()
    NUMPY.release_memory()
    with NUMPY.activate():
        pass
    assert NUMPY.memory_stats() == {"used": 0, "limit": None, "total": None}
    assert "numpy" in repr(NUMPY)


# --- cupy_available / preferred_backend ---

def test_cupy_missing(monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", None)  # makes `import cupy` fail as if not installed
    assert cupy_available() == (False, "cupy is not installed")


def test_cupy_without_device(fake, monkeypatch):
    state, cupy = fake

    def no_driver():
        raise CUDARuntimeError(35)
    cupy.cuda.runtime.getDeviceCount = no_driver
    monkeypatch.setitem(sys.modules, "cupy", cupy)
    monkeypatch.setattr(backend_mod, "nvidia_driver_present", lambda: True)  # a driver too old for the runtime
    ok, why = cupy_available()
    assert not ok and why == ("no CUDA device: cudaErrorInsufficientDriver: CUDA driver version is insufficient for "
                                 "CUDA runtime version")
    monkeypatch.setattr(backend_mod, "nvidia_driver_present", lambda: False)  # no driver at all
    ok, why = cupy_available()
    assert not ok and why.startswith("no CUDA device: no NVIDIA driver found")


def test_cupy_with_zero_devices(fake, monkeypatch):
    state, cupy = fake
    state.n_devices = 0
    monkeypatch.setitem(sys.modules, "cupy", cupy)
    assert cupy_available() == (False, "no CUDA device: cudaErrorNoDevice: no CUDA-capable device is detected")


def test_cupy_broken_import_never_raises(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def broken(name, *args, **kwargs):
        if name == "cupy":
            raise ImportError("libcudart.so.12: cannot open shared object file")
        return real_import(name, *args, **kwargs)
    monkeypatch.delitem(sys.modules, "cupy", raising=False)
    monkeypatch.setattr(builtins, "__import__", broken)
    ok, why = cupy_available()
    assert not ok and why.startswith("cupy failed to import") and "libcudart" in why


def test_cupy_with_device(fake, monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", fake[1])
    assert cupy_available() == (True, "")


def test_fallback_logs_one_line_once(monkeypatch, caplog):
    monkeypatch.setitem(sys.modules, "cupy", None)
    monkeypatch.setattr(backend_mod, "_fallback_logged", False)
    ok, why = cupy_available()
    with caplog.at_level(logging.INFO, logger="gpugraph"):
        assert note_numpy_fallback(why) is True
        assert note_numpy_fallback(why) is False
    records = [r for r in caplog.records if r.name == "gpugraph"]
    assert len(records) == 1 and records[0].levelno == logging.WARNING
    assert "cupy is not installed" in records[0].getMessage() and "NumPy" in records[0].getMessage()


# --- CupyBackend against the fake ---

def test_cupy_backend_identity(cupy_backend):
    state, cupy, b = cupy_backend
    assert (b.name, b.xp, b.device, b.index, b.is_host) == ("cupy", cupy, "/device:GPU:1", 1, False)
    assert b.stream.device_id == 1  # the stream belongs to the backend's device


def test_cupy_backend_rejects_missing_device(fake, monkeypatch):
    from gpugraph.runtime.cupy_backend import CupyBackend

    monkeypatch.setitem(sys.modules, "cupy", fake[1])
    with pytest.raises(ValueError, match="no GPU 5"):
        CupyBackend(5)


def test_to_device_stages_through_pinned_memory_asynchronously(cupy_backend):
    state, cupy, b = cupy_backend
    host = np.arange(12, dtype=np.float32).reshape(3, 4)
    dev = b.to_device(host)
    assert isinstance(dev, cupy.ndarray) and dev.shape == (3, 4) and dev.dtype == np.float32
    assert len(state.pinned) == 1 and len(b.stream.queue) == 1  # queued on the backend's own stream
    host[:] = -1  # the caller may reuse its buffer at once: the copy reads the pinned staging buffer
    gc.collect()
    b.synchronize()  # fails inside the fake if the staging buffer was dropped before the copy ran
    np.testing.assert_array_equal(dev._data, np.arange(12, dtype=np.float32).reshape(3, 4))
    gc.collect()
    assert state.pinned[0]() is None  # released once the stream is done


def test_to_host_copies_once_and_waits(cupy_backend):
    state, cupy, b = cupy_backend
    host = np.linspace(0, 1, 7)
    dev = b.to_device(host)
    out = b.to_host(dev)  # get() on the backend's stream runs the queued upload first
    assert type(out) is np.ndarray
    np.testing.assert_array_equal(out, host)
    assert b.stream.queue == [] and b._pending == []
    assert b.to_host(host) is host  # already on the host


def test_transfers_of_scalars_empty_bool_and_non_contiguous(cupy_backend):
    state, cupy, b = cupy_backend
    cases = [np.float64(3.5), np.zeros((0, 4), np.float32), np.array([True, False]),
             np.arange(20, dtype=np.int64).reshape(4, 5)[:, ::2], np.arange(4, dtype=">i4")]
    for host in cases:
        out = b.to_host(b.to_device(host))
        np.testing.assert_array_equal(out, host)
        assert out.shape == np.shape(host) and out.dtype.kind == np.asarray(host).dtype.kind
        assert out.dtype.isnative


def test_to_device_keeps_device_arrays_and_copies_from_other_gpus(cupy_backend):
    state, cupy, b = cupy_backend
    with cupy.cuda.Device(1):
        same = cupy.array(np.ones(3))
    with cupy.cuda.Device(0):
        other = cupy.array(np.ones(3))
    assert b.to_device(same) is same
    moved = b.to_device(other)
    assert moved is not other and moved.device.id == 1
    np.testing.assert_array_equal(b.to_host(other), np.ones(3))


def test_to_device_rejects_strings(cupy_backend):
    with pytest.raises(TypeError, match="/device:GPU:1"):
        cupy_backend[2].to_device(np.array(["text"]))


def test_pending_pinned_buffers_are_bounded(cupy_backend, monkeypatch):
    from gpugraph.runtime import cupy_backend as module

    state, cupy, b = cupy_backend
    monkeypatch.setattr(module, "MAX_PENDING_BYTES", 100)
    for _ in range(5):
        b.to_device(np.zeros(10, np.float64))  # 80 bytes each: every new one waits for the last
        assert len(b._pending) == 1
    assert b.stream.syncs == 4


def test_an_upload_queued_while_another_thread_synchronizes_keeps_its_buffer(cupy_backend, monkeypatch):
    """Thread A waits for the stream while thread B queues an upload: B's pinned buffer must stay
    held until a later synchronize, since its copy may not have run."""
    state, cupy, b = cupy_backend
    b.to_device(np.ones(8, np.float32))
    real = b.stream.synchronize
    late = []

    def synchronize_while_another_thread_uploads() -> None:
        real()
        if not late:
            late.append(b.to_device(np.full(16, 2.0, np.float32)))
    monkeypatch.setattr(b.stream, "synchronize", synchronize_while_another_thread_uploads)
    b.synchronize()
    assert len(b.stream.queue) == 1  # the late copy has not run
    assert [p.nbytes for p in b._pending] == [64] and b._pending_bytes == 64
    b.synchronize()
    assert b._pending == [] and np.array_equal(b.to_host(late[0]), np.full(16, 2.0, np.float32))


def test_memory_stats_and_out_of_memory(fake, monkeypatch):
    from gpugraph.runtime.cupy_backend import CupyBackend

    state, cupy = fake
    monkeypatch.setitem(sys.modules, "cupy", cupy)
    b = CupyBackend(0)
    with b.activate():
        b.pool.set_limit(fraction=0.5)
    assert b.memory_stats() == {"used": 0, "limit": state.total_memory // 2, "total": state.total_memory,
                                "reserved": 0}
    kept = b.to_device(np.zeros(1000, np.float32))
    assert b.memory_stats()["used"] == 4096  # the pool rounds blocks up to 512 bytes
    b.to_device(np.zeros(100, np.float32))  # dropped: once its upload is done, its block stays cached
    b.synchronize()
    assert b.memory_stats()["used"] == 4096 and b.memory_stats()["reserved"] == 4608
    with pytest.raises(MemoryError) as info:
        b.to_device(np.zeros(state.total_memory, np.uint8))
    assert b.is_out_of_memory(info.value)
    assert str(info.value) == (f"Out of memory allocating {state.total_memory:,} bytes (allocated so far: 4,096 "
                               f"bytes, limit set to: {state.total_memory // 2:,} bytes).")
    assert b.memory_stats()["reserved"] == 4096  # the cached block was freed before giving up
    del kept
    assert b.is_out_of_memory(CUDARuntimeError(2))
    assert not b.is_out_of_memory(CUDARuntimeError(700))
    assert not b.is_out_of_memory(ValueError("shape"))


def test_release_memory_waits_then_frees_the_pool_on_its_device(cupy_backend):
    state, cupy, b = cupy_backend
    b.to_device(np.ones(3))
    b.release_memory()
    assert b.stream.queue == [] and b._pending == []
    assert state.pool_calls[-1] == ("free_all_blocks", 1, None)


def test_activate_makes_device_and_stream_current(cupy_backend):
    state, cupy, b = cupy_backend
    with b.activate():
        assert state.device_stack[-1] == 1 and state.stream_stack[-1] is b.stream
    assert state.device_stack == [0] and state.stream_stack == [None]


def test_cupy_backend_module_imports_without_cupy(monkeypatch):
    import importlib

    monkeypatch.setitem(sys.modules, "cupy", None)
    module = importlib.reload(importlib.import_module("gpugraph.runtime.cupy_backend"))
    assert module.CupyBackend.__name__ == "CupyBackend"


# --- the real thing (skipped without a CUDA device) ---

@pytest.mark.gpu
def test_real_cupy_backend_round_trip_stats_and_oom():
    import cupy

    manager = GpuManager()
    lease = manager.lease(0, "/device:GPU:0", MemoryConfig())
    b = lease.backend
    host = np.random.default_rng(0).standard_normal((256, 128)).astype(np.float32)
    dev = b.to_device(host)
    assert isinstance(dev, cupy.ndarray) and dev.device.id == 0
    with b.activate():
        doubled = dev * 2
    np.testing.assert_array_equal(b.to_host(doubled), host * 2)
    stats = b.memory_stats()
    assert stats["used"] >= host.nbytes and stats["total"] > 0
    with pytest.raises(Exception) as info:
        with b.activate():
            cupy.empty(1 << 50, dtype=np.uint8)  # a petabyte
    assert b.is_out_of_memory(info.value)
    manager.give_back(lease)


@pytest.mark.gpu
def test_real_cupy_memory_fraction_caps_the_pool():
    import cupy

    pool = cupy.get_default_memory_pool()
    manager = GpuManager()
    try:
        lease = manager.lease(0, "/device:GPU:0", MemoryConfig(allow_growth=False, fraction=0.05))
        b = lease.backend
        stats = b.memory_stats()
        assert stats["limit"] == pytest.approx(0.05 * stats["total"], rel=0.01)
        assert stats["reserved"] >= 0.9 * stats["limit"]  # reserved up front
        with pytest.raises(Exception) as info:
            with b.activate():
                cupy.empty(int(0.06 * stats["total"]), dtype=np.uint8)
        assert b.is_out_of_memory(info.value)
        manager.give_back(lease)
        assert b.memory_stats()["limit"] is None and b.memory_stats()["reserved"] == 0
    finally:
        with cupy.cuda.Device(0):
            pool.set_limit(size=0)
