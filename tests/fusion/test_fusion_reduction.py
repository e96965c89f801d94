"""Reduction epilogues and views inside fused steps: values equal plain NumPy; the ReductionKernel's map
function compiles with NVRTC and, built by the host compiler, maps as NumPy does."""

from __future__ import annotations

import ctypes

import numpy as np
import pytest
from test_kernels_compile import compile_ptx

import gpugraph as tf
from gpugraph.compiler import fused_step
from gpugraph.fusion import compiled
from gpugraph.fusion.reduction import Reduction, reduction_text
from gpugraph.testing import simulated_gpus


def fused_steps(sess):
    return [s for s in list(sess._runs.values())[-1].plan.steps if s.ops]


@pytest.fixture(autouse=True)
def compile_at_once(monkeypatch):
    monkeypatch.setattr(fused_step, "COMPILE_AFTER", 1)


def run_twice(fetch, feeds):
    with tf.Session() as sess:
        first = sess.run(fetch, feeds)  # op by op
        second = sess.run(fetch, feeds)  # compiled, block by block
        return first, second, fused_steps(sess)


@pytest.mark.parametrize("rows", [3, 20000])
def test_bias_gradient_of_a_relu_chain_ends_the_region(rows):
    rng = np.random.default_rng(0)
    x = tf.placeholder(tf.float32, [None, 7])
    b = tf.placeholder(tf.float32, [7])
    g = tf.placeholder(tf.float32, [None, 7])
    y = tf.nn.relu(x + b) * g
    db = tf.reduce_sum(y, axis=0)
    xs, bs, gs = (rng.standard_normal(s).astype(np.float32) for s in ((rows, 7), (7,), (rows, 7)))
    xs[0, 0] = np.nan  # a NaN propagates through the sum, as in NumPy's
    first, second, steps = run_twice(db, {x: xs, b: bs, g: gs})
    want = (np.maximum(xs + bs, 0) * gs).sum(axis=0, dtype=np.float64)
    assert [op.type for op in steps[0].ops][-1] == "Sum" and len(steps) == 1
    assert (steps[0].fn._compiled is not None) == (rows * 7 >= fused_step.LARGE_ELEMENTS)
    for got in (first, second):
        assert got.shape == (7,) and np.isnan(got[0])
        np.testing.assert_allclose(got[1:], want[1:], rtol=2e-5, atol=1e-3)


@pytest.mark.parametrize("keepdims", [False, True])
def test_a_mean_over_inner_axes_ends_the_region(keepdims):
    rng = np.random.default_rng(1)
    x = tf.placeholder(tf.float64, [None, 30, 40])
    m = tf.reduce_mean(tf.exp(x) - x * 2.0, axis=[1, 2], keepdims=keepdims)
    xs = rng.standard_normal((50, 30, 40))
    first, second, steps = run_twice(m, {x: xs})
    want = (np.exp(xs) - xs * 2.0).mean(axis=(1, 2), keepdims=keepdims)
    assert steps[0].ops[-1].type == "Mean"
    for got in (first, second):
        np.testing.assert_allclose(got, want, rtol=1e-12)


def test_sum_to_shape_and_bias_add_grad_end_regions():
    rng = np.random.default_rng(2)
    x = tf.placeholder(tf.float32, [None, 16])
    b = tf.Variable(np.zeros(16, np.float32))
    y = tf.nn.bias_add(x, b)
    loss = tf.reduce_sum(tf.square(y) * 0.5)
    (grad,) = tf.gradients(loss, [b])
    xs = rng.standard_normal((9000, 16)).astype(np.float32)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        values = [sess.run(grad, {x: xs}) for _ in range(2)]
    for got in values:
        np.testing.assert_allclose(got, xs.sum(axis=0, dtype=np.float64), rtol=1e-4, atol=1e-3)


def test_a_result_read_elsewhere_keeps_the_reduction_apart():
    x = tf.placeholder(tf.float32, [None])
    y = tf.exp(x) * 2.0
    total = tf.reduce_sum(y)
    xs = np.linspace(-1, 1, 10000).astype(np.float32)
    with tf.Session() as sess:
        yv, tv = sess.run([y, total], {x: xs})
        steps = fused_steps(sess)
    assert [op.type for op in steps[0].ops] == ["Exp", "Mul"]
    np.testing.assert_allclose(yv, np.exp(xs) * 2, rtol=1e-6)
    np.testing.assert_allclose(tv, (np.exp(xs.astype(np.float64)) * 2).sum(), rtol=1e-5)


def test_views_of_region_inputs_run_inside_the_fused_step():
    rng = np.random.default_rng(3)
    v = tf.placeholder(tf.float32, [None])
    m = tf.placeholder(tf.float32, [None, 4])
    out = tf.exp(tf.expand_dims(v, -1) * m) + 1.0
    vs, ms = rng.standard_normal(6).astype(np.float32), rng.standard_normal((6, 4)).astype(np.float32)
    with simulated_gpus(1), tf.Session() as sess:
        got = sess.run(out, {v: vs, m: ms})
        steps = list(sess._runs.values())[-1].plan.steps
    assert not any(s.op.type == "ExpandDims" for s in steps)  # no step of its own
    assert [op.type for op in fused_steps_of(steps)[0].ops] == ["ExpandDims", "Mul", "Exp", "Add"]
    np.testing.assert_allclose(got, np.exp(vs[:, None] * ms) + 1, rtol=1e-6)


def fused_steps_of(steps):
    return [s for s in steps if s.ops]


def _region_of_chain():
    x = tf.placeholder(tf.float32, [None, 5])
    b = tf.placeholder(tf.float32, [5])
    total = tf.reduce_sum(tf.nn.relu(x * 0.5 + b) - x, axis=0)
    with tf.Session() as sess:
        sess.run(total, {x: np.ones((3, 5), np.float32), b: np.ones(5, np.float32)})
        (step,) = fused_steps(sess)
    return step.fusion.region.region


def test_reduction_kernel_map_compiles_with_nvrtc_and_maps_as_numpy_on_the_host():
    region = _region_of_chain()
    for mean in (False, True):
        text = reduction_text(region, Reduction("Mean" if mean else "Sum"))
        assert text.reduce_expr == "a + b" and text.identity == "0" and text.reduce_type == "float"
        assert ("_in_ind.size()" in text.post_map_expr) == mean
    n = len(region.inputs)  # x, the constant 0.5 (a scalar input) and b
    assert n == 3 and region.inputs[1].is_scalar
    call = f"{text.name}_map(" + ", ".join("x1[0]" if k == 1 else f"x{k}[i]" for k in range(n)) + ")"
    assert text.map_expr == f"{text.name}_map(x0, x1, x2)"
    pointers = "".join(f"const float* x{k}, " for k in range(n))
    probe = (f'extern "C" __global__ void probe({pointers}float* y, int n) {{\n'
             "  int i = blockIdx.x * blockDim.x + threadIdx.x;\n"
             f"  if (i < n) y[i] = {call};\n}}\n")
    ptx = compile_ptx(text.preamble + probe, "reduced.cu")
    assert ".entry probe(" in ptx and ".f64" not in ptx.split(".entry")[1]
    unpack = "".join(f"  const float* x{k} = (const float*)in[{k}];\n" for k in range(n))
    host = ("#define __device__\n#define __forceinline__ inline\n" + text.preamble
            + 'extern "C" void host_probe(const void* const* in, void* const* out, long long n) {\n'
            + unpack + "  float* y = (float*)out[0];\n"
            f"  for (long long i = 0; i < n; ++i) y[i] = {call};\n}}\n")
    (fn,) = compiled.load([(host, "host_probe")])
    rng = np.random.default_rng(4)
    xs = rng.standard_normal(40).astype(np.float32)
    bs = rng.standard_normal(40).astype(np.float32)
    half = np.array([0.5], np.float32)
    y = np.empty(40, np.float32)
    ins = (ctypes.c_void_p * 3)(xs.ctypes.data, half.ctypes.data, bs.ctypes.data)
    fn(ins, (ctypes.c_void_p * 1)(y.ctypes.data), 40)
    np.testing.assert_array_equal(y, np.maximum(xs * np.float32(0.5) + bs, 0) - xs)


@pytest.mark.parametrize("block", [7 * 64, 1000])
def test_many_blocks_sum_as_one(monkeypatch, block):
    """Past BLOCK_ELEMENTS the compiled region runs block by block (over rows, or whole rows for inner
    axes): the sums equal NumPy's over the whole array."""
    from gpugraph.fusion import reduction

    monkeypatch.setattr(reduction, "BLOCK_ELEMENTS", block)
    rng = np.random.default_rng(4)
    x = tf.placeholder(tf.float64, [None, 7])
    column_sums = tf.reduce_sum(tf.nn.relu(x) * 3.0 - x, axis=0)
    row_means = tf.reduce_mean(tf.square(x) * 0.5 - x, axis=1)
    xs = rng.standard_normal((20011, 7))
    for fetch, want in ((column_sums, (np.maximum(xs, 0) * 3.0 - xs).sum(axis=0)),
                        (row_means, (np.square(xs) * 0.5 - xs).mean(axis=1))):
        first, second, steps = run_twice(fetch, {x: xs})
        assert steps[0].fn._compiled is not None
        for got in (first, second):
            np.testing.assert_allclose(got, want, rtol=1e-11)
