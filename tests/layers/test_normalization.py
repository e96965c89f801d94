"""tf.layers batch normalization against TensorFlow's (layers_reference.json): outputs, gradients, and the
moving statistics after training steps run through tf.GraphKeys.UPDATE_OPS."""

from __future__ import annotations

import numpy as np
import pytest
from layer_reference import check_name_case, check_value_case, data

import gpugraph as tf


@pytest.mark.parametrize("name", [
    "batch_norm_fused_nhwc", "batch_norm_2d", "batch_norm_unfused_4d", "batch_norm_axis1_3d",
    "batch_norm_training_tensor_fused", "batch_norm_training_tensor_2d",
])
def test_batch_norm_matches_tensorflow(name: str) -> None:
    check_value_case(name, rtol=1e-4, atol=1e-5)


def test_batch_norm_names_collections_and_updates_match_tensorflow() -> None:
    check_name_case("batch_norm")


def test_update_ops_run_with_the_train_op_under_control_dependencies() -> None:
    x = tf.placeholder(tf.float32, [None, 3])
    y = tf.layers.batch_normalization(x, training=True, momentum=0.5)
    loss = tf.reduce_sum(tf.square(y))
    with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):
        train_op = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
    value = data(7, (8, 3), 0.0, 4.0)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(train_op, {x: value})
        mean, var = sess.run(tf.get_collection(tf.GraphKeys.GLOBAL_VARIABLES)[2:])
    # one step from (0, 1): moving = 0.5 * moving + 0.5 * batch statistic (biased variance when unfused)
    np.testing.assert_allclose(mean, 0.5 * value.mean(0), rtol=1e-5)
    np.testing.assert_allclose(var, 0.5 + 0.5 * value.var(0), rtol=1e-5)


def test_inference_uses_the_moving_statistics() -> None:
    x = tf.placeholder(tf.float32, [None, 2])
    y = tf.layers.batch_normalization(x, epsilon=0.0, center=False, scale=False,
                                      moving_mean_initializer=tf.constant_initializer([1.0, -2.0]),
                                      moving_variance_initializer=tf.constant_initializer([4.0, 0.25]))
    assert tf.get_collection(tf.GraphKeys.UPDATE_OPS) == []
    assert [v.name for v in tf.global_variables()] == ["batch_normalization/moving_mean:0",
                                                       "batch_normalization/moving_variance:0"]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        got = sess.run(y, {x: [[3.0, -1.0]]})
    np.testing.assert_allclose(got, [[1.0, 2.0]], rtol=1e-6)


def test_reused_batch_norm_shares_variables_and_adds_no_regularizer_twice() -> None:
    x = tf.placeholder(tf.float32, [None, 4, 4, 2])
    reg = lambda v: tf.reduce_sum(v)  # noqa: E731
    tf.layers.batch_normalization(x, training=True, name="bn", gamma_regularizer=reg)
    tf.layers.batch_normalization(x, training=False, name="bn", reuse=True, gamma_regularizer=reg)
    assert len(tf.global_variables()) == 4
    assert len(tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES)) == 1
    with pytest.raises(ValueError, match="already exists"):
        tf.layers.batch_normalization(x, name="bn")


def test_batch_norm_argument_errors() -> None:
    with pytest.raises(ValueError, match="axis"):
        tf.layers.batch_normalization(tf.placeholder(tf.float32, [None, 3]), axis=2)
    with pytest.raises(ValueError, match="undefined `axis` dimension"):
        tf.layers.batch_normalization(tf.placeholder(tf.float32, [None, None]))
    with pytest.raises(TypeError, match="training"):
        tf.layers.batch_normalization(tf.placeholder(tf.float32, [None, 3]), training=tf.constant(1.0))
