"""tf.nn.dropout: statistics, exact scaling, seeds, noise_shape, gradient, TF1's arguments and errors."""

from __future__ import annotations

import numpy as np
import pytest
from op_testing import run

import gpugraph as tf

RATE = 0.3


def test_drops_a_fraction_rate_and_preserves_the_mean() -> None:
    x = tf.ones([200, 500])
    out = run(tf.nn.dropout(x, rate=RATE, seed=1))
    assert abs(np.mean(out == 0) - RATE) < 0.01  # binomial sd 0.0014 over 1e5 draws
    assert abs(out.mean() - 1.0) < 0.015


def test_kept_elements_are_scaled_exactly() -> None:
    data = np.random.default_rng(0).uniform(1.0, 2.0, (50, 40)).astype(np.float32)
    out = run(tf.nn.dropout(tf.constant(data), keep_prob=0.8))
    kept = out != 0
    assert 0 < kept.sum() < kept.size
    np.testing.assert_array_equal(out[kept], data[kept] * np.float32(1 / 0.8))


def test_keep_prob_placeholder() -> None:
    keep_prob = tf.placeholder(tf.float32)
    x = tf.ones([100, 100])
    out = tf.nn.dropout(x, keep_prob)
    assert out.name == "dropout/mul_1:0" and out.shape.as_list() == [100, 100]
    with tf.Session() as sess:
        half = sess.run(out, {keep_prob: 0.5})
        full = sess.run(out, {keep_prob: 1.0})
    assert set(np.unique(half)) == {0.0, 2.0} and abs(np.mean(half == 0) - 0.5) < 0.03
    np.testing.assert_array_equal(full, np.ones((100, 100)))


def test_same_seeds_same_mask_in_a_new_session_new_mask_per_run() -> None:
    tf.set_random_seed(3)
    out = tf.nn.dropout(tf.ones([30, 30]), rate=0.5, seed=7)
    with tf.Session() as sess:
        first, second = sess.run(out), sess.run(out)
    with tf.Session() as sess:
        again = sess.run(out)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, second)


def test_noise_shape_shares_the_mask_along_broadcast_dims() -> None:
    out = run(tf.nn.dropout(tf.ones([40, 6, 5]), rate=0.5, noise_shape=[40, 1, 5], seed=2))
    np.testing.assert_array_equal(out, np.broadcast_to(out[:, :1, :], out.shape))
    assert 0 < np.mean(out == 0) < 1


def test_noise_shape_unknown_dims_come_from_x() -> None:
    out = run(tf.nn.dropout(tf.ones([20, 4]), rate=0.5, noise_shape=[None, 1], seed=5))
    np.testing.assert_array_equal(out, np.broadcast_to(out[:, :1], out.shape))


def test_gradient_is_mask_over_keep_prob() -> None:
    x = tf.constant(np.random.default_rng(1).uniform(1.0, 2.0, (20, 20)).astype(np.float32))
    out = tf.nn.dropout(x, keep_prob=0.25)
    (grad,) = tf.gradients(tf.reduce_sum(out), x)
    value, g = run(out, grad)
    np.testing.assert_array_equal(g, (value != 0).astype(np.float32) * 4.0)


def test_rate_zero_returns_x_itself() -> None:
    x = tf.placeholder(tf.float32, [None, 3])
    assert tf.nn.dropout(x, rate=0.0) is x
    assert tf.nn.dropout(x, keep_prob=1.0) is x
    assert tf.nn.dropout(x, rate=tf.constant(0.0)) is x


@pytest.mark.parametrize("kwargs, message", [
    ({"keep_prob": 1.5}, r"range \[0, 1\), got -0.5"),
    ({"keep_prob": 0.0}, r"range \[0, 1\), got 1"),
    ({"rate": 1.0}, r"range \[0, 1\), got 1"),
    ({"rate": -0.1}, r"range \[0, 1\), got -0.1"),
    ({"keep_prob": 0.5, "rate": 0.5}, "Cannot specify both 'keep_prob' and 'rate'"),
    ({}, "You must provide a rate"),
    ({"keep_prob": "a"}, "keep_prob must be a floating point number or Tensor"),
])
def test_argument_errors(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        tf.nn.dropout(tf.ones([2, 3]), **kwargs)


def test_integer_x_is_refused() -> None:
    with pytest.raises(ValueError, match="floating point tensor"):
        tf.nn.dropout(tf.constant([1, 2]), rate=0.5)


def test_unknown_batch_draws_a_mask_of_the_fed_shape() -> None:
    x = tf.placeholder(tf.float32, [None, 50])
    keep_prob = tf.placeholder(tf.float32)
    out = tf.nn.dropout(x, keep_prob, seed=4)
    assert out.shape.as_list() == [None, 50]
    with tf.Session() as sess:
        small = sess.run(out, {x: np.ones((3, 50)), keep_prob: 0.5})
        big = sess.run(out, {x: np.ones((40, 50)), keep_prob: 0.5})
    assert small.shape == (3, 50) and big.shape == (40, 50)
    assert set(np.unique(big)) == {0.0, 2.0} and abs(np.mean(big == 0) - 0.5) < 0.05
