"""Indexing with run-time Tensors (``x[i]``, ``x[i:j]``, tf.strided_slice/tf.slice with Tensor bounds),
gradients through them, and the TF1 behaviours around them (TensorArray reads summed, tf.where's
coordinates, lists holding Tensors as op inputs): values, gradients and static shapes against
TensorFlow-generated data (data/make_tensor_index_reference.py)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

import gpugraph as tf
from op_testing import graph  # noqa: F401 - graph: each test's fresh default graph (autouse)

DATA = Path(__file__).resolve().parent / "data"
_spec = importlib.util.spec_from_file_location("tensor_index_cases", DATA / "tensor_index_cases.py")
cases = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(cases)
REFERENCE = json.loads((DATA / "tensor_index_reference.json").read_text())


@pytest.mark.parametrize("name", cases.NAMES)
def test_case_matches_tensorflow(name: str) -> None:
    want = REFERENCE["cases"][name]
    got = cases.run(tf, name)
    np.testing.assert_allclose(np.asarray(got["value"], np.float64), np.asarray(want["value"], np.float64),
                               rtol=1e-12, atol=1e-12)
    if "grad" in want:
        np.testing.assert_allclose(got["grad"], want["grad"], rtol=1e-12, atol=1e-12)
    if "dtype" in want:
        assert got["dtype"] == want["dtype"]
    # the static shape is TF's, or more specific where TF's own inference leaves a dimension unknown
    assert (got["shape"] is None) == (want["shape"] is None)
    if want["shape"] is not None:
        assert len(got["shape"]) == len(want["shape"])
        assert all(w is None or g == w for g, w in zip(got["shape"], want["shape"]))


def test_static_shape_of_a_row_read_with_a_tensor() -> None:
    x = tf.placeholder(tf.float32, [5, 3])
    i = tf.placeholder(tf.int32, [])
    assert x[i].shape.as_list() == [3]
    assert x[:, i].shape.as_list() == [5]
    assert x[i].op.type == "StridedSlice"  # one op, its index an input: no host read on a GPU


def test_float_tensor_index_is_tf1s_type_error() -> None:
    message = cases.index_type_error(tf)
    want = REFERENCE["index_type_error"]
    assert message.split(", got ")[0] == want.split(", got ")[0]
    assert "dtype=float32" in message


def test_static_slices_are_unchanged() -> None:
    x = tf.placeholder(tf.float32, [5, 3])
    y = x[1:3, 0]
    assert y.op.type == "StridedSlice" and len(y.op.inputs) == 1 and y.shape.as_list() == [2]
    with tf.Session() as sess:
        xs = np.arange(15, dtype=np.float32).reshape(5, 3)
        np.testing.assert_array_equal(sess.run(y, {x: xs}), xs[1:3, 0])


def test_constant_tensor_index_gives_a_static_slice() -> None:
    x = tf.placeholder(tf.float32, [5, 3])
    assert x[tf.constant(2):].shape.as_list() == [3, 3]


def test_where_needs_both_x_and_y_or_neither() -> None:
    with pytest.raises(ValueError, match="x and y must both be non-None or both be None"):
        tf.where(tf.constant([True]), x=tf.constant([1.0]))


def test_where_v2_broadcasts_a_vector_condition_along_the_last_axis() -> None:
    cond = tf.constant([True, False, True])
    x = tf.constant(np.arange(6.0).reshape(2, 3))
    out = tf.where_v2(cond, x, tf.zeros_like(x))
    with tf.Session() as sess:
        np.testing.assert_array_equal(sess.run(out), np.where([True, False, True], np.arange(6.0).reshape(2, 3), 0.0))
