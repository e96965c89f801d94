"""More elementwise math: inverse/hyperbolic trigonometry, special functions (erf, lgamma, digamma),
is_nan/is_inf/is_finite, rint, atan2, xlogy/xdivy, and compositions (log_sigmoid, scalar_mul, ...)."""

from __future__ import annotations

import importlib
import math
from typing import Any

import numpy as np

from gpugraph.framework import dtypes
from gpugraph.framework.tensor import Tensor
from gpugraph.ops import shape_fns
from gpugraph.ops.constant_ops import convert_to_tensor
from gpugraph.ops.grad_util import unbroadcast
from gpugraph.ops.registry import NO_GRADIENT, OpDef, graph_of, register_op
from gpugraph.ops.unary_ops import _unary, _unary_sample, cos, exp, sqrt, square

__all__ = [
    "is_nan", "is_inf", "is_finite", "erf", "erfc", "lgamma", "digamma", "polygamma", "expm1", "asin", "acos",
    "atan", "atan2", "sinh", "cosh", "tan", "asinh", "acosh", "atanh", "rint", "xlogy", "xdivy", "log_sigmoid",
    "scalar_mul", "saturate_cast", "clip_by_average_norm", "softsign", "reciprocal_no_nan", "multiply_no_nan",
    "is_non_decreasing", "is_strictly_increasing", "zero_fraction", "polyval",
]


def _special(x: Any) -> Any:
    """scipy.special for host arrays, cupyx.scipy.special for CuPy arrays (chosen by the array's library)."""
    name = "cupyx.scipy.special" if type(x).__module__.startswith("cupy") else "scipy.special"
    try:
        return importlib.import_module(name)
    except ImportError:
        raise ImportError(f"erf, erfc, lgamma, digamma and polygamma need {name.split('.')[0]} "
                          f"(pip install {name.split('.')[0]})") from None


def _special_fn(fn: str) -> Any:
    def impl(xp: Any, x: Any) -> Any:
        return getattr(_special(x), fn)(x).astype(x.dtype, copy=False)
    return impl


def _flag_infer(x: Tensor) -> Any:
    shape_fns.floating(x)
    return x.shape, dtypes.bool_


def _flag_sample(rng: np.random.Generator) -> list[Any]:
    x = rng.standard_normal((3, 4))
    x[0, 1], x[1, 2], x[2, 0] = np.nan, np.inf, -np.inf
    return [([x], {})]


IS_NAN = _unary("IsNan", lambda xp, x: xp.isnan(x), NO_GRADIENT, infer=_flag_infer, sample=_flag_sample,
                cuda="out0 = in0 != in0")
IS_INF = _unary("IsInf", lambda xp, x: xp.isinf(x), NO_GRADIENT, infer=_flag_infer, sample=_flag_sample,
                cuda="out0 = in0 == in0 && in0 - in0 != in0 - in0")  # inf - inf is NaN
IS_FINITE = _unary("IsFinite", lambda xp, x: xp.isfinite(x), NO_GRADIENT, infer=_flag_infer,
                   sample=_flag_sample, cuda="out0 = in0 - in0 == in0 - in0")

_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
ERF = _unary("Erf", _special_fn("erf"), lambda op, dy: [dy * _TWO_OVER_SQRT_PI * exp(-square(op.inputs[0]))])
ERFC = _unary("Erfc", _special_fn("erfc"), lambda op, dy: [-dy * _TWO_OVER_SQRT_PI * exp(-square(op.inputs[0]))])
LGAMMA = _unary("Lgamma", _special_fn("gammaln"), lambda op, dy: [dy * digamma(op.inputs[0])],
                sample=_unary_sample(0.3, 4.0))
DIGAMMA = _unary("Digamma", _special_fn("psi"), lambda op, dy: [dy * polygamma(1.0, op.inputs[0])],
                 sample=_unary_sample(0.3, 4.0))


def _polygamma_impl(xp: Any, a: Any, x: Any) -> Any:
    return _special(x).polygamma(a, x).astype(x.dtype, copy=False)


def _polygamma_grad(op: Any, dy: Tensor) -> list[Any]:
    a, x = op.inputs
    return [None, unbroadcast(dy * POLYGAMMA(a + 1.0, x), x)]


POLYGAMMA = register_op(OpDef(
    "Polygamma", infer=shape_fns.binary_float, impl=_polygamma_impl, grad=_polygamma_grad, input_names=("a", "x"),
    sample=lambda rng: [([np.array([[1.0], [2.0]]), rng.uniform(0.5, 3.0, (2, 3))], {})],
))


def _away(lo: float, hi: float) -> Any:
    return _unary_sample(lo, hi)


EXPM1 = _unary("Expm1", lambda xp, x: xp.expm1(x), lambda op, dy: [dy * exp(op.inputs[0])], cuda="out0 = expm1(in0)")
ASIN = _unary("Asin", lambda xp, x: xp.arcsin(x), lambda op, dy: [dy / sqrt(1.0 - square(op.inputs[0]))],
              cuda="out0 = asin(in0)", sample=_away(-0.9, 0.9))
ACOS = _unary("Acos", lambda xp, x: xp.arccos(x), lambda op, dy: [-dy / sqrt(1.0 - square(op.inputs[0]))],
              cuda="out0 = acos(in0)", sample=_away(-0.9, 0.9))
ATAN = _unary("Atan", lambda xp, x: xp.arctan(x), lambda op, dy: [dy / (1.0 + square(op.inputs[0]))],
              cuda="out0 = atan(in0)")
TAN = _unary("Tan", lambda xp, x: xp.tan(x), lambda op, dy: [dy / square(cos(op.inputs[0]))],
             cuda="out0 = tan(in0)", sample=_away(-1.2, 1.2))
SINH = _unary("Sinh", lambda xp, x: xp.sinh(x), lambda op, dy: [dy * cosh(op.inputs[0])], cuda="out0 = sinh(in0)")
COSH = _unary("Cosh", lambda xp, x: xp.cosh(x), lambda op, dy: [dy * sinh(op.inputs[0])], cuda="out0 = cosh(in0)")
ASINH = _unary("Asinh", lambda xp, x: xp.arcsinh(x), lambda op, dy: [dy / sqrt(square(op.inputs[0]) + 1.0)],
               cuda="out0 = asinh(in0)")
ACOSH = _unary("Acosh", lambda xp, x: xp.arccosh(x), lambda op, dy: [dy / sqrt(square(op.inputs[0]) - 1.0)],
               cuda="out0 = acosh(in0)", sample=_away(1.2, 3.0))
ATANH = _unary("Atanh", lambda xp, x: xp.arctanh(x), lambda op, dy: [dy / (1.0 - square(op.inputs[0]))],
               cuda="out0 = atanh(in0)", sample=_away(-0.9, 0.9))
# round half to even, as TF's Rint; TF1 gives it no gradient
RINT = _unary("Rint", lambda xp, x: xp.rint(x), NO_GRADIENT, cuda="out0 = rint(in0)")


def _binary_grads(op: Any, gx: Tensor, gy: Tensor) -> list[Any]:
    x, y = op.inputs
    return [unbroadcast(gx, x), unbroadcast(gy, y)]


def _atan2_grad(op: Any, dy: Tensor) -> list[Any]:
    y, x = op.inputs
    scale = dy / (square(x) + square(y))
    return _binary_grads(op, scale * x, -scale * y)


def _binary_sample(lo: float, hi: float) -> Any:
    def sample(rng: np.random.Generator) -> list[Any]:
        x = rng.uniform(lo, hi, (2, 3))
        return [([x, rng.uniform(0.5, 2.0, (2, 3))], {}),
                ([rng.uniform(lo, hi, (3, 1)), rng.uniform(0.5, 2.0, (2,))], {})]
    return sample


ATAN2 = register_op(OpDef(
    "Atan2", infer=shape_fns.binary_float, impl=lambda xp, y, x: xp.arctan2(y, x), grad=_atan2_grad,
    cuda="out0 = atan2(in0, in1)", input_names=("y", "x"), sample=_binary_sample(-2.0, 2.0),
))


def _where_x(xp: Any, x: Any, value: Any) -> Any:
    return xp.where(x == 0, xp.zeros((), dtype=value.dtype), value)


def _xlogy_grad(op: Any, dy: Tensor) -> list[Any]:
    from gpugraph.ops.array_ops import zeros_like
    from gpugraph.ops.math_ops import not_equal, where

    x, y = op.inputs
    nonzero = not_equal(x, 0.0)
    gx = where(nonzero, XLOGY(nonzero_ones(x), y), zeros_like(x + y))
    gy = XDIVY(x, y)
    return _binary_grads(op, dy * gx, dy * gy)


def _xdivy_grad(op: Any, dy: Tensor) -> list[Any]:
    from gpugraph.ops.array_ops import zeros_like
    from gpugraph.ops.math_ops import not_equal, where

    x, y = op.inputs
    nonzero = not_equal(x, 0.0)
    gx = where(nonzero, XDIVY(nonzero_ones(x), y), zeros_like(x + y))
    gy = -XDIVY(x, square(y))
    return _binary_grads(op, dy * gx, dy * gy)


def nonzero_ones(x: Tensor) -> Tensor:
    from gpugraph.ops.array_ops import ones_like

    return ones_like(x)


XLOGY = register_op(OpDef(
    "Xlogy", infer=shape_fns.binary_float, impl=lambda xp, x, y: _where_x(xp, x, x * xp.log(y)), grad=_xlogy_grad,
    sample=_binary_sample(-2.0, 2.0),
))
XDIVY = register_op(OpDef(
    "Xdivy", infer=shape_fns.binary_float, impl=lambda xp, x, y: _where_x(xp, x, x / y), grad=_xdivy_grad,
    sample=_binary_sample(-2.0, 2.0),
))


# --- public functions ---
def is_nan(x: Any, name: str | None = None) -> Tensor:
    return IS_NAN(x, name=name)


def is_inf(x: Any, name: str | None = None) -> Tensor:
    return IS_INF(x, name=name)


def is_finite(x: Any, name: str | None = None) -> Tensor:
    return IS_FINITE(x, name=name)


def erf(x: Any, name: str | None = None) -> Tensor:
    return ERF(x, name=name)


def erfc(x: Any, name: str | None = None) -> Tensor:
    return ERFC(x, name=name)


def lgamma(x: Any, name: str | None = None) -> Tensor:
    return LGAMMA(x, name=name)


def digamma(x: Any, name: str | None = None) -> Tensor:
    return DIGAMMA(x, name=name)


def polygamma(a: Any, x: Any, name: str | None = None) -> Tensor:
    return POLYGAMMA(a, x, name=name)


def expm1(x: Any, name: str | None = None) -> Tensor:
    return EXPM1(x, name=name)


def asin(x: Any, name: str | None = None) -> Tensor:
    return ASIN(x, name=name)


def acos(x: Any, name: str | None = None) -> Tensor:
    return ACOS(x, name=name)


def atan(x: Any, name: str | None = None) -> Tensor:
    return ATAN(x, name=name)


def tan(x: Any, name: str | None = None) -> Tensor:
    return TAN(x, name=name)


def atan2(y: Any, x: Any, name: str | None = None) -> Tensor:
    return ATAN2(y, x, name=name)


def sinh(x: Any, name: str | None = None) -> Tensor:
    return SINH(x, name=name)


def cosh(x: Any, name: str | None = None) -> Tensor:
    return COSH(x, name=name)


def asinh(x: Any, name: str | None = None) -> Tensor:
    return ASINH(x, name=name)


def acosh(x: Any, name: str | None = None) -> Tensor:
    return ACOSH(x, name=name)


def atanh(x: Any, name: str | None = None) -> Tensor:
    return ATANH(x, name=name)


def rint(x: Any, name: str | None = None) -> Tensor:
    return RINT(x, name=name)


def xlogy(x: Any, y: Any, name: str | None = None) -> Tensor:
    return XLOGY(x, y, name=name)


def xdivy(x: Any, y: Any, name: str | None = None) -> Tensor:
    return XDIVY(x, y, name=name)


def log_sigmoid(x: Any, name: str | None = None) -> Tensor:
    """log(sigmoid(x)) as TF1 builds it: -softplus(-x), stable for large |x|."""
    from gpugraph.ops.nn_ops import softplus

    graph = graph_of([x])
    with graph.as_default(), graph.name_scope(name or "LogSigmoid") as scope:
        x = convert_to_tensor(x, name="x")
        return _neg(softplus(-x), scope)


def _neg(t: Tensor, scope: str) -> Tensor:
    from gpugraph.ops.unary_ops import NEG

    return NEG(t, name=scope)


def scalar_mul(scalar: Any, x: Any, name: str | None = None) -> Tensor:
    """scalar * x; ``scalar`` must be a 0-d value."""
    graph = graph_of([scalar, x])
    with graph.as_default(), graph.name_scope(name or "scalar_mul") as scope:
        x = convert_to_tensor(x, name="x")
        scalar = convert_to_tensor(scalar, dtype=x.dtype.base_dtype, name="scalar")
        if scalar.shape.ndims not in (None, 0):
            raise ValueError(f"Only scalar multiply works, got shape {scalar.shape}.")
        from gpugraph.ops.math_ops import MUL

        return MUL(scalar, x, name=scope)


def saturate_cast(value: Any, dtype: Any, name: str | None = None) -> Tensor:
    """Cast, clamping first to the range of ``dtype`` (no wrap-around of out-of-range values)."""
    from gpugraph.ops.math_ops import cast, maximum, minimum

    graph = graph_of([value])
    with graph.as_default(), graph.name_scope(name or "saturate_cast") as scope:
        value = convert_to_tensor(value, name="value")
        target = dtypes.as_dtype(dtype).base_dtype
        src = value.dtype.base_dtype
        if not src.is_bool and not target.is_bool:
            if src.min < target.min:
                value = maximum(value, np.asarray(target.min).astype(src.np_dtype))
            if src.max > target.max:
                value = minimum(value, np.asarray(target.max).astype(src.np_dtype))
        return cast(value, target, name=scope)


def clip_by_average_norm(t: Any, clip_norm: Any, name: str | None = None) -> Tensor:
    """t * clip_norm / max(l2norm(t) / size(t), clip_norm), as TF1 builds it."""
    from gpugraph.ops.array_ops import identity, size
    from gpugraph.ops.math_ops import cast, minimum
    from gpugraph.ops.reduction_ops import reduce_sum
    from gpugraph.ops.unary_ops import rsqrt

    graph = graph_of([t, clip_norm])
    with graph.as_default(), graph.name_scope(name or "clip_by_average_norm") as scope:
        t = convert_to_tensor(t, name="t")
        n_element = cast(size(t), t.dtype.base_dtype)
        l2norm_inv = rsqrt(reduce_sum(t * t))
        return identity(t * clip_norm * minimum(l2norm_inv * n_element, 1.0 / clip_norm), name=scope)


def softsign(features: Any, name: str | None = None) -> Tensor:
    from gpugraph.ops.math_ops import ABS, REAL_DIV

    graph = graph_of([features])
    with graph.as_default(), graph.name_scope(name or "Softsign") as scope:
        x = convert_to_tensor(features, name="features")
        return REAL_DIV(x, 1.0 + ABS(x), name=scope)


def reciprocal_no_nan(x: Any, name: str | None = None) -> Tensor:
    from gpugraph.ops.array_ops import ones_like
    from gpugraph.ops.metric_ops import div_no_nan

    graph = graph_of([x])
    with graph.as_default(), graph.name_scope(name or "reciprocal_no_nan") as scope:
        x = convert_to_tensor(x, name="x")
        return div_no_nan(ones_like(x), x, name=scope)


def multiply_no_nan(x: Any, y: Any, name: str | None = None) -> Tensor:
    """x * y, and 0 where y is 0 even when x is inf or nan."""
    from gpugraph.ops.array_ops import zeros_like
    from gpugraph.ops.math_ops import equal, where

    graph = graph_of([x, y])
    with graph.as_default(), graph.name_scope(name or "multiply_no_nan") as scope:
        x, y = convert_to_tensor(x, name="x"), convert_to_tensor(y, name="y")
        prod = x * y
        return where(equal(y + zeros_like(prod), 0), zeros_like(prod), prod, name=scope)


def _monotone(x: Any, strict: bool, name: str | None, default: str) -> Tensor:
    from gpugraph.ops.array_ops import reshape
    from gpugraph.ops.math_ops import greater, greater_equal
    from gpugraph.ops.reduction_extra_ops import reduce_all

    graph = graph_of([x])
    with graph.as_default(), graph.name_scope(name or default) as scope:
        flat = reshape(convert_to_tensor(x, name="x"), [-1])
        diff = (greater if strict else greater_equal)(flat[1:], flat[:-1])
        return reduce_all(diff, name=scope)


def is_non_decreasing(x: Any, name: str | None = None) -> Tensor:
    return _monotone(x, False, name, "is_non_decreasing")


def is_strictly_increasing(x: Any, name: str | None = None) -> Tensor:
    return _monotone(x, True, name, "is_strictly_increasing")


def zero_fraction(value: Any, name: str | None = None) -> Tensor:
    """The fraction of zeros in ``value`` (float32)."""
    from gpugraph.ops.math_ops import cast, equal
    from gpugraph.ops.reduction_ops import reduce_mean

    graph = graph_of([value])
    with graph.as_default(), graph.name_scope(name or "zero_fraction") as scope:
        value = convert_to_tensor(value, name="value")
        zero = np.zeros((), value.dtype.base_dtype.np_dtype)
        return reduce_mean(cast(equal(value, zero), dtypes.float32), name=scope)


def polyval(coeffs: Any, x: Any, name: str | None = None) -> Tensor:
    """Horner's rule: coeffs[0] * x**(n-1) + ... + coeffs[n-1]."""
    from gpugraph.ops.array_ops import identity, zeros_like

    if not isinstance(coeffs, (list, tuple)):
        raise ValueError(f"Argument coeffs must be list type found {type(coeffs)}.")
    graph = graph_of([x, *coeffs])
    with graph.as_default(), graph.name_scope(name or "polyval") as scope:
        x = convert_to_tensor(x, name="x")
        if not coeffs:
            return zeros_like(x, name=scope)
        out = convert_to_tensor(coeffs[0])
        for c in coeffs[1:]:
            out = c + out * x
        return identity(out, name=scope)
