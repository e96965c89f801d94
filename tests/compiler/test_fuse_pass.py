"""The fuse pass: consecutive elementwise steps become one step; values, errors and state are unchanged."""

from __future__ import annotations

import numpy as np
import pytest

import gpugraph as tf
from gpugraph.compiler import fuse, fused_step
from gpugraph.testing import simulated_gpus


@pytest.fixture(autouse=True)
def _fresh_graph():
    tf.reset_default_graph()
    yield


def last_plan(sess):
    return list(sess._runs.values())[-1].plan


def chain_graph():
    a = tf.placeholder(tf.float32, [None], name="a")
    b = tf.placeholder(tf.float32, [None], name="b")
    c = tf.placeholder(tf.float32, [None], name="c")
    total = tf.reduce_sum(tf.nn.relu(a * b + c) * 0.5 - a, name="total")
    return a, b, c, total


def numpy_chain(a, b, c):
    return np.sum(np.maximum(a * b + c, 0) * np.float32(0.5) - a, dtype=np.float64)


def test_an_elementwise_chain_is_one_step_and_gives_the_unfused_value():
    a, b, c, total = chain_graph()
    rng = np.random.default_rng(0)
    feeds = [rng.standard_normal(n).astype(np.float32) for n in (5, 5, 5)]
    with tf.Session() as sess:
        value = sess.run(total, dict(zip((a, b, c), feeds)))
        steps = last_plan(sess).steps
    fused = [s for s in steps if s.ops]
    # the sum that alone reads the chain's result ends the region: one step in all
    assert len(fused) == 1 and [op.type for op in fused[0].ops] == ["Mul", "Add", "Relu", "Mul", "Sub", "Sum"]
    assert [s.op.type for s in steps if not s.ops] == []
    np.testing.assert_allclose(value, numpy_chain(*feeds), rtol=1e-6)


@pytest.mark.parametrize("n", [5, 20000])  # op by op, then (over LARGE_ELEMENTS) the compiled loop
def test_large_arrays_run_the_compiled_loop_after_a_few_runs_with_the_same_results(n, monkeypatch):
    monkeypatch.setattr(fused_step, "COMPILE_AFTER", 2)
    a, b, c, total = chain_graph()
    rng = np.random.default_rng(1)
    feeds = dict(zip((a, b, c), [rng.standard_normal(n).astype(np.float32) for _ in range(3)]))
    with tf.Session() as sess:
        values = [sess.run(total, feeds) for _ in range(4)]
        step = next(s for s in last_plan(sess).steps if s.ops)
    assert (step.fn._compiled is not None) == (n >= fused_step.LARGE_ELEMENTS)
    expected = numpy_chain(*feeds.values())
    for v in values:
        np.testing.assert_allclose(v, expected, rtol=1e-5)


def test_results_read_later_are_outputs_of_the_fused_step():
    x = tf.placeholder(tf.float32, [3], name="x")
    y = tf.exp(x) + 1.0  # read again below: an output of the region
    z = tf.matmul(tf.reshape(y, [1, 3]), tf.ones([3, 1]))
    w = y * 2.0
    with tf.Session() as sess:
        zv, wv, yv = sess.run([z, w, y], {x: np.array([0.0, 1.0, 2.0], np.float32)})
    expected = np.exp(np.array([0.0, 1.0, 2.0], np.float32)) + 1.0
    np.testing.assert_allclose(yv, expected, rtol=1e-6)
    np.testing.assert_allclose(wv, expected * 2.0, rtol=1e-6)
    np.testing.assert_allclose(zv, [[expected.sum()]], rtol=1e-6)


def test_a_broadcast_error_names_the_op_inside_the_region():
    x = tf.placeholder(tf.float32, [None], name="x")
    y = tf.placeholder(tf.float32, [None], name="y")
    out = tf.exp(x) * tf.add(x, y, name="mismatch")
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError) as info:
            sess.run(out, {x: np.ones(3, np.float32), y: np.ones(4, np.float32)})
    assert "mismatch" in str(info.value)


def test_integer_division_by_zero_still_raises_on_the_host():
    x = tf.placeholder(tf.int32, [2], name="x")
    q = tf.floordiv(x * 2, x - 1)
    with tf.Session() as sess:
        np.testing.assert_array_equal(sess.run(q, {x: np.array([3, 5], np.int32)}), [3, 2])
        with pytest.raises(tf.errors.InvalidArgumentError):
            sess.run(q, {x: np.array([1, 5], np.int32)})


def test_fusion_can_be_turned_off(monkeypatch):
    monkeypatch.setenv("GPUGRAPH_FUSION", "0")
    a, b, c, total = chain_graph()
    with tf.Session() as sess:
        sess.run(total, {a: np.ones(2, np.float32), b: np.ones(2, np.float32), c: np.ones(2, np.float32)})
        assert not any(s.ops for s in last_plan(sess).steps)


def test_a_simulated_gpu_counts_one_kernel_per_region():
    a, b, c, total = chain_graph()
    feeds = {t: np.ones(4, np.float32) for t in (a, b, c)}
    with simulated_gpus(1), tf.Session() as sess:
        metadata = tf.RunMetadata()
        value = sess.run(total, feeds, options=tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE),
                         run_metadata=metadata)
    gpu_nodes = [ns for dev in metadata.step_stats.dev_stats if dev.device.endswith("GPU:0") for ns in dev.node_stats]
    assert float(value) == pytest.approx(float(numpy_chain(*feeds.values())))
    assert len(gpu_nodes) == 1  # the fused region, ending in the sum
    assert any("FusedElementwise" in ns.timeline_label for ns in gpu_nodes)


def test_an_independent_step_moves_ahead_so_the_region_stays_whole():
    x = tf.placeholder(tf.float32, [None, 2], name="x")  # sizes known only at run time: the region fuses
    m = tf.placeholder(tf.float32, [None, None], name="m")
    e = tf.exp(x)
    product = tf.matmul(m, m)  # created between the region's ops, needing none of them
    out = e * 2.0 + product
    v = tf.Variable(np.ones((2, 2), np.float32), name="v")
    read = v * 3.0
    with tf.control_dependencies([read]):
        write = tf.assign_add(v, tf.ones([2, 2]))  # a write never moves ahead of a region reading v
    feeds = {x: np.zeros((2, 2), np.float32), m: np.eye(2, dtype=np.float32)}
    with tf.Session() as sess:
        sess.run(v.initializer)
        value, read_value, _ = sess.run([out, read, write], feeds)
        steps = last_plan(sess).steps
    fused = [[op.type for op in s.ops] for s in steps if s.ops]
    assert ["Exp", "Mul", "Add"] in fused
    np.testing.assert_allclose(value, 2.0 + np.eye(2), rtol=1e-6)
    np.testing.assert_array_equal(read_value, np.full((2, 2), 3.0, np.float32))


def test_unrelated_chains_of_different_sizes_are_not_one_region(monkeypatch):
    monkeypatch.setattr(fused_step, "COMPILE_AFTER", 1)
    x = tf.placeholder(tf.float32, [None], name="x")
    y = tf.placeholder(tf.float32, [None], name="y")
    ex = tf.exp(x)
    ey = tf.exp(y)  # created in between: consecutive with x's chain, but about another array
    a = ex * 2.0
    b = ey * 3.0
    rng = np.random.default_rng(2)
    feeds = {x: rng.standard_normal(fused_step.LARGE_ELEMENTS).astype(np.float32),
             y: rng.standard_normal(2 * fused_step.LARGE_ELEMENTS).astype(np.float32)}
    with tf.Session() as sess:
        for _ in range(3):
            va, vb = sess.run([a, b], feeds)
    np.testing.assert_allclose(va, np.exp(feeds[x]) * 2.0, rtol=1e-6)
    np.testing.assert_allclose(vb, np.exp(feeds[y]) * 3.0, rtol=1e-6)


def test_a_long_chain_becomes_several_bounded_regions():
    x = tf.placeholder(tf.float32, [None], name="x")
    y = x
    for _ in range(100):
        y = y * 1.5 - 0.25
    with tf.Session() as sess:
        value = sess.run(y, {x: np.zeros(3, np.float32)})
        sizes = [len(s.ops) for s in last_plan(sess).steps if s.ops]
    expected = np.zeros(3, np.float32)
    for _ in range(100):
        expected = expected * np.float32(1.5) - np.float32(0.25)
    np.testing.assert_allclose(value, expected, rtol=1e-5)
    assert sum(sizes) == 200 and max(sizes) <= fuse.MAX_REGION_OPS



@pytest.mark.parametrize("name", ["ReluGrad", "Relu6", "LeakyRelu", "Softsign", "SquaredDifference", "Select"])
def test_a_lone_op_with_a_several_pass_numpy_lowering_is_one_compiled_loop_on_the_host(name, monkeypatch):
    """Alone on the host, an op NumPy runs in several passes is a fused step: over LARGE_ELEMENTS, one
    compiled pass, with NumPy's values bit for bit (NaN, infinities and signed zeros among them)."""
    from gpugraph.ops.nn_ops import RELU_GRAD

    monkeypatch.setattr(fused_step, "COMPILE_AFTER", 1)
    graphs = {
        "ReluGrad": (lambda a, b: RELU_GRAD(a, b), lambda a, b: a * (b > 0).astype(np.float32)),
        "Relu6": (lambda a, b: tf.nn.relu6(a), lambda a, b: np.minimum(np.maximum(a, np.float32(0)), np.float32(6))),
        "LeakyRelu": (lambda a, b: tf.nn.leaky_relu(a, alpha=0.25),
                      lambda a, b: np.where(a > 0, a, a * np.float32(0.25))),
        "Softsign": (lambda a, b: tf.nn.softsign(a), lambda a, b: a / (np.float32(1) + np.abs(a))),
        "SquaredDifference": (lambda a, b: tf.squared_difference(a, b), lambda a, b: (a - b) * (a - b)),
        "Select": (lambda a, b: tf.where(a > b, a, b * 2.0), lambda a, b: np.where(a > b, a, b * np.float32(2))),
    }
    build, reference = graphs[name]
    a = tf.placeholder(tf.float32, [None])
    b = tf.placeholder(tf.float32, [None])
    out = build(a, b)
    rng = np.random.default_rng(4)
    n = 3 * fused_step.LARGE_ELEMENTS
    av, bv = (rng.standard_normal(n).astype(np.float32) * 4 for _ in range(2))
    special = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-40, -7.0, 7.0], np.float32)
    av[:8], bv[8:16] = special, special
    av[16:24], bv[16:24] = special, special[::-1]
    with tf.Session() as sess, np.errstate(all="ignore"):
        values = [sess.run(out, {a: av, b: bv}) for _ in range(3)]
        steps = last_plan(sess).steps
        want = reference(av, bv)
    (step,) = [s for s in steps if s.ops]
    assert step.fn._compiled is not None  # the compiled loop ran
    for got in values:
        assert got.dtype == np.float32 and got.tobytes() == want.astype(np.float32).tobytes()


def test_a_large_region_calling_libm_stays_numpys_on_the_host(monkeypatch):
    """A region with an exp or tanh is not compiled on the CPU (the compiler calls scalar libm where NumPy
    runs SIMD loops): it runs its ops through NumPy, with NumPy's values."""
    monkeypatch.setattr(fused_step, "COMPILE_AFTER", 1)
    a = tf.placeholder(tf.float32, [None])
    out = tf.tanh(a * 2.0) + tf.exp(a) * 0.5
    av = np.random.default_rng(5).standard_normal(3 * fused_step.LARGE_ELEMENTS).astype(np.float32)
    with tf.Session() as sess:
        values = [sess.run(out, {a: av}) for _ in range(3)]
        fused = [s for s in last_plan(sess).steps if s.ops]
    assert fused and all(s.fn._compiled is None for s in fused)
    want = np.tanh(av * np.float32(2)) + np.exp(av) * np.float32(0.5)
    for got in values:
        assert got.tobytes() == want.tobytes()


def test_a_dense_layers_bias_add_and_relu_are_one_compiled_loop(monkeypatch):
    monkeypatch.setattr(fused_step, "COMPILE_AFTER", 1)
    x = tf.placeholder(tf.float32, [None, 64])
    w = tf.placeholder(tf.float32, [64, 128])
    b = tf.placeholder(tf.float32, [128])
    y = tf.nn.relu(tf.nn.bias_add(tf.matmul(x, w), b))
    rng = np.random.default_rng(0)
    xs, ws, bs = (rng.standard_normal(s).astype(np.float32) for s in ((300, 64), (64, 128), (128,)))
    with tf.Session() as sess:
        values = [sess.run(y, {x: xs, w: ws, b: bs}) for _ in range(2)]  # op by op, then the loop
        steps = last_plan(sess).steps
    assert [[op.type for op in s.ops] for s in steps if s.ops] == [["BiasAdd", "Relu"]]
    want = np.maximum(np.matmul(xs, ws) + bs, np.float32(0))
    for value in values:
        np.testing.assert_allclose(value, want, rtol=1e-5, atol=1e-5)


def test_a_channels_first_bias_add_stays_its_own_op():
    x = tf.placeholder(tf.float32, [None, 3, 4, 4])
    b = tf.placeholder(tf.float32, [3])
    y = tf.nn.relu(tf.nn.bias_add(x * 2.0, b, data_format="NCHW"))
    rng = np.random.default_rng(1)
    xs, bs = rng.standard_normal((2, 3, 4, 4)).astype(np.float32), rng.standard_normal(3).astype(np.float32)
    with tf.Session() as sess:
        value = sess.run(y, {x: xs, b: bs})
        steps = last_plan(sess).steps
    assert "BiasAdd" in [s.op.type for s in steps if not s.ops]
    np.testing.assert_allclose(value, np.maximum(xs * 2 + bs[None, :, None, None], 0), rtol=1e-6)
