"""Sessions on the real GPU path (NVML discovery, CupyBackend) over stand-ins for pynvml and CuPy."""

from __future__ import annotations

import gc
import sys

import numpy as np
import pytest

import gpugraph as tf
from gpugraph.runtime import device_setup
from gpugraph.runtime.devices import GpuFacts
from gpugraph.runtime.gpu_manager import GpuManager, set_gpu_manager
from gpugraph.runtime.memory import MemoryConfig

from fake_cupy import FakeCuda, make_fake_cupy
from fake_nvml import NVML_ERROR_DRIVER_NOT_LOADED, NvmlGpu, make_pynvml

MiB = 1 << 20


def cupy_backend_class() -> type:
    """Looked up at call time: another test reloads the module, making a new class."""
    from gpugraph.runtime import cupy_backend

    return cupy_backend.CupyBackend
DEVICE_MEMORY = 16 * MiB


@pytest.fixture
def gpus(monkeypatch):
    """Two GPUs as NVML and CuPy both see them; no provider of simulated GPUs is installed."""
    state = FakeCuda(n_devices=2, total_memory=DEVICE_MEMORY)
    cupy = make_fake_cupy(state)
    nvml = make_pynvml([NvmlGpu("NVIDIA H200", "GPU-0a1b2c3d-0000", DEVICE_MEMORY, used=MiB),
                        NvmlGpu("NVIDIA H200", "GPU-9f8e7d6c-0001", DEVICE_MEMORY, used=3 * MiB, capability=None)])
    monkeypatch.setitem(sys.modules, "cupy", cupy)
    monkeypatch.setitem(sys.modules, "pynvml", nvml)
    monkeypatch.setenv("GPUGRAPH_DEVICE", "gpu")  # falling back to NumPy would be an error
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    previous = device_setup.set_device_provider(None)
    previous_manager = set_gpu_manager(GpuManager())  # backends made over this fake only
    yield state, cupy, nvml
    set_gpu_manager(previous_manager)
    device_setup.set_device_provider(previous)


# --- discovery through NVML ---

def test_real_gpus_are_found_through_nvml(gpus):
    state, cupy, nvml = gpus
    table, backends, leases = device_setup._real_gpus(None, MemoryConfig())
    assert [g.name for g in table.gpus()] == ["/device:GPU:0", "/device:GPU:1"]
    assert [g.physical_index for g in table.gpus()] == [0, 1]
    assert sorted(backends) == ["/device:GPU:0", "/device:GPU:1"]
    assert all(isinstance(b, cupy_backend_class()) for b in backends.values())
    assert [b.index for b in backends.values()] == [0, 1]
    assert nvml.init_count == 0 and nvml.calls == ["init", "shutdown"]  # NVML left as found
    assert [lease.backend for lease in leases] == list(backends.values())


def test_nvml_facts_are_cuda_numbered_under_cuda_visible_devices(gpus, monkeypatch):
    from gpugraph.runtime.device_facts import gpu_facts

    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "GPU-9f8e")
    assert gpu_facts() == [GpuFacts(0, "NVIDIA H200", DEVICE_MEMORY, DEVICE_MEMORY - 3 * MiB, None)]


def test_visible_device_list_picks_the_backend(gpus):
    config = tf.ConfigProto(gpu_options=tf.GPUOptions(visible_device_list="1", allow_growth=True))
    table, backends, _ = device_setup._real_gpus(config, MemoryConfig(visible_device_list="1"))
    assert [g.name for g in table.gpus()] == ["/device:GPU:0"]
    assert backends["/device:GPU:0"].index == 1


def test_cuda_answers_when_nvml_cannot_start(gpus, monkeypatch):
    state, cupy, _ = gpus
    nvml = make_pynvml([], init_error=NVML_ERROR_DRIVER_NOT_LOADED)
    monkeypatch.setitem(sys.modules, "pynvml", nvml)
    from gpugraph.runtime.device_facts import survey_gpus

    survey = survey_gpus({})
    assert survey.source == "cuda" and [r.facts.name for r in survey.reports] == ["Fake GPU 0", "Fake GPU 1"]
    assert [r.facts.total_memory for r in survey.reports] == [DEVICE_MEMORY] * 2
    assert nvml.calls == ["init"]


# --- a Session on CupyBackend ---

def linear_model():
    g = tf.Graph()
    with g.as_default():
        X = tf.placeholder(tf.float32, shape=(None, 3), name="X")
        y = tf.placeholder(tf.float32, shape=(None, 1), name="y")
        theta = tf.Variable(np.array([[0.5], [0.25], [-1.0]], np.float32), name="theta")
        mse = tf.reduce_mean(tf.square(tf.matmul(X, theta) - y), name="mse")
        train = tf.train.GradientDescentOptimizer(0.1).minimize(mse)
        init = tf.global_variables_initializer()
    return g, X, y, theta, mse, train, init


DATA_X = np.random.RandomState(3).randn(64, 3).astype(np.float32)
DATA_Y = DATA_X @ np.array([[1.0], [-2.0], [0.5]], np.float32)


def numpy_gradient_descent(steps: int) -> tuple[list[float], np.ndarray]:
    """The same training in float64 NumPy: the reference for the session's numbers."""
    theta = np.array([[0.5], [0.25], [-1.0]])
    x, y = DATA_X.astype(np.float64), DATA_Y.astype(np.float64)
    losses = []
    for _ in range(steps):
        residual = x @ theta - y
        losses.append(float(np.mean(residual ** 2)))
        theta = theta - 0.1 * (2.0 / len(x)) * x.T @ residual
    return losses, theta


def test_session_trains_on_cupy_backend_and_gives_memory_back(gpus):
    state, cupy, _ = gpus
    pool = cupy.get_default_memory_pool()
    g, X, y, theta, mse, train, init = linear_model()
    sess = tf.Session(graph=g)
    backend = sess._devices.backend_of("/device:GPU:0")
    assert isinstance(backend, cupy_backend_class()) and backend.xp is cupy
    sess.run(init)
    losses = [float(sess.run([train, mse], {X: DATA_X, y: DATA_Y})[1]) for _ in range(5)]
    expected_losses, expected_theta = numpy_gradient_descent(5)
    np.testing.assert_allclose(losses, expected_losses, rtol=1e-5)
    np.testing.assert_allclose(sess.run(theta), expected_theta, rtol=1e-5)

    with cupy.cuda.Device(0):
        stats = backend.memory_stats()
        assert stats["used"] == pool.used_bytes() >= 512  # theta lives in one pool block on GPU:0
        assert stats["reserved"] == pool.total_bytes() >= stats["used"]
        assert stats["total"] == DEVICE_MEMORY
    sess.close()
    gc.collect()
    with cupy.cuda.Device(0):
        assert pool.used_bytes() == 0 and pool.total_bytes() == 0  # nothing held, nothing cached


def test_pool_limit_out_of_memory_is_resource_exhausted_naming_the_node(gpus):
    state, cupy, _ = gpus
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, shape=(None, 1024), name="x")
        big = tf.tile(x, [256, 1], name="big")  # 1 MiB per row of x
        total = tf.reduce_sum(big, name="total")
    with cupy.cuda.Device(0):  # as CUPY_GPU_MEMORY_LIMIT does: the placer does not know this cap
        cupy.get_default_memory_pool().set_limit(size=DEVICE_MEMORY // 4)
    config = tf.ConfigProto(gpu_options=tf.GPUOptions(allow_growth=True))
    with tf.Session(graph=g, config=config) as sess:
        backend = sess._devices.backend_of("/device:GPU:0")
        assert backend.memory_stats()["limit"] == DEVICE_MEMORY // 4
        assert float(sess.run(total, {x: np.ones((2, 1024), np.float32)})) == 2 * 256 * 1024
        with pytest.raises(tf.errors.ResourceExhaustedError) as info:
            sess.run(total, {x: np.ones((8, 1024), np.float32)})  # 8 MiB: over the 4 MiB cap
    message = str(info.value)
    assert message.startswith("OOM when allocating tensor with shape[?,1024] and type float32 on /device:GPU:0 "
                              "for node 'big' (op Tile)")
    assert f"requested {8 * MiB} bytes" in message and f"limit {DEVICE_MEMORY // 4} bytes" in message


# --- device semantics ---

def test_a_run_fetching_only_operations_waits_for_the_device(gpus):
    state, cupy, _ = gpus
    g, X, y, theta, mse, train, init = linear_model()
    with tf.Session(graph=g) as sess:
        backend = sess._devices.backend_of("/device:GPU:0")
        sess.run(init)
        before = backend.stream.syncs
        assert sess.run(train, {X: DATA_X, y: DATA_Y}) is None
        assert backend.stream.syncs > before and backend.stream.queue == [] and backend._pending == []


def test_a_kernel_fault_is_reported_by_the_run_that_caused_it(gpus, monkeypatch):
    state, cupy, _ = gpus
    from fake_cupy import CUDARuntimeError

    g, X, y, theta, mse, train, init = linear_model()
    with tf.Session(graph=g) as sess:
        backend = sess._devices.backend_of("/device:GPU:0")
        sess.run(init)
        real = backend.stream.synchronize
        faults = [CUDARuntimeError(700)]

        def faulting() -> None:
            real()
            if faults:
                raise faults.pop()
        monkeypatch.setattr(backend.stream, "synchronize", faulting)
        with pytest.raises(tf.errors.InternalError) as info:
            sess.run(train, {X: DATA_X, y: DATA_Y})
        assert "/device:GPU:0" in str(info.value) and "cudaErrorIllegalAddress" in str(info.value)


def test_restore_writes_each_value_on_its_variables_device_and_stream(gpus, tmp_path):
    """The fake runs a kernel after the work queued on the *current* stream only: a restore that copied
    outside the variable's device and stream would read the upload before it happened (junk)."""
    state, cupy, _ = gpus
    g = tf.Graph()
    with g.as_default():
        with tf.device("/gpu:1"):
            w = tf.Variable(np.arange(6, dtype=np.float32).reshape(2, 3), name="w")
        saver = tf.train.Saver()
    config = tf.ConfigProto(gpu_options=tf.GPUOptions(visible_device_list="0,1"))
    with tf.Session(graph=g, config=config) as sess:
        sess.run(w.initializer)
        path = saver.save(sess, str(tmp_path / "model"))
        sess.run(w.assign(w * 0.0))
        saver.restore(sess, path)  # in place: the cell's array stays
        assert sess._cells[w.op].device == "/device:GPU:1"
        np.testing.assert_array_equal(sess.run(w), np.arange(6, dtype=np.float32).reshape(2, 3))


def test_library_allocation_failures_are_out_of_memory(gpus):
    state, cupy, _ = gpus

    class CUBLASError(RuntimeError):  # as cupy_backends.cuda.libs.cublas.CUBLASError
        def __init__(self, status: int):
            self.status = status
            super().__init__({3: "CUBLAS_STATUS_ALLOC_FAILED", 13: "CUBLAS_STATUS_EXECUTION_FAILED"}[status])

    class CUSOLVERError(RuntimeError):  # as cupy_backends.cuda.libs.cusolver.CUSOLVERError
        def __init__(self, status: int):
            self.status = status
            super().__init__("CUSOLVER_STATUS_ALLOC_FAILED")

    with tf.Session() as sess:
        backend = sess._devices.backend_of("/device:GPU:0")
        assert backend.is_out_of_memory(CUBLASError(3)) and backend.is_out_of_memory(CUSOLVERError(3))
        assert not backend.is_out_of_memory(CUBLASError(13))
