"""clip_by_norm, global_norm, clip_by_global_norm and clip_by_value: values, gradients, names, errors."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import gpugraph as tf
from op_testing import graph, run  # noqa: F401 - graph: each test's fresh default graph (autouse)


def np_clip_by_norm(t: np.ndarray, c: float, axes: Any = None) -> np.ndarray:
    norm = np.sqrt(np.sum(t * t, axis=axes, keepdims=True))
    return t * c / np.maximum(norm, c)


def numeric_grad(f: Any, x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Central differences of a scalar function of x (float64)."""
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[i] += eps
        down[i] -= eps
        g[i] = (f(up) - f(down)) / (2 * eps)
    return g


# --- clip_by_norm ---
def test_seed_scalar_gradient_of_12_is_clipped_to_10() -> None:
    # the seed: loss = w * x * x with w = 2, x = 3 gives gradients (9, 12); clip_by_norm(g, 10) -> (9, 10)
    w, x = tf.constant(2.0), tf.constant(3.0)
    loss = w * x * x
    grads = tf.gradients(loss, [w, x])
    clipped = [tf.clip_by_norm(g, 10) for g in grads]
    assert clipped[1].dtype == tf.float32 and clipped[1].shape.as_tuple() == ()
    raw, out = run(grads, clipped)
    np.testing.assert_array_equal(raw, [9.0, 12.0])
    np.testing.assert_array_equal(out, [9.0, 10.0])
    assert run(tf.clip_by_norm(tf.constant(-12.0), 10)) == -10.0


@pytest.mark.parametrize("shape,axes,clip", [
    ((5,), None, 2.0), ((5,), None, 100.0), ((3, 4), None, 1.5), ((3, 4), [1], 1.0), ((3, 4), [0], 1.0),
    ((2, 3, 4), [0, 2], 2.0), ((2, 3, 4), [-1], 0.5),
])
def test_clip_by_norm_matches_numpy(shape: tuple[int, ...], axes: Any, clip: float) -> None:
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    got = run(tf.clip_by_norm(tf.constant(x), clip, axes=axes))
    want = np_clip_by_norm(x, clip, None if axes is None else tuple(axes))
    assert got.dtype == np.float32 and got.shape == shape
    np.testing.assert_allclose(got, want, rtol=1e-6)
    norms = np.sqrt(np.sum(got.astype(np.float64) ** 2, axis=None if axes is None else tuple(axes)))
    assert np.all(norms <= clip * (1 + 1e-6))


@settings(max_examples=25, deadline=None)
@given(hnp.arrays(np.float64, hnp.array_shapes(min_dims=0, max_dims=3, max_side=4),
                  elements=st.floats(-100, 100)),
       st.floats(0.01, 50))
def test_clip_by_norm_property(x: np.ndarray, clip: float) -> None:
    with tf.Graph().as_default():
        got = run(tf.clip_by_norm(tf.constant(x), clip))
    np.testing.assert_allclose(got, np_clip_by_norm(x, clip), rtol=1e-12, atol=1e-300)


def test_clip_by_norm_with_tensor_clip_norm_and_feeds() -> None:
    t = tf.placeholder(tf.float32, [None, 2])
    c = tf.placeholder(tf.float32, [])
    y = tf.clip_by_norm(t, c, axes=[1])
    x = np.array([[3.0, 4.0], [0.3, 0.4]], np.float32)
    np.testing.assert_allclose(run(y, feed={t: x, c: 1.0}), [[0.6, 0.8], [0.3, 0.4]], rtol=1e-6)
    np.testing.assert_allclose(run(y, feed={t: x, c: 10.0}), x, rtol=1e-6)


def test_clip_by_norm_gradient_matches_central_differences() -> None:
    rng = np.random.default_rng(1)
    weights = rng.standard_normal((3, 4))
    for scale in (5.0, 0.1):  # norm above and below the bound
        x0 = rng.standard_normal((3, 4)) * scale
        with tf.Graph().as_default():
            x = tf.constant(x0)
            loss = tf.reduce_sum(tf.clip_by_norm(x, 2.0) * weights)
            got = run(tf.gradients(loss, x)[0])
        want = numeric_grad(lambda v: float(np.sum(np_clip_by_norm(v, 2.0) * weights)), x0)
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-8)


def test_clip_by_norm_of_zeros_has_finite_gradient() -> None:
    z = tf.zeros([3])
    y = tf.clip_by_norm(z, 1.0)
    out, g = run(y, tf.gradients(tf.reduce_sum(y), z)[0])
    np.testing.assert_array_equal(out, [0.0, 0.0, 0.0])
    np.testing.assert_array_equal(g, [1.0, 1.0, 1.0])  # TF1's two-where trick: no NaN from sqrt(0)


def test_clip_by_norm_names() -> None:
    a = tf.constant([3.0, 4.0])
    assert tf.clip_by_norm(a, 2.0).op.name == "clip_by_norm"
    assert tf.clip_by_norm(a, 2.0).op.name == "clip_by_norm_1"
    assert tf.clip_by_norm(a, 2.0, name="c").name == "c:0"
    with tf.name_scope("grads"):
        assert tf.clip_by_norm(a, 2.0).op.name == "grads/clip_by_norm"


def test_clip_by_norm_errors() -> None:
    with pytest.raises(TypeError, match="floating point"):
        tf.clip_by_norm(tf.constant([1, 2]), 1)
    with pytest.raises(ValueError, match="incompatible"):
        tf.clip_by_norm(tf.constant([3.0, 4.0]), tf.constant([[1.0, 2.0]]))
    with pytest.raises(TypeError):
        tf.clip_by_norm(tf.constant([3.0, 4.0]), tf.constant(1.0, tf.float64))


# --- global_norm ---
def test_global_norm_matches_numpy_and_ignores_none() -> None:
    a = np.array([3.0, 4.0], np.float32)
    b = np.array([[1.0, 2.0], [2.0, 4.0]], np.float32)
    n = tf.global_norm([tf.constant(a), None, tf.constant(b)])
    assert n.op.name == "global_norm/global_norm" and n.dtype == tf.float32 and n.shape.as_tuple() == ()
    np.testing.assert_allclose(run(n), np.sqrt(np.sum(a * a) + np.sum(b * b)), rtol=1e-6)
    assert tf.global_norm((tf.constant(a),), name="gn").op.name == "gn/global_norm"  # a tuple is a sequence


def test_global_norm_of_nothing_is_zero() -> None:
    for t_list in ([None], []):
        n = tf.global_norm(t_list)
        assert n.dtype == tf.float32
        assert run(n) == 0.0


def test_global_norm_gradient() -> None:
    a0, b0 = np.array([3.0, 4.0]), np.array([[1.0, 2.0]])
    a, b = tf.constant(a0), tf.constant(b0)
    ga, gb = run(tf.gradients(tf.global_norm([a, b]), [a, b]))
    norm = np.sqrt(np.sum(a0 ** 2) + np.sum(b0 ** 2))
    np.testing.assert_allclose(ga, a0 / norm, rtol=1e-12)
    np.testing.assert_allclose(gb, b0 / norm, rtol=1e-12)


@pytest.mark.parametrize("fn", [tf.global_norm, lambda t: tf.clip_by_global_norm(t, 1.0)])
def test_non_sequence_lists_are_type_errors(fn: Any) -> None:
    a = tf.constant([1.0])
    for bad in (a, (t for t in [a]), "abc", {a}):
        with pytest.raises(TypeError, match="should be a sequence"):
            fn(bad)


# --- clip_by_global_norm ---
def test_clip_by_global_norm_values_none_and_names() -> None:
    a = np.array([3.0, 4.0], np.float32)
    b = np.array([[1.0, 2.0], [2.0, 4.0]], np.float32)
    clipped, norm = tf.clip_by_global_norm([tf.constant(a), None, tf.constant(b)], 2.0)
    assert clipped[1] is None and len(clipped) == 3
    assert [clipped[0].op.name, clipped[2].op.name] == ["clip_by_global_norm/clip_by_global_norm/_0",
                                                        "clip_by_global_norm/clip_by_global_norm/_2"]
    assert norm.op.name == "global_norm/global_norm"
    ca, cb, n = run(clipped[0], clipped[2], norm)
    want_norm = np.sqrt(np.sum(a * a) + np.sum(b * b))
    np.testing.assert_allclose(n, want_norm, rtol=1e-6)
    np.testing.assert_allclose(ca, a * 2.0 / want_norm, rtol=1e-6)
    np.testing.assert_allclose(cb, b * 2.0 / want_norm, rtol=1e-6)
    total = np.sqrt(np.sum(ca.astype(np.float64) ** 2) + np.sum(cb.astype(np.float64) ** 2))
    np.testing.assert_allclose(total, 2.0, rtol=1e-6)


def test_clip_by_global_norm_named() -> None:
    clipped, norm = tf.clip_by_global_norm([tf.constant([1.0]), tf.constant([2.0])], 2.0, name="gc")
    assert [c.op.name for c in clipped] == ["gc_1/gc_1/_0", "gc_1/gc_1/_1"]  # TF1's names exactly
    assert norm.op.name == "gc/global_norm"


def test_clip_by_global_norm_within_bound_is_unchanged() -> None:
    x = np.array([0.3, -0.4], np.float32)
    clipped, norm = tf.clip_by_global_norm([tf.constant(x)], 5)
    out, n = run(clipped[0], norm)
    np.testing.assert_allclose(out, x, rtol=1e-6)
    np.testing.assert_allclose(n, 0.5, rtol=1e-6)


def test_clip_by_global_norm_use_norm_is_returned_and_used() -> None:
    x = np.array([3.0, 4.0], np.float32)
    use = tf.constant(10.0)
    clipped, norm = tf.clip_by_global_norm([tf.constant(x)], 2.0, use_norm=use)
    assert norm is use
    np.testing.assert_allclose(run(clipped[0]), x * 0.2, rtol=1e-6)


def test_clip_by_global_norm_infinite_norm_gives_nan() -> None:
    clipped, norm = tf.clip_by_global_norm([tf.constant([np.inf, 1.0]), tf.constant([2.0])], 1.0)
    a, b, n = run(clipped[0], clipped[1], norm)
    assert np.isinf(n) and np.all(np.isnan(a)) and np.all(np.isnan(b))


def test_clip_by_global_norm_gradient_matches_central_differences() -> None:
    rng = np.random.default_rng(2)
    a0, b0 = rng.standard_normal(3) * 3, rng.standard_normal((2, 2)) * 3
    wa, wb = rng.standard_normal(3), rng.standard_normal((2, 2))

    def f(av: np.ndarray, bv: np.ndarray) -> float:
        n = np.sqrt(np.sum(av ** 2) + np.sum(bv ** 2))
        s = 1.5 / max(n, 1.5)
        return float(np.sum(av * s * wa) + np.sum(bv * s * wb))

    a, b = tf.constant(a0), tf.constant(b0)
    (ca, cb), _ = tf.clip_by_global_norm([a, b], 1.5)
    ga, gb = run(tf.gradients(tf.reduce_sum(ca * wa) + tf.reduce_sum(cb * wb), [a, b]))
    np.testing.assert_allclose(ga, numeric_grad(lambda v: f(v, b0), a0), rtol=1e-5)
    np.testing.assert_allclose(gb, numeric_grad(lambda v: f(a0, v), b0), rtol=1e-5)


# --- clip_by_value ---
def test_clip_by_value_values_and_gradients() -> None:
    t = tf.constant([-3.0, -1.0, 0.0, 0.5, 1.0, 2.0])
    lo, hi = tf.constant(-1.0), tf.constant(1.0)
    y = tf.clip_by_value(t, lo, hi)
    assert y.op.name == "clip_by_value"
    weights = tf.constant([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    out, gt, glo, ghi = run(y, *tf.gradients(tf.reduce_sum(y * weights), [t, lo, hi]))
    np.testing.assert_array_equal(out, [-1.0, -1.0, 0.0, 0.5, 1.0, 1.0])
    # inside the range (bounds included, as TF1's Minimum/Maximum gradients) the gradient passes; outside 0
    np.testing.assert_array_equal(gt, [0.0, 2.0, 3.0, 4.0, 5.0, 0.0])
    assert glo == 1.0 and ghi == 6.0  # the bounds collect the gradient where they were chosen


def test_clip_by_value_elementwise_bounds_and_names() -> None:
    x = np.array([[-2.0, 0.5], [3.0, -0.1]], np.float32)
    lo = np.array([[-1.0, 0.0], [0.0, 0.0]], np.float32)
    hi = np.array([[1.0, 0.2], [2.0, 1.0]], np.float32)
    y = tf.clip_by_value(tf.constant(x), lo, hi, name="cv")
    assert y.op.name == "cv"
    np.testing.assert_array_equal(run(y), np.clip(x, lo, hi))
    with pytest.raises(ValueError, match="broadcast"):
        tf.clip_by_value(tf.constant([1.0, 2.0]), 0.0, tf.constant([[1.0, 2.0], [3.0, 4.0]]))
