"""Gradients through a TensorArray written in a while loop and then gathered (not stacked): the loop's
backward pass reads single rows of a gradient held as sparse entries."""

from __future__ import annotations

import numpy as np

import gpugraph as tf
from op_testing import graph  # noqa: F401 - graph: each test's fresh default graph (autouse)


def test_write_gradients_from_a_gather_match_numpy() -> None:
    steps = 5
    x = tf.placeholder(tf.float64, [steps, 3])
    w = tf.constant([0.5, -1.0, 2.0], dtype=tf.float64)

    def body(t, ta):
        return t + 1, ta.write(t, tf.square(tf.gather(x, t) * w))

    _, ta = tf.while_loop(lambda t, ta: t < steps, body, [tf.constant(0), tf.TensorArray(tf.float64, size=steps)])
    y = tf.reduce_sum(ta.gather([4, 0, 1, 0, 1, 3]))
    dw, dx = tf.gradients(y, [w, x])
    xs = np.arange(15, dtype=np.float64).reshape(steps, 3) / 7.0 - 1.0
    with tf.Session() as sess:
        got_dw, got_dx = sess.run([dw, dx], {x: xs})
    wv = np.array([0.5, -1.0, 2.0])
    weight = np.array([2.0, 2.0, 0.0, 1.0, 1.0])[:, None]  # how often each row enters y
    np.testing.assert_allclose(got_dx, weight * 2 * xs * wv ** 2, rtol=1e-12)
    np.testing.assert_allclose(got_dw, np.sum(weight * 2 * xs ** 2 * wv, axis=0), rtol=1e-12)
