"""Public math functions: TF1 op names, dtype rules (true/floor division, casts, mixing), where, add_n."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import gpugraph as tf
from op_testing import graph, run  # noqa: F401 - graph: each test's fresh default graph (autouse)


# --- names ---
def test_default_op_names_follow_tf1() -> None:
    a, b = tf.constant([1.0, 2.0]), tf.constant([3.0, 4.0])
    made = {
        "Add": tf.add(a, b), "Sub": tf.subtract(a, b), "Mul": tf.multiply(a, b), "truediv": tf.divide(a, b),
        "RealDiv": tf.realdiv(a, b), "div": tf.div(a, b), "floordiv": tf.floordiv(a, b), "FloorMod": tf.mod(a, b),
        "Pow": tf.pow(a, b), "Maximum": tf.maximum(a, b), "Minimum": tf.minimum(a, b), "Equal": tf.equal(a, b),
        "Less": tf.less(a, b), "Select": tf.where(tf.less(a, b), a, b), "Cast": tf.cast(a, tf.int32),
        "AddN": tf.add_n([a, b]), "Square": tf.square(a), "Neg": tf.negative(a), "ToFloat": tf.to_float(b > a),
        "SquaredDifference": tf.squared_difference(a, b), "LogicalXor": tf.logical_xor(a > b, a < b),
    }
    for name, t in made.items():
        assert t.op.name == name
    assert tf.divide(a, b).op.name == "truediv_1"  # unique names continue case-insensitively
    assert tf.divide(a, b).op.type == "RealDiv"
    assert tf.div(a, b, name="q").op.name == "q"
    with tf.name_scope("loss"):
        assert tf.add(a, b).op.name == "loss/Add"
        assert tf.truediv(a, b).op.name == "loss/truediv"


def test_python_values_are_converted_inside_the_op_scope() -> None:
    x = tf.constant([1.0, 2.0])
    q = tf.truediv(x, 2)
    assert q.op.inputs[1].op.name == "truediv/y" and q.op.inputs[1].dtype == tf.float32
    i = tf.truediv(tf.constant([7, 8]), 2)
    assert [t.op.name for t in i.op.inputs] == ["truediv_1/Cast", "truediv_1/Cast_1"]
    assert tf.add(x, 1.0).op.inputs[1].op.name == "Add/y"
    assert tf.cast(3.0, tf.int32).op.inputs[0].op.name == "Cast/x"


# --- division and dtypes ---
@pytest.mark.parametrize("dtype,want", [(tf.int8, tf.float32), (tf.int16, tf.float32), (tf.uint8, tf.float32),
                                        (tf.int32, tf.float64), (tf.int64, tf.float64),
                                        (tf.float32, tf.float32), (tf.float64, tf.float64)])
def test_truediv_result_dtype(dtype: tf.DType, want: tf.DType) -> None:
    xv, yv = np.array([7, 9, 100], dtype.np_dtype), np.array([2, 4, 3], dtype.np_dtype)
    q = tf.truediv(tf.constant(xv), tf.constant(yv))
    assert q.dtype == want and (xv / yv).dtype.kind == "f"
    got = run(q)
    assert got.dtype == want.np_dtype
    np.testing.assert_allclose(got, xv.astype(np.float64) / yv, rtol=1e-6)


def test_div_floors_integers_and_divides_floats() -> None:
    xv, yv = np.array([7, -7, 7, -7], np.int32), np.array([2, 2, -2, -2], np.int32)
    qi = tf.div(tf.constant(xv), tf.constant(yv))
    assert qi.dtype == tf.int32 and qi.op.type == "FloorDiv"
    np.testing.assert_array_equal(run(qi), np.floor_divide(xv, yv))  # [3, -4, -4, 3]
    qf = tf.div(tf.constant([7.0, -7.0]), 2.0)
    assert qf.op.type == "RealDiv"
    np.testing.assert_array_equal(run(qf), [3.5, -3.5])
    np.testing.assert_array_equal(run(tf.div(7, tf.constant([2, -2]))), [3, -4])
    np.testing.assert_array_equal(run(tf.floordiv(tf.constant([7.5, -7.5]), 2.0)), [3.0, -4.0])
    np.testing.assert_array_equal(run(tf.mod(tf.constant([-7, 7]), 3)), np.mod([-7, 7], 3))


def test_integer_division_by_zero_is_an_invalid_argument() -> None:
    x, y = tf.constant([7, 8]), tf.placeholder(tf.int32, [2])
    for t in (tf.floordiv(x, y), tf.mod(x, y), tf.div(x, y)):
        with pytest.raises(tf.errors.InvalidArgumentError, match="Integer division by zero") as err:
            run(t, feed={y: [2, 0]})
        assert err.value.op is t.op
    np.testing.assert_array_equal(run(tf.floordiv(x, y), feed={y: [2, 3]}), [3, 2])
    inf = run(tf.floordiv(tf.constant([1.0]), tf.constant([0.0])), tf.truediv(tf.constant([1]), 0))
    assert np.isinf(inf[0][0]) and np.isinf(inf[1][0])  # float division by zero is inf, as in TF1


def test_a_python_value_takes_the_dtype_of_the_tensor_beside_it() -> None:
    x64 = tf.constant(np.array([1.0, 4.0]))
    assert tf.truediv(2, x64).dtype == tf.float64
    np.testing.assert_array_equal(run(tf.truediv(2, x64)), [2.0, 0.5])
    assert tf.div(x64, 2).dtype == tf.float64
    w = tf.where(tf.constant([True, False]), 0, x64)
    assert w.dtype == tf.float64
    np.testing.assert_array_equal(run(w), [0.0, 4.0])


@pytest.mark.parametrize("build,op", [
    (lambda f, i: tf.add(f, i), "Add"),
    (lambda f, i: tf.multiply(i, f), "Mul"),
    (lambda f, i: tf.maximum(f, i), "Maximum"),
    (lambda f, i: tf.truediv(f, i), "truediv"),
    (lambda f, i: tf.divide(i, f), "truediv"),
    (lambda f, i: tf.div(f, i), "div"),
    (lambda f, i: tf.equal(f, i), "Equal"),
    (lambda f, i: tf.add_n([f, i]), "AddN"),
])
def test_mixing_float32_and_int32_raises_type_error_naming_the_op(build: Any, op: str) -> None:
    f, i = tf.constant([1.0, 2.0]), tf.constant([1, 2])
    with pytest.raises(TypeError, match=f"'{op}") as err:
        build(f, i)
    assert "float32" in str(err.value) and "int32" in str(err.value)


def test_a_float_python_value_does_not_fit_an_int_tensor() -> None:
    i = tf.constant([1, 2])
    with pytest.raises(TypeError, match="int32"):
        tf.add(i, 1.5)
    with pytest.raises(TypeError, match="'div'"):
        tf.div(i, 1.5)  # 1.5 stays float32: the dtypes differ


def test_cast_is_a_no_op_for_the_same_dtype(graph: tf.Graph) -> None:
    x = tf.constant([1.5, -2.5])
    before = len(graph.get_operations())
    assert tf.cast(x, tf.float32) is x
    assert tf.cast(x, "float32") is x
    assert len(graph.get_operations()) == before
    c = tf.cast(x, tf.float64)
    assert c.op.type == "Cast" and c.op.name == "Cast_2"  # each call took a "Cast" scope, as in TF1


def test_cast_values_follow_numpy() -> None:
    fv = np.array([1.7, -1.7, 0.0, 2.5], np.float32)
    f = tf.constant(fv)
    got = run(tf.cast(f, tf.int32), tf.cast(f, tf.bool), tf.cast(tf.constant([True, False]), tf.float32),
              tf.to_int64(f), tf.to_float(tf.constant([3], tf.int64)))
    np.testing.assert_array_equal(got[0], fv.astype(np.int32))  # truncation toward zero
    np.testing.assert_array_equal(got[1], fv.astype(bool))
    np.testing.assert_array_equal(got[2], [1.0, 0.0])
    assert got[3].dtype == np.int64 and got[4].dtype == np.float32


def test_cast_gradient_flows_between_floats_only() -> None:
    x = tf.constant(np.array([1.0, 2.0]))
    g = tf.gradients(tf.reduce_sum(tf.cast(x, tf.float32) * 3.0), x)[0]
    assert g.dtype == tf.float64
    np.testing.assert_array_equal(run(g), [3.0, 3.0])
    through_int = tf.cast(tf.cast(x, tf.int32), tf.float64)
    assert tf.gradients(tf.reduce_sum(through_int), x) == [None]


# --- comparisons and logic ---
def test_comparisons_return_bool() -> None:
    xv, yv = np.array([1, 5, 3], np.int32), np.array([2, 5, 1], np.int32)
    x, y = tf.constant(xv), tf.constant(yv)
    fns = [(tf.equal, np.equal), (tf.not_equal, np.not_equal), (tf.less, np.less),
           (tf.less_equal, np.less_equal), (tf.greater, np.greater), (tf.greater_equal, np.greater_equal)]
    outs = [fn(x, y) for fn, _ in fns]
    assert all(o.dtype == tf.bool for o in outs)
    for got, (_, ref) in zip(run(*outs), fns):
        assert got.dtype == np.bool_
        np.testing.assert_array_equal(got, ref(xv, yv))


def test_logical_ops_need_bools() -> None:
    a, b = np.array([True, True, False, False]), np.array([True, False, True, False])
    ta, tb = tf.constant(a), tf.constant(b)
    got = run(tf.logical_and(ta, tb), tf.logical_or(ta, tb), tf.logical_xor(ta, tb), tf.logical_not(ta))
    for g, w in zip(got, [a & b, a | b, a ^ b, ~a]):
        np.testing.assert_array_equal(g, w)
    with pytest.raises(TypeError, match="LogicalAnd"):
        tf.logical_and(tf.constant([1.0]), tf.constant([0.0]))


# --- where (TF1 Select) ---
def test_where_elementwise_and_vector_condition_selects_rows() -> None:
    xv, yv = np.arange(6.0).reshape(3, 2), -np.arange(6.0).reshape(3, 2)
    cond = np.array([True, False, True])
    rows = tf.where(tf.constant(cond), tf.constant(xv), tf.constant(yv))
    assert rows.shape.as_list() == [3, 2]
    np.testing.assert_array_equal(run(rows), np.where(cond[:, None], xv, yv))
    square = np.arange(9.0).reshape(3, 3)
    picked = run(tf.where(tf.constant(cond), tf.constant(square), tf.constant(-square)))
    np.testing.assert_array_equal(picked, np.where(cond[:, None], square, -square))  # rows, not columns
    full = xv > 2
    np.testing.assert_array_equal(run(tf.where(tf.constant(full), xv, yv)), np.where(full, xv, yv))
    with pytest.raises(ValueError, match="Select"):
        tf.where(tf.constant([True, False]), tf.constant(xv), tf.constant(yv))  # 2 rows vs 3


def test_where_gradient_routes_by_rows() -> None:
    cond = tf.constant([True, False])
    x, y = tf.constant(np.ones((2, 3))), tf.constant(np.ones((2, 3)))
    gx, gy = tf.gradients(tf.reduce_sum(tf.where(cond, x, y) * 2.0), [x, y])
    got = run(gx, gy)
    np.testing.assert_array_equal(got[0], [[2.0] * 3, [0.0] * 3])
    np.testing.assert_array_equal(got[1], [[0.0] * 3, [2.0] * 3])


def test_where_errors() -> None:
    f, i = tf.constant([1.0, 2.0]), tf.constant([1, 2])
    with pytest.raises(TypeError, match="Select"):
        tf.where(tf.constant([True, False]), f, i)
    with pytest.raises(TypeError, match="condition"):
        tf.where(tf.constant([1.0, 0.0]), f, f)
    with pytest.raises(ValueError, match="x and y must both be non-None or both be None"):
        tf.where(tf.constant([True]), y=f)


# --- add_n ---
def test_add_n_sums_equal_shapes_only(graph: tf.Graph) -> None:
    vs = [np.full((2, 3), float(k)) for k in range(4)]
    s = tf.add_n([tf.constant(v) for v in vs])
    np.testing.assert_array_equal(run(s), sum(vs))
    one = tf.constant(vs[1])
    before = len(graph.get_operations())
    assert tf.add_n([one]) is one  # TF1 hands back the single input
    assert len(graph.get_operations()) == before
    named = tf.add_n([one], name="total")
    assert named.op.type == "Identity" and named.op.name == "total"
    p = tf.placeholder(tf.float64, [None, 3])
    assert tf.add_n([p, one]).shape.as_list() == [2, 3]  # shapes merge
    with pytest.raises(ValueError, match="AddN"):
        tf.add_n([one, tf.constant(np.ones(3))])  # no broadcasting, as in TF1
    with pytest.raises(ValueError):
        tf.add_n([])


# --- elementwise functions against NumPy ---
@pytest.mark.parametrize("fn,ref", [
    (tf.sqrt, np.sqrt), (tf.rsqrt, lambda v: 1 / np.sqrt(v)), (tf.exp, np.exp), (tf.log, np.log),
    (tf.log1p, np.log1p), (tf.abs, np.abs), (tf.sign, np.sign), (tf.negative, np.negative),
    (tf.reciprocal, np.reciprocal), (tf.square, np.square), (tf.floor, np.floor), (tf.ceil, np.ceil),
])
def test_unary_functions_match_numpy(fn: Any, ref: Any) -> None:
    v = np.array([0.25, 1.5, 2.0, 3.75])
    got = run(fn(tf.constant(v)))
    np.testing.assert_allclose(got, ref(v), rtol=1e-12)
    assert got.dtype == np.float64


def test_round_is_half_to_even_like_tf1() -> None:
    v = np.array([0.5, 1.5, 2.5, -0.5, -1.5, 0.4])
    np.testing.assert_array_equal(run(tf.round(tf.constant(v))), [0.0, 2.0, 2.0, -0.0, -2.0, 0.0])


def test_float_only_functions_reject_integers() -> None:
    with pytest.raises(TypeError, match="Sqrt"):
        tf.sqrt(tf.constant([4]))
    got = run(tf.abs(tf.constant([-3, 4])), tf.square(tf.constant([-3])))
    np.testing.assert_array_equal(got[0], [3, 4])
    np.testing.assert_array_equal(got[1], [9])
    assert got[0].dtype == got[1].dtype == np.int32


def test_maximum_minimum_gradients_go_to_x_on_ties() -> None:
    x = tf.constant(np.array([1.0, 2.0, 3.0]))
    y = tf.constant(np.array([2.0, 2.0, 2.0]))
    gx, gy = tf.gradients(tf.reduce_sum(tf.maximum(x, y)), [x, y])
    hx, hy = tf.gradients(tf.reduce_sum(tf.minimum(x, y)), [x, y])
    got = run(gx, gy, hx, hy)
    np.testing.assert_array_equal(got[0], [0.0, 1.0, 1.0])
    np.testing.assert_array_equal(got[1], [1.0, 0.0, 0.0])
    np.testing.assert_array_equal(got[2], [1.0, 1.0, 0.0])
    np.testing.assert_array_equal(got[3], [0.0, 0.0, 1.0])


def test_pow_gradient_in_the_exponent_is_zero_where_base_is_not_positive() -> None:
    x = tf.constant(np.array([0.0, 2.0]))
    y = tf.constant(np.array([2.0, 3.0]))
    gx, gy = run(*tf.gradients(tf.reduce_sum(tf.pow(x, y)), [x, y]))
    np.testing.assert_allclose(gx, [0.0, 12.0])
    np.testing.assert_allclose(gy, [0.0, 8.0 * np.log(2.0)])


def test_squared_difference_and_broadcasting() -> None:
    xv, yv = np.arange(6.0).reshape(2, 3), np.array([1.0, -1.0, 0.5])
    got = run(tf.squared_difference(tf.constant(xv), tf.constant(yv)), tf.subtract(xv, tf.constant(yv)))
    np.testing.assert_allclose(got[0], (xv - yv) ** 2)
    np.testing.assert_allclose(got[1], xv - yv)
    p = tf.placeholder(tf.float64, [None, 1])
    assert tf.add(p, tf.constant(yv)).shape.as_list() == [None, 3]
    with pytest.raises(ValueError, match="'Add'.*\\[2,3\\], \\[2\\]"):
        tf.add(tf.constant(xv), tf.constant([1.0, 2.0], tf.float64))


def _add_n_case() -> tuple[Any, dict[str, Any]]:
    import importlib.util
    import json
    from pathlib import Path

    data = Path(__file__).resolve().parent / "data"
    spec = importlib.util.spec_from_file_location("add_n_cases", data / "add_n_cases.py")
    cases = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cases)
    return cases.terms(), json.loads((data / "add_n_reference.json").read_text())


def test_add_n_of_many_float32_terms_is_as_close_to_the_exact_sum_as_tf():
    xs, reference = _add_n_case()
    x = tf.placeholder(tf.float32, [len(xs)])
    total = tf.add_n(tf.unstack(x))  # one op with 50,000 scalar inputs
    with tf.Session() as sess:
        got = float(sess.run(total, {x: xs}))
    exact = reference["exact"]
    assert abs(got - exact) <= abs(reference["tf"] - exact)
