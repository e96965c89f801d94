"""tf.layers Conv1D, Conv2D and Conv2DTranspose against TensorFlow's (layers_reference.json)."""

from __future__ import annotations

import numpy as np
import pytest
from layer_reference import REFERENCE, check_name_case, check_value_case, data

import gpugraph as tf


@pytest.mark.parametrize("name", [
    "conv2d_valid_relu", "conv2d_same_stride2", "conv2d_dilated", "conv1d_same", "conv1d_valid_stride2",
    "conv1d_causal_dilated", "conv2d_transpose_same_stride2", "conv2d_transpose_valid_stride2",
])
def test_conv_values_and_gradients_match_tensorflow(name: str) -> None:
    check_value_case(name, rtol=1e-4)


def test_conv_names_and_shapes_match_tensorflow() -> None:
    check_name_case("conv")


def _run(y: tf.Tensor) -> np.ndarray:
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        return sess.run(y)


def test_conv2d_channels_first_equals_tensorflows_channels_last_transposed() -> None:
    x = data(1, (2, 6, 6, 3))
    y = tf.layers.conv2d(tf.constant(x.transpose(0, 3, 1, 2)), 4, 3, activation=tf.nn.relu,
                         data_format="channels_first",
                         kernel_initializer=tf.constant_initializer(data(2, (3, 3, 3, 4), -0.5, 0.5)),
                         bias_initializer=tf.constant_initializer(data(3, (4,), -0.5, 0.5)))
    assert y.shape.as_list() == [2, 4, 4, 4]
    want = np.asarray(REFERENCE["values"]["conv2d_valid_relu"]["out"]).transpose(0, 3, 1, 2)
    np.testing.assert_allclose(_run(y), want, rtol=1e-5, atol=1e-5)


def test_conv1d_channels_first_equals_tensorflows_channels_last_transposed() -> None:
    x = data(1, (2, 8, 3))
    y = tf.layers.conv1d(tf.constant(x.transpose(0, 2, 1)), 4, 3, padding="same", data_format="channels_first",
                         kernel_initializer=tf.constant_initializer(data(2, (3, 3, 4), -0.5, 0.5)),
                         bias_initializer=tf.constant_initializer(data(3, (4,), -0.5, 0.5)))
    want = np.asarray(REFERENCE["values"]["conv1d_same"]["out"]).transpose(0, 2, 1)
    np.testing.assert_allclose(_run(y), want, rtol=1e-5, atol=1e-5)


def test_conv2d_transpose_with_unknown_batch_runs_with_the_fed_batch() -> None:
    x = tf.placeholder(tf.float32, [None, 3, 3, 2])
    y = tf.layers.conv2d_transpose(x, 3, 3, strides=2, padding="same",
                                   kernel_initializer=tf.constant_initializer(data(2, (3, 3, 3, 2), -0.5, 0.5)),
                                   bias_initializer=tf.constant_initializer(data(3, (3,), -0.5, 0.5)))
    assert y.shape.as_list() == [None, 6, 6, 3]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        got = sess.run(y, {x: data(1, (2, 3, 3, 2))})
    want = REFERENCE["values"]["conv2d_transpose_same_stride2"]["out"]
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_conv_layer_class_reuses_its_kernel() -> None:
    layer = tf.layers.Conv2D(2, 3, name="shared")
    a = layer(tf.placeholder(tf.float32, [None, 5, 5, 1]))
    b = layer(tf.placeholder(tf.float32, [None, 7, 7, 1]))
    assert [v.name for v in tf.global_variables()] == ["shared/kernel:0", "shared/bias:0"]
    assert (a.name, b.name) == ("shared/BiasAdd:0", "shared/BiasAdd_1:0")
    assert b.shape.as_list() == [None, 5, 5, 2]


def test_conv_argument_errors() -> None:
    x = tf.placeholder(tf.float32, [None, 5, 5, 3])
    with pytest.raises(ValueError, match="kernel_size"):
        tf.layers.conv2d(x, 2, (3, 3, 3))
    with pytest.raises(ValueError, match="padding"):
        tf.layers.conv2d(x, 2, 3, padding="causal")
    with pytest.raises(ValueError, match="dilation_rate"):
        tf.layers.conv2d(x, 2, 3, strides=2, dilation_rate=2)
    with pytest.raises(ValueError, match="channel dimension of the inputs should be defined"):
        tf.layers.conv2d(tf.placeholder(tf.float32, [None, 5, 5, None]), 2, 3)
    with pytest.raises(ValueError, match="data_format"):
        tf.layers.conv2d(x, 2, 3, data_format="NHWC")
