"""map_fn, scan, foldl, foldr: values, gradients and TF1's names against TensorFlow-generated data."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

import gpugraph as tf

sys.path.insert(0, str(Path(__file__).resolve().parent / "data"))
from control_flow_cases import assert_matches, load_reference, run_program  # noqa: E402

REFERENCE = load_reference()


def test_values_gradients_and_names_match_tensorflow() -> None:
    got = run_program(tf, "functional")
    assert got["names"] == REFERENCE["functional"]["names"]
    assert_matches(got["values"], REFERENCE["functional"]["values"])


def test_unknown_length_and_static_shapes() -> None:
    x = tf.placeholder(tf.float32, [None, 3])
    m = tf.map_fn(lambda r: tf.reduce_sum(r), x)
    c = tf.scan(lambda a, e: a + e, x, reverse=True)
    assert m.shape.as_list() == [None] and c.shape.as_list() == [None, 3]
    values = np.arange(15, dtype=np.float32).reshape(5, 3)
    with tf.Session() as sess:
        got_m, got_c = sess.run([m, c], {x: values})
    np.testing.assert_array_equal(got_m, values.sum(axis=1))
    np.testing.assert_array_equal(got_c, np.cumsum(values[::-1], axis=0)[::-1])


def test_scalar_elems_are_refused() -> None:
    with pytest.raises(ValueError, match="1\\+ dimensional"):
        tf.map_fn(lambda e: e, tf.constant(1.0))
