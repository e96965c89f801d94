"""Ordering without data: no_op, group, tuple."""

from __future__ import annotations

import builtins
from typing import Any

from gpugraph.framework.tensor import Operation, Tensor
from gpugraph.ops.registry import NO_GRADIENT, OpDef, graph_of, register_op

__all__ = ["no_op", "group", "tuple"]

NO_OP = register_op(OpDef("NoOp", infer=lambda: [], grad=NO_GRADIENT, stateful=True))


def no_op(name: str | None = None) -> Operation:
    return NO_OP(name=name)


def _as_op(x: Any) -> Operation:
    if hasattr(x, "_as_graph_element"):
        x = x._as_graph_element()
    if isinstance(x, Tensor):
        return x.op
    if isinstance(x, Operation):
        return x
    raise TypeError(f"Expected a Tensor or Operation to group, got {x!r}")


def group(*inputs: Any, name: str | None = None) -> Operation:
    """An op that runs all ``inputs`` (Tensors, Operations, or lists of them) and outputs nothing."""
    flat: list[Any] = []
    for i in inputs:
        flat.extend(i if isinstance(i, (list, builtins.tuple)) else [i])
    ops = [_as_op(x) for x in flat if x is not None]
    graph = graph_of(ops)
    with graph.as_default(), graph.control_dependencies(ops):
        return NO_OP(name=name or "group_deps")


def tuple(tensors: Any, name: str | None = None, control_inputs: Any = None) -> list[Any]:  # noqa: A001
    """Each output waits for all of ``tensors`` (and ``control_inputs``)."""
    from gpugraph.ops.array_ops import identity

    gate = group(*[t for t in tensors if t is not None], *(control_inputs or []), name=name or "tuple")
    graph = gate.graph
    with graph.control_dependencies([gate]):
        return [None if t is None else identity(t) for t in tensors]
