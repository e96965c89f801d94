"""tf.div_no_nan: x / y, and 0 (with zero gradients) wherever y == 0, as TF1's DivNoNan."""

from __future__ import annotations

import numpy as np

import gpugraph as tf


def test_div_no_nan_is_zero_where_the_divisor_is_zero() -> None:
    x = tf.constant([1.0, 0.0, -2.0, np.inf, np.nan], name="x")
    y = tf.constant([0.0, 0.0, 4.0, 0.0, 0.0], name="y")
    out = tf.div_no_nan(x, y)
    gx, gy = tf.gradients(out, [x, y])
    assert out.name == "div_no_nan:0"
    with tf.Session() as sess:
        value, dx, dy = sess.run([out, gx, gy])
    np.testing.assert_array_equal(value, [0.0, 0.0, -0.5, 0.0, 0.0])
    # d/dx = 1/y and d/dy = -x/y**2 where y != 0; 0 elsewhere (TF1's gradient)
    np.testing.assert_array_equal(dx, [0.0, 0.0, 0.25, 0.0, 0.0])
    np.testing.assert_array_equal(dy, [0.0, 0.0, 0.125, 0.0, 0.0])
