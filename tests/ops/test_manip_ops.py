"""concat/split/unstack, slice, gather, tile, pad, one_hot, argmax/argmin, clip_by_value, reverse."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gpugraph as tf


def _run(build: Callable[..., Any], *arrays: np.ndarray) -> Any:
    g = tf.Graph()
    with g.as_default():
        xs = [tf.placeholder(tf.as_dtype(a.dtype), shape=a.shape) for a in arrays]
        out = build(*xs)
        with tf.Session() as s:
            return s.run(out, dict(zip(xs, arrays)))


def _outputs(out: Any) -> list[Any]:
    return [out] if isinstance(out, tf.Tensor) else list(out)


def _check_grad(build: Callable[..., Any], *arrays: np.ndarray, eps: float = 1e-6) -> None:
    """tf.gradients of sum(w * outputs) against float64 central differences, for every input."""
    rng = np.random.default_rng(0)
    g = tf.Graph()
    with g.as_default():
        xs = [tf.placeholder(tf.float64, shape=a.shape) for a in arrays]
        outs = _outputs(build(*xs))
        loss = tf.add_n([tf.reduce_sum(o * tf.constant(rng.standard_normal(o.shape.as_list()))) for o in outs])
        grads = tf.gradients(loss, xs)
        with tf.Session() as s:
            got = s.run(grads, dict(zip(xs, arrays)))
            for i, a in enumerate(arrays):
                num = np.zeros_like(a)
                for idx in np.ndindex(a.shape):
                    hi, lo = a.copy(), a.copy()
                    hi[idx] += eps
                    lo[idx] -= eps
                    feed_hi = dict(zip(xs, arrays[:i] + (hi,) + arrays[i + 1:]))
                    feed_lo = dict(zip(xs, arrays[:i] + (lo,) + arrays[i + 1:]))
                    num[idx] = (s.run(loss, feed_hi) - s.run(loss, feed_lo)) / (2 * eps)
                np.testing.assert_allclose(got[i], num, rtol=1e-6, atol=1e-7)


def _static(build: Callable[..., Any], *shapes: Any, dtype: Any = tf.float64) -> Any:
    g = tf.Graph()
    with g.as_default():
        out = build(*[tf.placeholder(dtype, shape=s) for s in shapes])
        if isinstance(out, tf.Tensor):
            return out.shape.as_tuple()
        return [t.shape.as_tuple() for t in out]


# --- concat ---
def test_concat_values_shapes_and_name() -> None:
    a, b = np.arange(6.0).reshape(2, 3), np.arange(4.0).reshape(2, 2)
    np.testing.assert_array_equal(_run(lambda x, y: tf.concat([x, y], 1), a, b), np.concatenate([a, b], 1))
    np.testing.assert_array_equal(_run(lambda x, y: tf.concat([x, x, x], -2), a, b), np.concatenate([a] * 3, 0))
    assert _static(lambda x, y: tf.concat([x, y], 1), (None, 3), (2, None)) == (2, None)
    assert _static(lambda x, y: tf.concat([x, y], 0), (None, 3), (2, 3)) == (None, 3)
    assert _static(lambda x, y: tf.concat([x, y], 0), (4, 3), (2, 3)) == (6, 3)
    assert _static(lambda x, y: tf.concat([x, y], 0), None, (2, 3)) == (None, 3)
    assert _static(lambda x, y: tf.concat([x, y], 0), None, None) is None
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, (2, 3))
        assert tf.concat([x, x], 0).op.type == "ConcatV2" and tf.concat([x, x], 0).op.name == "concat_1"
        single = tf.concat([x], 0)
        assert single.op.type == "Identity" and single.op.name == "concat_2"
        mixed = tf.concat([x, [[1.0, 2.0, 3.0]]], 0)
        assert mixed.shape.as_list() == [3, 3] and mixed.dtype == tf.float32


def test_concat_errors() -> None:
    with pytest.raises(ValueError, match=r"Shape must be rank 2 but is rank 3 for 'concat' \(op: 'ConcatV2'\)"):
        _static(lambda x, y: tf.concat([x, y], 0), (2, 3), (2, 3, 1))
    with pytest.raises(ValueError, match=r"Dimension 1 in both shapes must be equal, but are 3 and 4.*'ConcatV2'"):
        _static(lambda x, y: tf.concat([x, y], 0), (2, 3), (2, 4))
    with pytest.raises(ValueError, match=r"range \[-2, 2\), but got 2.*'ConcatV2'"):
        _static(lambda x, y: tf.concat([x, y], 2), (2, 3), (2, 3))
    with pytest.raises(ValueError, match="Can't concatenate scalars"):
        _static(lambda x, y: tf.concat([x, y], 0), (), ())
    with pytest.raises(TypeError, match=r"'ConcatV2' Op have types \[float32, int32\] that don't all match"):
        g = tf.Graph()
        with g.as_default():
            tf.concat([tf.placeholder(tf.float32, (2,)), tf.placeholder(tf.int32, (2,))], 0)
    with pytest.raises(TypeError, match="not supported"):
        _static(lambda x: tf.concat([x, x], tf.placeholder(tf.int32, [])), (2,))
    with pytest.raises(tf.errors.InvalidArgumentError, match="concat"):
        _run_unknown(lambda x, y: tf.concat([x, y], 0), np.ones((2, 3)), np.ones((2, 4)))


def _run_unknown(build: Callable[..., Any], *arrays: np.ndarray) -> Any:
    """Like _run with placeholders of unknown shape, so only the run can find shape errors."""
    g = tf.Graph()
    with g.as_default():
        xs = [tf.placeholder(tf.as_dtype(a.dtype)) for a in arrays]
        out = build(*xs)
        with tf.Session() as s:
            return s.run(out, dict(zip(xs, arrays)))


def test_concat_gradient_with_unknown_dims() -> None:
    a, b = np.arange(6.0).reshape(2, 3), np.arange(4.0).reshape(2, 2) + 1
    g = tf.Graph()
    with g.as_default():
        x, y = tf.placeholder(tf.float64, (None, None)), tf.placeholder(tf.float64, (None, None))
        out = tf.concat([x, y * y], 1)
        gx, gy = tf.gradients(tf.reduce_sum(out * out), [x, y])
        with tf.Session() as s:
            vx, vy = s.run([gx, gy], {x: a, y: b})
    np.testing.assert_allclose(vx, 2 * a)
    np.testing.assert_allclose(vy, 4 * b ** 3)


# --- unstack / stack gradient ---
def test_unstack_values_shapes_and_names() -> None:
    a = np.arange(24.0).reshape(2, 3, 4)
    for axis in (0, 1, -1):
        got = _run(lambda x, axis=axis: tf.unstack(x, axis=axis), a)
        want = [np.take(a, i, axis=axis) for i in range(a.shape[axis])]
        assert len(got) == len(want)
        for v, w in zip(got, want):
            np.testing.assert_array_equal(v, w)
    assert _static(lambda x: tf.unstack(x, axis=1), (None, 2, 5)) == [(None, 5), (None, 5)]
    assert _static(lambda x: tf.unstack(x, num=3), None) == [None, None, None]
    g = tf.Graph()
    with g.as_default():
        one = tf.unstack(tf.placeholder(tf.float32, (1, 4)))
        assert isinstance(one, list) and len(one) == 1 and one[0].op.type == "Unpack"
        assert one[0].op.name == "unstack" and one[0].shape.as_list() == [4]
        assert tf.unstack(tf.placeholder(tf.float32, (0, 4))) == []


def test_unstack_errors() -> None:
    with pytest.raises(ValueError, match="Cannot infer num"):
        _static(lambda x: tf.unstack(x), (None, 3))
    with pytest.raises(ValueError, match="Cannot infer num"):
        _static(lambda x: tf.unstack(x), None)
    with pytest.raises(ValueError, match=r"Dimension must be 2 but is 3.*'Unpack'"):
        _static(lambda x: tf.unstack(x, num=2), (3, 4))
    with pytest.raises(ValueError, match=r"range \[-2, 2\), but got 2"):
        _static(lambda x: tf.unstack(x, axis=2), (3, 4))
    with pytest.raises(tf.errors.InvalidArgumentError, match="Unpack"):
        _run_unknown(lambda x: tf.unstack(x, num=2), np.ones((3, 4)))


def test_unstack_and_stack_gradients() -> None:
    a = np.arange(12.0).reshape(3, 4) / 7
    _check_grad(lambda x: tf.unstack(x, axis=1)[1:3], a)  # unused outputs get zero gradient
    _check_grad(lambda x, y: tf.stack([x, y * x], axis=1), a, a + 1)


# --- split ---
def test_split_equal_parts() -> None:
    a = np.arange(24.0).reshape(4, 6)
    got = _run(lambda x: tf.split(x, 3, axis=1), a)
    for v, w in zip(got, np.split(a, 3, axis=1)):
        np.testing.assert_array_equal(v, w)
    assert _static(lambda x: tf.split(x, 2, axis=0), (None, 6)) == [(None, 6)] * 2
    assert _static(lambda x: tf.split(x, 2, axis=-1), (None, 6)) == [(None, 3)] * 2
    g = tf.Graph()
    with g.as_default():
        parts = tf.split(tf.placeholder(tf.float32, (4, 6)), 1)
        assert len(parts) == 1 and parts[0].op.type == "Split" and parts[0].op.name == "split"
    with pytest.raises(ValueError, match=r"evenly divisible by 4 but is 6.*'Split'"):
        _static(lambda x: tf.split(x, 4, axis=1), (4, 6))
    with pytest.raises(ValueError, match=">= 1"):
        _static(lambda x: tf.split(x, 0), (4, 6))
    with pytest.raises(tf.errors.InvalidArgumentError, match="split"):
        _run_unknown(lambda x: tf.split(x, 4, axis=1), a)


def test_split_sizes() -> None:
    a = np.arange(21.0).reshape(3, 7)
    got = _run(lambda x: tf.split(x, [2, -1, 1], axis=1), a)
    for v, w in zip(got, np.split(a, [2, 6], axis=1)):
        np.testing.assert_array_equal(v, w)
    assert [p.shape for p in got] == [(3, 2), (3, 4), (3, 1)]
    assert _static(lambda x: tf.split(x, [2, -1], 1), (3, None)) == [(3, 2), (3, None)]
    assert _static(lambda x: tf.split(x, [2, 5], 1), (None, 7)) == [(None, 2), (None, 5)]
    g = tf.Graph()
    with g.as_default():
        assert tf.split(tf.placeholder(tf.float32, (3, 7)), [3, 4], 1)[0].op.type == "SplitV"
    with pytest.raises(ValueError, match=r"Determined shape must.*'SplitV'"):
        _static(lambda x: tf.split(x, [2, 3], 1), (3, 7))
    with pytest.raises(ValueError, match=r"Determined shape must.*'SplitV'"):
        _static(lambda x: tf.split(x, [5, -1, 3], 1), (3, 7))
    with pytest.raises(ValueError, match="at most one -1"):
        _static(lambda x: tf.split(x, [-1, -1], 1), (3, 7))
    with pytest.raises(tf.errors.InvalidArgumentError, match="SplitV"):
        _run_unknown(lambda x: tf.split(x, [2, 3], 1), a)
    with pytest.raises(TypeError, match="not supported"):
        _static(lambda x: tf.split(x, tf.constant([3, 4]), 1), (3, 7))


def test_split_gradients() -> None:
    a = np.arange(12.0).reshape(2, 6) / 5
    _check_grad(lambda x: tf.split(x, 3, axis=1)[0:2], a)
    _check_grad(lambda x: tf.split(x, [1, -1], axis=1)[1], a)


# --- slice ---
def test_slice() -> None:
    a = np.arange(24.0).reshape(2, 3, 4)
    np.testing.assert_array_equal(_run(lambda x: tf.slice(x, [1, 0, 1], [1, -1, 2]), a), a[1:2, :, 1:3])
    assert _static(lambda x: tf.slice(x, [1, 0], [-1, 2]), (None, 5)) == (None, 2)
    assert _static(lambda x: tf.slice(x, [1, 0], [-1, 2]), (4, 5)) == (3, 2)
    assert _static(lambda x: tf.slice(x, [1, 0], [2, -1]), None) == (2, None)
    with pytest.raises(ValueError, match=r"Expected size\[1\] in \[-1, 4\], but got 5.*'Slice'"):
        _static(lambda x: tf.slice(x, [0, 1], [1, 5]), (4, 5))
    with pytest.raises(ValueError, match=r"size 2, but got shapes \[3\] and \[3\].*'Slice'"):
        _static(lambda x: tf.slice(x, [0, 0, 0], [1, 1, 1]), (4, 5))
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"Slice.*size\[0\]"):
        _run_unknown(lambda x: tf.slice(x, [1, 0], [5, 1]), np.ones((3, 3)))
    _check_grad(lambda x: tf.slice(x, [1, 1], [-1, 2]) ** 2, np.arange(12.0).reshape(3, 4) / 3)


# --- gather ---
def test_gather_values_and_shapes() -> None:
    p = np.arange(24.0).reshape(4, 6)
    idx = np.array([[3, 0], [1, 1]])
    np.testing.assert_array_equal(_run(lambda x: tf.gather(x, idx), p), p[idx])
    np.testing.assert_array_equal(_run(lambda x: tf.gather(x, [5, 0], axis=1), p), p[:, [5, 0]])
    np.testing.assert_array_equal(_run(lambda x: tf.gather(x, 2), p), p[2])
    np.testing.assert_array_equal(_run(lambda x: tf.gather(x, tf.constant([1, 3], tf.int64), axis=-1), p), p[:, [1, 3]])
    assert _static(lambda x: tf.gather(x, [[0, 1, 2]], axis=1), (None, 5, 7)) == (None, 1, 3, 7)
    assert _static(lambda x: tf.gather(x, tf.placeholder(tf.int32, (None,))), (None, 7)) == (None, 7)
    assert _static(lambda x: tf.gather(x, tf.placeholder(tf.int32)), (4, 7)) is None
    g = tf.Graph()
    with g.as_default():
        assert tf.gather(tf.placeholder(tf.float32, (3,)), [0]).op.type == "GatherV2"


def test_gather_errors() -> None:
    with pytest.raises(TypeError, match=r"'indices' has DataType float32.*'GatherV2'"):
        _static(lambda x: tf.gather(x, tf.constant([1.0])), (4, 5))
    with pytest.raises(ValueError, match=r"range \[-2, 2\), but got 2.*'GatherV2'"):
        _static(lambda x: tf.gather(x, [0], axis=2), (4, 5))
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"indices\[1\] = 4 is not in \[0, 4\)"):
        _run(lambda x: tf.gather(x, [0, 4]), np.ones((4, 2)))
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"indices\[0,1\] = -1 is not in \[0, 2\)"):
        _run(lambda x: tf.gather(x, [[0, -1]], axis=1), np.ones((4, 2)))


def test_gather_gradient_accumulates_repeats() -> None:
    p = np.arange(12.0).reshape(4, 3)
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float64, (None, 3))
        dx = tf.gradients(tf.reduce_sum(tf.gather(x, [[2, 0], [2, 2]])), x)[0]
        with tf.Session() as s:
            np.testing.assert_array_equal(s.run(dx, {x: p}), [[1] * 3, [0] * 3, [3] * 3, [0] * 3])
    _check_grad(lambda x: tf.gather(x, [1, 0, 1], axis=1) ** 2, p / 4)
    # second order: the gradient of the scatter-add is a gather
    _check_grad(lambda x: tf.gradients(tf.reduce_sum(tf.gather(x, [0, 0, 2]) ** 3), x)[0], p[:3] / 5)


# --- tile ---
def test_tile() -> None:
    a = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(_run(lambda x: tf.tile(x, [2, 3]), a), np.tile(a, (2, 3)))
    assert _static(lambda x: tf.tile(x, [2, 3]), (None, 3)) == (None, 9)
    assert _static(lambda x: tf.tile(x, [2, 3]), None) == (None, None)
    with pytest.raises(ValueError, match=r"vector of length 2 but got length 3.*'Tile'"):
        _static(lambda x: tf.tile(x, [1, 2, 3]), (2, 3))
    with pytest.raises(ValueError, match=r"multiples\[1\] >= 0"):
        _static(lambda x: tf.tile(x, [1, -2]), (2, 3))
    assert _static(lambda x: tf.tile(x, tf.constant([1, 2])), (2, 3)) == (2, 6)
    _check_grad(lambda x: tf.tile(x, [3, 2]) ** 2, a / 6)
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float64, (None, None))
        dx = tf.gradients(tf.reduce_sum(tf.tile(x, [2, 3])), x)[0]
        with tf.Session() as s:
            np.testing.assert_array_equal(s.run(dx, {x: a}), np.full((2, 3), 6.0))


# --- pad ---
def test_pad_constant() -> None:
    a = np.arange(6.0).reshape(2, 3) + 1
    pads = [[1, 0], [2, 1]]
    np.testing.assert_array_equal(_run(lambda x: tf.pad(x, pads), a), np.pad(a, pads))
    np.testing.assert_array_equal(_run(lambda x: tf.pad(x, pads, constant_values=-2.5), a),
                                  np.pad(a, pads, constant_values=-2.5))
    assert _static(lambda x: tf.pad(x, pads), (None, 3)) == (None, 6)
    assert _static(lambda x: tf.pad(x, pads), None) == (None, None)
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, (2, 3))
        assert tf.pad(x, pads).op.type == "Pad" and tf.pad(x, pads, constant_values=1).op.type == "PadV2"
        assert tf.pad(x, pads, mode="reflect").op.type == "MirrorPad"
    with pytest.raises(ValueError, match=r"first dimension of paddings.*'Pad'"):
        _static(lambda x: tf.pad(x, [[1, 1]]), (2, 3))
    with pytest.raises(ValueError, match="non-negative"):
        _static(lambda x: tf.pad(x, [[1, 1], [0, -1]]), (2, 3))
    with pytest.raises(ValueError, match="Unknown padding mode"):
        _static(lambda x: tf.pad(x, pads, mode="EDGE"), (2, 3))
    with pytest.raises(ValueError, match="2 columns"):
        _static(lambda x: tf.pad(x, [1, 1]), (2,))
    with pytest.raises(tf.errors.InvalidArgumentError, match="Pad"):
        _run_unknown(lambda x: tf.pad(x, pads), np.ones((2, 3, 4)))
    _check_grad(lambda x: tf.pad(x, pads, constant_values=3.0) ** 2, a / 4)
    g = tf.Graph()
    with g.as_default():  # TF1 gives PadV2's constant_values no gradient
        x, c = tf.placeholder(tf.float64, (2, 3)), tf.placeholder(tf.float64, ())
        y = tf.pad(x, pads, constant_values=c)
        assert tf.gradients(tf.reduce_sum(y), [x, c])[1] is None


@pytest.mark.parametrize("mode", ["REFLECT", "SYMMETRIC"])
def test_pad_mirror(mode: str) -> None:
    a = np.arange(12.0).reshape(3, 4) + 1
    pads = [[2, 1], [0, 3]]
    np.testing.assert_array_equal(_run(lambda x: tf.pad(x, pads, mode=mode), a), np.pad(a, pads, mode=mode.lower()))
    assert _static(lambda x: tf.pad(x, pads, mode=mode), (None, 4)) == (None, 7)
    _check_grad(lambda x: tf.pad(x, pads, mode=mode) ** 2, a / 7)
    _check_grad(lambda x: tf.pad(x, [[1, 2]], mode=mode), np.arange(3.0))  # both borders of one axis
    too_big = [[0, 0], [4, 0]] if mode == "REFLECT" else [[0, 0], [5, 0]]
    with pytest.raises(ValueError, match=r"paddings must be .* dimension size.*'MirrorPad'"):
        _static(lambda x: tf.pad(x, too_big, mode=mode), (3, 4))
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"MirrorPad.*paddings must be"):
        _run_unknown(lambda x: tf.pad(x, too_big, mode=mode), a)


# --- one_hot ---
def test_one_hot() -> None:
    idx = np.array([[0, 3], [2, 5]])
    want = np.eye(4, dtype=np.float32)[np.minimum(idx, 3)] * (idx < 4)[..., None]
    np.testing.assert_array_equal(_run(lambda: tf.one_hot(idx, 4)), want)
    got = _run(lambda: tf.one_hot(idx, 4, on_value=5, off_value=-1, axis=0))
    assert got.dtype == np.int32
    np.testing.assert_array_equal(got, np.moveaxis(np.where(want > 0, 5, -1), -1, 0))
    got = _run(lambda: tf.one_hot([1, -1], 3, axis=1, dtype=tf.float64))
    assert got.dtype == np.float64
    np.testing.assert_array_equal(got, [[0, 1, 0], [0, 0, 0]])
    g = tf.Graph()
    with g.as_default():
        i = tf.placeholder(tf.int64, (None, 2))
        t = tf.one_hot(i, 7, axis=1)
        assert t.shape.as_tuple() == (None, 7, 2) and t.dtype == tf.float32 and t.op.name == "one_hot"
        assert t.op.type == "OneHot"
        assert tf.one_hot(i, 3, off_value=tf.constant(2.0, tf.float64)).dtype == tf.float64
        assert tf.gradients(tf.reduce_sum(tf.one_hot(i, 3, on_value=tf.constant(1.0)) ), i) == [None]
    with pytest.raises(ValueError, match=r"axis to be -1 or between \[0, 2\].*'OneHot'"):
        _static(lambda x: tf.one_hot(x, 3, axis=3), (2, 2), dtype=tf.int32)
    with pytest.raises(TypeError, match="'indices' has DataType float32"):
        _static(lambda x: tf.one_hot(x, 3), (2,), dtype=tf.float32)
    with pytest.raises(TypeError, match="not supported"):
        _static(lambda x: tf.one_hot(x, tf.placeholder(tf.int32, [])), (2,), dtype=tf.int32)


# --- argmax / argmin ---
def test_argmax_argmin() -> None:
    a = np.random.default_rng(3).standard_normal((3, 4, 2))
    for axis in (None, 1, -1):
        got = _run(lambda x, axis=axis: tf.argmax(x, axis=axis), a)
        assert got.dtype == np.int64
        np.testing.assert_array_equal(got, np.argmax(a, axis=0 if axis is None else axis))
    got = _run(lambda x: tf.argmin(x, 2, output_type=tf.int32), a)
    assert got.dtype == np.int32
    np.testing.assert_array_equal(got, np.argmin(a, axis=2))
    np.testing.assert_array_equal(_run(lambda x: tf.arg_max(x, 1), a), np.argmax(a, 1))
    np.testing.assert_array_equal(_run(lambda x: tf.argmin(x, dimension=1), a), np.argmin(a, 1))
    assert _static(lambda x: tf.argmax(x, 1), (None, 4, None)) == (None, None)
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float64, (3, 4))
        m = tf.argmax(x, 1)
        assert m.op.type == "ArgMax" and m.op.name == "ArgMax" and tf.argmin(x).op.type == "ArgMin"
        assert tf.gradients(tf.reduce_sum(tf.expand_dims(tf.cast(m, tf.float64), 1) * x), x)[0] is not None
        assert tf.gradients(tf.cast(m, tf.float64), x) == [None]
    with pytest.raises(ValueError, match=r"range \[-2, 2\), but got 2.*'ArgMax'"):
        _static(lambda x: tf.argmax(x, 2), (3, 4))
    with pytest.raises(TypeError, match="output_type"):
        _static(lambda x: tf.argmax(x, 0, output_type=tf.float32), (3, 4))
    with pytest.raises(ValueError, match="both"):
        _static(lambda x: tf.argmax(x, 0, dimension=1), (3, 4))


# --- clip_by_value ---
def test_clip_by_value() -> None:
    a = np.linspace(-2, 2, 12).reshape(3, 4) + 0.05
    np.testing.assert_array_equal(_run(lambda x: tf.clip_by_value(x, -1, 0.5), a), np.clip(a, -1, 0.5))
    lo = np.array([-1.0, 0.0, -3.0, 1.0])
    np.testing.assert_array_equal(_run(lambda x, m: tf.clip_by_value(x, m, 1.5), a, lo), np.clip(a, lo, 1.5))
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float64, (None, 4))
        y = tf.clip_by_value(x, -1.0, 0.5)
        assert y.op.name == "clip_by_value" and y.op.type == "Maximum" and y.shape.as_tuple() == (None, 4)
        assert tf.clip_by_value(x, -1.0, 0.5, name="c").op.name == "c"
        dx = tf.gradients(tf.reduce_sum(y * 3.0), x)[0]
        with tf.Session() as s:
            np.testing.assert_array_equal(s.run(dx, {x: a}), np.where((a >= -1) & (a <= 0.5), 3.0, 0.0))
        with pytest.raises(ValueError, match="must not broadcast"):
            tf.clip_by_value(tf.placeholder(tf.float64, (4,)), -1.0, tf.ones((3, 4), tf.float64))
    _check_grad(lambda x, m, n: tf.clip_by_value(x, m, n), a, np.full((3, 4), -0.7), np.full((3, 4), 0.9))


# --- reverse ---
def test_reverse() -> None:
    a = np.arange(24.0).reshape(2, 3, 4)
    np.testing.assert_array_equal(_run(lambda x: tf.reverse(x, [0, -1]), a), a[::-1, :, ::-1])
    np.testing.assert_array_equal(_run(lambda x: tf.reverse_v2(x, [1]), a), a[:, ::-1])
    assert _static(lambda x: tf.reverse(x, [1]), (None, 3)) == (None, 3)
    with pytest.raises(ValueError, match="specified more than once.*'ReverseV2'"):
        _static(lambda x: tf.reverse(x, [1, -1]), (2, 3))
    with pytest.raises(ValueError, match=r"range \[-2, 2\), but got 2"):
        _static(lambda x: tf.reverse(x, [2]), (2, 3))
    _check_grad(lambda x: tf.reverse(x, [1]) * tf.constant(np.arange(3.0)), a[0, :, :3] / 9)


def test_views_do_not_leak_into_fetched_inputs() -> None:
    """Slicing ops return views: fetching both must not let one alias the other's storage."""
    a = np.arange(6.0).reshape(2, 3)
    g = tf.Graph()
    with g.as_default():
        v = tf.Variable(a)
        parts = tf.unstack(v) + tf.split(v, 3, axis=1) + [tf.slice(v, [0, 1], [2, 1]), tf.reverse(v, [0])]
        with tf.Session() as s:
            s.run(tf.global_variables_initializer())
            got = s.run(parts)
            for p in got:
                p[...] = -1
            np.testing.assert_array_equal(s.run(v), a)


@settings(max_examples=25, deadline=None, database=None)
@given(data=st.data())
def test_slice_split_gather_pad_agree_with_numpy(data: st.DataObject) -> None:
    shape = tuple(data.draw(st.lists(st.integers(1, 4), min_size=1, max_size=3)))
    a = np.arange(float(np.prod(shape))).reshape(shape)
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    begin = [data.draw(st.integers(0, d - 1)) for d in shape]
    size = [data.draw(st.integers(-1, d - b)) for d, b in zip(shape, begin)]
    cut = data.draw(st.integers(0, shape[axis]))
    idx = data.draw(st.lists(st.integers(0, shape[axis] - 1), min_size=0, max_size=4))
    pads = [[data.draw(st.integers(0, d)), data.draw(st.integers(0, d))] for d in shape]
    got = _run_unknown(lambda x: [tf.slice(x, begin, size), *tf.split(x, [cut, -1], axis),
                                  tf.gather(x, tf.constant(idx, tf.int32, shape=[len(idx)]), axis=axis),
                                  tf.pad(x, pads, mode="SYMMETRIC")], a)
    want = [a[tuple(slice(b, None if s == -1 else b + s) for b, s in zip(begin, size))],
            *np.split(a, [cut], axis), np.take(a, np.array(idx, dtype=int), axis=axis),
            np.pad(a, pads, mode="symmetric")]
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)
