"""The Horovod graph ops: HorovodAllreduce, HorovodGroupedAllreduce, HorovodAllgather, HorovodBroadcast.

Their steps call the engine while Session.run executes the plan, so every rank must run the same collectives in
the same order (the engine checks it). Gradients are Horovod's: allreduce's is an allreduce of the gradient,
allgather's this rank's slice of the summed gradient, broadcast's the summed gradient on the root and 0 elsewhere.
"""

from __future__ import annotations

import re
import warnings
from typing import Any

from gpugraph.framework.graph import get_default_graph
from gpugraph.framework.tensor import Operation, Tensor
from gpugraph.framework.tensor_shape import TensorShape
from gpugraph.horovod import basics, engine, fusion
from gpugraph.horovod.compression import Compression
from gpugraph.ops.registry import OpDef, register_op

__all__ = ["Average", "Sum", "Adasum", "Min", "Max", "Product", "allreduce", "grouped_allreduce", "allgather",
           "broadcast", "handle_average_backwards_compatibility"]

# Horovod's reduction op codes.
Average, Sum, Adasum, Min, Max, Product = 0, 1, 2, 3, 4, 5
_OP_NAMES = {Sum: "Sum", Min: "Min", Max: "Max", Product: "Product"}


def _normalize_name(name: str) -> str:
    return re.sub("[^a-zA-Z0-9_]", "_", name)


# --- the ops ---
def _allreduce_infer(x: Tensor, *, reduce_op: str, prescale_factor: float, postscale_factor: float) -> Any:
    if reduce_op not in engine.REDUCE_OPS:
        raise ValueError(f"reduce_op must be one of {engine.REDUCE_OPS}, got {reduce_op!r}")
    return x.shape, x.dtype.base_dtype


def _scaled(x: Any, factor: float) -> Any:
    return x if factor == 1.0 else (x * factor).astype(x.dtype, copy=False)


def _bind_allreduce(op: Operation, ctx: Any) -> Any:
    xp, what = ctx.backend.xp, op.name
    reduce_op, pre, post = (op.get_attr(k) for k in ("reduce_op", "prescale_factor", "postscale_factor"))

    def step(x: Any) -> Any:
        return _scaled(engine.allreduce(_scaled(x, pre), xp, reduce_op=reduce_op, what=what), post)
    return step


def _allreduce_grad(op: Operation, dy: Tensor) -> list[Any]:
    reduce_op = op.get_attr("reduce_op")
    if reduce_op != "Sum":
        return [None]  # Horovod defines no gradient for Min, Max and Product
    return [ALLREDUCE(dy, name=f"HorovodAllreduce_{_normalize_name(dy.name)}", reduce_op="Sum",
                      prescale_factor=op.get_attr("prescale_factor"),
                      postscale_factor=op.get_attr("postscale_factor"))]


ALLREDUCE = register_op(OpDef(
    "HorovodAllreduce", infer=_allreduce_infer, bind=_bind_allreduce, grad=_allreduce_grad, stateful=True,
    fresh_outputs=True, input_names=("tensor",),
))


def _grouped_infer(*tensors: Tensor, reduce_op: str, prescale_factor: float, postscale_factor: float) -> Any:
    if reduce_op not in engine.REDUCE_OPS:
        raise ValueError(f"reduce_op must be one of {engine.REDUCE_OPS}, got {reduce_op!r}")
    return [(t.shape, t.dtype.base_dtype) for t in tensors]


def _bind_grouped(op: Operation, ctx: Any) -> Any:
    xp, what = ctx.backend.xp, op.name
    reduce_op, pre, post = (op.get_attr(k) for k in ("reduce_op", "prescale_factor", "postscale_factor"))

    def step(*xs: Any) -> Any:
        scaled = [_scaled(x, pre) for x in xs]
        outs = fusion.fused_allreduce(scaled, xp, reduce_op=reduce_op, what=what)
        outs = [_scaled(y, post) for y in outs]
        return outs[0] if len(outs) == 1 else tuple(outs)
    return step


def _grouped_grad(op: Operation, *dys: Tensor | None) -> list[Any]:
    if op.get_attr("reduce_op") != "Sum":
        return [None] * len(op.inputs)
    from gpugraph.ops.array_ops import zeros_like

    dys = tuple(zeros_like(y) if dy is None else dy for dy, y in zip(dys, op.outputs))
    summed = GROUPED_ALLREDUCE(*dys, name="HorovodGroupedAllreduce", reduce_op="Sum",
                               prescale_factor=op.get_attr("prescale_factor"),
                               postscale_factor=op.get_attr("postscale_factor"))
    return [summed] if isinstance(summed, Tensor) else list(summed)


GROUPED_ALLREDUCE = register_op(OpDef(
    "HorovodGroupedAllreduce", infer=_grouped_infer, bind=_bind_grouped, grad=_grouped_grad, stateful=True,
    fresh_outputs=True, input_names=("tensors",), same_dtype=False,
))


def _allgather_infer(x: Tensor) -> Any:
    dims = x.shape.as_tuple()
    if dims is None:
        return TensorShape(None), x.dtype.base_dtype
    if not dims:
        raise ValueError(f"HorovodAllgather needs a tensor of rank >= 1, got the scalar {x.name}")
    return TensorShape((None,) + tuple(dims[1:])), x.dtype.base_dtype


def _bind_allgather(op: Operation, ctx: Any) -> Any:
    xp, what = ctx.backend.xp, op.name
    return lambda x: engine.allgather(x, xp, what=what)


def _allgather_grad(op: Operation, dy: Tensor) -> list[Any]:
    from gpugraph.ops.array_ops import shape as shape_of
    from gpugraph.ops.array_ops import zeros_like
    from gpugraph.ops.manip_ops import concat, slice
    from gpugraph.ops.reduction_ops import reduce_sum

    summed = ALLREDUCE(dy, name=f"HorovodAllreduce_{_normalize_name(dy.name)}", reduce_op="Sum",
                       prescale_factor=1.0, postscale_factor=1.0)
    x_shape = shape_of(op.inputs[0])
    firsts = ALLGATHER(slice(x_shape, [0], [1]), name="HorovodAllgather_first_dims")
    r = basics.rank()
    offset = reduce_sum(slice(firsts, [0], [r]), keepdims=True)
    rest = slice(x_shape, [1], [-1])
    begin = concat([offset, zeros_like(rest)], 0)
    size = concat([slice(firsts, [r], [1]), rest], 0)
    return [slice(summed, begin, size)]


ALLGATHER = register_op(OpDef(
    "HorovodAllgather", infer=_allgather_infer, bind=_bind_allgather, grad=_allgather_grad, stateful=True,
    fresh_outputs=True, input_names=("tensor",),
))


def _broadcast_infer(x: Tensor, *, root_rank: int) -> Any:
    return x.shape, x.dtype.base_dtype


def _bind_broadcast(op: Operation, ctx: Any) -> Any:
    xp, what, root = ctx.backend.xp, op.name, op.get_attr("root_rank")
    return lambda x: engine.broadcast(x, xp, root_rank=root, what=what)


def _broadcast_grad(op: Operation, dy: Tensor) -> list[Any]:
    summed = ALLREDUCE(dy, name=f"HorovodAllreduce_{_normalize_name(dy.name)}", reduce_op="Sum",
                       prescale_factor=1.0, postscale_factor=1.0)
    return [summed if basics.rank() == op.get_attr("root_rank") else summed * 0]


BROADCAST = register_op(OpDef(
    "HorovodBroadcast", infer=_broadcast_infer, bind=_bind_broadcast, grad=_broadcast_grad, stateful=True,
    fresh_outputs=True, input_names=("tensor",),
))


# --- the hvd.* functions ---
def handle_average_backwards_compatibility(op: int | None, average: bool | None) -> int:
    """``op`` from the deprecated ``average`` flag, as Horovod does; Average when neither is given."""
    if op is not None:
        if average is not None:
            raise ValueError("The op parameter supersedes average. Please provide only one of them.")
        return op
    if average is not None:
        warnings.warn("Parameter `average` has been replaced with `op` and will be removed in v0.21.0",
                      DeprecationWarning, stacklevel=3)
        return Average if average else Sum
    return Average


def _reduce_op_name(op: int) -> str:
    if op == Adasum:
        raise NotImplementedError("gpugraph.horovod does not implement the Adasum reduction; use Average or Sum")
    if op not in _OP_NAMES:
        raise ValueError(f"op must be one of hvd.Average, hvd.Sum, hvd.Min, hvd.Max, hvd.Product; got {op!r}")
    return _OP_NAMES[op]


def _as_tensor(tensor: Any) -> tuple[Tensor, str]:
    """The tensor, and the name Horovod's op names use: a variable's own ("w:0"), not its read's."""
    from gpugraph.ops.constant_ops import convert_to_tensor

    name = getattr(tensor, "name", None)
    converted = convert_to_tensor(tensor)
    return converted, _normalize_name(name if isinstance(name, str) else converted.name)


def _device(device: str) -> Any:
    return get_default_graph().device(device or None)


def allreduce(tensor: Any, average: bool | None = None, device_dense: str = "", device_sparse: str = "",
              compression: Any = Compression.none, op: int | None = None, prescale_factor: float = 1.0,
              postscale_factor: float = 1.0, name: str | None = None) -> Tensor:
    """``tensor`` reduced over every rank (by default averaged); same shape and dtype on each rank."""
    op = handle_average_backwards_compatibility(op, average)
    tensor, tensor_name = _as_tensor(tensor)
    true_op = Sum if op == Average else op
    reduce_op = _reduce_op_name(true_op)
    with _device(device_dense):
        compressed, ctx = compression.compress(tensor)
        dtype = compressed.dtype.base_dtype
        post = float(postscale_factor)
        divide_after = op == Average and not dtype.is_floating
        if op == Average and dtype.is_floating:
            post /= basics.size()
        name = name or f"HorovodAllreduce_{tensor_name}"
        summed = ALLREDUCE(compressed, name=name, reduce_op=reduce_op, prescale_factor=float(prescale_factor),
                           postscale_factor=post)
        result = compression.decompress(summed, ctx)
        if divide_after:  # integers are summed, then divided as Horovod's graph does (a float result)
            from gpugraph.ops.math_ops import cast, truediv

            result = truediv(result, cast(basics.size(), result.dtype))
    return result


def grouped_allreduce(tensors: list[Any], average: bool | None = None, device_dense: str = "",
                      device_sparse: str = "", compression: Any = Compression.none, op: int | None = None,
                      prescale_factor: float = 1.0, postscale_factor: float = 1.0,
                      name: str | None = None) -> list[Tensor]:
    """Allreduce several tensors with one op: packed into fusion buckets, one collective per bucket."""
    op = handle_average_backwards_compatibility(op, average)
    tensors = [_as_tensor(t)[0] for t in tensors]
    if not tensors:
        return []
    reduce_op = _reduce_op_name(Sum if op == Average else op)
    if op == Average and not all(t.dtype.base_dtype.is_floating for t in tensors):
        raise ValueError("grouped_allreduce with op=Average needs float tensors; use op=hvd.Sum for integers")
    with _device(device_dense):
        packed = [compression.compress(t) for t in tensors]
        post = float(postscale_factor) / (basics.size() if op == Average else 1)
        out = GROUPED_ALLREDUCE(*[c for c, _ in packed], name=name or "HorovodGroupedAllreduce",
                                reduce_op=reduce_op, prescale_factor=float(prescale_factor), postscale_factor=post)
        outs = [out] if isinstance(out, Tensor) else list(out)
        return [compression.decompress(y, ctx) for y, (_, ctx) in zip(outs, packed)]


def allgather(tensor: Any, name: str | None = None, ignore_name_scope: bool = False) -> Tensor:
    """The ranks' tensors concatenated on the first dimension, in rank order (first dimensions may differ)."""
    tensor, tensor_name = _as_tensor(tensor)
    name = name or f"HorovodAllgather_{tensor_name}"
    if ignore_name_scope:
        with get_default_graph().name_scope(""):  # the name as given, outside any scope
            return ALLGATHER(tensor, name=name)
    return ALLGATHER(tensor, name=name)


def broadcast(tensor: Any, root_rank: int, name: str | None = None, ignore_name_scope: bool = False) -> Tensor:
    """Rank ``root_rank``'s value of ``tensor`` on every rank."""
    tensor, tensor_name = _as_tensor(tensor)
    name = name or f"HorovodBroadcast_{tensor_name}"
    if ignore_name_scope:
        with get_default_graph().name_scope(""):
            return BROADCAST(tensor, name=name, root_rank=int(root_rank))
    return BROADCAST(tensor, name=name, root_rank=int(root_rank))


def is_collective(tensor: Any) -> bool:
    """True for an output of one of these ops (tests and tools look for them by type)."""
    return isinstance(tensor, Tensor) and tensor.op.type in (ALLREDUCE.name, GROUPED_ALLREDUCE.name, ALLGATHER.name,
                                                             BROADCAST.name)

