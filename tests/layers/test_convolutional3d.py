"""tf.layers Conv3D, Conv3DTranspose and 3-D pooling against TensorFlow (data/layers_extra_reference.json)."""

from __future__ import annotations

import numpy as np
import pytest
from layers_extra_reference import check_case
from op_testing import run

import gpugraph as tf


@pytest.mark.parametrize("name", ["conv3d", "conv3d_transpose", "conv3d_transpose_valid", "max_pooling3d",
                                  "average_pooling3d"])
def test_matches_tensorflow(name: str) -> None:
    check_case(name)


def test_transpose_with_unknown_batch_runs() -> None:
    x = tf.placeholder(tf.float32, [None, 2, 3, 2, 1])
    y = tf.layers.conv3d_transpose(x, 2, 3, strides=2, padding="same")
    assert y.shape.as_list() == [None, 4, 6, 4, 2]
    with tf.Session() as s:
        s.run(tf.global_variables_initializer())
        assert s.run(y, {x: np.ones((3, 2, 3, 2, 1), np.float32)}).shape == (3, 4, 6, 4, 2)


def test_channels_first_pooling_matches_channels_last() -> None:
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 5, 6)).astype(np.float32)
    last = tf.layers.max_pooling3d(tf.constant(x), 2, 2, padding="same")
    first = tf.layers.max_pooling3d(tf.constant(x.transpose(0, 4, 1, 2, 3)), 2, 2, padding="same",
                                    data_format="channels_first")
    got_last, got_first = run(last, first)
    np.testing.assert_array_equal(got_first, got_last.transpose(0, 4, 1, 2, 3))


def test_rank_is_checked() -> None:
    with pytest.raises(ValueError):
        tf.layers.conv3d(tf.zeros([2, 4, 4, 3]), 2, 3)
    with pytest.raises(ValueError):
        tf.layers.MaxPooling3D(2, 2)(tf.zeros([2, 4, 4, 3]))
