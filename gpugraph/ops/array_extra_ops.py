"""Small array utilities of TF1's top level: shape_n, identity_n, ensure_shape, parallel_stack,
broadcast_static_shape/broadcast_dynamic_shape, dimension_value, get_static_value, is_tensor, batch_gather."""

from __future__ import annotations

from typing import Any

import numpy as np

from gpugraph.framework import dtypes
from gpugraph.framework.tensor import Tensor
from gpugraph.framework.tensor_shape import Dimension, TensorShape
from gpugraph.ops import shape_fns
from gpugraph.ops.constant_ops import convert_to_tensor
from gpugraph.ops.registry import NO_GRADIENT, OpDef, graph_of, register_op

__all__ = ["shape_n", "identity_n", "ensure_shape", "parallel_stack", "broadcast_static_shape",
           "broadcast_dynamic_shape", "dimension_value", "get_static_value", "is_tensor",
           "convert_to_tensor_or_indexed_slices", "batch_gather"]


def _ensure_shape_infer(x: Tensor, *, shape: TensorShape) -> Any:
    if not x.shape.is_compatible_with(shape):
        raise ValueError(f"Shape of tensor {x.name} {x.shape} is not compatible with expected shape {shape}.")
    return x.shape.merge_with(shape), x.dtype.base_dtype


def _ensure_shape_impl(xp: Any, x: Any, *, shape: TensorShape) -> Any:
    if not shape.is_compatible_with(TensorShape(x.shape)):
        raise ValueError(f"Shape of tensor {list(x.shape)} is not compatible with expected shape {shape}.")
    return x


ENSURE_SHAPE = register_op(OpDef(
    "EnsureShape", infer=_ensure_shape_infer, impl=_ensure_shape_impl, grad=lambda op, dy: [dy], aliases=True,
    input_names=("input",), sample=lambda rng: [([rng.standard_normal((2, 3))], {"shape": TensorShape([None, 3])})],
))


def ensure_shape(x: Any, shape: Any, name: str | None = None) -> Tensor:
    """``x`` with its static shape refined to ``shape``; running it checks the real shape."""
    return ENSURE_SHAPE(x, name=name, shape=TensorShape(shape))


def shape_n(input: Any, out_type: Any = dtypes.int32, name: str | None = None) -> list[Tensor]:  # noqa: A002
    from gpugraph.ops.array_ops import shape

    graph = graph_of(list(input))
    with graph.as_default(), graph.name_scope(name or "ShapeN"):
        return [shape(t, out_type=out_type) for t in input]


def identity_n(input: Any, name: str | None = None) -> list[Tensor]:  # noqa: A002 - TF1 name
    from gpugraph.ops.array_ops import identity

    graph = graph_of(list(input))
    with graph.as_default(), graph.name_scope(name or "IdentityN"):
        return [identity(t) for t in input]


def parallel_stack(values: Any, name: str = "parallel_stack") -> Tensor:
    """tf.stack along axis 0; every input's shape must be fully known, as TF1 requires."""
    from gpugraph.ops.array_ops import stack

    tensors = [convert_to_tensor(v) for v in values]
    for t in tensors:
        if not t.shape.is_fully_defined():
            raise ValueError(f"parallel_stack needs fully defined shapes, got {t.shape} for {t.name}")
    return stack(tensors, axis=0, name=name)


def broadcast_static_shape(shape_x: Any, shape_y: Any) -> TensorShape:
    try:
        return TensorShape(shape_fns.broadcast_dims(TensorShape(shape_x).as_tuple(), TensorShape(shape_y).as_tuple()))
    except ValueError:
        raise ValueError(f"Incompatible shapes for broadcasting: {TensorShape(shape_x)} and "
                         f"{TensorShape(shape_y)}") from None


def _broadcast_args_infer(x: Tensor, y: Tensor) -> Any:
    if x.dtype.base_dtype not in (dtypes.int32, dtypes.int64):
        raise TypeError("shape_x and shape_y must be int32 or int64 vectors")
    nx, ny = x.shape.as_tuple(), y.shape.as_tuple()
    n = None if nx is None or ny is None or None in nx + ny else max(nx[0], ny[0])
    return (n,), x.dtype.base_dtype


def _broadcast_args_impl(xp: Any, x: Any, y: Any) -> Any:
    # the shapes are host values (TF keeps them in host memory): read once, combined as NumPy broadcasts
    sx, sy = [int(v) for v in x.tolist()], [int(v) for v in y.tolist()]
    n = max(len(sx), len(sy))
    sx, sy = [1] * (n - len(sx)) + sx, [1] * (n - len(sy)) + sy
    out = []
    for a, b in zip(sx, sy):
        if a != b and 1 not in (a, b):
            raise ValueError(f"Incompatible shapes: {sx} vs. {sy}")
        out.append(b if a == 1 else a)
    return xp.asarray(out, dtype=x.dtype)


BROADCAST_ARGS = register_op(OpDef(
    "BroadcastArgs", infer=_broadcast_args_infer, impl=_broadcast_args_impl, grad=NO_GRADIENT, gpu=False,
    input_names=("s0", "s1"),
    sample=lambda rng: [([np.array([2, 1, 3], np.int32), np.array([4, 3], np.int32)], {})],
))


def broadcast_dynamic_shape(shape_x: Any, shape_y: Any) -> Tensor:
    return BROADCAST_ARGS(shape_x, shape_y, name="BroadcastArgs")


def dimension_value(dimension: Any) -> int | None:
    if isinstance(dimension, Dimension):
        return dimension.value
    return dimension


def get_static_value(tensor: Any, partial: bool = False) -> Any:
    """The value of ``tensor`` when the graph alone fixes it (NumPy), else None."""
    if not isinstance(tensor, Tensor) and not hasattr(tensor, "_as_tensor"):
        return np.asarray(tensor)
    return shape_fns.constant_value(convert_to_tensor(tensor))


def is_tensor(x: Any) -> bool:
    return isinstance(x, Tensor) or hasattr(x, "_as_tensor")


def convert_to_tensor_or_indexed_slices(value: Any, dtype: Any = None, name: str | None = None) -> Tensor:
    return convert_to_tensor(value, dtype=dtype, name=name)


def batch_gather(params: Any, indices: Any, name: str | None = None) -> Tensor:
    """out[b..., k, ...] = params[b..., indices[b..., k], ...] (the batch dims are indices' leading dims)."""
    from gpugraph.ops.array_ops import shape, stack
    from gpugraph.ops.dynamic_shape_ops import range as range_
    from gpugraph.ops.gather_nd_ops import gather_nd, meshgrid
    from gpugraph.ops.math_ops import cast

    graph = graph_of([params, indices])
    with graph.as_default(), graph.name_scope(name or "batch_gather") as scope:
        params = convert_to_tensor(params, name="params")
        indices = convert_to_tensor(indices, name="indices")
        rank = indices.shape.ndims
        if rank is None:
            raise ValueError("batch_gather needs the rank of indices")
        if rank == 1:
            from gpugraph.ops.index_ops import gather

            return gather(params, indices, name=scope)
        dims = shape(indices, out_type=indices.dtype.base_dtype)
        grids = meshgrid(*[range_(0, dims[i], 1) for i in range(rank - 1)], range_(0, dims[rank - 1], 1),
                         indexing="ij")
        coords = [cast(g, indices.dtype.base_dtype) for g in grids[:-1]] + [indices]
        nd = stack(coords, axis=-1)
        return gather_nd(params, nd, name=scope)
