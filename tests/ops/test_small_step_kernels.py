"""The lowerings a per-sample training step runs each time: indexing (constant and fed indices) and its
gradient, AddN of a few terms, Mean and its gradient, against NumPy computed here."""

from __future__ import annotations

import ctypes
import ctypes.util
import itertools
from typing import Any

import numpy as np
import pytest

import gpugraph as tf
from op_testing import graph  # noqa: F401 - graph: each test's fresh default graph (autouse)

X = np.arange(24, dtype=np.float32).reshape(4, 6) * 0.5 - 3.0
CONSTANT_INDICES = [2, -1, (slice(1, 3), slice(None, None, -2)), (Ellipsis, 0), (None, 1), (slice(None), 4),
                    (1, slice(2, None))]


@pytest.mark.parametrize("index", CONSTANT_INDICES, ids=str)
def test_constant_index_and_its_gradient_equal_numpy(index) -> None:
    x = tf.placeholder(tf.float32, [None, 6])
    y = x[index]
    weights = np.random.default_rng(0).standard_normal(np.shape(X[index])).astype(np.float32)
    (grad,) = tf.gradients(tf.reduce_sum(y * weights), [x])
    want_grad = np.zeros_like(X)
    want_grad[index] = weights
    with tf.Session() as sess:
        for _ in range(2):  # the second run goes through the compiled plan
            value, g = sess.run([y, grad], {x: X})
            np.testing.assert_array_equal(value, X[index])
            np.testing.assert_array_equal(g, want_grad)


@pytest.mark.parametrize("dtype", [tf.int32, tf.int64])
def test_fed_index_and_its_gradient_equal_numpy(dtype) -> None:
    x = tf.placeholder(tf.float32, [4, 6])
    i = tf.placeholder(dtype, [])
    y = x[i, 1:]
    (grad,) = tf.gradients(tf.reduce_sum(y * 2.0), [x])
    with tf.Session() as sess:
        for k in (0, 3, -2, -4):
            value, g = sess.run([y, grad], {x: X, i: k})
            np.testing.assert_array_equal(value, X[k, 1:])
            want = np.zeros_like(X)
            want[k, 1:] = 2.0
            np.testing.assert_array_equal(g, want)


def test_per_sample_polynomial_step_equals_numpy() -> None:
    """The seeds' loop: w[i] * x**i summed by add_n, squared loss, one SGD step per sample."""
    w = tf.Variable([0.5, -1.0, 0.25, 2.0, -0.5, 1.5], name="parameters")
    x = tf.placeholder(tf.float32)
    y_true = tf.placeholder(tf.float32)
    y_model = tf.add_n([tf.multiply(w[i], tf.pow(x, float(i))) for i in range(6)])
    loss = tf.reduce_mean(tf.square(y_model - y_true))
    train = tf.train.GradientDescentOptimizer(0.01).minimize(loss)
    want = np.array([0.5, -1.0, 0.25, 2.0, -0.5, 1.5])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for xv, yv in zip(np.linspace(-1, 1, 7), np.linspace(2, -1, 7)):
            powers = xv ** np.arange(6)
            residual = want @ powers - yv
            want_loss = residual ** 2
            want = want - 0.01 * 2 * residual * powers
            _, got_loss = sess.run([train, loss], {x: xv, y_true: yv})
            assert isinstance(got_loss, np.float32)
            np.testing.assert_allclose(got_loss, want_loss, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(sess.run(w), want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("n", [2, 3, 8, 9])
def test_add_n_adds_in_order_and_leaves_its_inputs(n: int) -> None:
    rng = np.random.default_rng(n)
    values = [(rng.standard_normal(5) * 10.0 ** rng.integers(-4, 5, 5)).astype(np.float32) for _ in range(n)]
    holders = [tf.placeholder(tf.float32, [5]) for _ in range(n)]
    with tf.Session() as sess:
        got = sess.run(tf.add_n(holders), dict(zip(holders, values)))
    if n <= 8:  # TF1's kernel adds a few terms one after another, in float32
        want = values[0] + values[1]
        for v in values[2:]:
            want = want + v
        np.testing.assert_array_equal(got, want)
    else:
        np.testing.assert_allclose(got, np.sum(np.stack(values).astype(np.float64), axis=0), rtol=1e-6)
    rng = np.random.default_rng(n)
    again = [(rng.standard_normal(5) * 10.0 ** rng.integers(-4, 5, 5)).astype(np.float32) for _ in range(n)]
    for fed, original in zip(values, again):
        np.testing.assert_array_equal(fed, original)


def test_add_n_of_scalars_per_run() -> None:
    holders = [tf.placeholder(tf.float32) for _ in range(4)]
    total = tf.add_n(holders)
    with tf.Session() as sess:
        for k in range(3):
            values = [np.float32(0.1 * (k + 1) * (j + 1)) for j in range(4)]
            got = sess.run(total, dict(zip(holders, values)))
            assert isinstance(got, np.float32)
            assert got == ((values[0] + values[1]) + values[2]) + values[3]


MEAN_SHAPES = [(), (1,), (5,), (2, 3), (4, 1, 3)]


@pytest.mark.parametrize("shape", MEAN_SHAPES, ids=str)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_mean_equals_numpy_bit_for_bit(shape, dtype) -> None:
    rng = np.random.default_rng(len(shape))
    value = (rng.standard_normal(shape) * 1e3).astype(dtype)
    x = tf.placeholder(tf.as_dtype(dtype))  # unknown shape: the run time decides every path
    rank = len(shape)
    axes_cases = [None] + [list(c) for r in range(1, rank + 1) for c in itertools.combinations(range(rank), r)]
    fetches = [(axes, keep, tf.reduce_mean(x, axis=axes, keepdims=keep))
               for axes in axes_cases for keep in (False, True)]
    with tf.Session() as sess:
        got = sess.run([f for _, _, f in fetches], {x: value})
    for (axes, keep, _), out in zip(fetches, got):
        want = np.mean(value, axis=None if axes is None else tuple(axes), keepdims=keep)
        assert np.shape(out) == np.shape(want) and np.asarray(out).dtype == dtype
        np.testing.assert_array_equal(out, want)


@pytest.mark.parametrize("value", [-0.0, np.nan, -np.inf, 3.5])
def test_mean_of_a_scalar_is_numpys(value: float) -> None:
    x = tf.placeholder(tf.float32)
    with tf.Session() as sess:
        got = sess.run(tf.reduce_mean(x), {x: value})
    want = np.mean(np.float32(value))  # the sum starts from 0: the mean of -0.0 is 0.0
    assert isinstance(got, np.float32)
    np.testing.assert_array_equal(got, want)
    assert np.signbit(got) == np.signbit(want)


@pytest.mark.parametrize("shape,axes,keep", [((), None, False), ((100, 1), None, False), ((3, 4), [1], False),
                                             ((3, 4), [0], True), ((3, 1), [1], False), ((2, 3, 4), [0, 2], False)])
def test_mean_and_sum_gradients_equal_numpy(shape, axes, keep) -> None:
    x = tf.placeholder(tf.float32)
    value = np.ones(shape, np.float32)
    mean = tf.reduce_mean(x, axis=axes, keepdims=keep)
    upstream = np.random.default_rng(1).standard_normal(np.shape(np.sum(value, axis=None if axes is None else
                                                                        tuple(axes), keepdims=keep)))
    upstream = upstream.astype(np.float32)
    (g_mean,) = tf.gradients(mean, [x], grad_ys=[tf.constant(upstream)])
    (g_sum,) = tf.gradients(tf.reduce_sum(x, axis=axes, keepdims=keep), [x], grad_ys=[tf.constant(upstream)])
    reduced = tuple(range(len(shape))) if axes is None else tuple(axes)
    count = int(np.prod([shape[a] for a in reduced], dtype=np.int64))
    kept = np.expand_dims(upstream, reduced) if not keep else upstream
    with tf.Session() as sess:
        got_mean, got_sum = sess.run([g_mean, g_sum], {x: value})
    np.testing.assert_array_equal(got_sum, np.broadcast_to(kept, shape))
    np.testing.assert_array_equal(got_mean, np.broadcast_to(kept / np.float32(count), shape))
    assert np.asarray(got_mean).dtype == np.float32 and np.shape(got_mean) == shape


def test_add_n_merges_tensor_array_gradient_flows_among_zero_gradients() -> None:
    from gpugraph.ops.math_ops import ADD_N
    from gpugraph.ops.tensor_array_ops import TensorArrayValue

    rows = np.arange(6, dtype=np.float32).reshape(3, 2)
    flow = TensorArrayValue(np, 3, False, (2,), np.float32, dense=rows)
    zero = np.zeros((), np.float32)  # autodiff's zero gradient of a flow
    for terms in ([np.zeros(3), np.zeros(3), flow], [zero, zero, flow, zero], [flow, zero, zero]):
        merged = ADD_N.impl(np, *terms)
        assert isinstance(merged, TensorArrayValue)
        np.testing.assert_array_equal(merged.dense, rows)


SPECIAL = [0.0, -0.0, 0.5, -1.5, 2.0, 3.0, -3.0, 1e-3, 1e30, -7.25, np.inf, -np.inf, np.nan]


def _c_pow(dtype: type) -> Any:
    """C's pow for ``dtype``, as TF's CPU kernel computes it: powf for float32 (and float16, widened to float
    and rounded back), pow for float64."""
    libm = ctypes.CDLL(ctypes.util.find_library("m"))
    fn = libm.pow if dtype is np.float64 else libm.powf
    c_type = ctypes.c_double if dtype is np.float64 else ctypes.c_float
    fn.restype, fn.argtypes = c_type, [c_type, c_type]
    return lambda a, b: dtype(fn(float(dtype(a)), float(dtype(b))))


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_pow_of_fed_scalars_and_arrays_is_c_pow_bit_for_bit(dtype) -> None:
    """Fed Python floats run as NumPy scalars, arrays through the ufunc: both give C's pow for every special
    value (NumPy's ufunc alone takes a lone 0.5 as a square root: pow(-0.0, 0.5) would be -0.0, not 0.0)."""
    c_pow = _c_pow(dtype)
    x, y = tf.placeholder(tf.as_dtype(dtype)), tf.placeholder(tf.as_dtype(dtype))
    z = tf.pow(x, y)
    with tf.Session() as sess, np.errstate(all="ignore"):
        column = np.array(SPECIAL, dtype)
        for b in SPECIAL:
            for a in SPECIAL:
                got = sess.run(z, {x: a, y: b})
                want = c_pow(a, b)
                assert type(got) is dtype and got.tobytes() == want.tobytes(), (a, b, got, want)
            want = np.array([c_pow(a, b) for a in SPECIAL], dtype)
            for exponent in (np.array(b, dtype), np.array([b], dtype)):  # an array to one exponent
                got = sess.run(z, {x: column, y: exponent})
                assert got.dtype == dtype and got.tobytes() == want.tobytes(), (b, got, want)


def test_a_fed_scalar_is_fetched_as_a_numpy_scalar_of_the_placeholders_dtype() -> None:
    x = tf.placeholder(tf.float32)
    with tf.Session() as sess:
        got = sess.run(x, {x: 0.1})  # a Python float: rounded to float32, as TF1 does
    assert type(got) is np.float32 and got == np.float32(0.1)


def test_a_scalar_region_run_many_times_equals_numpy_and_warns_nothing() -> None:
    """Add, Sub, Mul, RealDiv, Square and Neg of scalars in one fused step, run past its first calls (its
    straight-line code), with a division by zero and an overflow: NumPy's values, no warning."""
    import warnings

    x, y = tf.placeholder(tf.float32), tf.placeholder(tf.float32)
    z = -tf.square((x + 2.0) * y - x / y) + x
    cases = [(1.5, 2.0), (-0.0, 3.0), (1.0, 0.0), (3e30, 1e10), (np.nan, 1.0), (2.0, -0.5)] * 2
    with tf.Session() as sess, warnings.catch_warnings():
        warnings.simplefilter("error")
        for a, b in cases:
            got = sess.run(z, {x: a, y: b})
            a32, b32 = np.float32(a), np.float32(b)
            with np.errstate(all="ignore"):
                t = (a32 + np.float32(2.0)) * b32 - a32 / b32
                want = -(t * t) + a32
            assert type(got) is np.float32
            np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("dtype", [np.float16, np.float32])
def test_the_gradient_of_a_mean_over_many_elements_divides_in_its_dtype(dtype) -> None:
    """The mean's gradient divides by the count converted to the dtype (float16: 70000 is inf, as TF's)."""
    x = tf.placeholder(tf.as_dtype(dtype), [None])
    (g,) = tf.gradients(tf.reduce_mean(x), [x])
    value = np.ones(70000, dtype)
    with tf.Session() as sess, np.errstate(all="ignore"):
        got = sess.run(g, {x: value})
        want = np.full(70000, dtype(1.0) / dtype(70000), dtype)
    assert got.dtype == dtype
    np.testing.assert_array_equal(got, want)


def test_a_run_leaves_numpys_error_state_as_it_found_it() -> None:
    import warnings

    x = tf.placeholder(tf.float32)
    y = x / 0.0
    with tf.Session() as sess, np.errstate(divide="raise", invalid="warn"):
        before = np.geterr()
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert sess.run(y, {x: 1.0}) == np.inf and np.isnan(sess.run(y, {x: 0.0}))
        assert np.geterr() == before
        with pytest.raises(FloatingPointError):
            np.float32(1.0) / np.float32(0.0)


def test_without_numpys_error_state_variable_a_run_still_warns_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Another NumPy, without the context variable the session sets directly: the public errstate."""
    import warnings

    from gpugraph.runtime import session as session_module

    monkeypatch.setattr(session_module, "_extobj_contextvar", None)
    x = tf.placeholder(tf.float32)
    y = x / 0.0
    with tf.Session() as sess, warnings.catch_warnings():
        warnings.simplefilter("error")
        assert sess.run(y, {x: 1.0}) == np.inf
