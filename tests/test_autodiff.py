"""tf.gradients: the reverse walk, broadcasting, unconnected inputs, stop_gradient, grad_ys, 2nd order."""

from __future__ import annotations

import numpy as np
import pytest

import gpugraph as tf


@pytest.fixture(autouse=True)
def _fresh_graph():
    tf.reset_default_graph()
    yield


def run(fetches, feed=None):
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        return sess.run(fetches, feed)


def test_simple_chain_rule():
    x = tf.constant(3.0)
    y = x * x + 2.0 * x
    (g,) = tf.gradients(y, [x])
    assert run(g) == 8.0
    assert g.name.startswith("gradients/")


def test_gradients_accepts_single_tensors_and_lists():
    x = tf.constant([1.0, 2.0])
    y = tf.reduce_sum(x * x)
    g = tf.gradients(y, x)
    assert isinstance(g, list) and len(g) == 1
    np.testing.assert_array_equal(run(g[0]), [2.0, 4.0])


def test_gradient_sums_over_broadcast_dims():
    xv = np.arange(3, dtype=np.float32).reshape(3, 1)
    yv = np.arange(4, dtype=np.float32).reshape(1, 4)
    x, y = tf.constant(xv), tf.constant(yv)
    z = tf.reduce_sum((x + y) * (x - 2.0 * y))
    gx, gy = tf.gradients(z, [x, y])
    assert gx.shape.as_list() == [3, 1] and gy.shape.as_list() == [1, 4]
    gxv, gyv = run([gx, gy])
    # d/dx sum((x+y)(x-2y)) = sum_j (2x - y); d/dy = sum_i (-x - 4y)
    np.testing.assert_allclose(gxv, (2 * xv - yv).sum(axis=1, keepdims=True))
    np.testing.assert_allclose(gyv, (-xv - 4 * yv).sum(axis=0, keepdims=True))


def test_unconnected_inputs_get_none_or_zeros():
    x = tf.constant(1.0)
    z = tf.constant([2.0, 3.0])
    y = x * 3.0
    assert tf.gradients(y, [x, z])[1] is None
    gz = tf.gradients(y, z, unconnected_gradients="zero")[0]
    np.testing.assert_array_equal(run(gz), [0.0, 0.0])


def test_stop_gradient_is_respected():
    x = tf.constant(2.0)
    y = x * tf.stop_gradient(x * x)  # only the outer x counts: d/dx = x^2
    (g,) = tf.gradients(y, [x])
    assert run(g) == 4.0
    s = tf.stop_gradient(x)
    assert tf.gradients(s * 2.0, [x]) == [None]


def test_stop_gradients_argument():
    a = tf.constant(1.0)
    b = a * 2.0
    c = a + b
    ga, gb = tf.gradients(c, [a, b], stop_gradients=[a, b])
    assert run([ga, gb]) == [1.0, 1.0]


def test_grad_ys_weights_the_outputs():
    x = tf.constant([1.0, 2.0])
    y = x * x
    (g,) = tf.gradients(y, [x], grad_ys=[tf.constant([10.0, 100.0])])
    np.testing.assert_array_equal(run(g), [20.0, 400.0])
    (g2,) = tf.gradients([y, x], [x], grad_ys=[[1.0, 1.0], [5.0, 5.0]])
    np.testing.assert_array_equal(run(g2), [7.0, 9.0])
    with pytest.raises(ValueError):
        tf.gradients(y, [x], grad_ys=[1.0, 2.0])


def test_multiple_ys_are_summed():
    x = tf.constant(3.0)
    (g,) = tf.gradients([x * x, 4.0 * x], [x])
    assert run(g) == 10.0


def test_second_order_gradient_of_cube():
    x = tf.constant(2.0)
    y = x ** 3.0
    (dy,) = tf.gradients(y, [x])
    (d2y,) = tf.gradients(dy, [x])
    (d3y,) = tf.gradients(d2y, [x])
    assert run([dy, d2y, d3y]) == pytest.approx([12.0, 12.0, 6.0])


def test_gradient_with_respect_to_a_variable():
    w = tf.Variable([[1.0], [2.0]], name="w")
    x = tf.placeholder(tf.float32, shape=(None, 2))
    loss = tf.reduce_mean(tf.square(tf.matmul(x, w)))
    (g,) = tf.gradients(loss, [w])
    assert g.shape.as_list() == [2, 1]
    xv = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], np.float32)
    wv = np.array([[1.0], [2.0]], np.float32)
    want = 2.0 * xv.T @ (xv @ wv) / 3.0
    np.testing.assert_allclose(run(g, {x: xv}), want, rtol=1e-6)


def test_gradient_through_indexing_and_matches_finite_differences():
    xv = np.array([0.3, -1.2, 2.0], np.float64)
    x = tf.placeholder(tf.float64, shape=(3,))
    y = tf.reduce_sum(tf.exp(x[0:2]) * x[2]) + tf.reduce_sum(tf.square(x))
    (g,) = tf.gradients(y, [x])
    got = run(g, {x: xv})

    def f(v):
        return np.sum(np.exp(v[0:2]) * v[2]) + np.sum(v ** 2)

    eps = 1e-6
    num = [(f(xv + eps * e) - f(xv - eps * e)) / (2 * eps) for e in np.eye(3)]
    np.testing.assert_allclose(got, num, rtol=1e-6)


def test_gradient_name_scope():
    x = tf.constant(1.0)
    g1 = tf.gradients(x * x, [x])[0]
    g2 = tf.gradients(x * x, [x], name="mygrads")[0]
    g3 = tf.gradients(x * x, [x])[0]
    assert g1.name.startswith("gradients/")
    assert g2.name.startswith("mygrads/")
    assert g3.name.startswith("gradients_1/")


def test_gradients_of_integer_or_boolean_outputs_are_none_as_in_tf1():
    with tf.Graph().as_default():
        x = tf.constant([1, 2])
        assert tf.gradients(x * 2, x) == [None]
        b = tf.constant([True])
        assert tf.gradients(tf.logical_not(b), b) == [None]
        f = tf.constant([1.0])
        assert tf.gradients(tf.cast(f, tf.int32), f) == [None]
