"""The simulated GPU: distinct device, copies counted, memory budget enforced with its own OOM error."""

from __future__ import annotations

import gc
import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gpugraph.runtime.backend import NUMPY, Backend
from gpugraph.runtime.simulated import SimulatedGpuBackend, SimulatedOutOfMemory, working_set_bytes


def test_is_a_backend_on_a_gpu_device_with_numpy_arrays():
    b = SimulatedGpuBackend(1, 1000)
    assert isinstance(b, Backend)
    assert b.device == "/device:GPU:1" and b.name == "simulated" and b.xp is np
    assert not b.is_host and NUMPY.is_host


def test_to_device_copies_and_counts():
    b = SimulatedGpuBackend(0, 10_000)
    host = np.arange(6, dtype=np.float32).reshape(2, 3)
    dev = b.to_device(host)
    np.testing.assert_array_equal(dev, host)
    assert dev.dtype == host.dtype and not np.shares_memory(dev, host)
    host[0, 0] = 99.0
    assert dev[0, 0] == 0.0
    assert (b.transfers_to_device, b.bytes_to_device) == (1, 24)
    b.to_device(np.zeros(3, np.int64))
    assert (b.transfers_to_device, b.bytes_to_device) == (2, 48)
    assert (b.transfers_to_host, b.bytes_to_host) == (0, 0)


def test_to_host_copies_and_counts():
    b = SimulatedGpuBackend(0, 10_000)
    dev = b.to_device(np.ones((4,), np.float64))
    out = b.to_host(dev)
    assert isinstance(out, np.ndarray) and not np.shares_memory(out, dev)
    np.testing.assert_array_equal(out, np.ones(4))
    assert (b.transfers_to_host, b.bytes_to_host) == (1, 32)


def test_scalars_and_zero_size_arrays_transfer():
    b = SimulatedGpuBackend(0, 100)
    assert b.to_device(np.float32(2.5)).shape == ()
    assert b.to_device(np.zeros((0, 3))).shape == (0, 3)
    assert b.to_host(b.to_device(3.0))[()] == 3.0
    assert b.bytes_to_device == 4 + 0 + 8


def test_strings_and_objects_cannot_go_to_the_device():
    b = SimulatedGpuBackend(0, 100)
    for bad in (np.array(["a"]), np.array([object()], dtype=object)):
        with pytest.raises(TypeError, match="cannot be placed on /device:GPU:0"):
            b.to_device(bad)
    assert b.transfers_to_device == 0


def test_transferred_arrays_count_while_alive():
    b = SimulatedGpuBackend(0, 100)
    a = b.to_device(np.zeros(10, np.float32))
    c = b.to_device(np.zeros(5, np.float64))
    assert b.memory_stats() == {"used": 80, "limit": 100, "total": 100, "peak": 80}
    del a
    gc.collect()
    assert b.used_bytes == 40
    with pytest.raises(SimulatedOutOfMemory) as info:
        b.to_device(np.zeros(61, np.uint8))
    assert (info.value.requested, info.value.used, info.value.limit) == (61, 40, 100)
    assert b.transfers_to_device == 2  # a failed copy is not counted
    del c
    gc.collect()
    assert b.used_bytes == 0 and b.peak_bytes == 80


def test_allocate_and_release():
    b = SimulatedGpuBackend(0, 1000)
    b.allocate(600, "weights")
    with pytest.raises(SimulatedOutOfMemory, match="for dense/kernel"):
        b.allocate(401, "dense/kernel")
    b.allocate(400, "bias")
    assert b.used_bytes == 1000
    b.release(1000)
    assert b.used_bytes == 0
    with pytest.raises(ValueError):
        b.release(1)
    with pytest.raises(ValueError):
        b.allocate(-1)


def test_account_tracks_the_working_set_without_double_counting():
    b = SimulatedGpuBackend(0, 1000)
    x = b.to_device(np.zeros(25, np.float32))  # 100 bytes, already counted
    y = np.ones(50, np.float32)  # a kernel result: 200 bytes
    counted = b.account([x, y, y[:10], x.reshape(5, 5), 3.0, None], what="step")
    assert counted == 200
    assert b.used_bytes == 300
    b.account([x])  # y died
    assert b.used_bytes == 100


def test_account_raises_when_the_working_set_outgrows_the_budget():
    b = SimulatedGpuBackend(0, 1000)
    b.allocate(800)
    with pytest.raises(SimulatedOutOfMemory, match="for dense/MatMul") as info:
        b.account([np.zeros(300, np.uint8)], what="dense/MatMul")
    assert info.value.what == "dense/MatMul" and info.value.requested == 300
    assert b.used_bytes == 800  # the failed step left nothing counted
    b.account([np.zeros(200, np.uint8)])
    assert b.used_bytes == 1000


def test_out_of_memory_recognition():
    b = SimulatedGpuBackend(0, 10)
    with pytest.raises(SimulatedOutOfMemory) as info:
        b.to_device(np.zeros(11, np.uint8))
    assert b.is_out_of_memory(info.value)
    assert isinstance(info.value, MemoryError)
    assert not b.is_out_of_memory(ValueError("x"))
    assert not NUMPY.is_out_of_memory(ValueError("x"))
    assert NUMPY.is_out_of_memory(MemoryError())
    err = pickle.loads(pickle.dumps(info.value))
    assert (err.requested, err.used, err.limit) == (11, 0, 10) and str(err) == str(info.value)


def test_release_memory_and_synchronize():
    b = SimulatedGpuBackend(0, 1000)
    b.allocate(100)
    b.account([np.zeros(100, np.uint8)])
    b.release_memory()
    assert b.used_bytes == 0
    b.synchronize()
    assert b.synchronizations == 1
    with b.activate():
        pass


def test_budget_must_be_positive():
    with pytest.raises(ValueError):
        SimulatedGpuBackend(0, 0)


def test_working_set_bytes_counts_each_buffer_once():
    a = np.zeros(10, np.float64)
    assert working_set_bytes([a, a[2:], a.reshape(2, 5), np.zeros(3, np.int8), 1.0]) == 83


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["alloc", "release", "account"]), st.integers(0, 400)), max_size=30))
def test_accounting_matches_a_simple_model(ops):
    budget = 1000
    b = SimulatedGpuBackend(0, budget)
    reserved = working = 0
    for kind, n in ops:
        if kind == "alloc":
            if reserved + working + n > budget:
                with pytest.raises(SimulatedOutOfMemory):
                    b.allocate(n)
            else:
                b.allocate(n)
                reserved += n
        elif kind == "release":
            n = min(n, reserved)
            b.release(n)
            reserved -= n
        else:
            if reserved + n > budget and n > working:
                with pytest.raises(SimulatedOutOfMemory):
                    b.account([np.zeros(n, np.uint8)])
            else:
                b.account([np.zeros(n, np.uint8)])
                working = n
        assert b.used_bytes == reserved + working <= budget
