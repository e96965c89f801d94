"""tf.layers.SeparableConv1D/2D against TensorFlow (data/layers_extra_reference.json), and their API."""

from __future__ import annotations

import pytest
from layers_extra_reference import check_case

import gpugraph as tf


@pytest.mark.parametrize("name", ["separable_conv2d", "separable_conv2d_strided", "separable_conv1d"])
def test_matches_tensorflow(name: str) -> None:
    check_case(name)


def test_class_reuses_its_variables_and_exposes_kernels() -> None:
    layer = tf.layers.SeparableConv2D(4, 3, depth_multiplier=2, padding="same")
    x = tf.placeholder(tf.float32, [None, 6, 6, 3])
    y1, y2 = layer(x), layer(x)
    assert y1.shape.as_list() == [None, 6, 6, 4] and y2.shape.as_list() == [None, 6, 6, 4]
    assert layer.depthwise_kernel.shape.as_list() == [3, 3, 3, 2]
    assert layer.pointwise_kernel.shape.as_list() == [1, 1, 6, 4]
    assert len(tf.trainable_variables()) == 3


def test_channels_first_and_bad_arguments() -> None:
    y = tf.layers.separable_conv2d(tf.zeros([2, 3, 6, 6]), 5, 3, data_format="channels_first")
    assert y.shape.as_list() == [2, 5, 4, 4]
    with pytest.raises(ValueError):
        tf.layers.separable_conv2d(tf.zeros([2, 6, 6, 3]), 4, 3, strides=2, dilation_rate=2)
    with pytest.raises(ValueError):
        tf.layers.separable_conv1d(tf.zeros([2, 6, 6, 3]), 4, 3)
