"""Ordering without data (no_op, group, tuple), and the public control flow: cond, case, while_loop,
TensorArray, map_fn, scan, foldl, foldr (built in cond_ops, while_ops, tensor_array_ops, functional_ops)."""

from __future__ import annotations

import builtins
from typing import Any

from gpugraph.framework.tensor import Operation, Tensor
from gpugraph.ops.registry import NO_GRADIENT, OpDef, graph_of, register_op

__all__ = ["no_op", "group", "tuple", "cond", "case", "while_loop", "TensorArray", "map_fn", "scan", "foldl",
           "foldr"]

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
    """Each output waits for all of ``tensors`` (and ``control_inputs``), as TF1's ``tf.tuple``."""
    from gpugraph.ops.array_ops import identity
    from gpugraph.ops.constant_ops import convert_to_tensor

    items = [t if t is None or isinstance(t, (Operation, Tensor)) else convert_to_tensor(t) for t in tensors]
    graph = graph_of([t for t in items if t is not None])
    with graph.as_default(), graph.name_scope(name or "tuple"):
        gating = [t if isinstance(t, Operation) else t.op for t in items if t is not None]
        for c in control_inputs or []:
            if isinstance(c, Tensor):
                c = c.op
            elif not isinstance(c, Operation):
                raise TypeError(f"Control input must be Operation or Tensor: {c}")
            gating.append(c)
        gating = sorted(set(gating), key=lambda op: op._id)
        if not gating:
            raise ValueError(f"Must have at least one Tensor: {tensors}")
        gate = group(*gating)
        out: list[Any] = []
        for t in items:
            if isinstance(t, Tensor):
                with graph.control_dependencies([gate]):
                    out.append(identity(t, name="control_dependency"))
            elif isinstance(t, Operation):
                with graph.control_dependencies([gate]):
                    out.append(group(t))
            else:
                out.append(None)
        return out


from gpugraph.ops.cond_ops import case, cond  # noqa: E402
from gpugraph.ops.functional_ops import foldl, foldr, map_fn, scan  # noqa: E402
from gpugraph.ops.tensor_array_ops import TensorArray  # noqa: E402
from gpugraph.ops.while_ops import while_loop  # noqa: E402
