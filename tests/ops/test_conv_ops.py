"""Conv2D, its backprop ops and DepthwiseConv2dNative against direct NumPy sums (an independent reference)."""

from __future__ import annotations

import numpy as np
import pytest
from op_testing import graph, run  # noqa: F401 - graph is an autouse fixture

import gpugraph as tf
from gpugraph.ops.conv_ops import CONV2D, CONV2D_BACKPROP_FILTER, CONV2D_BACKPROP_INPUT
from gpugraph.ops.depthwise_ops import DEPTHWISE

ATTRS = {"padding": "VALID", "explicit_paddings": (), "data_format": "NHWC", "dilations": (1, 1, 1, 1)}


def direct_conv(x: np.ndarray, w: np.ndarray, stride: int, dilation: int = 1) -> np.ndarray:
    """VALID NHWC cross-correlation, one output pixel at a time."""
    n, h, wd, _ = x.shape
    kh, kw, _, o = w.shape
    dkh, dkw = (kh - 1) * dilation + 1, (kw - 1) * dilation + 1
    oh, ow = (h - dkh) // stride + 1, (wd - dkw) // stride + 1
    out = np.zeros((n, oh, ow, o))
    for r in range(oh):
        for c in range(ow):
            patch = x[:, r * stride:r * stride + dkh:dilation, c * stride:c * stride + dkw:dilation, :]
            out[:, r, c, :] = np.tensordot(patch, w, axes=([1, 2, 3], [0, 1, 2]))
    return out


@pytest.mark.parametrize("stride, dilation", [(1, 1), (2, 1), (1, 2), (3, 1)])
def test_conv2d_and_its_gradients_match_direct_sums(stride: int, dilation: int) -> None:
    rng = np.random.default_rng(stride * 10 + dilation)
    xv, wv = rng.standard_normal((2, 8, 7, 3)), rng.standard_normal((3, 2, 3, 4))
    attrs = dict(ATTRS, strides=(1, stride, stride, 1), dilations=(1, dilation, dilation, 1))
    want = direct_conv(xv, wv, stride, dilation)
    g = rng.standard_normal(want.shape)
    x, w = tf.constant(xv), tf.constant(wv)
    y = CONV2D(x, w, **attrs)
    dx, dw = tf.gradients(y, [x, w], grad_ys=tf.constant(g))
    got, got_dx, got_dw = run(y, dx, dw)
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)
    # the adjoint identities <conv(x), g> = <x, dx> (linear in x) and = <w, dw> (linear in w)
    np.testing.assert_allclose(np.sum(got_dx * xv), np.sum(want * g), rtol=1e-10)
    np.testing.assert_allclose(np.sum(got_dw * wv), np.sum(want * g), rtol=1e-10)
    # each filter-gradient entry is the sum of its input tap times g
    i, j, c, o = 1, 0, 2, 3
    d = dilation
    patch = xv[:, i * d:i * d + stride * (want.shape[1] - 1) + 1:stride,
               j * d:j * d + stride * (want.shape[2] - 1) + 1:stride, c]
    np.testing.assert_allclose(got_dw[i, j, c, o], np.sum(patch * g[..., o]), rtol=1e-10)


def test_backprop_ops_take_sizes_from_a_shape_input_when_unknown() -> None:
    rng = np.random.default_rng(1)
    xv, wv = rng.standard_normal((2, 6, 5, 3)), rng.standard_normal((2, 2, 3, 2))
    dyv = rng.standard_normal((2, 5, 4, 2))
    attrs = dict(ATTRS, strides=(1, 1, 1, 1))
    x = tf.placeholder(tf.float64, [None, None, None, 3])
    w = tf.placeholder(tf.float64, None)
    dx = CONV2D_BACKPROP_INPUT(tf.constant(wv), tf.constant(dyv), x, input_sizes=(None,) * 4, **attrs)
    dw = CONV2D_BACKPROP_FILTER(tf.constant(xv), tf.constant(dyv), w, filter_sizes=(None,) * 4, **attrs)
    assert dx.shape.as_list() == [2, None, None, 3]  # the batch comes from out_backprop
    assert dw.shape.as_list() == [None, None, 3, 2]
    got_dx, got_dw = run(dx, dw, feed={x: xv, w: wv})
    assert got_dx.shape == xv.shape and got_dw.shape == wv.shape
    want = direct_conv(xv, wv, 1)
    np.testing.assert_allclose(np.sum(got_dx * xv), np.sum(want * dyv), rtol=1e-10)
    np.testing.assert_allclose(np.sum(got_dw * wv), np.sum(want * dyv), rtol=1e-10)


def test_backprop_input_with_a_wrong_size_fails_at_run_time_naming_the_op() -> None:
    x = tf.placeholder(tf.float64, [None, None, None, 1])
    dx = CONV2D_BACKPROP_INPUT(tf.ones([2, 2, 1, 1], tf.float64), tf.ones([1, 3, 3, 1], tf.float64), x,
                               input_sizes=(None,) * 4, **dict(ATTRS, strides=(1, 1, 1, 1)))
    with pytest.raises(tf.errors.InvalidArgumentError, match="Size of out_backprop doesn't match computed"):
        run(dx, feed={x: np.zeros((1, 5, 5, 1))})


def test_same_padding_splits_odd_padding_with_the_extra_row_after() -> None:
    # 4x4 input, 2x2 ones kernel, SAME: the pad goes to the bottom/right, so out[0, 0] sums x[0:2, 0:2]
    xv = np.arange(16.0).reshape(1, 4, 4, 1)
    y = CONV2D(tf.constant(xv), tf.ones([2, 2, 1, 1], tf.float64), **dict(ATTRS, padding="SAME", strides=(1,) * 4))
    got = run(y)[0, :, :, 0]
    assert got[0, 0] == 0 + 1 + 4 + 5 and got[3, 3] == 15 and got[0, 3] == 3 + 7


def test_nchw_equals_nhwc_transposed() -> None:
    rng = np.random.default_rng(2)
    xv, wv = rng.standard_normal((2, 3, 6, 5)), rng.standard_normal((3, 3, 3, 2))
    attrs = dict(ATTRS, padding="SAME", strides=(1, 1, 2, 1), data_format="NCHW")
    got = run(CONV2D(tf.constant(xv), tf.constant(wv), **attrs))
    want = run(CONV2D(tf.constant(xv.transpose(0, 2, 3, 1)), tf.constant(wv),
                      **dict(attrs, strides=(1, 2, 1, 1), data_format="NHWC")))
    np.testing.assert_allclose(got, want.transpose(0, 3, 1, 2), rtol=1e-12)


def test_depthwise_matches_per_channel_direct_convolution() -> None:
    rng = np.random.default_rng(5)
    xv, wv = rng.standard_normal((2, 6, 6, 3)), rng.standard_normal((3, 2, 3, 2))
    got = run(DEPTHWISE(tf.constant(xv), tf.constant(wv), **dict(ATTRS, strides=(1, 2, 2, 1))))
    for c in range(3):
        want = direct_conv(xv[..., c:c + 1], wv[:, :, c:c + 1, :], 2)
        np.testing.assert_allclose(got[..., 2 * c:2 * c + 2], want, rtol=1e-10)


def test_float32_conv_runs_in_float32() -> None:
    x, w = tf.ones([1, 4, 4, 2]), tf.ones([2, 2, 2, 3])
    y = CONV2D(x, w, **dict(ATTRS, strides=(1, 1, 1, 1)))
    dx, dw = tf.gradients(y, [x, w])
    got, gdx, gdw = run(y, dx, dw)
    assert got.dtype == gdx.dtype == gdw.dtype == np.float32
    np.testing.assert_array_equal(got, np.full((1, 3, 3, 3), 8.0, np.float32))
