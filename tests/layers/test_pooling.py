"""tf.layers max and average pooling against TensorFlow's (layers_reference.json)."""

from __future__ import annotations

import numpy as np
import pytest
from layer_reference import REFERENCE, check_value_case, data

import gpugraph as tf


@pytest.mark.parametrize("name", [
    "max_pooling2d_valid", "max_pooling2d_same", "average_pooling2d_same", "average_pooling2d_valid",
    "max_pooling1d", "average_pooling1d_same",
])
def test_pooling_values_and_gradients_match_tensorflow(name: str) -> None:
    check_value_case(name)


def test_pooling_names_match_tensorflow() -> None:
    x = tf.placeholder(tf.float32, [None, 8, 8, 3], name="x")
    x1 = tf.placeholder(tf.float32, [None, 10, 3], name="x1")
    want = REFERENCE["names"]["conv"]
    assert str(tf.layers.max_pooling2d(x, 2, 2)) == want["max2d"]
    assert str(tf.layers.average_pooling2d(x, 3, 2, padding="same")) == want["avg2d"]
    assert str(tf.layers.max_pooling1d(x1, 2, 2)) == want["max1d"]
    assert str(tf.layers.average_pooling1d(x1, 2, 2)) == want["avg1d"]
    layer = tf.layers.MaxPooling2D(3, 2, padding="same")
    assert str(layer.compute_output_shape(tf.TensorShape([None, 7, 8, 3]))) == want["pool_class_shape"]
    assert layer.variables == [] and layer.updates == []


@pytest.mark.parametrize("fn,case", [(tf.layers.max_pooling2d, "max_pooling2d_same"),
                                     (tf.layers.average_pooling2d, "average_pooling2d_same")])
def test_channels_first_pooling_equals_tensorflows_channels_last_transposed(fn, case) -> None:
    x = data(4, (1, 5, 6, 2) if case == "max_pooling2d_same" else (1, 5, 5, 2))
    y = fn(tf.constant(x.transpose(0, 3, 1, 2)), 3, 2, padding="same", data_format="channels_first")
    with tf.Session() as sess:
        got = sess.run(y)
    np.testing.assert_allclose(got, np.asarray(REFERENCE["values"][case]["out"]).transpose(0, 3, 1, 2), rtol=1e-6)


def test_pooling_rejects_wrong_rank_and_bad_arguments() -> None:
    with pytest.raises(ValueError, match="expected ndim=4"):
        tf.layers.max_pooling2d(tf.placeholder(tf.float32, [None, 4, 4]), 2, 2)
    with pytest.raises(ValueError, match="pool_size"):
        tf.layers.average_pooling1d(tf.placeholder(tf.float32, [None, 4, 4]), (2, 2), 2)
    with pytest.raises(ValueError, match="padding"):
        tf.layers.max_pooling2d(tf.placeholder(tf.float32, [None, 4, 4, 1]), 2, 2, padding="full")
