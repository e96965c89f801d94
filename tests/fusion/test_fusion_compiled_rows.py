"""The compiled CPU loop reads a row broadcast over the result's last axis (a bias over a batch) at the
column, without copying it out in full; other broadcasts are copied. Values equal NumPy's."""

from __future__ import annotations

import numpy as np
import pytest

import gpugraph as tf
from gpugraph.compiler import fused_step


@pytest.fixture(autouse=True)
def compile_at_once(monkeypatch):
    monkeypatch.setattr(fused_step, "COMPILE_AFTER", 1)


@pytest.mark.parametrize("x_shape, b_shape", [((2000, 7), (7,)), ((500, 4, 7), (7,)), ((2000, 7), (1, 7)),
                                              ((2000, 7), (2000, 1)), ((500, 4, 7), (4, 7))])
def test_broadcast_inputs_give_numpys_values(x_shape, b_shape):
    rng = np.random.default_rng(0)
    x = tf.placeholder(tf.float32, [None] + list(x_shape[1:]))
    b = tf.placeholder(tf.float32, b_shape)
    y = tf.nn.relu(x + b) * 2.0 - b
    xs = rng.standard_normal(x_shape).astype(np.float32)
    bs = rng.standard_normal(b_shape).astype(np.float32)
    with tf.Session() as sess:
        first = sess.run(y, {x: xs, b: bs})  # op by op
        second = sess.run(y, {x: xs, b: bs})  # the compiled loop
        (step,) = [s for s in list(sess._runs.values())[-1].plan.steps if s.ops]
        assert step.fn._compiled is not None
        patterns = list(step.fn._compiled._functions)
    want = np.maximum(xs + bs, np.float32(0)) * np.float32(2) - bs
    for got in (first, second):
        assert got.tobytes() == want.tobytes()
    row = len(b_shape) and np.prod(b_shape) == x_shape[-1]
    assert any("r" in p for p in patterns) == bool(row)


def test_one_region_run_with_changing_shapes_gives_numpys_values_each_time():
    """The loop's layout (iteration space, how each input is read, the outputs' own shapes) is worked out
    once per input shapes and kept: alternating batches, a row then a full-size then a one-element bias,
    and an output that does not span the iteration space, each get their own."""
    rng = np.random.default_rng(3)
    x = tf.placeholder(tf.float32, [None, 7])
    b = tf.placeholder(tf.float32, None)
    y = tf.nn.relu(x + b) * 2.0 - b
    z = b * 3.0  # a second output of the region, over b's shape only
    cases = [((3000, 7), (7,)), ((2000, 7), (2000, 7)), ((3000, 7), ()), ((3000, 7), (7,)), ((1500, 7), (1, 7))]
    with tf.Session() as sess:
        for x_shape, b_shape in cases * 2:
            xs = rng.standard_normal(x_shape).astype(np.float32)
            bs = rng.standard_normal(b_shape).astype(np.float32)
            got_y, got_z = sess.run([y, z], {x: xs, b: bs})
            want_y = np.maximum(xs + bs, np.float32(0)) * np.float32(2) - bs
            assert got_y.tobytes() == want_y.tobytes()
            assert got_z.shape == bs.shape and got_z.tobytes() == (bs * np.float32(3)).tobytes()
        steps = [s for s in list(sess._runs.values())[-1].plan.steps if s.ops]
    assert any(s.fn._compiled is not None and len(s.fn._compiled._layouts) >= 3 for s in steps)


def test_a_step_run_again_with_its_shapes_takes_the_bound_loop_and_leaves_it_for_others():
    rng = np.random.default_rng(4)
    x = tf.placeholder(tf.float32, [None, 7])
    b = tf.placeholder(tf.float32, [7])
    y = tf.nn.relu(x + b) * 2.0 - b
    with tf.Session() as sess:
        for rows in (3000, 3000, 3000, 1200, 3000, 1200):
            xs = rng.standard_normal((rows, 7)).astype(np.float32)
            bs = rng.standard_normal(7).astype(np.float32)
            got = sess.run(y, {x: xs, b: bs})
            assert got.tobytes() == (np.maximum(xs + bs, np.float32(0)) * np.float32(2) - bs).tobytes()
        (step,) = [s for s in list(sess._runs.values())[-1].plan.steps if s.ops]
        assert step.fn._bound is not None and step.fn._bound_shapes[:2] == ((1200, 7), (7,))
        wide = rng.standard_normal((1200, 14)).astype(np.float32)
        got = sess.run(y, {x: wide[:, ::2], b: bs})  # strided: the bound loop refuses it, into copies it
        assert got.tobytes() == (np.maximum(wide[:, ::2] + bs, np.float32(0)) * np.float32(2) - bs).tobytes()
