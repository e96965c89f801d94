"""tf.layers Dense, Flatten and Dropout against TensorFlow's (layers_reference.json) and plain NumPy."""

from __future__ import annotations

import numpy as np
import pytest
from layer_reference import check_name_case, check_value_case

import gpugraph as tf


@pytest.mark.parametrize("name", ["dense_relu", "dense_rank3_tanh", "dense_no_bias"])
def test_dense_values_and_gradients_match_tensorflow(name: str) -> None:
    check_value_case(name)


def test_core_names_and_shapes_match_tensorflow() -> None:
    check_name_case("core")


def test_dense_kernel_defaults_to_glorot_uniform_and_bias_to_zeros() -> None:
    x = tf.placeholder(tf.float32, [None, 300])
    layer = tf.layers.Dense(200)
    layer(x)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        kernel, bias = sess.run([layer.kernel, layer.bias])
    limit = np.sqrt(6.0 / (300 + 200))
    assert kernel.shape == (300, 200) and np.abs(kernel).max() <= limit
    assert np.abs(kernel).max() > 0.95 * limit  # uniform over the whole range, not a narrower one
    assert abs(kernel.std() - limit / np.sqrt(3)) < 0.05 * limit
    np.testing.assert_array_equal(bias, np.zeros(200, np.float32))


def test_dense_regularizers_add_losses_with_their_values() -> None:
    w = np.arange(6, dtype=np.float32).reshape(3, 2) / 10
    x = tf.constant(np.ones((4, 3), np.float32))
    y = tf.layers.dense(x, 2, kernel_initializer=tf.constant_initializer(w),
                        bias_initializer=tf.constant_initializer([1.0, -1.0]),
                        kernel_regularizer=lambda k: 0.5 * tf.reduce_sum(k * k),
                        bias_regularizer=lambda b: tf.reduce_sum(b),
                        activity_regularizer=lambda a: tf.reduce_sum(tf.abs(a)))
    losses = tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES)
    assert [t.name for t in losses] == ["dense/kernel/Regularizer/mul_1:0", "dense/bias/Regularizer/Sum:0",
                                        "dense/ActivityRegularizer/truediv:0"]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        got = sess.run(losses + [y])
    expected_out = np.ones((4, 3)) @ w + [1.0, -1.0]
    np.testing.assert_allclose(got[0], 0.5 * (w * w).sum(), rtol=1e-6)
    np.testing.assert_allclose(got[1], 0.0, atol=1e-7)
    np.testing.assert_allclose(got[2], np.abs(expected_out).sum() / 4, rtol=1e-6)  # divided by the batch size
    np.testing.assert_allclose(got[3], expected_out, rtol=1e-6)


def test_dense_rejects_unknown_last_dimension_and_wrong_width() -> None:
    with pytest.raises(ValueError, match="last dimension of the inputs"):
        tf.layers.dense(tf.placeholder(tf.float32, [None, None]), 3)
    layer = tf.layers.Dense(3)
    layer(tf.placeholder(tf.float32, [None, 4]))
    with pytest.raises(ValueError, match="expected axis -1 of input shape to have value 4"):
        layer(tf.placeholder(tf.float32, [None, 5]))
    with pytest.raises(ValueError, match="units"):
        tf.layers.Dense(0)


def test_dense_accepts_activation_names() -> None:
    x = tf.constant([[-1.0, 2.0]])
    y = tf.layers.dense(x, 2, activation="relu", kernel_initializer=tf.constant_initializer(np.eye(2)))
    assert y.op.type == "Relu"
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        np.testing.assert_array_equal(sess.run(y), [[0.0, 2.0]])


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_flatten_matches_numpy(data_format: str) -> None:
    value = np.arange(2 * 3 * 4 * 5, dtype=np.float32).reshape(2, 3, 4, 5)
    x = tf.placeholder(tf.float32, [None, 3, 4, 5])
    y = tf.layers.flatten(x, data_format=data_format)
    assert y.shape.as_list() == [None, 60]
    with tf.Session() as sess:
        got = sess.run(y, {x: value})
    want = value if data_format == "channels_last" else value.transpose(0, 2, 3, 1)
    np.testing.assert_array_equal(got, want.reshape(2, 60))


def test_dropout_keeps_or_scales_each_element() -> None:
    value = np.ones((200, 50), np.float32)
    x = tf.placeholder(tf.float32, [None, 50])
    dropped = tf.layers.dropout(x, rate=0.25, training=True, seed=3)
    kept = tf.layers.dropout(x, rate=0.25)
    with tf.Session() as sess:
        got, same = sess.run([dropped, kept], {x: value})
    assert set(np.unique(got)) <= {0.0, np.float32(1 / 0.75)}
    assert abs((got == 0).mean() - 0.25) < 0.03
    np.testing.assert_array_equal(same, value)


def test_dropout_training_tensor_picks_the_branch_per_run() -> None:
    value = np.arange(1, 401, dtype=np.float32).reshape(20, 20)
    x = tf.placeholder(tf.float32, [20, 20])
    training = tf.placeholder(tf.bool, [])
    y = tf.layers.dropout(x, rate=0.5, training=training)
    assert y.shape.as_list() == [20, 20]
    with tf.Session() as sess:
        off = sess.run(y, {x: value, training: False})
        on = sess.run(y, {x: value, training: True})
    np.testing.assert_array_equal(off, value)
    np.testing.assert_allclose(on[on != 0], 2 * value[on != 0], rtol=1e-6)
    assert 0.3 < (on == 0).mean() < 0.7


def test_dropout_noise_shape_drops_whole_columns() -> None:
    x = tf.placeholder(tf.float32, [None, 40])
    y = tf.layers.dropout(x, rate=0.5, noise_shape=[1, 40], training=True)
    with tf.Session() as sess:
        got = sess.run(y, {x: np.ones((6, 40), np.float32)})
    assert (got == got[:1]).all()  # one decision per column, shared by every row


def test_dropout_noise_shape_none_takes_the_unknown_batch_size() -> None:
    x = tf.placeholder(tf.float32, [None, 40])
    y = tf.layers.dropout(x, rate=0.5, noise_shape=[None, 1], training=True)
    with tf.Session() as sess:
        got = sess.run(y, {x: np.ones((30, 40), np.float32)})
    assert (got == got[:, :1]).all()  # one decision per row, shared by every column
    assert 0 < (got[:, 0] == 0).sum() < 30


def test_dropout_rejects_a_non_bool_training_tensor() -> None:
    with pytest.raises(TypeError, match="training"):
        tf.layers.dropout(tf.placeholder(tf.float32, [3]), training=tf.placeholder(tf.float32, []))
