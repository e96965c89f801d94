"""unbroadcast (sum a gradient back to an input's shape) and BroadcastReduced (expand a reduced one)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import gpugraph as tf
from op_testing import graph, run  # noqa: F401 - graph: each test's fresh default graph (autouse)
from gpugraph.ops.grad_util import BROADCAST_REDUCED, unbroadcast


def test_equal_static_shapes_return_the_gradient_itself(graph: tf.Graph) -> None:
    g, x = tf.constant(np.ones((2, 3))), tf.constant(np.zeros((2, 3)))
    before = len(graph.get_operations())
    assert unbroadcast(g, x) is g
    assert unbroadcast(None, x) is None
    assert len(graph.get_operations()) == before


def test_partially_known_equal_shapes_still_get_an_op() -> None:
    g, x = tf.placeholder(tf.float64, [None, 3]), tf.placeholder(tf.float64, [None, 3])
    out = unbroadcast(g, x)
    assert out is not g and out.op.type == "SumToShape" and out.shape.as_tuple() == (None, 3)
    v = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(run(out, feed={g: v, x: v}), v)


@pytest.mark.parametrize("g_shape,x_shape", [((4, 2, 3), (2, 1)), ((2, 3), (3,)), ((2, 3), ()), ((2, 3), (1, 3)),
                                             ((2, 3), (2, 1)), ((5, 1, 4), (1, 1, 1)), ((3, 2, 4), (3, 1, 4))])
def test_broadcast_gradients_sum_back_to_the_input_shape(g_shape: tuple[int, ...], x_shape: tuple[int, ...]) -> None:
    gv = np.random.default_rng(0).standard_normal(g_shape)
    g, x = tf.constant(gv), tf.constant(np.zeros(x_shape))
    out = unbroadcast(g, x)
    assert out.shape.as_tuple() == x_shape
    lead = len(g_shape) - len(x_shape)
    want = gv.sum(axis=tuple(range(lead)))
    want = want.sum(axis=tuple(i for i, d in enumerate(x_shape) if d == 1), keepdims=True).reshape(x_shape)
    np.testing.assert_allclose(run(out), want, rtol=1e-12)


def test_unbroadcast_with_shapes_known_at_run_time() -> None:
    g, x = tf.placeholder(tf.float64), tf.placeholder(tf.float64, [None, 1])
    out = unbroadcast(g, x)
    assert out.shape.as_tuple() == (None, 1)
    gv = np.arange(24.0).reshape(2, 3, 4)
    np.testing.assert_array_equal(run(out, feed={g: gv, x: np.zeros((3, 1))}), gv.sum(0).sum(1, keepdims=True))


def test_broadcast_gradients_through_add_and_mul() -> None:
    a = tf.constant(np.arange(6.0).reshape(2, 3))
    b = tf.constant(np.array([1.0, 2.0, 3.0]))
    c = tf.constant(2.0, tf.float64)
    ga, gb, gc = tf.gradients(tf.reduce_sum(a * b + c), [a, b, c])
    got = run(ga, gb, gc)
    np.testing.assert_array_equal(got[0], np.broadcast_to([1.0, 2.0, 3.0], (2, 3)))
    np.testing.assert_array_equal(got[1], [3.0, 5.0, 7.0])
    assert got[2] == 6.0


@pytest.mark.parametrize("axes,scale", [((1,), True), ((0, 2), False), ((-1,), True), (None, False), (None, True)])
def test_broadcast_reduced_expands_like_the_reduction(axes: Any, scale: bool) -> None:
    xv = np.zeros((2, 3, 4))
    norm = None if axes is None else tuple(a % 3 for a in axes)
    dv = np.random.default_rng(1).standard_normal(np.sum(xv, axis=norm).shape)
    out = BROADCAST_REDUCED(tf.constant(dv), tf.constant(xv), axes=axes, scale=scale)
    assert out.shape.as_tuple() == xv.shape
    keep = np.expand_dims(dv, norm) if norm is not None else np.reshape(dv, (1, 1, 1))
    want = np.broadcast_to(keep, xv.shape) / (xv.size // max(dv.size, 1) if scale else 1)
    np.testing.assert_allclose(run(out), want, rtol=1e-12)
