"""Optimizer update ops: each writes into the variable's own buffer (no new array per step)."""

from __future__ import annotations

from typing import Any

from gpugraph.framework.tensor import Operation, Tensor
from gpugraph.ops.registry import NO_GRADIENT, OpDef, register_op
from gpugraph.ops.state_ops import _uninitialized


def _apply_infer(var: Tensor, *rest: Tensor) -> Any:
    for t in rest:
        if t.dtype.base_dtype != var.dtype.base_dtype:
            raise TypeError(f"Optimizer input '{t.name}' has type {t.dtype.base_dtype.name} that does not "
                            f"match the variable's type {var.dtype.base_dtype.name}")
    if not var.shape.is_compatible_with(rest[-1].shape):
        raise ValueError(f"var and delta do not have the same shape: {var.shape} {rest[-1].shape}")
    return var.shape, var.dtype


def _bind_gradient_descent(op: Operation, ctx: Any) -> Any:
    var_op = op.inputs[0].op
    cell = ctx.cell(var_op)
    xp = ctx.backend.xp

    def apply(alpha: Any, delta: Any) -> Any:
        var = cell.value
        if var is None:
            raise _uninitialized(var_op)
        xp.subtract(var, alpha * delta, out=var)
        return var
    return apply


APPLY_GRADIENT_DESCENT = register_op(OpDef(
    "ApplyGradientDescent", infer=_apply_infer, bind=_bind_gradient_descent, ref_input=True, stateful=True,
    grad=NO_GRADIENT, input_names=("var", "alpha", "delta"),
))
