"""SpaceToDepth/DepthToSpace and SpaceToBatchND/BatchToSpaceND against element-by-element NumPy references."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from op_testing import run

import gpugraph as tf


def _space_to_depth_ref(x: np.ndarray, b: int) -> np.ndarray:
    n, h, w, c = x.shape
    out = np.zeros((n, h // b, w // b, b * b * c))
    for i, j, di, dj in itertools.product(range(h // b), range(w // b), range(b), range(b)):
        out[:, i, j, (di * b + dj) * c:(di * b + dj + 1) * c] = x[:, i * b + di, j * b + dj, :]
    return out


def _space_to_batch_ref(x: np.ndarray, block: tuple[int, int], pads: list[list[int]]) -> np.ndarray:
    xp = np.pad(x, [(0, 0), *pads, (0, 0)])
    n = x.shape[0]
    out = np.zeros((n * block[0] * block[1], xp.shape[1] // block[0], xp.shape[2] // block[1], x.shape[3]))
    for a, b in itertools.product(range(block[0]), range(block[1])):
        out[(a * block[1] + b) * n:(a * block[1] + b + 1) * n] = xp[:, a::block[0], b::block[1], :]
    return out


def test_space_to_depth_and_back_match_the_reference_in_both_formats() -> None:
    x = np.random.default_rng(0).standard_normal((2, 4, 6, 3))
    want = _space_to_depth_ref(x, 2)
    nhwc = tf.space_to_depth(tf.constant(x), 2)
    nchw = tf.nn.space_to_depth(tf.constant(x.transpose(0, 3, 1, 2)), 2, data_format="NCHW")
    back = tf.depth_to_space(nhwc, 2)
    got, got_nchw, got_back = run(nhwc, nchw, back)
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(got_nchw, want.transpose(0, 3, 1, 2))
    np.testing.assert_array_equal(got_back, x)


def test_space_to_batch_nd_matches_the_reference_and_inverts() -> None:
    x = np.random.default_rng(1).standard_normal((2, 4, 3, 2))
    pads = [[0, 0], [1, 2]]
    y = tf.space_to_batch_nd(tf.constant(x), [2, 3], tf.constant(pads))
    back = tf.batch_to_space_nd(y, [2, 3], pads)
    got, got_back = run(y, back)
    np.testing.assert_array_equal(got, _space_to_batch_ref(x, (2, 3), pads))
    np.testing.assert_array_equal(got_back, x)
    assert y.op.type == "SpaceToBatchND" and back.op.type == "BatchToSpaceND"


def test_gradients_are_the_inverse_ops() -> None:
    x = tf.placeholder(tf.float32, [1, 4, 4, 2])
    assert tf.gradients(tf.space_to_depth(x, 2), x)[0].op.type == "DepthToSpace"
    assert tf.gradients(tf.space_to_batch(x, [[0, 0], [0, 0]], 2), x)[0].op.type == "BatchToSpaceND"


def test_build_time_errors() -> None:
    x = tf.zeros([1, 5, 4, 8])
    with pytest.raises(ValueError, match="divisible by 2"):
        tf.space_to_depth(x, 2)
    with pytest.raises(ValueError, match="less than 2"):
        tf.depth_to_space(x, 1)
    with pytest.raises(ValueError, match="not divisible"):
        tf.space_to_batch_nd(x, [2, 2], [[0, 0], [0, 0]])
    with pytest.raises(ValueError, match="must be known"):
        tf.space_to_batch_nd(x, tf.placeholder(tf.int32, [2]), [[1, 0], [0, 0]])
    with pytest.raises(ValueError, match="not divisible by product"):
        tf.batch_to_space_nd(tf.zeros([3, 2, 2, 1]), [2, 1], [[0, 0], [0, 0]])
