"""Initializers: values, dtypes, and distribution statistics on large shapes."""

from __future__ import annotations

import math

import numpy as np
import pytest

import gpugraph as tf
from gpugraph.init_ops import compute_fans


@pytest.fixture(autouse=True)
def _fresh_graph():
    tf.reset_default_graph()
    yield


def _value(init, shape, dtype=None):
    t = init(shape, dtype=dtype)
    with tf.Session() as sess:
        return sess.run(t)


def test_constant_zeros_ones():
    np.testing.assert_array_equal(_value(tf.constant_initializer(2.5), [2, 3]), np.full((2, 3), 2.5))
    np.testing.assert_array_equal(_value(tf.constant_initializer([1, 2, 3, 4]), [2, 2]), [[1, 2], [3, 4]])
    np.testing.assert_array_equal(_value(tf.zeros_initializer(), [3]), [0, 0, 0])
    np.testing.assert_array_equal(_value(tf.ones_initializer(), [2]), [1, 1])
    ints = _value(tf.ones_initializer(), [2], dtype=tf.int32)
    assert ints.dtype == np.int32
    assert _value(tf.zeros_initializer(dtype=tf.float64), [1]).dtype == np.float64
    with pytest.raises(TypeError):
        tf.constant_initializer([1, 2], verify_shape=True)([3])


def test_random_uniform_initializer():
    v = _value(tf.random_uniform_initializer(-0.5, 0.5, seed=1), [200, 100])
    assert v.min() >= -0.5 and v.max() < 0.5
    assert abs(v.var() - 1.0 / 12.0) < 0.005
    default = _value(tf.random_uniform_initializer(seed=2), [1000])
    assert default.min() >= 0.0 and default.max() < 1.0


def test_random_normal_initializer():
    v = _value(tf.random_normal_initializer(mean=1.0, stddev=0.3, seed=1), [200, 100])
    assert abs(v.mean() - 1.0) < 0.01
    assert abs(v.std() - 0.3) < 0.01
    assert np.abs(v - 1.0).max() > 2 * 0.3  # not truncated


def test_truncated_normal_initializer_stays_within_two_stddev():
    v = _value(tf.truncated_normal_initializer(mean=0.0, stddev=0.1, seed=1), [200, 100])
    assert np.abs(v).max() <= 0.2
    assert abs(v.std() - 0.1 * 0.8796) < 0.003


def test_compute_fans():
    assert compute_fans([]) == (1.0, 1.0)
    assert compute_fans([7]) == (7.0, 7.0)
    assert compute_fans([3, 5]) == (3.0, 5.0)
    assert compute_fans([2, 2, 3, 5]) == (12.0, 20.0)  # conv kernel: receptive field 2*2


def test_glorot_uniform_limits_and_variance():
    fan_in, fan_out = 300, 200
    v = _value(tf.glorot_uniform_initializer(seed=1), [fan_in, fan_out])
    limit = math.sqrt(6.0 / (fan_in + fan_out))
    assert np.abs(v).max() <= limit
    assert np.abs(v).max() > 0.99 * limit
    np.testing.assert_allclose(v.var(), 2.0 / (fan_in + fan_out), rtol=0.03)


def test_glorot_normal_variance_and_truncation():
    fan_in, fan_out = 300, 200
    v = _value(tf.glorot_normal_initializer(seed=1), [fan_in, fan_out])
    np.testing.assert_allclose(v.var(), 2.0 / (fan_in + fan_out), rtol=0.03)
    stddev = math.sqrt(2.0 / (fan_in + fan_out)) / 0.87962566103423978
    assert np.abs(v).max() <= 2 * stddev


@pytest.mark.parametrize("mode,fan", [("fan_in", 400), ("fan_out", 250), ("fan_avg", 325)])
def test_variance_scaling_modes(mode, fan):
    shape = [400, 250]
    scale = 2.0
    v = _value(tf.variance_scaling_initializer(scale=scale, mode=mode, distribution="uniform", seed=3), shape)
    limit = math.sqrt(3.0 * scale / fan)
    assert np.abs(v).max() <= limit
    np.testing.assert_allclose(v.var(), scale / fan, rtol=0.03)
    n = _value(tf.variance_scaling_initializer(scale=scale, mode=mode, distribution="untruncated_normal",
                                               seed=4), shape)
    np.testing.assert_allclose(n.var(), scale / fan, rtol=0.03)
    t = _value(tf.variance_scaling_initializer(scale=scale, mode=mode, seed=5), shape)  # truncated normal
    np.testing.assert_allclose(t.var(), scale / fan, rtol=0.03)


def test_variance_scaling_argument_checks():
    with pytest.raises(ValueError):
        tf.variance_scaling_initializer(scale=0.0)
    with pytest.raises(ValueError):
        tf.variance_scaling_initializer(mode="fan_sideways")
    with pytest.raises(ValueError):
        tf.variance_scaling_initializer(distribution="cauchy")


def test_seeded_initializer_is_reproducible_across_sessions():
    t = tf.random_normal_initializer(seed=11)([5])
    with tf.Session() as s1:
        a = s1.run(t)
    with tf.Session() as s2:
        b = s2.run(t)
    np.testing.assert_array_equal(a, b)


def test_initializers_in_get_variable():
    w = tf.get_variable("w", [100, 50], initializer=tf.truncated_normal_initializer(stddev=0.02, seed=1))
    b = tf.get_variable("b", [50], initializer=tf.zeros_initializer())
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        wv, bv = sess.run([w, b])
    assert np.abs(wv).max() <= 0.04
    assert not bv.any()


@pytest.mark.parametrize("init", [
    tf.zeros_initializer(), tf.ones_initializer(dtype=tf.float64), tf.constant_initializer([1.0, 2.0]),
    tf.random_uniform_initializer(-1.0, 2.0, seed=3), tf.random_normal_initializer(1.0, 2.0, seed=4),
    tf.truncated_normal_initializer(0.5, 0.1, seed=5), tf.variance_scaling_initializer(2.0, "fan_out", "uniform", 6),
    tf.glorot_uniform_initializer(seed=7), tf.glorot_normal_initializer(seed=8),
])
def test_initializer_config_round_trip(init):
    config = init.get_config()
    again = type(init).from_config(config)
    assert again.get_config() == config
    assert again.dtype == init.dtype


def test_constant_initializer_rejects_odd_values():
    with pytest.raises(TypeError):
        tf.constant_initializer({"a": 1})


def test_initializers_namespace_matches_tf1_names() -> None:
    import gpugraph as tf

    g = tf.Graph()
    with g.as_default():
        v = tf.get_variable("v", shape=(400, 300), initializer=tf.initializers.he_normal(seed=1))
        z = tf.get_variable("z", shape=(3,), initializer=tf.initializers.zeros())
        init = tf.initializers.global_variables()
        with tf.Session() as sess:
            sess.run(init)
            values = sess.run(v)
            assert sess.run(z).tolist() == [0.0, 0.0, 0.0]
    # he_normal: truncated normal with variance 2 / fan_in
    assert abs(values.var() - 2.0 / 400) < 0.1 * 2.0 / 400
    assert init.type == "NoOp" and init.name == "init"
