"""The shape-reads pass: a gradient that needs a forward value only for its shape reads a stand-in, so the
value's buffer goes after its last real reader; gradients keep their values."""

from __future__ import annotations

import numpy as np
import pytest

import gpugraph as tf
from gpugraph.compiler.shape_reads import shape_stand_in


@pytest.fixture(autouse=True)
def _fresh_graph():
    tf.reset_default_graph()


def dense_relu_gradients():
    x = tf.placeholder(tf.float32, [None, 64], name="x")
    w = tf.Variable(np.random.default_rng(0).standard_normal((64, 32)).astype(np.float32), name="w")
    b = tf.Variable(np.linspace(-1, 1, 32).astype(np.float32), name="b")
    pre = tf.matmul(x, w) + b  # Add's gradient sums to the product's shape: a shape-only read of it
    loss = tf.reduce_sum(tf.nn.relu(pre) * 0.5)
    return x, w, b, pre, tf.gradients(loss, [w, b])


def numpy_gradients(xs, ws, bs):
    mask = (np.matmul(xs, ws) + bs > 0).astype(np.float32) * np.float32(0.5)
    return np.matmul(xs.T, mask), mask.sum(axis=0)


def test_the_product_goes_after_its_last_real_reader_and_gradients_are_numpys():
    x, w, b, pre, grads = dense_relu_gradients()
    xs = np.random.default_rng(1).standard_normal((200, 64)).astype(np.float32)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        got = sess.run(grads, {x: xs})
        plan = list(sess._runs.values())[-1].plan
        ws, bs = sess.run([w, b])
    want = numpy_gradients(xs, ws, bs)
    for g, r in zip(got, want):
        np.testing.assert_allclose(g, r, rtol=1e-4, atol=1e-4)
    steps = plan.steps
    (made,) = [i for i, s in enumerate(steps) if s.kind == "op" and s.op is pre.op.inputs[0].op]
    product = steps[made].outputs[0]
    shape_steps = [i for i, s in enumerate(steps) if s.kind == "shape"]
    assert shape_steps == [made + 1] and steps[made + 1].inputs == (product,)
    stand_in = steps[made + 1].outputs[0]
    sum_to_shape = [s for s in steps if s.op.type == "SumToShape" and stand_in in s.inputs]
    assert sum_to_shape and all(product not in s.inputs for s in steps if s.op.type == "SumToShape")
    released_at = [i for i, dead in enumerate(plan.releases) if product in dead]
    assert released_at and released_at[0] < steps.index(sum_to_shape[0])


def test_a_traced_run_shows_no_entry_for_a_stand_in():
    x, w, b, pre, grads = dense_relu_gradients()
    xs = np.ones((10, 64), np.float32)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        meta = tf.RunMetadata()
        sess.run(grads, {x: xs}, options=tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE), run_metadata=meta)
        plan = list(sess._runs.values())[-1].plan
    entries = sum(len(d.node_stats) for d in meta.step_stats.dev_stats)
    assert any(s.kind == "shape" for s in plan.steps)
    assert entries == sum(1 for s in plan.steps if s.kind != "shape")


def test_a_fetched_value_read_for_its_shape_keeps_its_own_reads():
    x, w, b, pre, grads = dense_relu_gradients()
    xs = np.random.default_rng(2).standard_normal((50, 64)).astype(np.float32)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        value, *got = sess.run([pre.op.inputs[0], *grads], {x: xs})  # the product SumToShape reads
        plan = list(sess._runs.values())[-1].plan
        ws, bs = sess.run([w, b])
    assert not any(s.kind == "shape" for s in plan.steps)  # fetched: it lives to the end anyway
    np.testing.assert_allclose(value, np.matmul(xs, ws), rtol=1e-5, atol=1e-5)
    for g, r in zip(got, numpy_gradients(xs, ws, bs)):
        np.testing.assert_allclose(g, r, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.complex128, np.bool_])
def test_a_stand_in_has_the_shape_and_dtype_and_no_memory_of_its_own(dtype):
    value = np.ones((300, 40), dtype)
    stand_in = shape_stand_in(value)
    assert stand_in.shape == value.shape and stand_in.dtype == value.dtype
    assert stand_in.strides == (0, 0) and not stand_in.flags.writeable and not np.shares_memory(stand_in, value)
    assert not stand_in.any()


def test_one_stand_in_serves_every_value_of_its_shape_and_dtype():
    first = shape_stand_in(np.ones((300, 40), np.float32))
    assert shape_stand_in(np.zeros((300, 40), np.float32)) is first  # made once, not per step
    other = shape_stand_in(np.ones((300, 40), np.float64))
    assert other is not first and other.dtype == np.float64 and other.shape == (300, 40)
    assert shape_stand_in(np.ones((40, 300), np.float32)).shape == (40, 300)


def test_small_or_non_numeric_values_stand_for_themselves():
    small = np.ones(8, np.float32)
    strings = np.array(["a"] * 5000)
    assert shape_stand_in(small) is small and shape_stand_in(strings) is strings
    assert shape_stand_in(3.0) == 3.0


def test_on_a_simulated_gpu_the_stand_in_is_made_there_and_gradients_are_numpys():
    from gpugraph.testing import simulated_gpus

    xs = np.random.default_rng(3).standard_normal((200, 64)).astype(np.float32)
    with simulated_gpus(1, memory=64 << 20):
        x, w, b, pre, grads = dense_relu_gradients()
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            got = sess.run(grads, {x: xs})
            plan = list(sess._runs.values())[-1].plan
            ws, bs = sess.run([w, b])
    shape_steps = [s for s in plan.steps if s.kind == "shape"]
    assert shape_steps and all(s.device.endswith("GPU:0") for s in shape_steps)
    for g, r in zip(got, numpy_gradients(xs, ws, bs)):
        np.testing.assert_allclose(g, r, rtol=1e-4, atol=1e-4)


def test_no_stand_in_where_it_would_gain_nothing():
    """Linear regression's product is read for its shape right after its last real read; a per-sample
    loop's values may be scalars: neither gets a stand-in step (it would only cost a call)."""
    X = tf.placeholder(tf.float32, (None, 9))
    y = tf.placeholder(tf.float32, (None, 1))
    theta = tf.Variable(np.ones((9, 1), np.float32))
    step = tf.train.GradientDescentOptimizer(0.01).minimize(tf.reduce_mean(tf.square(tf.matmul(X, theta) - y)))
    x1 = tf.placeholder(tf.float32)
    w1 = tf.Variable(2.0)
    step1 = tf.train.GradientDescentOptimizer(0.01).minimize(tf.square(x1 * w1 - 1.0))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(step, {X: np.ones((100, 9), np.float32), y: np.ones((100, 1), np.float32)})
        sess.run(step1, {x1: 0.5})
        plans = [run.plan for run in sess._runs.values()]
    assert not any(s.kind == "shape" for plan in plans for s in plan.steps)
