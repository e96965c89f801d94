"""MaxPool, AvgPool and their gradient ops against window-by-window NumPy loops (an independent reference)."""

from __future__ import annotations

import numpy as np
import pytest
from op_testing import graph, run  # noqa: F401 - graph is an autouse fixture

import gpugraph as tf
from gpugraph.ops.pool_ops import AVG_POOL, MAX_POOL, MAX_POOL_GRAD, MAX_POOL_GRAD_GRAD


def windows(h: int, k: int, s: int, padding: str) -> list[tuple[int, int]]:
    """[start, stop) of each window along one axis, clipped to the input (TF's SAME split)."""
    if padding == "VALID":
        return [(i * s, i * s + k) for i in range((h - k) // s + 1)]
    out = -(-h // s)
    before = max((out - 1) * s + k - h, 0) // 2
    return [(max(i * s - before, 0), min(i * s - before + k, h)) for i in range(out)]


def loop_pool(x: np.ndarray, k: tuple[int, int], s: tuple[int, int], padding: str, how: str) -> np.ndarray:
    rows, cols = windows(x.shape[1], k[0], s[0], padding), windows(x.shape[2], k[1], s[1], padding)
    out = np.zeros((x.shape[0], len(rows), len(cols), x.shape[3]))
    for i, (r0, r1) in enumerate(rows):
        for j, (c0, c1) in enumerate(cols):
            win = x[:, r0:r1, c0:c1, :]
            out[:, i, j, :] = win.max(axis=(1, 2)) if how == "max" else win.mean(axis=(1, 2))
    return out


def loop_max_pool_grad(x: np.ndarray, dy: np.ndarray, k: tuple[int, int], s: tuple[int, int],
                       padding: str) -> np.ndarray:
    rows, cols = windows(x.shape[1], k[0], s[0], padding), windows(x.shape[2], k[1], s[1], padding)
    dx = np.zeros_like(x)
    for b in range(x.shape[0]):
        for c in range(x.shape[3]):
            for i, (r0, r1) in enumerate(rows):
                for j, (c0, c1) in enumerate(cols):
                    win = x[b, r0:r1, c0:c1, c]
                    r, q = np.unravel_index(np.argmax(win), win.shape)
                    dx[b, r0 + r, c0 + q, c] += dy[b, i, j, c]
    return dx


CASES = [((2, 2), (2, 2), "SAME"), ((3, 3), (2, 2), "SAME"), ((3, 2), (1, 2), "VALID"), ((2, 3), (2, 1), "SAME")]


def _attrs(k: tuple[int, int], s: tuple[int, int], padding: str) -> dict:
    return {"ksize": (1, *k, 1), "strides": (1, *s, 1), "padding": padding, "data_format": "NHWC"}


def _distinct(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.permutation(int(np.prod(shape))).reshape(shape).astype(np.float64)


@pytest.mark.parametrize("k, s, padding", CASES)
def test_max_and_avg_pool_match_window_loops(k: tuple[int, int], s: tuple[int, int], padding: str) -> None:
    rng = np.random.default_rng(0)
    xv = _distinct(rng, (2, 7, 6, 3))
    got_max, got_avg = run(MAX_POOL(tf.constant(xv), **_attrs(k, s, padding)),
                           AVG_POOL(tf.constant(xv), **_attrs(k, s, padding)))
    np.testing.assert_array_equal(got_max, loop_pool(xv, k, s, padding, "max"))
    np.testing.assert_allclose(got_avg, loop_pool(xv, k, s, padding, "mean"), rtol=1e-12)


@pytest.mark.parametrize("k, s, padding", CASES)
def test_pool_gradients_match_window_loops(k: tuple[int, int], s: tuple[int, int], padding: str) -> None:
    rng = np.random.default_rng(1)
    xv = _distinct(rng, (2, 7, 6, 3))
    x = tf.constant(xv)
    y_max, y_avg = MAX_POOL(x, **_attrs(k, s, padding)), AVG_POOL(x, **_attrs(k, s, padding))
    g = rng.standard_normal(y_max.shape.as_list())
    d_max, = tf.gradients(y_max, [x], grad_ys=tf.constant(g))
    d_avg, = tf.gradients(y_avg, [x], grad_ys=tf.constant(g))
    got_max, got_avg = run(d_max, d_avg)
    np.testing.assert_allclose(got_max, loop_max_pool_grad(xv, g, k, s, padding), rtol=1e-12)
    # avg pool is linear: <avg_pool(x), g> = <x, d_avg>
    np.testing.assert_allclose(np.sum(got_avg * xv), np.sum(loop_pool(xv, k, s, padding, "mean") * g), rtol=1e-10)


def test_max_pool_grad_grad_reads_the_gradient_at_each_maximum() -> None:
    rng = np.random.default_rng(2)
    xv = _distinct(rng, (1, 6, 6, 2))
    attrs = _attrs((3, 3), (2, 2), "SAME")
    x = tf.constant(xv)
    y = MAX_POOL(x, **attrs)
    gx = rng.standard_normal(xv.shape)
    got = run(MAX_POOL_GRAD_GRAD(x, y, tf.constant(gx), **attrs))
    # <MaxPoolGrad(dy), gx> = <dy, MaxPoolGradGrad(gx)> for every dy: check with one-hot dy
    dy = np.zeros(got.shape)
    dy[0, 1, 2, 1] = 1.0
    want = np.sum(loop_max_pool_grad(xv, dy, (3, 3), (2, 2), "SAME") * gx)
    np.testing.assert_allclose(got[0, 1, 2, 1], want, rtol=1e-12)


def test_second_order_max_pool_gradient_is_maxpoolgradgrad() -> None:
    x = tf.constant(np.arange(16.0).reshape(1, 4, 4, 1))
    y = MAX_POOL(x, **_attrs((2, 2), (2, 2), "VALID"))
    dy = tf.ones_like(y)
    dx, = tf.gradients(y, [x], grad_ys=dy)
    ddy, = tf.gradients(dx, [dy], grad_ys=tf.constant(np.arange(16.0).reshape(1, 4, 4, 1)))
    assert dx.op.type == "MaxPoolGrad"
    np.testing.assert_array_equal(run(ddy)[0, :, :, 0], [[5.0, 7.0], [13.0, 15.0]])
    assert MAX_POOL_GRAD.name == "MaxPoolGrad"


def test_pool_errors_name_the_op() -> None:
    x = tf.placeholder(tf.float32, [1, 4, 4, 1])
    with pytest.raises(ValueError, match="does not yet support ksize in the batch and depth.*MaxPool"):
        MAX_POOL(x, **dict(_attrs((2, 2), (2, 2), "SAME"), ksize=(2, 2, 2, 1)))
    with pytest.raises(ValueError, match="EXPLICIT padding.*AvgPool"):
        AVG_POOL(x, **_attrs((2, 2), (2, 2), "EXPLICIT"))
    with pytest.raises(ValueError, match="Shape must be rank 4 but is rank 3.*MaxPool"):
        MAX_POOL(tf.zeros([4, 4, 1]), **_attrs((2, 2), (2, 2), "SAME"))


def test_int_max_pool_pads_with_the_dtype_minimum() -> None:
    xv = -np.arange(1, 10, dtype=np.int32).reshape(1, 3, 3, 1)
    got = run(MAX_POOL(tf.constant(xv), **_attrs((2, 2), (2, 2), "SAME")))
    np.testing.assert_array_equal(got[0, :, :, 0], [[-1, -3], [-7, -9]])
    assert got.dtype == np.int32
