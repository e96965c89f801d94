"""tf.constant dtypes and shapes, placeholder_with_default, convert_to_tensor packing lists of tensors."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import gpugraph as tf
from op_testing import graph, run  # noqa: F401 - graph: each test's fresh default graph (autouse)


@pytest.mark.parametrize("value,dtype", [
    (1.0, tf.float32), (1, tf.int32), (2**40, tf.int64), (-(2**40), tf.int64), (True, tf.bool),
    ([1, 2.5], tf.float32), ([[1, 2], [3, 2**31]], tf.int64), (np.array([1.0]), tf.float64),
    (np.float64(1.0), tf.float64), (np.int64(3), tf.int64), (np.array([1], np.int8), tf.int8),
    (np.float16(1), tf.float16), ([True, False], tf.bool),
])
def test_default_dtypes(value: Any, dtype: tf.DType) -> None:
    c = tf.constant(value)
    assert c.dtype == dtype and c.op.type == "Const"
    got = run(c)
    assert np.asarray(got).dtype == dtype.np_dtype
    np.testing.assert_array_equal(got, np.asarray(value).astype(dtype.np_dtype))


def test_names() -> None:
    assert tf.constant(1).op.name == "Const" and tf.constant(1).op.name == "Const_1"
    assert tf.constant(1, name="c").op.name == "c"
    with tf.name_scope("s"):
        assert tf.constant(1.0).op.name == "s/Const"


def test_shape_broadcasts_a_scalar_and_verify_shape() -> None:
    outs = [tf.constant(3.0, shape=[2, 3]), tf.constant(7, shape=(4,), dtype=tf.int64),
            tf.constant([1, 2], shape=[2], verify_shape=True)]
    assert [o.shape.as_tuple() for o in outs] == [(2, 3), (4,), (2,)]
    got = run(*outs)
    np.testing.assert_array_equal(got[0], np.full((2, 3), 3.0, np.float32))
    assert got[1].dtype == np.int64 and got[1].tolist() == [7] * 4
    with pytest.raises(TypeError, match="shape"):
        tf.constant([1, 2], shape=[3], verify_shape=True)
    with pytest.raises(TypeError):
        tf.constant(3.0, shape=[2], verify_shape=True)
    with pytest.raises(ValueError, match="Too many elements"):
        tf.constant([1, 2, 3], shape=[2])


def test_values_that_do_not_fit_the_dtype() -> None:
    with pytest.raises(TypeError, match="int32"):
        tf.constant(1.5, dtype=tf.int32)
    with pytest.raises(TypeError, match="int32"):
        tf.constant([1.0, 2.5], dtype=tf.int32)
    with pytest.raises(TypeError):
        tf.constant(True, dtype=tf.int32)
    with pytest.raises(ValueError, match="out of range"):
        tf.constant(300, dtype=tf.int8)
    np.testing.assert_array_equal(run(tf.constant([1, 2], dtype=tf.float64)), [1.0, 2.0])


@pytest.mark.parametrize("value", [None, ["a", 1], [1, None], object()])  # text is a string tensor now
def test_unsupported_values_raise_type_error(value: Any) -> None:
    with pytest.raises(TypeError, match="convert"):
        tf.constant(value)


def test_constants_own_their_values() -> None:
    src = np.array([1.0, 2.0])
    c = tf.constant(src)
    src[0] = 99.0
    assert run(c).tolist() == [1.0, 2.0]


def test_placeholder_with_default_fed_and_unfed() -> None:
    p = tf.placeholder_with_default(tf.constant([1.0, 2.0]), shape=[None])
    assert p.op.name == "PlaceholderWithDefault" and p.shape.as_tuple() == (None,) and p.dtype == tf.float32
    doubled = p * 2.0
    with tf.Session() as s:
        np.testing.assert_array_equal(s.run(doubled), [2.0, 4.0])
        np.testing.assert_array_equal(s.run(doubled, {p: [5.0, 6.0, 7.0]}), [10.0, 12.0, 14.0])
        np.testing.assert_array_equal(s.run(doubled), [2.0, 4.0])  # the default again
        with pytest.raises(ValueError, match="shape"):
            s.run(p, {p: [[5.0]]})
    q = tf.placeholder_with_default(3, [], name="q")
    assert q.op.name == "q" and q.dtype == tf.int32
    assert run(q + 1) == 4


def test_convert_to_tensor_packs_lists_containing_tensors() -> None:
    a, b = tf.constant(1.0), tf.constant(2.0)
    packed = tf.convert_to_tensor([a, b])
    assert packed.op.type == "Pack" and packed.op.name == "packed" and packed.shape.as_tuple() == (2,)
    mixed = tf.convert_to_tensor([a, 3])  # plain values take the tensors' dtype
    nested = tf.convert_to_tensor([[a, b], [3.0, 4.0]])
    assert mixed.dtype == tf.float32 and nested.shape.as_tuple() == (2, 2)
    got = run(packed, mixed, nested, tf.add([a, b], 1.0))
    np.testing.assert_array_equal(got[0], [1.0, 2.0])
    np.testing.assert_array_equal(got[1], [1.0, 3.0])
    np.testing.assert_array_equal(got[2], [[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_array_equal(got[3], [2.0, 3.0])
    with pytest.raises(ValueError, match="int32"):
        tf.convert_to_tensor([a, tf.constant(1)])


def test_convert_to_tensor_passes_tensors_and_checks_dtype() -> None:
    a = tf.constant(1.0)
    assert tf.convert_to_tensor(a) is a and tf.convert_to_tensor(a, dtype=tf.float32) is a
    with pytest.raises(ValueError, match="requested dtype int32"):
        tf.convert_to_tensor(a, dtype=tf.int32)
    with pytest.raises(TypeError, match="Operation"):
        tf.convert_to_tensor(a.op)
    assert tf.convert_to_tensor(1, preferred_dtype=tf.float64).dtype == tf.float64
    assert tf.convert_to_tensor(1.5, preferred_dtype=tf.int32).dtype == tf.float32
    assert tf.convert_to_tensor([1, 2], dtype=tf.int64).dtype == tf.int64


def test_irregular_nested_list_is_a_clear_value_error() -> None:
    import gpugraph as tf

    with tf.Graph().as_default(), pytest.raises(ValueError, match="dense tensor"):
        tf.constant([[1], [1, 2]])


def test_placeholder_with_default_rejects_an_incompatible_default() -> None:
    import gpugraph as tf

    with tf.Graph().as_default(), pytest.raises(ValueError, match="PlaceholderWithDefault"):
        tf.placeholder_with_default([1.0, 2.0], shape=[3])


def test_bad_python_value_error_names_the_op_input() -> None:
    import gpugraph as tf

    with tf.Graph().as_default(), pytest.raises(TypeError, match="Input 'y' of 'Add' Op"):
        tf.add(tf.constant([1, 2]), 1.5)
