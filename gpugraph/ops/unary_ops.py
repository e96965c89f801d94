"""Elementwise unary math: neg, square, sqrt, rsqrt, exp, log, log1p, abs, sign, reciprocal, rounding."""

from __future__ import annotations

from typing import Any

from gpugraph.framework.tensor import Tensor
from gpugraph.ops import shape_fns
from gpugraph.ops.registry import NO_GRADIENT, OpDef, register_op

__all__ = ["square", "sqrt", "rsqrt", "exp", "log", "log1p", "abs", "sign", "negative", "reciprocal", "floor",
           "ceil", "round", "neg", "sin", "cos"]


def _unary_sample(lo: float = -2.0, hi: float = 2.0):
    return lambda rng: [([rng.uniform(lo, hi, (3, 4))], {})]


def _unary(name: str, impl: Any, grad: Any, infer: Any = shape_fns.same_shape_float, cuda: str | None = None,
           sample: Any = None) -> Any:
    return register_op(OpDef(name, infer=infer, impl=impl, grad=grad, cuda=cuda,
                             sample=sample or _unary_sample()))


NEG = _unary("Neg", lambda xp, x: -x, lambda op, dy: [-dy], infer=shape_fns.same_shape_numeric, cuda="out0 = -in0")
SQUARE = _unary("Square", lambda xp, x: x * x, lambda op, dy: [dy * (2.0 * op.inputs[0])],
                infer=shape_fns.same_shape_numeric, cuda="out0 = in0 * in0")
SQRT = _unary("Sqrt", lambda xp, x: xp.sqrt(x), lambda op, dy: [dy * 0.5 / op.outputs[0]],
              cuda="out0 = sqrt(in0)", sample=_unary_sample(0.5, 3.0))
RSQRT = _unary("Rsqrt", lambda xp, x: 1.0 / xp.sqrt(x),
               lambda op, dy: [dy * -0.5 * op.outputs[0] / op.inputs[0]],
               cuda="out0 = 1 / sqrt(in0)", sample=_unary_sample(0.5, 3.0))
EXP = _unary("Exp", lambda xp, x: xp.exp(x), lambda op, dy: [dy * op.outputs[0]], cuda="out0 = exp(in0)")
LOG = _unary("Log", lambda xp, x: xp.log(x), lambda op, dy: [dy / op.inputs[0]], cuda="out0 = log(in0)",
             sample=_unary_sample(0.5, 3.0))
LOG1P = _unary("Log1p", lambda xp, x: xp.log1p(x), lambda op, dy: [dy / (1.0 + op.inputs[0])],
               cuda="out0 = log1p(in0)", sample=_unary_sample(-0.5, 2.0))
ABS = _unary("Abs", lambda xp, x: xp.abs(x), lambda op, dy: [dy * sign(op.inputs[0])],
             infer=shape_fns.same_shape_numeric, cuda="out0 = abs(in0)")
SIGN = _unary("Sign", lambda xp, x: xp.sign(x), lambda op, dy: [zeros_like_float(dy)],
              infer=shape_fns.same_shape_numeric,  # sign(-0) = +0, sign(NaN) = NaN, as numpy.sign
              cuda="out0 = in0 > 0 ? 1 : (in0 < 0 ? -1 : (in0 == 0 ? 0 : in0))")
RECIPROCAL = _unary("Reciprocal", lambda xp, x: 1.0 / x,
                    lambda op, dy: [-dy * square(op.outputs[0])], cuda="out0 = 1 / in0",
                    sample=_unary_sample(0.5, 2.0))
FLOOR = _unary("Floor", lambda xp, x: xp.floor(x), NO_GRADIENT, cuda="out0 = floor(in0)")
CEIL = _unary("Ceil", lambda xp, x: xp.ceil(x), NO_GRADIENT, cuda="out0 = ceil(in0)")
ROUND = _unary("Round", lambda xp, x: xp.round(x), NO_GRADIENT, cuda="out0 = rint(in0)")


def square(x: Any, name: str | None = None) -> Tensor:
    return SQUARE(x, name=name)


def sqrt(x: Any, name: str | None = None) -> Tensor:
    return SQRT(x, name=name)


def rsqrt(x: Any, name: str | None = None) -> Tensor:
    return RSQRT(x, name=name)


def exp(x: Any, name: str | None = None) -> Tensor:
    return EXP(x, name=name)


def log(x: Any, name: str | None = None) -> Tensor:
    return LOG(x, name=name)


def log1p(x: Any, name: str | None = None) -> Tensor:
    return LOG1P(x, name=name)


def abs(x: Any, name: str | None = None) -> Tensor:  # noqa: A001 - TF1 name
    return ABS(x, name=name)


def sign(x: Any, name: str | None = None) -> Tensor:
    return SIGN(x, name=name)


def negative(x: Any, name: str | None = None) -> Tensor:
    return NEG(x, name=name)


def reciprocal(x: Any, name: str | None = None) -> Tensor:
    return RECIPROCAL(x, name=name)


def floor(x: Any, name: str | None = None) -> Tensor:
    return FLOOR(x, name=name)


def ceil(x: Any, name: str | None = None) -> Tensor:
    return CEIL(x, name=name)


def round(x: Any, name: str | None = None) -> Tensor:  # noqa: A001 - TF1 name
    return ROUND(x, name=name)


def zeros_like_float(x: Tensor) -> Tensor:
    from gpugraph.ops.array_ops import zeros_like

    return zeros_like(x)


def ones_like_float(x: Tensor) -> Tensor:
    from gpugraph.ops.array_ops import ones_like

    return ones_like(x)


neg = negative


SIN = _unary("Sin", lambda xp, x: xp.sin(x), lambda op, dy: [dy * cos(op.inputs[0])], cuda="out0 = sin(in0)")
COS = _unary("Cos", lambda xp, x: xp.cos(x), lambda op, dy: [-dy * sin(op.inputs[0])], cuda="out0 = cos(in0)")


def sin(x: Any, name: str | None = None) -> Tensor:
    return SIN(x, name=name)


def cos(x: Any, name: str | None = None) -> Tensor:
    return COS(x, name=name)
