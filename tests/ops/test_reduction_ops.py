"""reduce_*: axis forms, keepdims and legacy arguments, integer means, shape inference, TF1 gradients."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import gpugraph as tf
from op_testing import graph, run  # noqa: F401 - graph: each test's fresh default graph (autouse)


X = np.random.default_rng(0).uniform(0.5, 2.0, (2, 3, 4))
REDUCERS = [(tf.reduce_sum, np.sum, "Sum"), (tf.reduce_mean, np.mean, "Mean"), (tf.reduce_max, np.max, "Max"),
            (tf.reduce_min, np.min, "Min"), (tf.reduce_prod, np.prod, "Prod")]
AXES: list[Any] = [None, 1, -1, [0, 2], (0, -1), [], np.int64(2), np.array([1, 0])]


@pytest.mark.parametrize("fn,ref,name", REDUCERS, ids=[r[2] for r in REDUCERS])
def test_reductions_match_numpy_for_every_axis_form(fn: Any, ref: Any, name: str) -> None:
    t = tf.constant(X)
    outs, wants = [], []
    for axis in AXES:
        np_axis = None if axis is None else tuple(np.atleast_1d(axis).tolist())
        for keep in (False, True):
            o = fn(t, axis, keepdims=keep)
            outs.append(o)
            wants.append(ref(X, axis=np_axis, keepdims=keep))
            assert o.shape.as_tuple() == wants[-1].shape
    assert outs[0].op.name == name and outs[0].op.type == name
    for got, want in zip(run(*outs), wants):
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-12)


def test_op_names() -> None:
    x = tf.constant([1.0, 2.0])
    assert tf.reduce_mean(x, name="mse").op.name == "mse"
    assert tf.reduce_sum(x).op.name == "Sum" and tf.reduce_sum(x).op.name == "Sum_1"
    with tf.name_scope("loss"):
        assert tf.reduce_mean(x).op.name == "loss/Mean"


def test_legacy_keep_dims_and_reduction_indices() -> None:
    t = tf.constant(X)
    a = tf.reduce_sum(t, reduction_indices=[0, 2], keep_dims=True)
    b = tf.reduce_max(t, reduction_indices=1)
    assert a.shape.as_list() == [1, 3, 1] and b.shape.as_list() == [2, 4]
    got = run(a, b)
    np.testing.assert_allclose(got[0], X.sum(axis=(0, 2), keepdims=True))
    np.testing.assert_allclose(got[1], X.max(axis=1))
    assert tf.reduce_mean(t, 0, keepdims=False, keep_dims=None).shape.as_list() == [3, 4]
    with pytest.raises(ValueError, match="both 'axis' and 'reduction_indices'"):
        tf.reduce_sum(t, axis=0, reduction_indices=[1])
    with pytest.raises(ValueError, match="both 'keepdims' and 'keep_dims'"):
        tf.reduce_sum(t, 0, keepdims=True, keep_dims=True)


def test_integer_mean_truncates_toward_zero_like_tf1() -> None:
    cases = [[1, 2], [-1, -2], [7, 8, 8], [-7, 0, 0]]
    outs = [tf.reduce_mean(tf.constant(c)) for c in cases]
    assert all(o.dtype == tf.int32 for o in outs)
    got = run(*outs)
    assert [int(g) for g in got] == [1, -1, 7, -2]  # C++ integer division: -7 / 3 == -2
    assert all(g.dtype == np.int32 for g in got)
    m = run(tf.reduce_mean(tf.constant([[1, 2], [4, 4]], tf.int64), 1))
    assert m.dtype == np.int64 and m.tolist() == [1, 4]


def test_shape_inference_with_unknown_dims() -> None:
    p = tf.placeholder(tf.float64, [None, 3])
    assert tf.reduce_sum(p, 0).shape.as_tuple() == (3,)
    assert tf.reduce_sum(p, 1).shape.as_tuple() == (None,)
    assert tf.reduce_sum(p, -1, keepdims=True).shape.as_tuple() == (None, 1)
    assert tf.reduce_sum(p).shape.as_tuple() == ()
    assert tf.reduce_sum(p, keepdims=True).shape.as_tuple() == (1, 1)
    u = tf.placeholder(tf.float64)
    assert tf.reduce_mean(u).shape.as_tuple() == ()
    assert tf.reduce_mean(u, 0).shape.as_tuple() is None
    assert tf.reduce_mean(u, keepdims=True).shape.as_tuple() is None
    v = np.arange(12.0).reshape(4, 3)
    got = run(tf.reduce_mean(p, 0), tf.reduce_max(u, -1), tf.reduce_sum(u), feed={p: v, u: v})
    np.testing.assert_allclose(got[0], v.mean(0))
    np.testing.assert_allclose(got[1], v.max(-1))
    assert got[2] == v.sum()


def test_invalid_axes_raise_value_error_naming_the_op() -> None:
    t = tf.constant(X)
    with pytest.raises(ValueError, match="'Sum'.*\\[2,3,4\\]"):
        tf.reduce_sum(t, 3)
    with pytest.raises(ValueError, match="'mymean'.*'Mean'"):
        tf.reduce_mean(t, [0, -4], name="mymean")
    with pytest.raises(ValueError, match="duplicate"):
        tf.reduce_sum(t, [1, -2])
    with pytest.raises(ValueError, match="'Max'"):
        tf.reduce_max(tf.constant(3.0), 0)  # a scalar has no axis 0
    with pytest.raises(TypeError, match="'Sum'"):
        tf.reduce_sum(tf.constant([True, False]))
    with pytest.raises(TypeError, match="Tensor"):
        tf.reduce_sum(t, tf.constant(0))
    u = tf.placeholder(tf.float64)
    with pytest.raises(tf.errors.InvalidArgumentError, match="Sum"):
        run(tf.reduce_sum(u, 5), feed={u: X})  # rank known only at run time


def test_reductions_of_empty_tensors_follow_tf1() -> None:
    p, q = tf.placeholder(tf.float32, [None, 3]), tf.placeholder(tf.int32, [None])
    outs = [tf.reduce_max(p), tf.reduce_min(p, 0), tf.reduce_max(p, 1), tf.reduce_sum(p, 0), tf.reduce_prod(p),
            tf.reduce_max(q), tf.reduce_min(q, keepdims=True)]
    got = run(*outs, feed={p: np.zeros((0, 3), np.float32), q: np.zeros(0, np.int32)})
    assert got[0] == -np.inf and got[0].dtype == np.float32
    np.testing.assert_array_equal(got[1], [np.inf] * 3)
    assert got[2].shape == (0,)
    np.testing.assert_array_equal(got[3], [0.0] * 3)
    assert got[4] == 1.0
    assert got[5] == np.iinfo(np.int32).min and got[6].tolist() == [np.iinfo(np.int32).max]


def _grad(reduce: Any, value: np.ndarray, **kwargs: Any) -> np.ndarray:
    x = tf.placeholder(tf.float64, value.shape)
    return run(tf.gradients(reduce(x, **kwargs), x)[0], feed={x: value})


def test_max_min_gradients_split_ties_evenly() -> None:
    v = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]])
    np.testing.assert_allclose(_grad(tf.reduce_max, v, axis=1), [[0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]])
    np.testing.assert_allclose(_grad(tf.reduce_min, v), [[1, 0, 0], [0, 0, 0]])
    w = np.array([[1.0, 3.0, 1.0], [1.0, 1.0, 2.0]])
    np.testing.assert_allclose(_grad(tf.reduce_min, w), np.where(w == 1.0, 0.25, 0.0))
    np.testing.assert_allclose(_grad(tf.reduce_max, w, axis=0, keepdims=True), [[0.5, 1, 0], [0.5, 0, 1]])


def _prod_of_others(v: np.ndarray, axis: int | None) -> np.ndarray:
    out = np.zeros_like(v)
    for idx in np.ndindex(v.shape):
        if axis is None:
            others = np.delete(v.reshape(-1), np.ravel_multi_index(idx, v.shape))
        else:
            line = v[idx[:axis] + (slice(None),) + idx[axis + 1:]]
            others = np.delete(line, idx[axis])
        out[idx] = np.prod(others)
    return out


@pytest.mark.parametrize("axis", [None, 0, 1])
def test_prod_gradient_is_exact_with_zeros(axis: int | None) -> None:
    v = np.array([[0.0, 3.0, 2.0], [0.0, 0.0, 2.0], [1.5, -2.0, 4.0]])
    got = _grad(tf.reduce_prod, v, axis=axis)
    np.testing.assert_allclose(got, _prod_of_others(v, axis))
    assert np.all(np.isfinite(got))
    single_zero = np.array([[1.0, 3.0], [0.0, 5.0]])
    np.testing.assert_allclose(_grad(tf.reduce_prod, single_zero), [[0, 0], [15, 0]])


def test_mean_gradient_with_a_batch_size_known_at_run_time() -> None:
    p = tf.placeholder(tf.float64, [None, 3])
    g = tf.gradients(tf.reduce_mean(p), p)[0]
    np.testing.assert_allclose(run(g, feed={p: np.ones((4, 3))}), np.full((4, 3), 1 / 12))
    np.testing.assert_allclose(run(g, feed={p: np.ones((2, 3))}), np.full((2, 3), 1 / 6))
    h = tf.gradients(tf.reduce_sum(tf.reduce_mean(p, 1, keepdims=True) * 3.0), p)[0]
    np.testing.assert_allclose(run(h, feed={p: np.ones((5, 3))}), np.ones((5, 3)))
