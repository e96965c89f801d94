"""Fused steps writing over inputs they read last: values equal NumPy's computed apart, nothing another
holder can see is overwritten (fetches, feeds, variables, views, arrays a py_func kept), and a simulated
GPU's step takes fewer buffers than with GPUGRAPH_IN_PLACE=0."""

from __future__ import annotations

import numpy as np
import pytest

import gpugraph as tf
from gpugraph.compiler import codegen, fused_step
from gpugraph.compiler.memory_plan import ENV_IN_PLACE
from gpugraph.runtime.simulated_memory import DeviceNumpy
from gpugraph.testing import simulated_gpus

ROWS, COLS = 512, 64  # 32k elements: large enough for the compiled loop


@pytest.fixture(autouse=True)
def compile_at_once(monkeypatch):
    monkeypatch.setattr(fused_step, "COMPILE_AFTER", 1)
    monkeypatch.delenv(ENV_IN_PLACE, raising=False)
    tf.reset_default_graph()


@pytest.fixture
def given(monkeypatch):
    """The buffers the runner gave to donating steps (a step writes over these)."""
    seen: list[int] = []
    real = codegen.owned

    def spy(s, j):
        out = real(s, j)
        if out is not None:
            seen.append(j)
        return out
    monkeypatch.setattr(codegen, "owned", spy)
    return seen


def data(seed: int = 0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((ROWS, COLS)).astype(np.float32), rng.standard_normal((COLS, COLS)).astype(np.float32),
            rng.standard_normal(COLS).astype(np.float32))


def layer_inputs():
    """Placeholders of a dense layer's batch, weights and bias."""
    return (tf.placeholder(tf.float32, [None, COLS]), tf.placeholder(tf.float32, [COLS, COLS]),
            tf.placeholder(tf.float32, [COLS]))


def dense_relu(x, w, b):
    """NumPy's relu(x @ w + b), in float32 as the graph computes it."""
    return np.maximum(np.matmul(x, w) + b, np.float32(0))


def test_a_dying_product_takes_its_bias_and_relu_in_place_with_numpys_values(given):
    xs, ws, bs = data()
    x, w, b = layer_inputs()
    y = tf.nn.relu(tf.matmul(x, w) + b) * 3.0 - b
    with tf.Session() as sess:
        got = [sess.run(y, {x: xs, w: ws, b: bs}) for _ in range(3)]
    want = dense_relu(xs, ws, bs) * np.float32(3) - bs
    for g in got:
        np.testing.assert_allclose(g, want, rtol=1e-5, atol=1e-5)
    assert given  # the product's buffer was written over
    assert got[1].tobytes() == got[2].tobytes()


def test_a_fetched_value_is_never_written_over(given):
    xs, ws, bs = data(1)
    x, w, b = layer_inputs()
    product = tf.matmul(x, w)
    y = tf.nn.relu(product + b)
    with tf.Session() as sess:
        for _ in range(3):
            p, out = sess.run([product, y], {x: xs, w: ws, b: bs})
            np.testing.assert_allclose(p, np.matmul(xs, ws), rtol=1e-5, atol=1e-5)
            np.testing.assert_allclose(out, dense_relu(xs, ws, bs), rtol=1e-5, atol=1e-5)
    assert not given


def test_feeds_and_variables_are_read_not_written(given):
    xs, _, bs = data(2)
    keep_x, keep_b = xs.copy(), bs.copy()
    x = tf.placeholder(tf.float32, [None, COLS])
    v = tf.Variable(xs * 2.0)
    b = tf.placeholder(tf.float32, [COLS])
    y = tf.nn.relu(x + b) + tf.nn.relu(v + b)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(3):
            out = sess.run(y, {x: xs, b: bs})
        stored = sess.run(v)
    np.testing.assert_array_equal(xs, keep_x)
    np.testing.assert_array_equal(bs, keep_b)
    np.testing.assert_array_equal(stored, keep_x * np.float32(2))
    want = np.maximum(xs + bs, 0) + np.maximum(keep_x * np.float32(2) + bs, 0)
    np.testing.assert_allclose(out, want, rtol=1e-6)


def test_an_array_a_py_func_kept_is_not_written_over(given):
    """The plan cannot know that a Python function kept its argument; the runner sees another holder."""
    xs, ws, bs = data(3)
    kept: list[np.ndarray] = []

    def keep(a):
        kept.append(a)
        return np.float32(a.sum())
    x, w, b = layer_inputs()
    product = tf.matmul(x, w)
    total = tf.py_func(keep, [product], tf.float32)
    with tf.control_dependencies([total]):
        y = tf.nn.relu(product + b)
    with tf.Session() as sess:
        for _ in range(3):
            sess.run(y, {x: xs, w: ws, b: bs})
    for a in kept:
        np.testing.assert_allclose(a, np.matmul(xs, ws), rtol=1e-5, atol=1e-5)


def test_a_view_of_the_input_that_outlives_the_step_keeps_its_values(given):
    xs, ws, bs = data(4)
    x, w, b = layer_inputs()
    product = tf.matmul(x, w)
    flat = tf.reshape(product, [-1])  # a view of the product's buffer, fetched
    y = tf.nn.relu(product + b)
    with tf.Session() as sess:
        for _ in range(3):
            f, out = sess.run([flat, y], {x: xs, w: ws, b: bs})
            np.testing.assert_allclose(f, np.matmul(xs, ws).reshape(-1), rtol=1e-5, atol=1e-5)
            np.testing.assert_allclose(out, dense_relu(xs, ws, bs), rtol=1e-5, atol=1e-5)


def test_an_input_read_through_a_transpose_is_not_written_elementwise(given):
    rng = np.random.default_rng(5)
    square = rng.standard_normal((256, 256)).astype(np.float32)
    ws = rng.standard_normal((256, 256)).astype(np.float32)
    x = tf.placeholder(tf.float32, [256, 256])
    w = tf.placeholder(tf.float32, [256, 256])
    product = tf.matmul(x, w)
    y = tf.nn.relu(tf.transpose(product) + 1.0) * 2.0
    with tf.Session() as sess:
        for _ in range(3):
            out = sess.run(y, {x: square, w: ws})
            want = np.maximum(np.matmul(square, ws).T + np.float32(1), 0) * np.float32(2)
            np.testing.assert_allclose(out, want, rtol=1e-5, atol=1e-4)


def test_an_input_read_twice_by_the_step_is_still_read_right(given):
    xs, ws, _ = data(6)
    x = tf.placeholder(tf.float32, [None, COLS])
    w = tf.placeholder(tf.float32, [COLS, COLS])
    p = tf.matmul(x, w)
    y = tf.nn.relu(p * p - p)
    with tf.Session() as sess:
        for _ in range(3):
            out = sess.run(y, {x: xs, w: ws})
    q = np.matmul(xs, ws)
    np.testing.assert_allclose(out, np.maximum(q * q - q, 0), rtol=1e-4, atol=1e-4)


def allocations_per_step(monkeypatch, in_place: bool) -> tuple[float, list[np.ndarray]]:
    """Device buffers a steady training step of a small MLP takes on a simulated GPU, and its losses."""
    monkeypatch.setenv(ENV_IN_PLACE, "1" if in_place else "0")
    tf.reset_default_graph()
    tf.set_random_seed(1)
    x = tf.placeholder(tf.float32, [None, COLS], name="x")
    y = tf.placeholder(tf.int64, [None], name="y")
    hidden = tf.layers.dense(x, 128, activation=tf.nn.relu, name="hidden")
    hidden = tf.layers.dense(hidden, 128, activation=tf.nn.relu, name="hidden2")
    logits = tf.layers.dense(hidden, 10, name="logits")
    loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
    train = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
    rng = np.random.default_rng(0)
    feed = {x: rng.standard_normal((ROWS, COLS)).astype(np.float32), y: rng.integers(0, 10, ROWS)}
    with simulated_gpus(1, memory=256 << 20) as (gpu,):
        gpu.xp = DeviceNumpy(gpu.array_type)
        gpu.account = lambda arrays, what="": 0  # the device alone counts what is on it
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            counts, losses = [], []
            for _ in range(5):
                counts.append(gpu.allocations)
                losses.append(sess.run([train, loss], feed)[1])
            counts.append(gpu.allocations)
    return float(np.diff(counts)[-2:].mean()), losses


def test_a_simulated_gpu_step_takes_fewer_buffers_in_place_with_the_same_losses(monkeypatch):
    apart, losses_apart = allocations_per_step(monkeypatch, in_place=False)
    in_place, losses = allocations_per_step(monkeypatch, in_place=True)
    # bias + ReLU over the dying product, and ReLU's gradient over the dying incoming gradient
    assert in_place <= apart - 2
    np.testing.assert_array_equal(losses, losses_apart)


class _Sub(np.ndarray):
    pass


def test_owned_gives_an_array_only_the_slot_list_holds():
    fresh = [np.zeros(4)]
    assert codegen.owned(fresh, 0) is fresh[0]
    held = [np.zeros(4)]
    other = held[0]
    assert codegen.owned(held, 0) is None and other is held[0]
    twice = [np.zeros(4)] * 2
    assert codegen.owned(twice, 0) is None
    viewed = [np.zeros(4)]
    view = viewed[0][1:]
    assert codegen.owned(viewed, 0) is None and view.base is viewed[0]
    base = np.zeros(4)
    slice_of_held = [base[1:]]
    assert codegen.owned(slice_of_held, 0) is None  # its memory is reachable through ``base``
    wrapped = [np.frombuffer(bytearray(32), np.float32)]
    assert codegen.owned(wrapped, 0) is None  # memory of another object
    device_like = [np.zeros(4).view(_Sub)]  # a device array: a subclass view of the array owning memory
    assert codegen.owned(device_like, 0) is device_like[0]
    assert codegen.owned([3.0], 0) is None and codegen.owned([np.float32(3)], 0) is None


def test_scalars_and_small_arrays_are_not_offered_for_writing_over(monkeypatch):
    """A per-sample loop's plan offers nothing; a step whose arrays were small runs plainly next time."""
    calls = []
    real = codegen.owned
    monkeypatch.setattr(codegen, "owned", lambda s, j: calls.append(j) or real(s, j))
    x = tf.placeholder(tf.float32, name="x")  # unknown rank: fed a Python float
    w = tf.Variable(0.5)
    loss = tf.square(tf.nn.relu(x * w + 1.0) - 2.0)
    batch = tf.placeholder(tf.float32, [None, 8])
    small = tf.nn.relu(tf.matmul(batch, tf.ones([8, 8])) * 2.0 + 1.0)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(3):
            sess.run(loss, {x: 0.25})
        plan = list(sess._runs.values())[-1].plan
        assert not any(step.donate for step in plan.steps)
        for _ in range(4):
            out = sess.run(small, {batch: np.ones((10, 8), np.float32)})
        plan = list(sess._runs.values())[-1].plan
    assert any(step.donate for step in plan.steps)  # the batch size is unknown to the plan
    assert len(calls) <= 1  # the first run offered a buffer; the step said its arrays are small
    np.testing.assert_allclose(out, np.full((10, 8), 17.0, np.float32))
