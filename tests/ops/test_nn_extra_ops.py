"""Selu, Softsign and MaxPoolWithArgmax against independent NumPy references, and their errors."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from op_testing import run

import gpugraph as tf


def test_selu_and_softsign_match_their_formulas() -> None:
    x = np.linspace(-4, 4, 17)
    selu, softsign = run(tf.nn.selu(x), tf.nn.softsign(x))
    alpha, scale = 1.6732632423543772, 1.0507009873554805
    np.testing.assert_allclose(selu, scale * np.where(x > 0, x, alpha * (np.exp(x) - 1)), rtol=1e-12)
    np.testing.assert_allclose(softsign, x / (1 + np.abs(x)), rtol=1e-12)
    assert tf.nn.selu(x).op.type == "Selu" and tf.nn.softsign(x).op.type == "Softsign"


def _argmax_ref(x: np.ndarray, k: int, s: int, with_batch: bool) -> tuple[np.ndarray, np.ndarray]:
    """VALID windows; the flat index ((b * H + y) * W + x) * C + c of each window's maximum."""
    n, h, w, c = x.shape
    oh, ow = (h - k) // s + 1, (w - k) // s + 1
    out, idx = np.zeros((n, oh, ow, c)), np.zeros((n, oh, ow, c), np.int64)
    for b, i, j, ch in itertools.product(range(n), range(oh), range(ow), range(c)):
        win = x[b, i * s:i * s + k, j * s:j * s + k, ch]
        r, q = np.unravel_index(np.argmax(win), win.shape)
        out[b, i, j, ch] = win[r, q]
        idx[b, i, j, ch] = (((b * h if with_batch else 0) + i * s + r) * w + j * s + q) * c + ch
    return out, idx


@pytest.mark.parametrize("with_batch", [False, True])
def test_max_pool_with_argmax_matches_the_index_formula(with_batch: bool) -> None:
    x = np.random.default_rng(3).permutation(2 * 7 * 6 * 3).reshape(2, 7, 6, 3).astype(np.float64)
    out, idx = tf.nn.max_pool_with_argmax(x, [1, 3, 3, 1], [1, 2, 2, 1], "VALID", include_batch_in_index=with_batch)
    got_out, got_idx = run(out, idx)
    want_out, want_idx = _argmax_ref(x, 3, 2, with_batch)
    np.testing.assert_array_equal(got_out, want_out)
    np.testing.assert_array_equal(got_idx, want_idx)
    assert idx.dtype == tf.int64


def test_argmax_gradient_scatters_through_overlapping_windows() -> None:
    x = tf.constant(np.random.default_rng(4).permutation(5 * 5).reshape(1, 5, 5, 1).astype(np.float64))
    out, idx = tf.nn.max_pool_with_argmax(x, [1, 3, 3, 1], [1, 1, 1, 1], "VALID", Targmax=tf.int32)
    g = tf.gradients(tf.reduce_sum(out), x)[0]
    got_g, got_idx = run(g, idx)
    want = np.bincount(got_idx.reshape(-1), minlength=25).reshape(1, 5, 5, 1)
    np.testing.assert_array_equal(got_g, want)
    assert g.op.type == "MaxPoolGradWithArgmax" and idx.dtype == tf.int32


def test_argmax_errors() -> None:
    x = tf.zeros([1, 4, 4, 2])
    with pytest.raises(TypeError, match="Expected list for 'ksize'"):
        tf.nn.max_pool_with_argmax(x, 2, [1, 2, 2, 1], "SAME")
    with pytest.raises(ValueError, match="NHWC"):
        tf.nn.max_pool_with_argmax(x, [1, 2, 2, 1], [1, 2, 2, 1], "SAME", data_format="NCHW")
    with pytest.raises(TypeError, match="Targmax"):
        tf.nn.max_pool_with_argmax(x, [1, 2, 2, 1], [1, 2, 2, 1], "SAME", Targmax=tf.float32)
