"""Elementwise binary math, comparisons, logic, select, cast and add_n (unary ops: unary_ops.py)."""

from __future__ import annotations

from typing import Any

import numpy as np

from gpugraph.framework import dtypes
from gpugraph.framework.tensor import Tensor
from gpugraph.framework.tensor_shape import TensorShape
from gpugraph.ops import shape_fns
from gpugraph.ops.constant_ops import convert_to_tensor
from gpugraph.ops.grad_util import unbroadcast
from gpugraph.ops.registry import NO_GRADIENT, OpDef, graph_of, register_op
from gpugraph.ops.xp_compat import FLOAT_SCALARS, on_host
from gpugraph.ops.unary_ops import (  # noqa: F401 - unary ops stay reachable as math_ops.X
    ABS, CEIL, EXP, FLOOR, LOG, LOG1P, NEG, RECIPROCAL, ROUND, RSQRT, SIGN, SQRT, SQUARE, _unary, abs, ceil, exp,
    floor, log, log1p, negative, ones_like_float, reciprocal, round, rsqrt, sign, sqrt, square, zeros_like_float,
)

__all__ = [
    "add", "subtract", "multiply", "divide", "truediv", "realdiv", "floordiv", "floor_div", "mod",
    "floormod", "pow", "maximum", "minimum", "equal", "not_equal", "less", "less_equal", "greater",
    "greater_equal", "logical_and", "logical_or", "logical_not", "logical_xor", "where", "where_v2", "cast",
    "to_float", "to_int32", "to_int64", "add_n", "squared_difference", "div", "mul", "sub", "neg",
]


def _binary_sample(lo: float = -2.0, hi: float = 2.0):
    def sample(rng: np.random.Generator) -> list[Any]:
        return [([rng.uniform(lo, hi, (2, 3)), rng.uniform(lo, hi, (2, 3))], {}),
                ([rng.uniform(lo, hi, (4, 1, 3)), rng.uniform(lo, hi, (2, 1))], {})]
    return sample


def _binary(name: str, impl: Any, grad: Any, infer: Any = shape_fns.binary_numeric, cuda: str | None = None,
            sample: Any = None) -> Any:
    return register_op(OpDef(name, infer=infer, impl=impl, grad=grad, cuda=cuda,
                             sample=sample or _binary_sample()))


def _both(op: Any, gx: Any, gy: Any) -> list[Any]:
    x, y = op.inputs
    return [unbroadcast(gx, x), unbroadcast(gy, y)]


ADD = _binary("Add", lambda xp, x, y: x + y, lambda op, dy: _both(op, dy, dy), cuda="out0 = in0 + in1")
SUB = _binary("Sub", lambda xp, x, y: x - y, lambda op, dy: _both(op, dy, -dy), cuda="out0 = in0 - in1")
MUL = _binary("Mul", lambda xp, x, y: x * y,
              lambda op, dy: _both(op, dy * op.inputs[1], dy * op.inputs[0]), cuda="out0 = in0 * in1")
REAL_DIV = _binary(
    "RealDiv", lambda xp, x, y: x / y,
    lambda op, dy: _both(op, dy / op.inputs[1], -dy * op.inputs[0] / square(op.inputs[1])),
    infer=shape_fns.binary_float, cuda="out0 = in0 / in1", sample=_binary_sample(0.5, 2.0))


def _int_divisor(xp: Any, y: Any) -> Any:
    # NumPy gives 0 for an integer division by zero; TF1 on CPU refuses it (a run-time InvalidArgumentError).
    # A device backend does not look (that read would stall the stream every step), as TF1's GPU kernel.
    if on_host(xp) and y.dtype.kind in "iu" and (y == 0).any():
        raise ValueError("Integer division by zero")
    return y


FLOOR_DIV = _binary("FloorDiv", lambda xp, x, y: xp.floor_divide(x, _int_divisor(xp, y)), NO_GRADIENT,
                    sample=_binary_sample(0.5, 3.0))
FLOOR_MOD = _binary("FloorMod", lambda xp, x, y: xp.mod(x, _int_divisor(xp, y)),
                    lambda op, dy: _both(op, dy, -dy * floor(op.inputs[0] / op.inputs[1])),
                    sample=_binary_sample(0.5, 3.0))


def _pow_grad(op: Any, dy: Tensor) -> list[Any]:
    x, y = op.inputs
    z = op.outputs[0]
    gx = dy * y * POW(x, y - 1)
    safe_x = where(greater(x, 0), x, ones_like_float(x))
    gy = dy * z * where(greater(x, 0), LOG(safe_x), zeros_like_float(x))
    return _both(op, gx, gy)


def _pow_impl(xp: Any, x: Any, y: Any) -> Any:
    # Two NumPy float scalars of one type: the scalar power (C's powf/pow, as TF's kernel) costs a tenth of
    # a ufunc call; a per-sample polynomial raises a scalar feed to each power.
    kind = type(x)
    if kind is type(y) and kind in FLOAT_SCALARS:
        return x ** y
    out = xp.power(x, y)
    if on_host(xp) and getattr(y, "size", 0) == 1 and out.dtype.kind == "f" and xp.asarray(y).reshape(-1)[0] == 0.5:
        # NumPy's ufunc takes one exponent 0.5 for all as a square root: -0.0 and -inf would give -0.0 and
        # NaN where C's pow, and TF's kernel, give +0.0 and +inf
        x = xp.asarray(x)
        odd = (x == 0) | (x == -xp.inf)
        if odd.any():
            out = xp.array(out, copy=True)
            out[odd] = xp.where(x[odd] == 0, 0.0, xp.inf)
    return out


POW = _binary("Pow", _pow_impl, _pow_grad, cuda="out0 = pow(in0, in1)",
              sample=_binary_sample(0.5, 2.0))
MAXIMUM = _binary("Maximum", lambda xp, x, y: xp.maximum(x, y),
                  lambda op, dy: _select_grad(op, dy, greater_equal),
                  cuda="out0 = (in0 > in1 || in0 != in0) ? in0 : in1")  # NaN wins, as numpy.maximum
MINIMUM = _binary("Minimum", lambda xp, x, y: xp.minimum(x, y),
                  lambda op, dy: _select_grad(op, dy, less_equal),
                  cuda="out0 = (in0 < in1 || in0 != in0) ? in0 : in1")  # NaN wins, as numpy.minimum
SQUARED_DIFFERENCE = _binary(
    "SquaredDifference", lambda xp, x, y: (x - y) * (x - y),
    lambda op, dy: _both(op, 2.0 * dy * (op.inputs[0] - op.inputs[1]),
                         -2.0 * dy * (op.inputs[0] - op.inputs[1])),
    cuda="out0 = (in0 - in1) * (in0 - in1)")


def _select_grad(op: Any, dy: Tensor, cmp: Any) -> list[Any]:
    x, y = op.inputs
    mask = cmp(x, y)
    zeros = zeros_like_float(dy)
    return _both(op, where(mask, dy, zeros), where(mask, zeros, dy))


_cmp_infer = shape_fns.broadcast_bool
EQUAL = _binary("Equal", lambda xp, x, y: xp.equal(x, y), NO_GRADIENT, infer=_cmp_infer, cuda="out0 = in0 == in1")
NOT_EQUAL = _binary("NotEqual", lambda xp, x, y: xp.not_equal(x, y), NO_GRADIENT, infer=_cmp_infer,
                    cuda="out0 = in0 != in1")
LESS = _binary("Less", lambda xp, x, y: xp.less(x, y), NO_GRADIENT, infer=_cmp_infer, cuda="out0 = in0 < in1")
LESS_EQUAL = _binary("LessEqual", lambda xp, x, y: xp.less_equal(x, y), NO_GRADIENT, infer=_cmp_infer,
                     cuda="out0 = in0 <= in1")
GREATER = _binary("Greater", lambda xp, x, y: xp.greater(x, y), NO_GRADIENT, infer=_cmp_infer,
                  cuda="out0 = in0 > in1")
GREATER_EQUAL = _binary("GreaterEqual", lambda xp, x, y: xp.greater_equal(x, y), NO_GRADIENT, infer=_cmp_infer,
                        cuda="out0 = in0 >= in1")


def _bool_binary(x: Tensor, y: Tensor) -> Any:
    shape_fns.require(x, "x", x.dtype.base_dtype.is_bool)
    return shape_fns.broadcast(x, y)


def _bool_sample(rng: np.random.Generator) -> list[Any]:
    return [([rng.random((2, 3)) > 0.5, rng.random((2, 3)) > 0.5], {})]


LOGICAL_AND = _binary("LogicalAnd", lambda xp, x, y: xp.logical_and(x, y), NO_GRADIENT, infer=_bool_binary,
                      sample=_bool_sample, cuda="out0 = in0 && in1")
LOGICAL_OR = _binary("LogicalOr", lambda xp, x, y: xp.logical_or(x, y), NO_GRADIENT, infer=_bool_binary,
                     sample=_bool_sample, cuda="out0 = in0 || in1")
LOGICAL_NOT = _unary("LogicalNot", lambda xp, x: xp.logical_not(x), NO_GRADIENT,
                     infer=lambda x: _bool_binary(x, x), sample=lambda rng: [([rng.random((3,)) > 0.5], {})],
                     cuda="out0 = !in0")


def _select_infer(cond: Tensor, x: Tensor, y: Tensor) -> Any:
    shape_fns.require(cond, "condition", cond.dtype.base_dtype.is_bool)
    if x.dtype.base_dtype != y.dtype.base_dtype:
        raise TypeError(f"Input 'e' of 'Select' Op has type {y.dtype.base_dtype.name} that does not match type "
                        f"{x.dtype.base_dtype.name} of argument 't'")
    data = shape_fns.broadcast_dims(x.shape.as_tuple(), y.shape.as_tuple())
    c = cond.shape.as_tuple()
    if c is None:
        return TensorShape(data), x.dtype.base_dtype
    if len(c) == 1 and data is None:
        return TensorShape(None), x.dtype.base_dtype  # row selection or not: the data rank decides
    if data is not None and len(c) == 1 and len(data) > 1:
        c = c + (1,) * (len(data) - 1)  # TF1: a vector condition selects along the first dimension
    return shape_fns.broadcast_dims(c, data), x.dtype.base_dtype


def _select_impl(xp: Any, c: Any, x: Any, y: Any) -> Any:
    rank = max(x.ndim, y.ndim)
    if c.ndim == 1 and rank > 1:
        c = c.reshape(c.shape + (1,) * (rank - 1))
    return xp.where(c, x, y)


def _select_op_grad(op: Any, dy: Tensor) -> list[Any]:
    cond, x, y = op.inputs
    zeros = zeros_like_float(dy)
    return [None, unbroadcast(where(cond, dy, zeros), x), unbroadcast(where(cond, zeros, dy), y)]


SELECT = register_op(OpDef(
    "Select", infer=_select_infer, impl=_select_impl, grad=_select_op_grad,
    same_dtype=False, input_names=("condition", "t", "e"),
    sample=lambda rng: [([rng.random((2, 3)) > 0.5, rng.standard_normal((2, 3)), rng.standard_normal((2, 3))], {}),
                        ([rng.random((3,)) > 0.5, rng.standard_normal((3, 2)), rng.standard_normal((3, 2))], {})],
))


def _cast_grad(op: Any, dy: Tensor) -> list[Any]:
    src = op.inputs[0].dtype.base_dtype
    if src.is_floating and op.outputs[0].dtype.base_dtype.is_floating:
        return [cast(dy, src)]
    return [None]


CAST = register_op(OpDef(
    "Cast", infer=lambda x, *, DstT: (x.shape, DstT), impl=lambda xp, x, *, DstT: x.astype(DstT.np_dtype),
    grad=_cast_grad, same_dtype=False,
    sample=lambda rng: [([rng.standard_normal((2, 3))], {"DstT": dtypes.float32})],
))


def _add_n_infer(*xs: Tensor) -> Any:
    if not xs:
        raise ValueError("AddN requires at least one input")
    shape = xs[0].shape
    for t in xs[1:]:  # TF1 adds equal shapes only; it does not broadcast
        if not shape.is_compatible_with(t.shape):
            raise ValueError(f"Shapes must be equal, but are {shape} and {t.shape}")
        shape = shape.merge_with(t.shape)
    return shape, xs[0].dtype.base_dtype


def _add_n_impl(xp: Any, *xs: Any) -> Any:
    if 1 < len(xs) <= _ADD_N_SEQUENTIAL:
        # a few terms in order, as TF1's kernel adds them (8 at a time): no stacked copy. The first sum is a
        # new array, so ``+=`` writes no input.
        out = xs[0] + xs[1]
        for x in xs[2:]:
            try:
                out += x
            except TypeError:  # a TensorArray gradient flow takes no ufunc: its own __radd__ merges it
                out = out + x
        return out
    if not all(hasattr(x, "ndim") for x in xs):  # TensorArray gradient flows: their own __add__ merges them
        out = xs[0]
        for x in xs[1:]:
            out = out + x
        return out
    if len(xs) > _ADD_N_SEQUENTIAL:  # summed along a contiguous axis: pairwise, so many float terms lose little
        return xp.asarray(xp.sum(xp.stack(xs, axis=-1), axis=-1, dtype=xs[0].dtype))
    return xp.array(xs[0], copy=True)


_ADD_N_SEQUENTIAL = 8


ADD_N = register_op(OpDef(
    "AddN", infer=_add_n_infer, impl=_add_n_impl, grad=lambda op, dy: [dy] * len(op.inputs),
    input_names=("inputs",),
    sample=lambda rng: [([rng.standard_normal((2, 3)) for _ in range(3)], {})],
))


# --- public functions (TF1 names and default op names) ---
def add(x: Any, y: Any, name: str | None = None) -> Tensor:
    return ADD(x, y, name=name)


def subtract(x: Any, y: Any, name: str | None = None) -> Tensor:
    return SUB(x, y, name=name)


def multiply(x: Any, y: Any, name: str | None = None) -> Tensor:
    return MUL(x, y, name=name)


def realdiv(x: Any, y: Any, name: str | None = None) -> Tensor:
    return REAL_DIV(x, y, name=name)


def _is_graph_value(v: Any) -> bool:
    return isinstance(v, Tensor) or hasattr(v, "_as_tensor")


def _convert_pair(x: Any, y: Any, names: tuple[str, str] = ("x", "y")) -> tuple[Tensor, Tensor]:
    """Both operands as tensors; a plain value prefers the dtype of the tensor beside it."""
    hint = next((convert_to_tensor(v).dtype.base_dtype for v in (x, y) if _is_graph_value(v)), None)
    x = convert_to_tensor(x, preferred_dtype=hint, name=names[0])
    y = convert_to_tensor(y, preferred_dtype=hint or x.dtype.base_dtype, name=names[1])
    return x, y


def _same_dtype(x: Tensor, y: Tensor, op_name: str) -> None:
    if x.dtype.base_dtype != y.dtype.base_dtype:
        raise TypeError(f"x and y must have the same dtype, got {x.dtype.base_dtype.name} != "
                        f"{y.dtype.base_dtype.name} for '{op_name}' (tensors {x.name} and {y.name}).")


def truediv(x: Any, y: Any, name: str | None = None) -> Tensor:
    """x / y; integers are first cast to float (float64 for 32/64-bit ints), as TF1 does."""
    graph = graph_of([x, y])
    with graph.as_default(), graph.name_scope(name or "truediv") as scope:
        x, y = _convert_pair(x, y)
        _same_dtype(x, y, scope[:-1])  # before the casts, which would hide the mismatch
        dt = x.dtype.base_dtype
        if dt.is_integer:
            target = dtypes.float32 if dt.size <= 2 else dtypes.float64
            x, y = cast(x, target), cast(y, target)
        return REAL_DIV(x, y, name=scope)


def divide(x: Any, y: Any, name: str | None = None) -> Tensor:
    return truediv(x, y, name=name or "truediv")


def floordiv(x: Any, y: Any, name: str | None = None) -> Tensor:
    return FLOOR_DIV(x, y, name=name or "floordiv")


def div(x: Any, y: Any, name: str | None = None) -> Tensor:
    """TF1's legacy division: floor for integers, true division for floats."""
    graph = graph_of([x, y])
    with graph.as_default(), graph.name_scope(name or "div") as scope:
        x, y = _convert_pair(x, y)
        _same_dtype(x, y, scope[:-1])
        if x.dtype.base_dtype.is_integer:
            return FLOOR_DIV(x, y, name=scope)
        return REAL_DIV(x, y, name=scope)


def mod(x: Any, y: Any, name: str | None = None) -> Tensor:
    return FLOOR_MOD(x, y, name=name)


def pow(x: Any, y: Any, name: str | None = None) -> Tensor:  # noqa: A001 - TF1 name
    return POW(x, y, name=name)


def maximum(x: Any, y: Any, name: str | None = None) -> Tensor:
    return MAXIMUM(x, y, name=name)


def minimum(x: Any, y: Any, name: str | None = None) -> Tensor:
    return MINIMUM(x, y, name=name)


def squared_difference(x: Any, y: Any, name: str | None = None) -> Tensor:
    return SQUARED_DIFFERENCE(x, y, name=name)


def equal(x: Any, y: Any, name: str | None = None) -> Tensor:
    return EQUAL(x, y, name=name)


def not_equal(x: Any, y: Any, name: str | None = None) -> Tensor:
    return NOT_EQUAL(x, y, name=name)


def less(x: Any, y: Any, name: str | None = None) -> Tensor:
    return LESS(x, y, name=name)


def less_equal(x: Any, y: Any, name: str | None = None) -> Tensor:
    return LESS_EQUAL(x, y, name=name)


def greater(x: Any, y: Any, name: str | None = None) -> Tensor:
    return GREATER(x, y, name=name)


def greater_equal(x: Any, y: Any, name: str | None = None) -> Tensor:
    return GREATER_EQUAL(x, y, name=name)


def logical_and(x: Any, y: Any, name: str | None = None) -> Tensor:
    return LOGICAL_AND(x, y, name=name)


def logical_or(x: Any, y: Any, name: str | None = None) -> Tensor:
    return LOGICAL_OR(x, y, name=name)


def logical_not(x: Any, name: str | None = None) -> Tensor:
    return LOGICAL_NOT(x, name=name)


def logical_xor(x: Any, y: Any, name: str = "LogicalXor") -> Tensor:
    return logical_and(logical_or(x, y), logical_not(logical_and(x, y)), name=name)


def where(condition: Any, x: Any = None, y: Any = None, name: str | None = None) -> Tensor:
    """TF1's Select: a vector ``condition`` picks rows of ``x``/``y``; otherwise elementwise. With only
    ``condition``: the [num_true, rank] int64 coordinates of its true entries (op 'Where')."""
    if x is None and y is None:
        from gpugraph.ops.gather_nd_ops import where_v1_coordinates

        return where_v1_coordinates(condition, name=name)
    if x is None or y is None:
        raise ValueError("x and y must both be non-None or both be None.")
    graph = graph_of([condition, x, y])
    with graph.as_default(), graph.name_scope(name or "Select") as scope:
        x, y = _convert_pair(x, y, ("t", "e"))
        return SELECT(condition, x, y, name=scope)  # Select's inference names mismatched dtypes


def where_v2(condition: Any, x: Any = None, y: Any = None, name: str | None = None) -> Tensor:
    """TF2's where: ``condition``, ``x`` and ``y`` broadcast together; with only ``condition``, its coordinates."""
    if x is None and y is None:
        return where(condition, name=name)
    if x is None or y is None:
        raise ValueError("x and y must both be non-None or both be None.")
    graph = graph_of([condition, x, y])
    with graph.as_default(), graph.name_scope(name or "SelectV2") as scope:
        x, y = _convert_pair(x, y, ("t", "e"))
        condition = convert_to_tensor(condition, name="condition")
        rank = max(x.shape.ndims or 0, y.shape.ndims or 0)
        if condition.shape.ndims == 1 and rank > 1:  # broadcast along the last axis, not the first (Select's)
            from gpugraph.ops.array_ops import reshape

            condition = reshape(condition, [1] * (rank - 1) + [-1])
        return SELECT(condition, x, y, name=scope)


def cast(x: Any, dtype: Any, name: str | None = None) -> Tensor:
    """``x`` as ``dtype``; the same tensor when it already has that dtype (TF1 adds no op)."""
    target = dtypes.as_dtype(dtype).base_dtype
    graph = graph_of([x])
    with graph.as_default(), graph.name_scope(name or "Cast") as scope:
        x = convert_to_tensor(x, name="x")
        if x.dtype.base_dtype == target:
            return x
        return CAST(x, name=scope, DstT=target)


def to_float(x: Any, name: str = "ToFloat") -> Tensor:
    return cast(x, dtypes.float32, name=name)


def to_int32(x: Any, name: str = "ToInt32") -> Tensor:
    return cast(x, dtypes.int32, name=name)


def to_int64(x: Any, name: str = "ToInt64") -> Tensor:
    return cast(x, dtypes.int64, name=name)


def add_n(inputs: Any, name: str | None = None) -> Tensor:
    if not isinstance(inputs, (list, tuple)) or not inputs:
        raise ValueError("inputs must be a non-empty list of at least one Tensor with the same dtype and shape")
    if len(inputs) == 1:
        if name is None:  # TF1 returns the single input itself
            return convert_to_tensor(inputs[0])
        from gpugraph.ops.array_ops import identity

        return identity(inputs[0], name=name)
    return ADD_N(*inputs, name=name)


mul, sub, neg, floor_div, floormod = multiply, subtract, negative, floordiv, mod
