"""The simulated GPU: distinct device, copies counted, and a CuPy-like caching pool that sees every array
made on the device (kernels' results included), with its own out-of-memory error at allocation time."""

from __future__ import annotations

import gc
import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gpugraph as tf
from gpugraph.runtime.backend import NUMPY, Backend
from gpugraph.runtime.simulated import SimulatedGpuBackend, SimulatedOutOfMemory, working_set_bytes
from gpugraph.runtime.simulated_memory import DeviceNumpy
from gpugraph.testing import simulated_gpus


def block(nbytes: int) -> int:
    """CuPy's pool block for ``nbytes``: rounded up to 512 bytes."""
    return -(-nbytes // 512) * 512


def test_is_a_backend_on_a_gpu_device_with_numpy_arrays():
    b = SimulatedGpuBackend(1, 4096)
    assert isinstance(b, Backend)
    assert b.device == "/device:GPU:1" and b.name == "simulated"
    assert not b.is_host and NUMPY.is_host
    dev = b.to_device(np.ones(3))
    assert isinstance(dev, np.ndarray) and type(dev) is not np.ndarray  # a device array
    assert type(b.to_host(dev)) is np.ndarray and type(dev + 1) is type(dev)


def test_to_device_copies_and_counts():
    b = SimulatedGpuBackend(0, 10_000)
    host = np.arange(6, dtype=np.float32).reshape(2, 3)
    dev = b.to_device(host)
    np.testing.assert_array_equal(np.asarray(dev), host)
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
    assert type(out) is np.ndarray and not np.shares_memory(out, dev)
    np.testing.assert_array_equal(out, np.ones(4))
    assert (b.transfers_to_host, b.bytes_to_host) == (1, 32)
    assert type(pickle.loads(pickle.dumps(dev))) is np.ndarray  # pickles as host data


def test_scalars_and_zero_size_arrays_transfer():
    b = SimulatedGpuBackend(0, 1024)
    assert b.to_device(np.float32(2.5)).shape == ()
    assert b.to_device(np.zeros((0, 3))).shape == (0, 3)
    assert b.to_host(b.to_device(3.0))[()] == 3.0
    assert b.bytes_to_device == 4 + 0 + 8
    keep = b.to_device(np.zeros((0, 3)))
    assert b.used_bytes == 0 and keep.size == 0  # an empty array takes no block


def test_strings_and_objects_cannot_go_to_the_device():
    b = SimulatedGpuBackend(0, 100)
    for bad in (np.array(["a"]), np.array([object()], dtype=object)):
        with pytest.raises(TypeError, match="cannot be placed on /device:GPU:0"):
            b.to_device(bad)
    assert b.transfers_to_device == 0


def test_transferred_arrays_hold_rounded_blocks_while_alive():
    b = SimulatedGpuBackend(0, 2048)
    a = b.to_device(np.zeros(250, np.float32))  # 1000 bytes: a 1024-byte block
    c = b.to_device(np.zeros(75, np.float64))  # 600 bytes: 1024
    assert b.memory_stats() == {"used": 2048, "limit": 2048, "total": 2048, "reserved": 2048, "peak": 2048}
    del a
    gc.collect()
    assert (b.used_bytes, b.cached_bytes) == (1024, 1024)  # the freed block stays in the pool's cache
    with pytest.raises(SimulatedOutOfMemory) as info:
        b.to_device(np.zeros(1025, np.uint8))  # 1536: the cache is freed first, and still it does not fit
    assert (info.value.requested, info.value.used, info.value.limit) == (1536, 1024, 2048)
    assert b.cached_bytes == 0 and b.transfers_to_device == 2  # a failed copy is not counted
    del c
    gc.collect()
    assert b.used_bytes == 0 and b.peak_bytes == 2048


def test_results_of_kernels_count_without_any_accounting_call():
    b = SimulatedGpuBackend(0, 64 << 10)
    x = b.to_device(np.ones((64, 32), np.float32))  # 8 KiB
    y = b.xp.matmul(x, x.T)  # 64 x 64 float32: 16 KiB
    assert b.used_bytes == block(x.nbytes) + block(64 * 64 * 4)
    z = (y * 2.0).sum(axis=0)  # y * 2 dies inside the expression; the 64-float sum stays
    assert b.used_bytes == block(x.nbytes) + block(y.nbytes) + block(z.nbytes)
    assert b.peak_bytes == block(x.nbytes) + 2 * block(y.nbytes) + block(z.nbytes)
    stacked = np.concatenate([x, x])  # NumPy functions over device arrays make device arrays too
    assert b.holds(stacked) and type(stacked) is type(x)
    np.testing.assert_array_equal(b.to_host(y), np.full((64, 64), 32.0, np.float32))


def test_a_kernel_result_over_the_budget_fails_when_it_is_allocated():
    b = SimulatedGpuBackend(0, 8 << 10)
    x = b.to_device(np.ones((44, 1), np.float32))
    with pytest.raises(SimulatedOutOfMemory) as info:
        b.xp.matmul(x, x.T)  # 44 x 44 float32 = 7744 bytes: a 7936-byte block, with 512 in use
    assert info.value.requested == block(44 * 44 * 4) and info.value.limit == 8 << 10
    assert b.is_out_of_memory(info.value)
    assert b.used_bytes == 512  # nothing of the failed kernel stays counted
    small = b.xp.matmul(x[:30], x[:30].T)  # 3600 bytes fit
    assert small.shape == (30, 30) and b.used_bytes == 512 + block(3600)


def test_views_count_once_at_their_buffer():
    b = SimulatedGpuBackend(0, 1 << 20)
    x = b.to_device(np.arange(1024, dtype=np.float64))
    base_allocations = b.allocations
    views = [x[2:], x.reshape(32, 32), x.reshape(32, 32).T, x[::2], np.asarray(x), x.view(np.int64),
             np.broadcast_to(x, (4, 1024)), np.lib.stride_tricks.as_strided(x, (512, 1024), (8, 8))]
    assert b.used_bytes == 8192 and b.allocations == base_allocations
    assert all(b.holds(v) for v in views) and not b.holds(np.zeros(3))
    del x
    gc.collect()
    assert b.used_bytes == 8192  # the views keep the buffer alive
    del views
    gc.collect()
    assert b.used_bytes == 0


def test_a_freed_block_is_reused_and_a_larger_request_takes_a_new_one():
    b = SimulatedGpuBackend(0, 1 << 20)
    x = b.to_device(np.ones(1000, np.float32))
    y = x + 1.0
    del y  # back to the pool's cache
    gc.collect()
    before = (b.allocations, b.driver_allocations)
    z = x * 3.0  # the same size: the cached block
    assert (b.allocations, b.driver_allocations) == (before[0] + 1, before[1])
    w = np.concatenate([x, x])  # twice the size: nothing cached fits
    assert (b.allocations, b.driver_allocations) == (before[0] + 2, before[1] + 1)
    np.testing.assert_array_equal(b.to_host(z), np.full(1000, 3.0, np.float32))
    assert w.shape == (2000,)


def test_a_cached_block_is_split_and_merged_back_as_cupy_does():
    b = SimulatedGpuBackend(0, 1 << 20)
    big = b.to_device(np.zeros(4096, np.uint8))
    del big
    gc.collect()
    drivers = b.driver_allocations
    part = b.to_device(np.zeros(1000, np.uint8))  # 1024 cut from the 4096 block
    rest = b.to_device(np.zeros(3072, np.uint8))  # the remaining 3072
    assert b.driver_allocations == drivers and b.used_bytes == 4096 and b.cached_bytes == 0
    del part
    gc.collect()
    b.free_all_blocks()
    assert b.cached_bytes == 1024  # part of a block still in use: not given back
    del rest
    gc.collect()
    b.free_all_blocks()  # the parts merged into one whole block again
    assert b.memory_stats()["reserved"] == 0


def test_the_budget_counts_cached_blocks_and_a_miss_frees_them_first():
    b = SimulatedGpuBackend(0, 4096)
    a = b.to_device(np.zeros(2048, np.uint8))
    c = b.to_device(np.zeros(2048, np.uint8))
    del a, c
    gc.collect()
    assert b.memory_stats()["reserved"] == 4096 and b.used_bytes == 0
    d = b.to_device(np.zeros(3000, np.uint8))  # no 3072 cached and no room: the cache is freed, then it fits
    assert b.memory_stats()["reserved"] == 3072 and d.nbytes == 3000


def test_arrays_held_only_by_a_cycle_are_collected_before_giving_up():
    b = SimulatedGpuBackend(0, 4096)
    cycle: list = [b.to_device(np.zeros(3000, np.uint8))]
    cycle.append(cycle)
    gc.disable()
    try:
        del cycle
        assert b.used_bytes == 3072
        assert b.to_device(np.zeros(3000, np.uint8)).nbytes == 3000  # as CuPy: gc.collect(), then retry
    finally:
        gc.enable()


def test_release_memory_gives_cached_blocks_back():
    b = SimulatedGpuBackend(0, 1 << 20)
    kept = b.to_device(np.zeros(600, np.uint8))
    b.to_device(np.zeros(5000, np.uint8))  # dropped at once: cached
    gc.collect()
    b.allocate(100)
    assert b.memory_stats()["reserved"] == 1024 + 5120 + 100
    b.release_memory()
    assert b.memory_stats()["reserved"] == 1024 and b.used_bytes == 1024 and kept.size == 600
    b.synchronize()
    assert b.synchronizations == 1
    with b.activate():
        pass


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


def test_account_counts_only_buffers_the_device_did_not_see_made():
    b = SimulatedGpuBackend(0, 4096)
    x = b.to_device(np.zeros(25, np.float32))  # a 512-byte block, counted already
    y = x * 2.0  # a kernel result: counted already
    outside = np.ones(50, np.float32)  # made without the device seeing it: 200 bytes
    counted = b.account([x, y, y[:10], x.reshape(5, 5), outside, outside[:3], 3.0, None], what="step")
    assert counted == 200
    assert b.used_bytes == 512 + 512 + 200
    b.account([x])
    assert b.used_bytes == 1024
    with pytest.raises(SimulatedOutOfMemory, match="for dense/MatMul") as info:
        b.account([np.zeros(3073, np.uint8)], what="dense/MatMul")
    assert info.value.requested == 3073 and b.used_bytes == 1024


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
    assert (err.requested, err.used, err.limit) == (512, 0, 10) and str(err) == str(info.value)


def test_budget_must_be_positive():
    with pytest.raises(ValueError):
        SimulatedGpuBackend(0, 0)


def test_working_set_bytes_counts_each_buffer_once():
    a = np.zeros(10, np.float64)
    assert working_set_bytes([a, a[2:], a.reshape(2, 5), np.zeros(3, np.int8), 1.0]) == 83


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.integers(0, 3000)), max_size=30))
def test_used_bytes_are_the_rounded_live_buffers_and_the_pool_stays_in_budget(ops):
    budget = 8192
    b = SimulatedGpuBackend(0, budget)
    live: list[np.ndarray] = []
    for make, n in ops:
        if make:
            try:
                live.append(b.to_device(np.zeros(n, np.uint8)))
            except SimulatedOutOfMemory as e:
                assert e.requested == block(n) and e.used + e.requested > budget
        elif live:
            live.pop(n % len(live))  # collected at once: nothing refers to it
        assert b.used_bytes == sum(block(a.nbytes) for a in live)
        assert b.memory_stats()["reserved"] <= budget


def test_the_device_namespace_makes_device_arrays_and_copies_host_data():
    b = SimulatedGpuBackend(0, 1 << 20)
    xp = DeviceNumpy(b.array_type)
    assert xp.float32 is np.float32 and xp.ndarray is np.ndarray and xp.inf == np.inf
    zeros = xp.zeros((16, 16), xp.float32)  # made from host data alone: still on the device
    x = b.to_device(np.arange(8.0))
    copy = xp.array(x, copy=True)
    host = np.arange(4.0)
    moved = xp.asarray(host)  # host memory: the device gets its own copy, as cupy.asarray makes
    assert all(b.holds(a) for a in (zeros, copy, moved, xp.add.reduce(x), xp.linalg.qr(np.eye(3)).Q))
    assert not np.shares_memory(moved, host) and xp.asarray(x) is x
    assert b.used_bytes == block(16 * 16 * 4) + 3 * 512  # zeros, x, copy, moved: the others are gone
    np.testing.assert_array_equal(np.asarray(copy), np.arange(8.0))


def mlp(batch: int, features: int, hidden: int, classes: int):
    g = tf.Graph()
    with g.as_default():
        tf.set_random_seed(0)
        X = tf.placeholder(tf.float32, (None, features), name="X")
        y = tf.placeholder(tf.int64, (None,), name="y")
        h = tf.layers.dense(X, hidden, activation=tf.nn.relu, name="hidden")
        logits = tf.layers.dense(h, classes, name="logits")
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
        train = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
        init = tf.global_variables_initializer()
    rng = np.random.RandomState(0)
    feed = {X: rng.randn(batch, features).astype(np.float32), y: rng.randint(0, classes, batch).astype(np.int64)}
    return g, train, loss, init, feed


def test_training_takes_no_new_device_block_after_warm_up_and_peaks_as_its_arrays_predict():
    B, D, H, C = 128, 64, 256, 10
    g, train, loss, init, feed = mlp(B, D, H, C)
    with simulated_gpus(1, memory=64 << 20) as (gpu,):
        gpu.xp = DeviceNumpy(gpu.array_type)  # xp.zeros, xp.array(...) on the device too
        gpu.account = lambda arrays, what="": 0  # the device alone counts what is on it
        with tf.Session(graph=g) as sess:
            sess.run(init)
            drivers = []
            for _ in range(5):
                sess.run([train, loss], feed)
                drivers.append(gpu.driver_allocations)
            peak, used = gpu.peak_bytes, gpu.used_bytes
    assert drivers[1:] == [drivers[1]] * 4  # flat: every block of a step comes from the pool's cache
    # a NumPy count: variables and feeds live throughout; ReluGrad needs the relu output, its
    # gradient and its result at once (three batch x hidden arrays); a step makes no more than every
    # array of the forward and backward pass (5 batch x hidden, 4 batch x classes, the gradients)
    variables = 4 * (D * H + H + H * C + C)
    feeds = sum(v.nbytes for v in feed.values())
    act, out = B * H * 4, B * C * 4
    blocks = block(4 * D * H) + block(4 * H) + block(4 * H * C) + block(4 * C)
    assert blocks <= used <= blocks + 16 * 512  # between steps: the variables (and a few constants)
    assert variables + feeds + 3 * act <= peak <= variables + feeds + 5 * act + 4 * out + variables


def test_a_kernel_result_over_the_budget_is_a_resource_exhausted_error_naming_its_op():
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, shape=(None, 64), name="x")
        big = tf.matmul(x, x, transpose_b=True, name="big")
        out = tf.reduce_sum(big, name="total")
    with simulated_gpus(1, memory=1 << 20) as (gpu,), tf.Session(graph=g) as sess:
        gpu.account = lambda arrays, what="": 0  # raised by the allocation itself
        assert float(sess.run(out, {x: np.ones((50, 64), np.float32)})) == 50 * 50 * 64
        gpu.allocate(gpu.memory_budget - gpu.memory_stats()["reserved"] - (30 << 10), "another job")
        with pytest.raises(tf.errors.ResourceExhaustedError, match="big") as info:
            sess.run(out, {x: np.ones((100, 64), np.float32)})  # 25.6 KB in fits; the 40 KB product does not
        cause = info.value.__cause__
        assert isinstance(cause, SimulatedOutOfMemory) and cause.requested == block(100 * 100 * 4)
        gpu.release(gpu.memory_budget - (64 << 10))
        assert float(sess.run(out, {x: np.ones((100, 64), np.float32)})) == 100 * 100 * 64
