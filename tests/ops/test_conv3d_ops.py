"""Conv3D and the 3-D pooling ops against direct-loop NumPy references, formats, gradients and errors."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from op_testing import run

import gpugraph as tf


def _conv3d_ref(x: np.ndarray, w: np.ndarray, strides: tuple[int, ...], dil: tuple[int, ...]) -> np.ndarray:
    """VALID 3-D cross-correlation, one output position at a time."""
    n, d, h, wd, _ = x.shape
    kd, kh, kw, _, o = w.shape
    span = [(k - 1) * r + 1 for k, r in zip((kd, kh, kw), dil)]
    out_sizes = [(size - s) // st + 1 for size, s, st in zip((d, h, wd), span, strides)]
    out = np.zeros((n, *out_sizes, o))
    for i, j, k in itertools.product(*(range(s) for s in out_sizes)):
        patch = x[:, i * strides[0]:i * strides[0] + span[0]:dil[0], j * strides[1]:j * strides[1] + span[1]:dil[1],
                  k * strides[2]:k * strides[2] + span[2]:dil[2], :]
        out[:, i, j, k, :] = np.einsum("nabcx,abcxo->no", patch, w)
    return out


def test_conv3d_matches_direct_loops_with_strides_and_dilations() -> None:
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((2, 6, 5, 7, 2)), rng.standard_normal((2, 3, 2, 2, 3))
    strided = tf.nn.conv3d(x, w, [1, 2, 1, 2, 1], "VALID")
    dilated = tf.nn.conv3d(x, w, [1, 1, 1, 1, 1], "VALID", dilations=[1, 2, 1, 3, 1])
    got_s, got_d = run(strided, dilated)
    np.testing.assert_allclose(got_s, _conv3d_ref(x, w, (2, 1, 2), (1, 1, 1)), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(got_d, _conv3d_ref(x, w, (1, 1, 1), (2, 1, 3)), rtol=1e-12, atol=1e-12)


def test_ncdhw_equals_ndhwc_transposed() -> None:
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal((1, 4, 5, 3, 2)), rng.standard_normal((2, 2, 2, 2, 3))
    to_first = (0, 4, 1, 2, 3)
    last = tf.nn.conv3d(x, w, [1, 1, 2, 1, 1], "SAME")
    first = tf.nn.conv3d(x.transpose(to_first), w, [1, 1, 1, 2, 1], "SAME", data_format="NCDHW")
    pool_last = tf.nn.avg_pool3d(x, 2, 2, "SAME")
    pool_first = tf.nn.avg_pool3d(x.transpose(to_first), 2, 2, "SAME", data_format="NCDHW")
    a, b, c, d = run(last, first, pool_last, pool_first)
    np.testing.assert_allclose(b, a.transpose(to_first), rtol=1e-12)
    np.testing.assert_allclose(d, c.transpose(to_first), rtol=1e-12)


def test_max_pool3d_takes_the_window_maximum() -> None:
    x = np.random.default_rng(2).standard_normal((1, 4, 4, 4, 2))
    got = run(tf.nn.max_pool3d(x, [1, 2, 2, 2, 1], [1, 2, 2, 2, 1], "VALID"))
    np.testing.assert_array_equal(got, x.reshape(1, 2, 2, 2, 2, 2, 2, 2).max(axis=(2, 4, 6)))


def test_gradient_ops_and_shapes() -> None:
    x = tf.placeholder(tf.float32, [None, 4, 4, 4, 2])
    w = tf.zeros([2, 2, 2, 2, 3])
    gx, gw = tf.gradients(tf.nn.conv3d(x, w, [1, 1, 1, 1, 1], "SAME"), [x, w])
    assert (gx.op.type, gw.op.type) == ("Conv3DBackpropInputV2", "Conv3DBackpropFilterV2")
    assert gx.shape.as_list() == [None, 4, 4, 4, 2] and gw.shape.as_list() == [2, 2, 2, 2, 3]
    assert tf.gradients(tf.nn.max_pool3d(x, 2, 2, "SAME"), x)[0].op.type == "MaxPool3DGrad"
    assert tf.gradients(tf.nn.avg_pool3d(x, 2, 2, "SAME"), x)[0].op.type == "AvgPool3DGrad"


def test_build_time_errors_name_the_op() -> None:
    w = tf.zeros([2, 2, 2, 2, 3])
    with pytest.raises(ValueError, match="rank 5"):
        tf.nn.conv3d(tf.zeros([1, 4, 4, 2]), w, [1, 1, 1, 1, 1], "SAME")
    with pytest.raises(ValueError, match="Conv3D"):
        tf.nn.conv3d(tf.zeros([1, 4, 4, 4, 2]), w, [2, 1, 1, 1, 1], "SAME")
    with pytest.raises(ValueError, match="padding"):
        tf.nn.max_pool3d(tf.zeros([1, 4, 4, 4, 2]), 2, 2, "FULL")
    with pytest.raises(ValueError, match="Negative dimension"):
        tf.nn.avg_pool3d(tf.zeros([1, 1, 4, 4, 2]), 2, 2, "VALID")
