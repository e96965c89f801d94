"""The fake CuPy's ElementwiseKernel and ReductionKernel (their CUDA text built by the host compiler) against
NumPy, and a training session whose fused regions run through them."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import gpugraph as tf

import fake_cuda_kernels
from fake_cupy import FakeCuda, make_fake_cupy
from fake_gpu import one_fake_gpu

RNG = np.random.default_rng(7)


@pytest.fixture
def cp() -> Any:
    state = FakeCuda(n_devices=1, total_memory=1 << 24)
    module = make_fake_cupy(state)
    module.state = state
    return module


def test_elementwise_kernel_resolves_t_broadcasts_and_allocates_its_outputs(cp):
    x = RNG.standard_normal((3, 4)).astype(np.float32)
    w = RNG.standard_normal(4).astype(np.float32)
    k = RNG.integers(-5, 5, (3, 1)).astype(np.int32)
    kernel = cp.ElementwiseKernel("T x, float32 w, int32 k, T s", "T y, float64 z",
                                  "y = x * w + s; z = (double)x * k + i", "scale_shift")
    args = cp.asarray(x), cp.asarray(w), cp.asarray(k)
    before = cp.state.kernel_launches
    y, z = kernel(*args, 0.5)
    assert cp.state.kernel_launches == before + 1  # one launch for both outputs
    assert y.dtype == np.float32 and y.shape == (3, 4) and z.dtype == np.float64
    np.testing.assert_array_equal(y.get(), x * w + np.float32(0.5))
    np.testing.assert_array_equal(z.get(), x.astype(np.float64) * k + np.arange(12).reshape(3, 4))
    # T follows the arrays: the same kernel in float64
    y64, _ = kernel(cp.asarray(x.astype(np.float64)), cp.asarray(w), cp.asarray(k), 2)
    assert y64.dtype == np.float64
    np.testing.assert_array_equal(y64.get(), x.astype(np.float64) * w.astype(np.float64) + 2)


def test_elementwise_kernel_writes_given_outputs_and_inout_arrays_in_place(cp):
    x = RNG.standard_normal((2, 5)).astype(np.float64)
    acc = RNG.standard_normal((2, 5)).astype(np.float64)
    out = cp.empty((2, 5), np.float64)
    square = cp.ElementwiseKernel("T x", "T y", "y = x * x", "square")
    assert square(cp.asarray(x), out) is out
    np.testing.assert_array_equal(out.get(), x * x)
    accumulate = cp.ElementwiseKernel("T x, T lr", "T acc", "acc -= lr * x", "accumulate")
    acc_dev = cp.asarray(acc.copy())  # the stand-in's asarray keeps the host buffer: keep acc as it was
    result = accumulate(cp.asarray(x[0]), cp.asarray(np.float64(0.25)), acc_dev)  # rows broadcast to acc
    assert result is acc_dev
    np.testing.assert_array_equal(acc_dev.get(), acc - 0.25 * x[0])
    strided = cp.asarray(np.zeros((5, 2)))
    square(cp.asarray(x), strided.T)  # a transposed output is written through its strides
    np.testing.assert_array_equal(strided.get(), (x * x).T)


def test_elementwise_kernel_refuses_what_cupy_refuses(cp):
    kernel = cp.ElementwiseKernel("T x, float32 w", "T y", "y = x * w", "mul")
    x32, x64 = cp.asarray(np.ones(3, np.float32)), cp.asarray(np.ones(3))
    with pytest.raises(TypeError, match="Type is mismatched"):
        kernel(x32, x64)  # a float64 array for a float32 parameter
    with pytest.raises(TypeError, match="Wrong number of arguments"):
        kernel(x32)
    with pytest.raises(ValueError, match="Out shape is mismatched"):
        kernel(x32, x32, cp.empty(1, np.float32))  # broadcasts with the inputs, but is not their shape
    with pytest.raises(ValueError, match="could not be broadcast"):
        kernel(x32, x32, cp.empty(4, np.float32))
    with pytest.raises(TypeError, match="Unsupported type"):
        kernel(np.ones(3, np.float32), x32)  # a host array
    with pytest.raises(ValueError, match="'i' as a parameter name"):
        cp.ElementwiseKernel("T i", "T y", "y = i", "bad")


def test_reduction_kernel_sums_and_maxes_over_axes_as_numpy(cp):
    x = RNG.standard_normal((4, 3, 5)).astype(np.float32)
    total = cp.ReductionKernel("T x", "T y", "x", "a + b", "y = a", "0", "total")
    biggest = cp.ReductionKernel("T x", "T y", "x", "max(a, b)", "y = a", "-INFINITY", "biggest")
    mean_sq = cp.ReductionKernel("T x", "float64 y", "(double)x * x", "a + b",
                                 "y = a / (_in_ind.size() / _out_ind.size())", "0", "mean_sq", reduce_type="double")
    dev = cp.asarray(x)
    before = cp.state.kernel_launches
    for axis, keepdims in ((None, False), (1, False), ((0, 2), True), (-1, True)):
        np.testing.assert_allclose(total(dev, axis=axis, keepdims=keepdims).get(),
                                   x.sum(axis=axis, keepdims=keepdims), rtol=1e-5)
        np.testing.assert_array_equal(biggest(dev, axis=axis, keepdims=keepdims).get(),
                                      x.max(axis=axis, keepdims=keepdims))
        got = mean_sq(dev, axis=axis, keepdims=keepdims)
        assert got.dtype == np.float64
        np.testing.assert_allclose(got.get(), (x.astype(np.float64) ** 2).mean(axis=axis, keepdims=keepdims),
                                   rtol=1e-12)
    assert cp.state.kernel_launches == before + 12
    assert total(dev).shape == ()  # every axis: a 0-d array


def test_a_captured_kernel_is_replayed_by_the_graph(cp):
    add = cp.ElementwiseKernel("T x, T y", "T z", "z = x + y", "add")
    x, y = cp.asarray(np.arange(4.0)), cp.asarray(np.ones(4))
    stream = cp.cuda.Stream(non_blocking=True)
    with stream:
        stream.begin_capture()
        z = add(x, y)
        graph = stream.end_capture()
        x[...] = cp.asarray(np.full(4, 10.0))
        graph.launch()
        stream.synchronize()
    np.testing.assert_array_equal(z.get(), np.full(4, 11.0))


# --- a session whose fused regions run as kernels of the stand-in ---

@pytest.fixture
def gpu(monkeypatch):
    state = FakeCuda(n_devices=1, total_memory=64 << 20)
    with one_fake_gpu(monkeypatch, make_fake_cupy(state), 64 << 20):
        yield state


X = RNG.standard_normal((32, 6)).astype(np.float32)
Y = np.eye(3, dtype=np.float32)[RNG.integers(0, 3, 32)]


def _train_mlp(state: FakeCuda, steps: int) -> tuple[list[float], list[np.ndarray], int]:
    """(losses, final weights, kernel launches of the last step outside a graph replay) of a small MLP
    trained on the stand-in."""
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, (None, 6))
        y = tf.placeholder(tf.float32, (None, 3))
        init = np.random.RandomState(1)
        w1 = tf.Variable(init.randn(6, 8).astype(np.float32) * 0.5)
        b1 = tf.Variable(np.full(8, 0.1, np.float32))
        w2 = tf.Variable(init.randn(8, 3).astype(np.float32) * 0.5)
        b2 = tf.Variable(np.zeros(3, np.float32))
        hidden = tf.nn.relu(tf.matmul(x, w1) + b1)
        logits = tf.matmul(hidden, w2) + b2
        loss = tf.reduce_mean(tf.square(tf.nn.sigmoid(logits) * 2.0 - y - 0.5))
        train = tf.train.GradientDescentOptimizer(0.5).minimize(loss)
    losses, launches = [], 0
    with tf.Session(graph=g) as sess:
        sess.run(tf.variables_initializer([w1, b1, w2, b2]))
        for _ in range(steps):
            before = state.kernel_launches
            losses.append(float(sess.run([loss, train], {x: X, y: Y})[0]))
            launches = state.kernel_launches - before
        weights = sess.run([w1, b1, w2, b2])
    return losses, weights, launches


def test_fused_training_on_the_stand_in_equals_unfused_with_fewer_launches(gpu, monkeypatch):
    names: list[str] = []
    call = fake_cuda_kernels.ElementwiseKernel.__call__

    def spy(self: Any, *args: Any, **kwargs: Any) -> Any:
        names.append(self.name)
        return call(self, *args, **kwargs)
    monkeypatch.setattr(fake_cuda_kernels.ElementwiseKernel, "__call__", spy)

    monkeypatch.setenv("GPUGRAPH_CUDA_GRAPHS", "0")  # every step launches its kernels: they can be counted
    monkeypatch.setenv("GPUGRAPH_FUSION", "0")
    plain_losses, plain_weights, plain_launches = _train_mlp(gpu, 3)
    assert not any(n.startswith("gpugraph_fused_") for n in names)
    monkeypatch.setenv("GPUGRAPH_FUSION", "1")
    losses, weights, launches = _train_mlp(gpu, 3)
    assert any(n.startswith("gpugraph_fused_") for n in names)  # the fused regions ran as kernels
    assert 0 < launches < plain_launches
    monkeypatch.delenv("GPUGRAPH_CUDA_GRAPHS")
    replayed_losses, replayed_weights, _ = _train_mlp(gpu, 3)  # the fused kernels captured and replayed
    assert gpu.graph_launches > 0
    assert losses[-1] < losses[0]
    for run in (losses, replayed_losses):
        np.testing.assert_allclose(run, plain_losses, rtol=1e-5)
    for got, want in zip(weights + replayed_weights, plain_weights * 2):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_a_fused_region_ending_in_a_reduction_runs_as_one_reduction_kernel(gpu, monkeypatch):
    names: list[str] = []
    call = fake_cuda_kernels.ReductionKernel.__call__

    def spy(self: Any, *args: Any, **kwargs: Any) -> Any:
        names.append(self.name)
        return call(self, *args, **kwargs)
    monkeypatch.setattr(fake_cuda_kernels.ReductionKernel, "__call__", spy)
    monkeypatch.setenv("GPUGRAPH_CUDA_GRAPHS", "0")
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, (None, 6))
        row_sums = tf.reduce_sum(tf.exp(x) * 2.0 - 1.0, axis=1)
        col_means = tf.reduce_mean(tf.square(x - 0.5), axis=0, keepdims=True)
    with tf.Session(graph=g) as sess:
        got_sums, got_means = sess.run([row_sums, col_means], {x: X})
    assert len([n for n in names if n.startswith("gpugraph_reduced_")]) == 2
    np.testing.assert_allclose(got_sums, (np.exp(X.astype(np.float64)) * 2 - 1).sum(axis=1), rtol=1e-5)
    np.testing.assert_allclose(got_means, ((X.astype(np.float64) - 0.5) ** 2).mean(axis=0, keepdims=True),
                               rtol=1e-5)
