"""Operation and Tensor: names, properties, str/repr, static shapes, dtypes, operators."""

from __future__ import annotations

import numpy as np
import pytest

import gpugraph as tf


@pytest.fixture(autouse=True)
def _fresh_graph():
    tf.reset_default_graph()
    yield


def run(*fetches, feed=None):
    with tf.Session() as sess:
        return sess.run(list(fetches) if len(fetches) > 1 else fetches[0], feed)


# --- names, properties, str and repr ---
def test_tensor_and_operation_properties():
    a = tf.constant([[1.0, 2.0, 3.0]], name="a")
    b = a * 2.0
    assert b.name == "mul:0"
    assert b.op.name == "mul"
    assert b.op.type == "Mul"
    assert b.value_index == 0
    assert b.op.outputs == [b]
    assert b.op.inputs[0] is a
    assert b.graph is tf.get_default_graph()
    assert b.op.graph is b.graph
    assert b.get_shape() == tf.TensorShape([1, 3])
    assert b.shape.as_list() == [1, 3]
    assert b.dtype == tf.float32
    assert b.consumers() == []
    assert a.consumers() == [b.op]


def test_tensor_str_and_repr_match_tf1():
    with tf.name_scope("var"):
        x = tf.constant(2.0)
        x * x
        y = x * x
    assert y.name == "var/mul_1:0"
    assert str(y) == 'Tensor("var/mul_1:0", shape=(), dtype=float32)'
    assert repr(y) == "<tf.Tensor 'var/mul_1:0' shape=() dtype=float32>"
    p = tf.placeholder(tf.int32, shape=(None, 3), name="p")
    assert str(p) == 'Tensor("p:0", shape=(?, 3), dtype=int32)'
    assert repr(p) == "<tf.Tensor 'p:0' shape=(?, 3) dtype=int32>"
    q = tf.placeholder(tf.float32, name="q")
    assert str(q) == 'Tensor("q:0", dtype=float32)'  # unknown rank: no shape part
    assert repr(q) == "<tf.Tensor 'q:0' shape=<unknown> dtype=float32>"
    with tf.device("/gpu:0"):
        d = tf.constant([1.0, 2.0], name="d")
    assert str(d) == 'Tensor("d:0", shape=(2,), dtype=float32, device=/device:GPU:0)'
    assert repr(d.op) == "<tf.Operation 'd' type=Const>"


def test_tensors_hash_by_identity_and_refuse_bool_len_iter():
    a = tf.constant([1.0, 2.0])
    b = tf.constant([1.0, 2.0])
    assert a != b and a == a
    assert len({a, b, a}) == 2
    with pytest.raises(TypeError):
        bool(a)
    with pytest.raises(TypeError):
        if a:
            pass
    with pytest.raises(TypeError):
        len(a)
    with pytest.raises(TypeError):
        iter(a)
    with pytest.raises(NotImplementedError):
        np.asarray(a)


def test_operation_attrs_and_node_def():
    x = tf.placeholder(tf.float32, shape=[2], name="x")
    assert x.op.get_attr("dtype") == tf.float32
    with pytest.raises(ValueError):
        x.op.get_attr("nonexistent")
    y = tf.identity(x, name="y")
    assert 'input: "x"' in str(y.op.node_def)  # TF1 names output 0 by the op name alone
    assert 'op: "Identity"' in str(y.op)


# --- static shapes ---
def test_static_shapes_with_unknown_dims():
    x = tf.placeholder(tf.float32, shape=(None, 3))
    assert x.shape.as_list() == [None, 3]
    assert str(x.shape) == "(?, 3)"
    assert not x.shape.is_fully_defined()
    assert x.shape.ndims == 2
    assert x.shape[0].value is None and x.shape[1].value == 3
    w = tf.zeros([3, 4])
    h = tf.matmul(x, w)
    assert h.shape.as_list() == [None, 4]
    s = h + tf.zeros([4])
    assert s.shape.as_list() == [None, 4]
    r = tf.reduce_sum(s, axis=1)
    assert r.shape.as_list() == [None]
    u = tf.placeholder(tf.float32)
    assert u.shape.ndims is None
    assert (u * 2.0).shape.ndims is None
    with pytest.raises(ValueError):
        u.shape.as_list()


def test_set_shape_refines_and_rejects_contradictions():
    x = tf.placeholder(tf.float32, shape=(None, 3))
    x.set_shape([5, 3])
    assert x.shape.as_list() == [5, 3]
    with pytest.raises(ValueError):
        x.set_shape([4, 3])
    u = tf.placeholder(tf.float32)
    u.set_shape([2, None])
    assert u.shape.as_list() == [2, None]


def test_matmul_shape_error_names_the_op_and_shapes():
    a = tf.zeros([2, 3])
    b = tf.zeros([4, 5])
    with pytest.raises(ValueError) as info:
        tf.matmul(a, b)
    msg = str(info.value)
    assert "MatMul" in msg
    assert "[2,3], [4,5]" in msg


def test_broadcast_shape_error_at_build_time():
    with pytest.raises(ValueError) as info:
        tf.add(tf.zeros([2, 3]), tf.zeros([4]), name="bad_add")
    assert "bad_add" in str(info.value)
    assert "[2,3], [4]" in str(info.value)


def test_unknown_dims_defer_checks_to_run_time():
    x = tf.placeholder(tf.float32, shape=(None, None))
    y = tf.matmul(x, tf.zeros([3, 2]))
    assert y.shape.as_list() == [None, 2]


# --- dtypes and conversion ---
def test_python_and_numpy_values_convert_with_tf1_default_dtypes():
    assert tf.constant(1.0).dtype == tf.float32
    assert tf.constant(1).dtype == tf.int32
    assert tf.constant(True).dtype == tf.bool
    assert tf.constant([1.5, 2.0]).dtype == tf.float32
    assert tf.constant(np.array([1.0, 2.0])).dtype == tf.float64
    assert tf.constant(np.array([1, 2], dtype=np.int64)).dtype == tf.int64
    assert tf.constant(np.float32(3)).dtype == tf.float32
    assert tf.constant(2 ** 40).dtype == tf.int64
    assert tf.convert_to_tensor(np.array([1.0, 2.0])).dtype == tf.float64
    assert (tf.constant(1.0) + 1).dtype == tf.float32  # the python int follows the tensor
    assert (2 * tf.constant(3)).dtype == tf.int32
    assert run(tf.constant([1, 2], dtype=tf.float32)).dtype == np.float32


def test_constant_rejects_values_that_do_not_fit_the_dtype():
    with pytest.raises(TypeError):
        tf.constant(1.5, dtype=tf.int32)
    with pytest.raises(TypeError):
        tf.constant("abc", dtype=tf.float32)
    with pytest.raises(TypeError):
        tf.constant(object())


def test_mixing_float32_and_int32_in_one_op_raises():
    f = tf.constant(1.0)
    i = tf.constant(1)
    with pytest.raises((TypeError, ValueError)):
        f + i
    with pytest.raises((TypeError, ValueError)):
        tf.add(f, i)
    with pytest.raises((TypeError, ValueError)):
        tf.matmul(tf.zeros([2, 2]), tf.zeros([2, 2], dtype=tf.int32))
    with pytest.raises((TypeError, ValueError)):
        tf.constant(1.0) + np.float64(2.0) * tf.constant(np.array(1.0))


def test_dtype_objects():
    assert tf.float32.name == "float32"
    assert tf.as_dtype(np.float64) is tf.float64
    assert tf.as_dtype("float32_ref").base_dtype is tf.float32
    assert tf.float32.is_floating and tf.int32.is_integer and tf.bool.is_bool
    assert repr(tf.float32) == "tf.float32"
    assert tf.float32 == np.float32
    with pytest.raises(TypeError):
        tf.as_dtype("complex256-ish")
    ref = tf.as_dtype("float32_ref")
    assert tf.float32.is_compatible_with(ref)
    assert not ref.is_compatible_with(tf.float32)
    assert not tf.float32.is_compatible_with(tf.float64)
    assert tf.uint8.is_unsigned and not tf.int8.is_unsigned
    from gpugraph.framework import dtypes

    assert dtypes.float32_ref is ref and ref.is_ref and ref.base_dtype is tf.float32
    assert tf.Variable(1.0).dtype is dtypes.float32_ref


# --- operators ---
def test_arithmetic_operators_match_numpy():
    xv = np.array([[1.5, -2.0], [3.0, 4.5]], np.float32)
    yv = np.array([[2.0, 3.0], [-1.5, 0.5]], np.float32)
    x, y = tf.constant(xv), tf.constant(yv)
    got = run(x + y, x - y, x * y, x / y, x // y, x % y, abs(x) ** y, x @ y, -x, 2.0 - x, 3.0 / y)
    want = [xv + yv, xv - yv, xv * yv, xv / yv, xv // yv, np.mod(xv, yv), np.abs(xv) ** yv, xv @ yv, -xv,
            2.0 - xv, 3.0 / yv]
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-6)
        assert g.dtype == np.float32


def test_operator_op_names_follow_tf1():
    x = tf.constant(1.0)
    assert (x + x).op.type == "Add"
    assert (x - x).op.name == "sub"
    assert (x * x).op.name == "mul"
    assert (x / x).op.name == "truediv"
    assert (x // x).op.name == "floordiv"
    assert (x % x).op.name == "mod"
    assert (x ** x).op.name == "pow"
    assert (-x).op.type == "Neg"


def test_int_division_is_true_division_to_float64():
    a, b = tf.constant(7), tf.constant(2)
    q = a / b
    assert q.dtype == tf.float64
    fq = a // b
    assert fq.dtype == tf.int32
    got = run(q, fq, a % b, tf.constant(-7) // b)
    assert got[0] == 3.5 and got[0].dtype == np.float64
    assert got[1] == 3 and got[2] == 1 and got[3] == -4


def test_comparisons_via_operators_and_functions():
    xv = np.array([1.0, 2.0, 3.0], np.float32)
    x = tf.constant(xv)
    got = run(x < 2.0, x <= 2.0, x > 2.0, x >= 2.0, tf.equal(x, 2.0), tf.not_equal(x, 2.0),
              tf.less(x, 3.0), tf.greater_equal(x, 1.0))
    want = [xv < 2, xv <= 2, xv > 2, xv >= 2, xv == 2, xv != 2, xv < 3, xv >= 1]
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)
        assert g.dtype == np.bool_
    assert (x < 2.0).dtype == tf.bool


def test_indexing_and_slicing():
    v = np.arange(12, dtype=np.float32).reshape(3, 4)
    t = tf.constant(v)
    assert t[1].shape.as_list() == [4]
    assert t[0:2].shape.as_list() == [2, 4]
    assert t[:, 0:1].shape.as_list() == [3, 1]
    assert t[-1, ::2].shape.as_list() == [2]
    got = run(t[1], t[0:2], t[:, 0:1], t[-1, ::2], t[1, 2], t[..., None])
    np.testing.assert_array_equal(got[0], v[1])
    np.testing.assert_array_equal(got[1], v[0:2])
    np.testing.assert_array_equal(got[2], v[:, 0:1])
    np.testing.assert_array_equal(got[3], v[-1, ::2])
    assert got[4] == v[1, 2]
    assert got[5].shape == (3, 4, 1)
    p = tf.placeholder(tf.float32, shape=(None, 4))
    assert p[:, 0:1].shape.as_list() == [None, 1]
    np.testing.assert_array_equal(run(p[:, 0:1], feed={p: v}), v[:, 0:1])
    with pytest.raises(ValueError):
        t[5]


def test_numpy_array_on_the_left_defers_to_the_tensor():
    x = tf.constant(np.ones(3, np.float32))
    y = np.array([1.0, 2.0, 3.0], np.float32) + x
    assert isinstance(y, tf.Tensor)
    np.testing.assert_array_equal(run(y), [2.0, 3.0, 4.0])


def test_constant_shape_argument_fills_like_tf1():
    a = tf.constant([1, 2], shape=[4])
    b = tf.constant(5.0, shape=[2, 2])
    c = tf.constant([1, 2, 3, 4, 5, 6], shape=[2, 3])
    d = tf.constant([], shape=[2], dtype=tf.float32)
    got = run(a, b, c, d)
    np.testing.assert_array_equal(got[0], [1, 2, 2, 2])  # the last value repeats
    np.testing.assert_array_equal(got[1], np.full((2, 2), 5.0))
    np.testing.assert_array_equal(got[2], np.arange(1, 7).reshape(2, 3))
    np.testing.assert_array_equal(got[3], [0.0, 0.0])
    with pytest.raises(ValueError, match="Too many elements provided"):
        tf.constant([1, 2, 3], shape=[2])
    with pytest.raises(TypeError):
        tf.constant([1, 2], shape=[4], verify_shape=True)


def test_lists_mixing_tensors_and_numbers_are_packed():
    t = tf.constant(np.array(1.5))  # float64
    packed = tf.convert_to_tensor([t, 2.0, [3.0][0]])
    assert packed.dtype == tf.float64
    assert packed.op.name == "packed"
    np.testing.assert_array_equal(run(packed), [1.5, 2.0, 3.0])
    m = tf.convert_to_tensor([[t, 1.0], [2.0, 3.0]])
    assert m.shape.as_list() == [2, 2]
    assert tf.convert_to_tensor(1, preferred_dtype=tf.float32).dtype == tf.float32
    assert tf.convert_to_tensor(1.5, dtype_hint=tf.int32).dtype == tf.float32  # the hint does not fit
    with pytest.raises(ValueError):
        tf.convert_to_tensor(t, dtype=tf.float32)
    with pytest.raises(TypeError):
        tf.convert_to_tensor(tf.no_op())
