"""tf.check_numerics and tf.add_check_numerics_ops: stop a run at the first NaN or Inf, naming the tensor."""

from __future__ import annotations

from typing import Any

from gpugraph import errors
from gpugraph.framework import dtypes
from gpugraph.framework.tensor import Operation, Tensor
from gpugraph.ops.registry import OpDef, register_op

__all__ = ["check_numerics", "add_check_numerics_ops"]

_FLOATS = (dtypes.float16, dtypes.float32, dtypes.float64)


def _infer(tensor: Tensor, *, message: str) -> Any:
    if tensor.dtype.base_dtype not in _FLOATS:
        raise TypeError(f"Value passed to parameter 'tensor' has DataType {tensor.dtype.base_dtype.name} not in "
                        f"list of allowed values: bfloat16, float16, float32, float64")
    return tensor.shape, tensor.dtype.base_dtype


def _bind(op: Operation, ctx: Any) -> Any:
    xp = ctx.backend.xp
    message = op.get_attr("message")

    def check(x: Any) -> Any:
        # the run must stop here, as TF1's kernel does: one read of two flags, on a GPU too
        if bool(xp.isnan(x).any()):
            raise errors.InvalidArgumentError(
                None, op, f"{message} : Tensor had NaN values\n\t [[{{{{node {op.name}}}}}]]")
        if bool(xp.isinf(x).any()):
            raise errors.InvalidArgumentError(
                None, op, f"{message} : Tensor had Inf values\n\t [[{{{{node {op.name}}}}}]]")
        return x
    return check


CHECK_NUMERICS = register_op(OpDef(
    "CheckNumerics", infer=_infer, bind=_bind, grad=lambda op, dy: [dy], input_names=("tensor",), aliases=True,
))


def check_numerics(tensor: Any, message: str, name: str | None = None) -> Tensor:
    """``tensor`` unchanged; the run fails with InvalidArgumentError if it holds a NaN or an Inf."""
    return CHECK_NUMERICS(tensor, name=name or "CheckNumerics", message=str(message))


def add_check_numerics_ops() -> Operation:
    """A check_numerics for every float output in the default graph, chained in creation order (as TF1)."""
    from gpugraph.framework.graph import get_default_graph
    from gpugraph.ops.control_flow_ops import group

    graph = get_default_graph()
    checks: list[Tensor] = []
    for op in list(graph.get_operations()):
        for out in op.outputs:
            if out.dtype.base_dtype not in _FLOATS or out.dtype.is_ref:
                continue
            with graph.control_dependencies([c.op for c in checks[-1:]]):
                checks.append(check_numerics(out, f"{op.name}:{out.value_index}"))
    return group(*checks[-1:])
