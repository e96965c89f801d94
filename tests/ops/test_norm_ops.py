"""tf.nn moments and normalisation against TensorFlow's values and gradients (data/norm_reference.json)."""

from __future__ import annotations

import numpy as np
import pytest
from norm_reference import check_case
from op_testing import graph, run  # noqa: F401 - graph is an autouse fixture

import gpugraph as tf

NORM_CASES = ["moments", "moments_keep_dims", "weighted_moments", "batch_normalization",
              "batch_normalization_plain", "fused_train_nhwc", "fused_train_nchw", "fused_infer_nhwc",
              "fused_infer_nchw", "fused_train_avg", "l2_normalize", "l2_normalize_all", "lrn", "lrn_defaults"]


@pytest.mark.parametrize("name", NORM_CASES)
def test_matches_tensorflow(name: str) -> None:
    check_case(name)


def test_moments_of_unknown_batch_and_half_precision() -> None:
    x = tf.placeholder(tf.float16, [None, 3])
    mean, var = tf.nn.moments(x, [0])
    assert mean.dtype == tf.float16 and mean.shape.as_list() == [3]
    data = np.array([[1, 2, 3], [3, 6, 11]], np.float16)
    m, v = run(mean, var, feed={x: data})
    np.testing.assert_array_equal(m, [2, 4, 7])
    np.testing.assert_array_equal(v, [1, 4, 16])


def test_moments_rejects_both_keep_dims_spellings() -> None:
    with pytest.raises(ValueError, match="keepdims"):
        tf.nn.moments(tf.ones([2, 3]), [0], keep_dims=True, keepdims=True)


def test_fused_batch_norm_needs_statistics_for_inference() -> None:
    with pytest.raises(ValueError, match="must be a 1D tensor when is_training is False"):
        tf.nn.fused_batch_norm(tf.ones([1, 2, 2, 3]), tf.ones([3]), tf.zeros([3]), is_training=False)


@pytest.mark.parametrize("fn", [lambda x: tf.nn.fused_batch_norm(x, tf.ones([3]), tf.zeros([3])),
                                lambda x: tf.nn.lrn(x)])
def test_rank_4_is_required(fn: object) -> None:
    with pytest.raises(ValueError, match="Shape must be rank 4 but is rank 3"):
        fn(tf.placeholder(tf.float32, [2, 3, 3]))  # type: ignore[operator]


def test_fused_batch_norm_channel_mismatch_names_the_op() -> None:
    with pytest.raises(ValueError, match="FusedBatchNormV3"):
        tf.nn.fused_batch_norm(tf.ones([1, 2, 2, 3]), tf.ones([4]), tf.zeros([4]))


def test_fused_batch_norm_half_input_keeps_float32_statistics() -> None:
    x = tf.placeholder(tf.float16, [2, 1, 1, 2])
    y, mean, var = tf.nn.fused_batch_norm(x, [1.0, 1.0], [0.0, 0.0], epsilon=0.0)
    assert (y.dtype, mean.dtype, var.dtype) == (tf.float16, tf.float32, tf.float32)
    got_y, got_mean, got_var = run(y, mean, var, feed={x: np.array([1, 2, 3, 6], np.float16).reshape(2, 1, 1, 2)})
    np.testing.assert_allclose(got_mean, [2, 4])
    np.testing.assert_allclose(got_var, [2, 8])  # Bessel-corrected: n / (n - 1) = 2
    # epsilon is raised to cuDNN's floor 1.001e-5, so y is just under +-1
    np.testing.assert_allclose(got_y.reshape(2, 2), [[-1, -1], [1, 1]], rtol=1e-3)


def test_fused_batch_norm_runs_with_unknown_batch() -> None:
    x = tf.placeholder(tf.float32, [None, 2, 2, 1])
    y, _, _ = tf.nn.fused_batch_norm(x, [2.0], [1.0])
    data = np.arange(8, dtype=np.float32).reshape(2, 2, 2, 1)
    want = (data - data.mean()) / np.sqrt(data.var() + 1e-3) * 2 + 1
    np.testing.assert_allclose(run(y, feed={x: data}), want, rtol=1e-5)
