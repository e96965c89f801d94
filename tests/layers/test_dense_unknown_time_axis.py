"""tf.layers.dense on a rank-3 input whose middle dimension is unknown (a padded time axis), as TF1's
Dense does with tensordot: the static shape keeps what is known, the values are x @ kernel + bias."""

from __future__ import annotations

import numpy as np

import gpugraph as tf


def test_dense_on_unknown_time_axis_matches_numpy() -> None:
    x = tf.placeholder(tf.float32, [None, None, 4])
    y = tf.layers.dense(x, 3)
    assert y.name == "dense/BiasAdd:0"  # TensorFlow: the same name
    assert y.shape.as_list() == [None, None, 3]
    xs = np.arange(2 * 5 * 4, dtype=np.float32).reshape(2, 5, 4) / 10.0
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        kernel, bias = sess.run(tf.trainable_variables())
        sess.run(tf.trainable_variables()[1].assign([0.5, -1.0, 2.0]))
        got = sess.run(y, {x: xs})
    assert bias.tolist() == [0.0, 0.0, 0.0]
    np.testing.assert_allclose(got, xs @ kernel + np.array([0.5, -1.0, 2.0], dtype=np.float32), rtol=1e-6)
    assert got.shape == (2, 5, 3)
