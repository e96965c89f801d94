"""tf.orthogonal_initializer and tf.uniform_unit_scaling_initializer; TF1's initializer names."""

from __future__ import annotations

import numpy as np
import pytest

import gpugraph as tf


@pytest.fixture(autouse=True)
def _fresh_graph():
    tf.reset_default_graph()


def _value(shape, initializer):
    v = tf.get_variable("v", shape, initializer=initializer)
    with tf.Session() as sess:
        sess.run(v.initializer)
        return sess.run(v)


@pytest.mark.parametrize("shape", [(3, 5), (6, 2), (2, 3, 4)])
def test_orthogonal_rows_or_columns_are_orthonormal_times_gain(shape) -> None:
    m = _value(shape, tf.orthogonal_initializer(gain=2.0, seed=1)).reshape(-1, shape[-1]).astype(np.float64)
    gram = m.T @ m if m.shape[0] >= m.shape[1] else m @ m.T
    np.testing.assert_allclose(gram, 4.0 * np.eye(gram.shape[0]), atol=1e-5)


def test_orthogonal_needs_a_matrix() -> None:
    with pytest.raises(ValueError, match="at least two-dimensional"):
        tf.initializers.orthogonal()([3])


def test_uniform_unit_scaling_bounds() -> None:
    m = _value((50, 8), tf.uniform_unit_scaling_initializer(factor=2.0, seed=3))
    limit = np.sqrt(3 / 50) * 2.0
    assert np.abs(m).max() <= limit and np.abs(m).max() > 0.8 * limit


def test_tf1_initializer_names() -> None:
    for name in ("glorot_uniform_initializer", "glorot_normal_initializer", "variance_scaling_initializer",
                 "orthogonal_initializer", "uniform_unit_scaling_initializer"):
        assert callable(getattr(tf, name))
    for name in ("he_normal", "he_uniform", "lecun_normal", "lecun_uniform", "orthogonal", "glorot_uniform"):
        assert callable(getattr(tf.initializers, name))
    assert callable(tf.initialize_local_variables) and callable(tf.initialize_variables)
    assert tf.GraphKeys.MOVING_AVERAGE_VARIABLES == "moving_average_variables"
    assert tf.moving_average_variables() == []
