"""What a fused region may hold: per op type, the dtypes it takes, its result dtype, its CUDA C expression
and its NumPy ufunc form.

The C expression of most ops is the ``cuda`` field of their OpDef ("out0 = EXPR" over ``in0``, ``in1``...);
ops whose C text depends on the dtype or on attrs (Cast, LeakyRelu, ZerosLike, integer FloorDiv/FloorMod,
Select) have theirs here. Every expression has NumPy's semantics, where C's differ:

- Maximum/Minimum propagate NaN (CUDA's fmax/fmin drop it); on a tie (+0 vs -0) they return the second
  operand, as numpy.maximum does.
- Sign(0) is +0, Sign(NaN) is NaN; Abs clears the sign of -0.
- Integer FloorDiv/FloorMod round toward -inf; a zero divisor gives 0 and INT_MIN // -1 wraps, as NumPy
  (no run-time check for zero, as TF1's GPU kernels).
- Cast float -> int truncates toward zero; NaN and values out of range give the type's minimum, as NumPy on
  x86-64 (CUDA's own conversion would saturate); float -> bool is ``x != 0`` (NaN is true).
- Comparisons with NaN are false (NotEqual true), as in C and NumPy.

float16 is not fused (NumPy rounds every op's result to half; the region falls back to op-by-op).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from gpugraph.ops.registry import REGISTRY

# dtype kinds a rule accepts for its data inputs: f = float32/float64, i = int32/int64, b = bool
FLOAT, INT, BOOL = "f", "i", "b"
FUSED_DTYPES = ("float32", "float64", "int32", "int64", "bool")
C_TYPES = {"float32": "float", "float64": "double", "int32": "int", "int64": "long long", "bool": "bool"}
_INT_MIN = {"int32": "(-2147483647 - 1)", "int64": "(-9223372036854775807LL - 1)"}
# a double x converts to the int type without overflow when lo < x < hi
_INT_RANGE = {"int32": ("-2147483649.0", "2147483648.0"), "int64": ("-9223372036854775809.0", "9223372036854775808.0")}


def kind(dtype: str) -> str:
    return {"float32": FLOAT, "float64": FLOAT, "int32": INT, "int64": INT, "bool": BOOL}[dtype]


@dataclass(frozen=True)
class Rule:
    """How one op type fuses. ``attrs`` names the attrs that change its code (part of a region's key)."""

    arity: int
    kinds: str  # accepted kinds of the data inputs (all of one dtype, Select's condition aside)
    result: Callable[[tuple[str, ...], dict[str, Any]], str]  # result dtype from input dtypes and attrs
    cuda: Callable[[tuple[str, ...], dict[str, Any]], str] | None = None  # None: the OpDef's cuda field
    numpy: Callable[..., Any] | None = None  # numpy(out, *arrays, **attrs) writes the result into out
    attrs: tuple[str, ...] = ()


def _same(dtypes: tuple[str, ...], attrs: dict[str, Any]) -> str:
    return dtypes[-1]


def _boolean(dtypes: tuple[str, ...], attrs: dict[str, Any]) -> str:
    return "bool"


def _ufunc(f: Any) -> Callable[..., Any]:
    """f(*xs, out=out); NumPy's floating-point warnings are silenced by the evaluator."""
    return lambda out, *xs: f(*xs, out=out)


def _from_opdef(op_type: str) -> Callable[[tuple[str, ...], dict[str, Any]], str]:
    def text(dtypes: tuple[str, ...], attrs: dict[str, Any]) -> str:
        code = REGISTRY[op_type].cuda
        assert code is not None, f"{op_type} has no cuda expression"
        return code
    return text


def _fixed(code: str) -> Callable[[tuple[str, ...], dict[str, Any]], str]:
    return lambda dtypes, attrs: code


def _cast_code(dtypes: tuple[str, ...], attrs: dict[str, Any]) -> str:
    src, dst = dtypes[0], attrs["DstT"]
    if dst == "bool":
        return "out0 = in0 != 0"
    if kind(src) == FLOAT and kind(dst) == INT:
        lo, hi = _INT_RANGE[dst]
        return f"out0 = ((double)in0 > {lo} && (double)in0 < {hi}) ? ({C_TYPES[dst]})in0 : {_INT_MIN[dst]}"
    return f"out0 = ({C_TYPES[dst]})in0"


def _cast_numpy(out: Any, x: Any, *, DstT: str) -> Any:
    np.copyto(out, x, casting="unsafe")
    return out


def _like_dtype(dtypes: tuple[str, ...], attrs: dict[str, Any]) -> str:
    return attrs.get("dtype") or dtypes[0]


def _fill(value: int) -> Callable[..., Any]:
    def fill(out: Any, x: Any, **attrs: Any) -> Any:
        out[...] = value
        return out
    return fill


def _leaky_code(dtypes: tuple[str, ...], attrs: dict[str, Any]) -> str:
    return f"out0 = in0 > 0 ? in0 : in0 * {float(attrs['alpha'])!r}"


def _leaky_numpy(out: Any, x: Any, *, alpha: float) -> Any:
    np.multiply(x, alpha, out=out, where=~(x > 0))  # where= keeps the other lanes for the copy below
    np.copyto(out, x, where=x > 0)
    return out


_FLOOR_DIV_INT = ("out0 = (in1 == 0) ? 0 : (in1 == -1) ? -in0 : "
                  "in0 / in1 - ((in0 % in1 != 0) & ((in0 < 0) != (in1 < 0)))")
_FLOOR_MOD_INT = ("out0 = (in1 == 0 || in1 == -1) ? 0 : "
                  "in0 % in1 + (((in0 % in1 != 0) & ((in0 % in1 < 0) != (in1 < 0))) ? in1 : 0)")


def _copy(out: Any, x: Any) -> Any:
    np.copyto(out, x)
    return out


def _select_numpy(out: Any, c: Any, x: Any, y: Any) -> Any:
    np.copyto(out, np.broadcast_to(y, out.shape))
    np.copyto(out, x, where=c)
    return out


def _relu_numpy(out: Any, x: Any) -> Any:
    return np.maximum(x, x.dtype.type(0), out=out)


def _relu_grad_numpy(out: Any, dy: Any, y: Any) -> Any:
    return np.multiply(dy, y > 0, out=out, casting="unsafe")


def _relu6_numpy(out: Any, x: Any) -> Any:
    np.maximum(x, x.dtype.type(0), out=out)
    return np.minimum(out, x.dtype.type(6), out=out)


def _sq_diff(out: Any, x: Any, y: Any) -> Any:
    np.subtract(x, y, out=out)
    return np.multiply(out, out, out=out)


_F, _FI, _FIB = FLOAT, FLOAT + INT, FLOAT + INT + BOOL

RULES: dict[str, Rule] = {
    # binary arithmetic
    "Add": Rule(2, _FI, _same, numpy=_ufunc(np.add)),
    # channels last only (region.check_bias_layout): the bias broadcasts over the last axis, as Add's would
    "BiasAdd": Rule(2, _FI, _same, cuda=_fixed("out0 = in0 + in1"), numpy=_ufunc(np.add)),
    "Sub": Rule(2, _FI, _same, numpy=_ufunc(np.subtract)),
    "Mul": Rule(2, _FI, _same, numpy=_ufunc(np.multiply)),
    "RealDiv": Rule(2, _F, _same, numpy=_ufunc(np.true_divide)),
    "DivNoNan": Rule(2, _F, _same, numpy=None),
    "Maximum": Rule(2, _FI, _same, numpy=_ufunc(np.maximum)),
    "Minimum": Rule(2, _FI, _same, numpy=_ufunc(np.minimum)),
    "Pow": Rule(2, _F, _same, numpy=_ufunc(np.power)),
    "SquaredDifference": Rule(2, _FI, _same, numpy=_sq_diff),
    "Atan2": Rule(2, _F, _same, numpy=_ufunc(np.arctan2)),
    "FloorDiv": Rule(2, INT, _same, cuda=_fixed(_FLOOR_DIV_INT), numpy=_ufunc(np.floor_divide)),
    "FloorMod": Rule(2, INT, _same, cuda=_fixed(_FLOOR_MOD_INT), numpy=_ufunc(np.mod)),
    # unary arithmetic
    "Neg": Rule(1, _FI, _same, numpy=_ufunc(np.negative)),
    "Square": Rule(1, _FI, _same, numpy=_ufunc(np.square)),
    "Abs": Rule(1, _FI, _same, numpy=_ufunc(np.abs)),
    "Sign": Rule(1, _FI, _same, numpy=_ufunc(np.sign)),
    "Reciprocal": Rule(1, _F, _same, numpy=_ufunc(np.reciprocal)),
    "Sqrt": Rule(1, _F, _same, numpy=_ufunc(np.sqrt)),
    "Rsqrt": Rule(1, _F, _same, numpy=None),
    "Exp": Rule(1, _F, _same, numpy=_ufunc(np.exp)),
    "Expm1": Rule(1, _F, _same, numpy=_ufunc(np.expm1)),
    "Log": Rule(1, _F, _same, numpy=_ufunc(np.log)),
    "Log1p": Rule(1, _F, _same, numpy=_ufunc(np.log1p)),
    "Sin": Rule(1, _F, _same, numpy=_ufunc(np.sin)),
    "Cos": Rule(1, _F, _same, numpy=_ufunc(np.cos)),
    "Tan": Rule(1, _F, _same, numpy=_ufunc(np.tan)),
    "Atan": Rule(1, _F, _same, numpy=_ufunc(np.arctan)),
    "Sinh": Rule(1, _F, _same, numpy=_ufunc(np.sinh)),
    "Cosh": Rule(1, _F, _same, numpy=_ufunc(np.cosh)),
    "Floor": Rule(1, _F, _same, numpy=_ufunc(np.floor)),
    "Ceil": Rule(1, _F, _same, numpy=_ufunc(np.ceil)),
    "Rint": Rule(1, _F, _same, numpy=_ufunc(np.rint)),
    "Round": Rule(1, _F, _same, numpy=_ufunc(np.rint)),
    "Identity": Rule(1, _FIB, _same, numpy=_copy),
    "StopGradient": Rule(1, _FIB, _same, numpy=_copy),
    # activations
    "Relu": Rule(1, _FI, _same, numpy=_relu_numpy),
    "Relu6": Rule(1, _FI, _same, numpy=_relu6_numpy),
    "ReluGrad": Rule(2, _FI, _same, numpy=_relu_grad_numpy),
    "Elu": Rule(1, _F, _same),
    "Selu": Rule(1, _F, _same),
    "Softplus": Rule(1, _F, _same),
    "Softsign": Rule(1, _F, _same),
    "Sigmoid": Rule(1, _F, _same),
    "Tanh": Rule(1, _F, _same, numpy=_ufunc(np.tanh)),
    "LeakyRelu": Rule(1, _F, _same, cuda=_leaky_code, numpy=_leaky_numpy, attrs=("alpha",)),
    # comparisons and logic
    "Less": Rule(2, _FI, _boolean, numpy=_ufunc(np.less)),
    "LessEqual": Rule(2, _FI, _boolean, numpy=_ufunc(np.less_equal)),
    "Greater": Rule(2, _FI, _boolean, numpy=_ufunc(np.greater)),
    "GreaterEqual": Rule(2, _FI, _boolean, numpy=_ufunc(np.greater_equal)),
    "Equal": Rule(2, _FIB, _boolean, numpy=_ufunc(np.equal)),
    "NotEqual": Rule(2, _FIB, _boolean, numpy=_ufunc(np.not_equal)),
    "LogicalAnd": Rule(2, BOOL, _boolean, numpy=_ufunc(np.logical_and)),
    "LogicalOr": Rule(2, BOOL, _boolean, numpy=_ufunc(np.logical_or)),
    "LogicalNot": Rule(1, BOOL, _boolean, numpy=_ufunc(np.logical_not)),
    "IsNan": Rule(1, _F, _boolean, numpy=_ufunc(np.isnan)),
    "IsInf": Rule(1, _F, _boolean, numpy=_ufunc(np.isinf)),
    "IsFinite": Rule(1, _F, _boolean, numpy=_ufunc(np.isfinite)),
    # selection, conversion, constants
    "Select": Rule(3, _FIB, _same, cuda=_fixed("out0 = in0 ? in1 : in2"), numpy=_select_numpy),
    "Cast": Rule(1, _FIB, lambda dtypes, attrs: attrs["DstT"], cuda=_cast_code, numpy=_cast_numpy,
                 attrs=("DstT",)),
    "ZerosLike": Rule(1, _FIB, _like_dtype, cuda=_fixed("out0 = 0"), numpy=_fill(0), attrs=("dtype",)),
    "OnesLike": Rule(1, _FIB, _like_dtype, cuda=_fixed("out0 = 1"), numpy=_fill(1), attrs=("dtype",)),
}


def cuda_template(op_type: str, dtypes: tuple[str, ...], attrs: dict[str, Any]) -> str:
    """The "out0 = EXPR" text of one op for these input dtypes and attrs."""
    rule = RULES[op_type]
    return (rule.cuda or _from_opdef(op_type))(dtypes, attrs)
