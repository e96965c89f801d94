"""Small ops the metrics and losses are built from: DivNoNan (x / y, 0 where y == 0)."""

from __future__ import annotations

from typing import Any

import numpy as np

from gpugraph.framework.tensor import Tensor
from gpugraph.ops import shape_fns
from gpugraph.ops.grad_util import unbroadcast
from gpugraph.ops.math_ops import _convert_pair, _same_dtype
from gpugraph.ops.registry import OpDef, graph_of, register_op

__all__ = ["div_no_nan"]


def _div_no_nan_impl(xp: Any, x: Any, y: Any) -> Any:
    zero = y == 0
    # divide by 1 where y == 0 so no inf/NaN (or warning) is ever produced
    return xp.where(zero, xp.zeros((), dtype=x.dtype), x / xp.where(zero, xp.ones((), dtype=y.dtype), y))


def _div_no_nan_grad(op: Any, dy: Tensor) -> list[Any]:
    x, y = op.inputs
    return [unbroadcast(DIV_NO_NAN(dy, y), x), unbroadcast(dy * DIV_NO_NAN(DIV_NO_NAN(-x, y), y), y)]


def _sample(rng: np.random.Generator) -> list[Any]:
    # divisors kept away from 0: there the op is not differentiable (central differences jump)
    def divisor(shape: tuple[int, ...]) -> np.ndarray:
        return rng.uniform(0.5, 2.0, shape) * rng.choice([-1.0, 1.0], shape)
    return [([rng.uniform(-2, 2, (2, 3)), divisor((2, 3))], {}),
            ([rng.uniform(-2, 2, (4, 1, 3)), divisor((2, 1))], {})]


DIV_NO_NAN = register_op(OpDef(
    "DivNoNan", infer=shape_fns.binary_float, impl=_div_no_nan_impl, grad=_div_no_nan_grad,
    cuda="out0 = in1 == 0 ? 0 : in0 / in1", sample=_sample,
))


def div_no_nan(x: Any, y: Any, name: str | None = None) -> Tensor:
    """x / y elementwise, 0 where y is 0 (even where x is 0, inf or NaN)."""
    graph = graph_of([x, y])
    with graph.as_default(), graph.name_scope(name or "div_no_nan") as scope:
        x, y = _convert_pair(x, y)
        _same_dtype(x, y, scope[:-1])
        return DIV_NO_NAN(x, y, name=scope)
