"""The process-wide GPU manager: one backend per GPU shared by sessions, memory shares and limits.

Runs over the CuPy and NVML stand-ins (fake_cupy.py, fake_nvml.py), whose pool keeps used versus cached
bytes and whose ``memGetInfo`` reports what the pool and other processes leave free.
"""

from __future__ import annotations

import gc
import sys

import numpy as np
import pytest

import gpugraph as tf
from gpugraph.runtime import device_setup
from gpugraph.runtime.gpu_manager import GpuManager, set_gpu_manager
from gpugraph.runtime.memory import POOL_ALIGNMENT, MemoryConfig

from fake_cupy import FakeCuda, make_fake_cupy
from fake_nvml import NvmlGpu, make_pynvml

MiB = 1 << 20
DEVICE_MEMORY = 64 * MiB


@pytest.fixture
def gpus(monkeypatch):
    state = FakeCuda(n_devices=2, total_memory=DEVICE_MEMORY)
    cupy = make_fake_cupy(state)
    nvml = make_pynvml([NvmlGpu("NVIDIA H100 80GB HBM3", "GPU-0a1b2c3d-0000", DEVICE_MEMORY, used=4 * MiB),
                        NvmlGpu("NVIDIA H100 80GB HBM3", "GPU-9f8e7d6c-0001", DEVICE_MEMORY)])
    monkeypatch.setitem(sys.modules, "cupy", cupy)
    monkeypatch.setitem(sys.modules, "pynvml", nvml)
    monkeypatch.setenv("GPUGRAPH_DEVICE", "gpu")
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    monkeypatch.delenv("GPUGRAPH_MEMORY_FRACTION", raising=False)
    monkeypatch.delenv("GPUGRAPH_ALLOW_GROWTH", raising=False)
    previous = device_setup.set_device_provider(None)
    manager = GpuManager()
    previous_manager = set_gpu_manager(manager)
    yield state, cupy, manager
    set_gpu_manager(previous_manager)
    device_setup.set_device_provider(previous)


def config(fraction: float = 0.0, allow_growth: bool = True, visible: str = "0") -> tf.ConfigProto:
    return tf.ConfigProto(gpu_options=tf.GPUOptions(per_process_gpu_memory_fraction=fraction,
                                                    allow_growth=allow_growth, visible_device_list=visible))


def pool_on(cupy, device: int) -> tuple[int, int, int]:
    """(used, total held, limit) of the pool on ``device``."""
    pool = cupy.get_default_memory_pool()
    with cupy.cuda.Device(device):
        return pool.used_bytes(), pool.total_bytes(), pool.get_limit()


def share(fraction: float) -> int:
    return int(fraction * DEVICE_MEMORY) // POOL_ALIGNMENT * POOL_ALIGNMENT


def test_sessions_share_one_backend_per_gpu(gpus):
    state, cupy, manager = gpus
    a = tf.Session(config=config(visible="0,1"))
    b = tf.Session(config=config(visible="1"))
    backend_a1 = a._devices.backend_of("/device:GPU:1")
    assert b._devices.backend_of("/device:GPU:0") is backend_a1  # physical GPU 1 in both
    assert backend_a1.stream is b._devices.backend_of("/device:GPU:0").stream
    assert (manager.sessions_on(0), manager.sessions_on(1)) == (1, 2)
    a.close()
    assert (manager.sessions_on(0), manager.sessions_on(1)) == (0, 1)
    assert manager.backend(1) is backend_a1
    b.close()
    assert manager.backend(1) is None


def test_fraction_without_growth_reserves_its_share_up_front(gpus):
    state, cupy, manager = gpus
    with tf.Session(config=config(0.25, allow_growth=False)):
        used, held, limit = pool_on(cupy, 0)
        assert (used, held, limit) == (0, share(0.25), int(0.25 * DEVICE_MEMORY))
        assert pool_on(cupy, 1) == (0, 0, 0)  # the session does not see GPU 1
    assert pool_on(cupy, 0) == (0, 0, 0)  # cached blocks freed and the limit lifted after the last session


def test_the_pools_limit_is_the_sum_of_the_open_sessions_shares(gpus):
    state, cupy, manager = gpus
    a = tf.Session(config=config(0.25, allow_growth=False))
    b = tf.Session(config=config(0.125, allow_growth=True))
    assert pool_on(cupy, 0)[2] == int(0.25 * DEVICE_MEMORY) + int(0.125 * DEVICE_MEMORY)
    c = tf.Session(config=config())  # no fraction: no cap while it is open
    assert pool_on(cupy, 0)[2] == 0
    c.close()
    a.close()
    assert pool_on(cupy, 0)[2] == int(0.125 * DEVICE_MEMORY)
    b.close()
    assert pool_on(cupy, 0)[2] == 0


def test_closing_one_session_keeps_what_another_holds(gpus):
    state, cupy, manager = gpus
    g = tf.Graph()
    with g.as_default():
        v = tf.Variable(np.arange(4096, dtype=np.float32), name="v")  # 16 KiB on GPU:0
        doubled = v * 2.0
    keeper = tf.Session(graph=g, config=config(0.25, allow_growth=False))
    keeper.run(v.initializer)
    other = tf.Session(graph=g, config=config(0.25, allow_growth=False))
    assert pool_on(cupy, 0)[1] >= 2 * share(0.25)
    other.close()
    used, held, limit = pool_on(cupy, 0)
    assert used >= 4096 * 4 and limit == int(0.25 * DEVICE_MEMORY)
    np.testing.assert_array_equal(keeper.run(doubled), np.arange(4096, dtype=np.float32) * 2)
    keeper.close()
    gc.collect()
    assert pool_on(cupy, 0) == (0, 0, 0)


def test_a_limit_set_before_the_first_session_comes_back_after_the_last(gpus):
    state, cupy, manager = gpus
    with cupy.cuda.Device(0):  # as CUPY_GPU_MEMORY_LIMIT does
        cupy.get_default_memory_pool().set_limit(size=48 * MiB)
    with tf.Session(config=config(0.25)):
        assert pool_on(cupy, 0)[2] == int(0.25 * DEVICE_MEMORY)
    with tf.Session(config=config()):
        assert pool_on(cupy, 0)[2] == 48 * MiB  # no fraction: the limit that was there
    assert pool_on(cupy, 0)[2] == 48 * MiB


def test_one_sessions_limit_does_not_leak_into_a_later_one(gpus):
    state, cupy, manager = gpus
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [None], name="x")
        y = x * 2.0
    big = np.ones(6 * MiB, np.float32)  # 24 MiB: over a quarter of the device
    with tf.Session(graph=g, config=config(0.25)) as sess, pytest.raises(tf.errors.ResourceExhaustedError):
        sess.run(y, {x: big})
    with tf.Session(graph=g, config=config()) as sess:
        assert float(sess.run(y, {x: big})[-1]) == 2.0


def test_a_share_the_device_cannot_give_is_resource_exhausted_naming_device_and_bytes(gpus):
    state, cupy, manager = gpus
    state.held_elsewhere[0] = DEVICE_MEMORY  # another process holds the whole GPU
    with pytest.raises(tf.errors.ResourceExhaustedError) as info:
        tf.Session(config=config(0.5, allow_growth=False))
    message = str(info.value)
    assert "/device:GPU:0 (GPU 0)" in message
    assert f"asks for {DEVICE_MEMORY // 2} of {DEVICE_MEMORY} bytes, 0 bytes are free" in message
    assert manager.sessions_on(0) == 0 and pool_on(cupy, 0) == (0, 0, 0)  # nothing left behind


def test_a_share_over_the_pools_own_limit_is_resource_exhausted(gpus):
    state, cupy, manager = gpus
    with cupy.cuda.Device(0):
        cupy.get_default_memory_pool().set_limit(size=8 * MiB)
    with pytest.raises(tf.errors.ResourceExhaustedError) as info:
        tf.Session(config=config(0.5, allow_growth=False))
    assert "Out of memory allocating" in str(info.value) and "/device:GPU:0" in str(info.value)
    assert manager.sessions_on(0) == 0 and pool_on(cupy, 0)[2] == 8 * MiB


def test_less_free_memory_than_the_share_reserves_what_is_free(gpus, caplog):
    state, cupy, manager = gpus
    state.held_elsewhere[0] = 40 * MiB
    with tf.Session(config=config(0.5, allow_growth=False)):
        assert pool_on(cupy, 0)[1] == 24 * MiB
    assert any("less than the" in r.getMessage() for r in caplog.records)


def test_the_placers_budget_is_free_memory_capped_by_the_fraction(gpus):
    state, cupy, manager = gpus
    with tf.Session(config=config(visible="0,1")) as sess:
        budgets = [g.memory_budget for g in sess._devices.table.gpus()]
    assert budgets == [DEVICE_MEMORY - 4 * MiB, DEVICE_MEMORY]  # NVML: 4 MiB in use on GPU 0
    with tf.Session(config=config(0.5, visible="0,1")) as sess:
        budgets = [g.memory_budget for g in sess._devices.table.gpus()]
    assert budgets == [DEVICE_MEMORY // 2] * 2
    with tf.Session(config=config(0.99, visible="0,1")) as sess:
        budgets = [g.memory_budget for g in sess._devices.table.gpus()]
    assert budgets == [DEVICE_MEMORY - 4 * MiB, int(0.99 * DEVICE_MEMORY)]


def test_manager_lease_and_give_back_directly(gpus):
    state, cupy, _ = gpus
    manager = GpuManager()
    lease = manager.lease(1, "/device:GPU:0", MemoryConfig(allow_growth=False, fraction=0.125))
    assert lease.reserved == share(0.125) and lease.limit == int(0.125 * DEVICE_MEMORY)
    manager.give_back(lease)
    manager.give_back(lease)  # twice is harmless
    assert pool_on(cupy, 1) == (0, 0, 0)
