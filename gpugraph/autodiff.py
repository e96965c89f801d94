"""tf.gradients: a reverse walk that builds gradient ops from each OpDef's grad rule."""

from __future__ import annotations

from typing import Any, Sequence

from gpugraph.framework.tensor import Operation, Tensor
from gpugraph.ops.array_ops import ones, ones_like, zeros_like
from gpugraph.ops.constant_ops import convert_to_tensor
from gpugraph.ops.math_ops import add_n
from gpugraph.ops.registry import graph_of

__all__ = ["gradients"]


def _as_list(x: Any) -> list[Any]:
    return list(x) if isinstance(x, (list, tuple)) else [x]


def _x_tensor(x: Any) -> Tensor:
    if hasattr(x, "_ref"):
        return x._ref()  # a Variable: differentiate with respect to the variable itself
    return convert_to_tensor(x)


def _forward_reachable(xs: Sequence[Tensor]) -> set[Operation]:
    seen: set[Operation] = set()
    stack = [c for x in xs for c in x.consumers()]
    while stack:
        op = stack.pop()
        if op in seen:
            continue
        seen.add(op)
        for t in op.outputs:
            stack.extend(t.consumers())
    return seen


def _between(ys: Sequence[Tensor], reachable: set[Operation], stop_ops: set[Operation]) -> set[Operation]:
    """Ops on a path from xs to ys; the walk does not go past a stop op (it still gets its gradient)."""
    between: set[Operation] = set()
    stack = [y.op for y in ys if y.op in reachable]
    while stack:
        op = stack.pop()
        if op in between:
            continue
        between.add(op)
        if op in stop_ops:
            continue
        for t in op.inputs:
            if t.op in reachable:
                stack.append(t.op)
    return between


def _sum(grads: list[Tensor] | None) -> Tensor | None:
    if not grads:
        return None
    return grads[0] if len(grads) == 1 else add_n(grads)


def gradients(ys: Any, xs: Any, grad_ys: Any = None, name: str = "gradients", colocate_gradients_with_ops: bool = False,
              gate_gradients: bool = False, aggregation_method: Any = None, stop_gradients: Any = None,
              unconnected_gradients: str = "none") -> list[Tensor | None]:
    """Symbolic d(sum of ys)/d(x) for each x in ``xs``; None where x does not affect ys."""
    # a Tensor stays itself: ys of an enclosing graph (minimize inside tf.cond) are not captured
    ys_list = [y if isinstance(y, Tensor) else convert_to_tensor(y) for y in _as_list(ys)]
    xs_list = [_x_tensor(x) for x in _as_list(xs)]
    gys = _as_list(grad_ys) if grad_ys is not None else [None] * len(ys_list)
    if len(gys) != len(ys_list):
        raise ValueError(f"Passed {len(gys)} grad_ys for {len(ys_list)} ys")
    # TF1 stops at the ops producing these tensors: they receive gradients but pass none on
    stop_ops = {convert_to_tensor(s).op for s in _as_list(stop_gradients)} if stop_gradients is not None else set()
    graph = graph_of(ys_list + xs_list)
    with graph.as_default(), graph.name_scope(name or "gradients"):
        grads: dict[Tensor, list[Tensor]] = {}
        for i, (y, gy) in enumerate(zip(ys_list, gys)):
            if gy is None:
                if y.dtype.base_dtype.is_integer or y.dtype.base_dtype.is_bool:
                    continue  # as TF1: nothing flows back through integer or boolean tensors
                if not y.dtype.base_dtype.is_floating:
                    raise TypeError(f"tf.gradients: y '{y.name}' has dtype {y.dtype.name}; only floating "
                                    "point tensors can be differentiated.")
                # a known shape gives a constant the plan folds; otherwise ones shaped like y at run time
                gy = (ones(y.shape, y.dtype.base_dtype, name=f"grad_ys_{i}") if y.shape.is_fully_defined()
                      else ones_like(y, name=f"grad_ys_{i}"))
            else:
                gy = convert_to_tensor(gy, dtype=y.dtype.base_dtype)
            grads.setdefault(y, []).append(gy)
        between = _between(ys_list, _forward_reachable(xs_list), stop_ops)
        for op in sorted(between, key=lambda o: o._id, reverse=True):
            if op not in stop_ops:
                _backprop_op(op, grads)
        result = [_sum(grads.get(x)) for x in xs_list]
    if unconnected_gradients == "zero":
        result = [zeros_like(x) if g is None else g for g, x in zip(result, xs_list)]
    return result


def _backprop_op(op: Operation, grads: dict[Tensor, list[Tensor]]) -> None:
    out_grads = [_sum(grads.get(t)) for t in op.outputs]
    if all(g is None for g in out_grads):
        return
    rule = op.opdef.grad
    if rule is None:
        raise LookupError(f"No gradient defined for operation '{op.name}' (op type: {op.type})")
    graph = op.graph
    with graph.name_scope(op.name + "_grad"):
        if len(out_grads) > 1:
            out_grads = [zeros_like(t) if g is None and t.dtype.base_dtype.is_floating else g
                         for g, t in zip(out_grads, op.outputs)]
        in_grads = list(rule(op, *out_grads))
    if len(in_grads) != len(op.inputs):
        raise ValueError(f"Gradient rule of op type '{op.type}' returned {len(in_grads)} gradients for "
                         f"{len(op.inputs)} inputs (op '{op.name}')")
    for t, g in zip(op.inputs, in_grads):
        if g is None or not t.dtype.base_dtype.is_floating:
            continue
        grads.setdefault(t, []).append(convert_to_tensor(g))
