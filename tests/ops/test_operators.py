"""Python operators on Tensors: values and dtypes vs NumPy, reversed forms, TF1 op names, refusals."""

from __future__ import annotations

import operator
from typing import Any, Callable

import numpy as np
import pytest

import gpugraph as tf
from op_testing import graph, run  # noqa: F401 - graph: each test's fresh default graph (autouse)


XV = np.array([[1.5, -2.0, 3.0], [4.0, 0.5, -1.0]], np.float32)
ARITH: list[tuple[str, Callable[[Any, Any], Any], str]] = [
    ("+", operator.add, "add"), ("-", operator.sub, "sub"), ("*", operator.mul, "mul"),
    ("/", operator.truediv, "truediv"), ("//", operator.floordiv, "floordiv"), ("%", operator.mod, "mod"),
    ("**", operator.pow, "pow"),
]


@pytest.mark.parametrize("sym,fn,name", ARITH, ids=[a[0] for a in ARITH])
def test_binary_operators_forward_and_reversed(sym: str, fn: Callable[[Any, Any], Any], name: str) -> None:
    t = tf.constant(np.abs(XV) + 0.5) if sym == "**" else tf.constant(XV)
    base = np.abs(XV) + 0.5 if sym == "**" else XV
    other = np.array([2.0, 3.0, 0.5], np.float32)
    outs = [fn(t, 2), fn(2, t), fn(t, other), fn(other, t), fn(t, t)]
    for o in outs:
        assert isinstance(o, tf.Tensor) and o.dtype == tf.float32
    want = [fn(base, np.float32(2)), fn(np.float32(2), base), fn(base, other), fn(other, base), fn(base, base)]
    for got, w in zip(run(*outs), want):
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, w, rtol=1e-6)
    fwd, rev = outs[0].op, outs[1].op
    assert fwd.name == name and rev.name == f"{name}_1"
    if sym != "/":  # truediv's operands are RealDiv's inputs
        assert fwd.inputs[1].op.name == f"{name}/y" and rev.inputs[0].op.name == f"{name}_1/x"


def test_operator_op_names_and_converted_operands() -> None:
    a, b = tf.constant([1.0, 2.0]), tf.constant([3.0, 4.0])
    assert tf.add(a, b).op.name == "Add"
    add = a + b
    assert add.op.name == "add_1" and add.op.type == "Add"  # 'Add' took 'add' case-insensitively
    plus = a + 1
    assert plus.op.name == "add_2" and plus.op.inputs[1].op.name == "add_2/y"
    assert (a / 2).op.inputs[1].op.name == "truediv/y"
    m = tf.constant(np.eye(2, dtype=np.float32))
    mm = m @ np.ones((2, 2), np.float32)
    assert mm.op.name == "matmul" and mm.op.type == "MatMul" and mm.op.inputs[1].op.name == "matmul/y"
    assert (np.ones((2, 2), np.float32) @ m).op.inputs[0].op.name == "matmul_1/x"
    with tf.name_scope("s"):
        assert (a * 2).op.name == "s/mul" and (a * 2).op.inputs[1].op.name == "s/mul_1/y"


def test_python_operands_prefer_the_tensor_dtype() -> None:
    i = tf.constant([7, -7])
    d = tf.constant(np.array([1.0, 2.0]))
    assert (i + 2).dtype == tf.int32 and (2 * i).dtype == tf.int32
    assert (d + 1).dtype == tf.float64 and (1 - d).dtype == tf.float64
    q = i / 2
    assert q.dtype == tf.float64
    got = run(q, 2 / i, i // 2, i % 3, 2 ** tf.constant([3]))
    np.testing.assert_array_equal(got[0], [3.5, -3.5])
    np.testing.assert_allclose(got[1], [2 / 7, -2 / 7])
    np.testing.assert_array_equal(got[2], [3, -4])
    np.testing.assert_array_equal(got[3], [1, 2])
    np.testing.assert_array_equal(got[4], [8])
    f = tf.constant([1.0, 4.0])
    np.testing.assert_array_equal(run(np.float32(2) / f, np.int64(2) - f, np.array([1.0, 5.0]) < f),
                                  [[2.0, 0.5], [1.0, -2.0], [False, False]])
    with pytest.raises(TypeError, match="'Add'"):
        i + 1.5  # 1.5 stays float32, then the dtypes differ
    with pytest.raises(TypeError, match="int32"):
        1.5 - i
    with pytest.raises(TypeError, match="'Mul'"):
        tf.constant([1.0]) * tf.constant([2])


def test_matmul_operator() -> None:
    av = np.arange(6.0, dtype=np.float32).reshape(2, 3)
    bv = np.arange(12.0, dtype=np.float32).reshape(3, 4)
    cv = np.arange(24.0, dtype=np.float32).reshape(2, 3, 4)
    a = tf.constant(av)
    got = run(a @ tf.constant(bv), av @ tf.constant(bv), a @ tf.constant(cv))
    np.testing.assert_allclose(got[0], av @ bv)
    np.testing.assert_allclose(got[1], av @ bv)
    np.testing.assert_allclose(got[2], av @ cv)
    with pytest.raises(ValueError, match="MatMul"):
        a @ a


def test_unary_operators() -> None:
    iv = np.array([-3, 0, 4], np.int32)
    i = tf.constant(iv)
    neg, ab = -i, abs(i)
    assert neg.op.type == "Neg" and neg.op.name == "Neg" and ab.op.name == "Abs"
    got = run(neg, ab, -tf.constant(XV), abs(tf.constant(XV)))
    np.testing.assert_array_equal(got[0], -iv)
    np.testing.assert_array_equal(got[1], np.abs(iv))
    np.testing.assert_array_equal(got[2], -XV)
    np.testing.assert_array_equal(got[3], np.abs(XV))
    assert got[0].dtype == np.int32


def test_bool_operators() -> None:
    av, bv = np.array([True, True, False, False]), np.array([True, False, True, False])
    a, b = tf.constant(av), tf.constant(bv)
    ops = {"LogicalNot": ~a, "and": a & b, "or": a | b, "xor": a ^ b}
    for name, t in ops.items():
        assert t.op.name == name and t.dtype == tf.bool
    rev = [True & b, False | b, True ^ b]
    got = run(*ops.values(), *rev)
    for g, w in zip(got, [~av, av & bv, av | bv, av ^ bv, True & bv, False | bv, True ^ bv]):
        np.testing.assert_array_equal(g, w)
    with pytest.raises(TypeError, match="LogicalNot"):
        ~tf.constant([1.0])
    with pytest.raises(TypeError, match="LogicalAnd"):
        tf.constant([1]) & tf.constant([0])


def test_comparison_operators() -> None:
    xv = np.array([1.0, 2.0, 3.0], np.float32)
    x = tf.constant(xv)
    lt, ge = x < 2, x >= 2
    assert lt.op.name == "Less" and lt.op.inputs[1].op.name == "Less/y" and ge.op.name == "GreaterEqual"
    assert (2 < x).op.type == "Greater"  # Python reflects to x > 2
    outs = [lt, x <= 2, x > 2, ge, 2 < x, 2.5 >= x]
    assert all(o.dtype == tf.bool for o in outs)
    for got, want in zip(run(*outs), [xv < 2, xv <= 2, xv > 2, xv >= 2, 2 < xv, 2.5 >= xv]):
        np.testing.assert_array_equal(got, want)


def test_equality_is_identity_in_graph_mode() -> None:
    x, y = tf.constant(1.0), tf.constant(1.0)
    assert (x == x) is True and (x == y) is False and (x == 1.0) is False
    assert (x != y) is True and (x != x) is False
    assert {x: "a", y: "b"}[y] == "b"  # hashable by identity
    assert x in [y, x] and x not in [y]


def test_tensors_refuse_truth_value_and_iteration() -> None:
    x = tf.constant([1.0, 2.0])
    with pytest.raises(TypeError, match="bool"):
        bool(x)
    with pytest.raises(TypeError):
        if x:
            pass
    with pytest.raises(TypeError, match="iterating over `tf.Tensor` is not allowed"):
        iter(x)
    with pytest.raises(TypeError):
        a, b = x
    with pytest.raises(TypeError):
        len(x)


def test_operators_accept_variables_as_the_other_operand() -> None:
    v = tf.Variable([1.0, 2.0])
    t = tf.constant([10.0, 20.0])
    outs = [t + v, t * v, t - v, t / v]
    with tf.Session() as s:
        s.run(tf.global_variables_initializer())
        got = s.run(outs)
    np.testing.assert_array_equal(got[0], [11.0, 22.0])
    np.testing.assert_array_equal(got[1], [10.0, 40.0])
    np.testing.assert_array_equal(got[2], [9.0, 18.0])
    np.testing.assert_array_equal(got[3], [10.0, 10.0])
