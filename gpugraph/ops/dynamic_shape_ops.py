"""Ops whose shape argument is a graph tensor: Reshape, Fill and Tile given run-time shapes, and Range.

Their shape inputs are read on the host (as TF1 keeps them in host memory), so the ops run there.
Build-time inference keeps whatever the graph determines (``shape_fns.partial_shape_values``).
The public wrappers choose the attr-shaped ops of array_ops/index_ops when the graph alone fixes the shape.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gpugraph.framework import dtypes
from gpugraph.framework.tensor import Tensor
from gpugraph.framework.tensor_shape import TensorShape
from gpugraph.ops import shape_fns
from gpugraph.ops.constant_ops import convert_to_tensor
from gpugraph.ops.registry import NO_GRADIENT, OpDef, register_op

__all__ = ["range"]

_builtin_range = range


def is_graph_value(value: Any) -> bool:
    return isinstance(value, Tensor) or hasattr(value, "_as_tensor")


def contains_graph_value(value: Any) -> bool:
    """A Tensor, or a (nested) list/tuple holding one: TF1 packs such lists into one tensor."""
    if is_graph_value(value):
        return True
    return isinstance(value, (list, tuple)) and any(contains_graph_value(v) for v in value)


def shape_tensor(value: Any, name: str = "shape") -> Tensor:
    """A shape argument as an int32/int64 vector tensor (a list mixing ints and scalar Tensors is packed)."""
    t = convert_to_tensor(value, name=name)
    if t.dtype.base_dtype not in (dtypes.int32, dtypes.int64):
        raise TypeError(f"Value passed to parameter '{name}' has DataType {t.dtype.base_dtype.name} not in list "
                        f"of allowed values: int32, int64")
    return t


def known_values(t: Tensor) -> tuple[int, ...] | None:
    """All entries of a shape tensor when the graph alone fixes them (-1 included), else None."""
    values = shape_fns.partial_shape_values(t)
    if values is None or any(v is None for v in values):
        return None
    return tuple(int(v) for v in values)  # type: ignore[arg-type]


def _vector(t: Tensor, what: str) -> None:
    if t.shape.ndims not in (None, 1):
        raise ValueError(f"Shape must be rank 1 but is rank {t.shape.ndims} ({what})")
    if not t.dtype.base_dtype.is_integer:
        raise TypeError(f"{what} must be int32 or int64, got {t.dtype.base_dtype.name}")


def _host_dims(arr: Any) -> list[int]:
    return [int(d) for d in np.asarray(arr).reshape(-1).tolist()]


def _non_negative(dims: list[int]) -> tuple[int, ...]:
    for d in dims:
        if d < 0:
            raise ValueError(f"Dimension {d} must be >= 0")
    return tuple(dims)


# --- Reshape with a run-time shape ---
def _reshape_infer(x: Tensor, shape: Tensor) -> Any:
    _vector(shape, "shape")
    values = shape_fns.partial_shape_values(shape)
    if values is None:
        return TensorShape(None), x.dtype.base_dtype
    if sum(1 for v in values if v == -1) > 1:
        raise ValueError(f"Cannot infer a shape with more than one -1 in {values}")
    if any(v is not None and v < -1 for v in values):
        raise ValueError(f"Invalid shape {values}: dimensions must be >= -1")
    out: list[Any] = [None if v is None or v == -1 else v for v in values]
    open_dims = [i for i, v in enumerate(out) if v is None]
    in_dims = x.shape.as_tuple()
    if shape_fns.known(in_dims):
        total = int(np.prod(in_dims, dtype=np.int64))
        fixed = int(np.prod([v for v in out if v is not None], dtype=np.int64))
        if not open_dims and total != fixed:
            raise ValueError(f"Cannot reshape a tensor with {total} elements to shape {values} ({fixed} elements)")
        if len(open_dims) == 1 and fixed and total % fixed == 0:
            out[open_dims[0]] = total // fixed
    return tuple(out), x.dtype.base_dtype


def _reshape_impl(xp: Any, x: Any, shape: Any) -> Any:
    dims = _host_dims(shape)
    wild = [i for i, d in enumerate(dims) if d == -1]
    if len(wild) > 1:
        raise ValueError(f"Only one input size may be -1, not both {wild[0]} and {wild[1]}")
    for i, d in enumerate(dims):
        if d < -1:
            raise ValueError(f"Size {i} must be non-negative, not {d}")
    fixed = int(np.prod([d for d in dims if d != -1], dtype=np.int64))
    if wild:
        if fixed == 0 or x.size % fixed:
            if fixed == 0:
                raise ValueError("Reshape cannot infer the missing input size for an empty tensor unless all "
                                 "specified input sizes are non-zero")
            raise ValueError(f"Input to reshape is a tensor with {x.size} values, but the requested shape "
                             f"requires a multiple of {fixed}")
    elif fixed != x.size:
        raise ValueError(f"Input to reshape is a tensor with {x.size} values, but the requested shape has {fixed}")
    return x.reshape(tuple(dims))


def _reshape_grad(op: Any, dy: Tensor) -> list[Any]:
    from gpugraph.ops.array_ops import reshape_like

    return [reshape_like(dy, op.inputs[0]), None]


DYNAMIC_RESHAPE = register_op(OpDef(
    "DynamicReshape", infer=_reshape_infer, impl=_reshape_impl, grad=_reshape_grad, aliases=True,
    same_dtype=False, input_names=("tensor", "shape"), default_name="Reshape", gpu=False,
    sample=lambda rng: [([rng.standard_normal((2, 3)), np.array([3, -1], np.int32)], {}),
                        ([rng.standard_normal((2, 3)), np.array([1, 6], np.int64)], {})],
))


# --- Fill with run-time dims ---
def _fill_infer(dims: Tensor, value: Tensor) -> Any:
    _vector(dims, "dims")
    if value.shape.ndims not in (None, 0):
        raise ValueError(f"Shape must be rank 0 but is rank {value.shape.ndims}")
    return shape_fns.constant_value_as_shape(dims), value.dtype.base_dtype


def _fill_grad(op: Any, dy: Tensor) -> list[Any]:
    from gpugraph.ops.reduction_ops import reduce_sum

    return [None, reduce_sum(dy)]


DYNAMIC_FILL = register_op(OpDef(
    "DynamicFill", infer=_fill_infer,
    impl=lambda xp, dims, value: xp.full(_non_negative(_host_dims(dims)), value, dtype=value.dtype),
    grad=_fill_grad, same_dtype=False, input_names=("dims", "value"), default_name="Fill", gpu=False,
    sample=lambda rng: [([np.array([2, 3], np.int32), np.float64(rng.standard_normal())], {})],
))


# --- Tile with run-time multiples ---
def _tile_infer(x: Tensor, multiples: Tensor) -> Any:
    _vector(multiples, "multiples")
    values = shape_fns.partial_shape_values(multiples)
    dims = x.shape.as_tuple()
    if values is None:
        return TensorShape(None if dims is None else (None,) * len(dims)), x.dtype.base_dtype
    if dims is not None and len(dims) != len(values):
        raise ValueError(f"Expected multiples argument to be a vector of length {len(dims)} but got length "
                         f"{len(values)}")
    dims = dims if dims is not None else (None,) * len(values)
    return tuple(None if d is None or m is None else d * m for d, m in zip(dims, values)), x.dtype.base_dtype


def _tile_impl(xp: Any, x: Any, multiples: Any) -> Any:
    reps = _host_dims(multiples)
    if len(reps) != x.ndim:
        raise ValueError(f"Expected multiples argument to be a vector of length {x.ndim} but got length "
                         f"{len(reps)}")
    for i, m in enumerate(reps):
        if m < 0:
            raise ValueError(f"Expected multiples[{i}] >= 0, but got {m}")
    return xp.tile(x, tuple(reps))


def _tile_grad_like_impl(xp: Any, dy: Any, x: Any) -> Any:
    # dy is x tiled m_i times along axis i: viewed as [m0, d0, m1, d1, ...], the m axes sum to x's gradient
    reps = [(a // b) if b else 0 for a, b in zip(dy.shape, x.shape)]
    split = tuple(v for m, d in zip(reps, x.shape) for v in (m, d))
    summed = dy.reshape(split).sum(axis=tuple(_builtin_range(0, 2 * len(reps), 2)))
    return summed.reshape(x.shape).astype(dy.dtype, copy=False)


def _tile_grad_like_grad(op: Any, g: Tensor) -> list[Any]:
    from gpugraph.ops.array_ops import shape as shape_of
    from gpugraph.ops.math_ops import floordiv, maximum

    dy, x = op.inputs
    multiples = floordiv(shape_of(dy), maximum(shape_of(x), 1))
    return [DYNAMIC_TILE(g, multiples), None]


DYNAMIC_TILE = register_op(OpDef(
    "DynamicTile", infer=_tile_infer, impl=_tile_impl, same_dtype=False, input_names=("input", "multiples"),
    grad=lambda op, dy: [TILE_GRAD_LIKE(dy, op.inputs[0]), None], default_name="Tile", gpu=False,
    sample=lambda rng: [([rng.standard_normal((2, 3)), np.array([2, 1], np.int32)], {})],
))
TILE_GRAD_LIKE = register_op(OpDef(
    "TileGradLike", infer=lambda dy, x: (x.shape, dy.dtype.base_dtype), impl=_tile_grad_like_impl,
    grad=_tile_grad_like_grad, input_names=("dy", "x"),
    sample=lambda rng: [([rng.standard_normal((4, 3)), rng.standard_normal((2, 3))], {})],
))


def reshape(tensor: Any, shape: Any, scope: str) -> Tensor:
    """Reshape by a shape tensor (or list holding tensors), in the open name scope ``scope``."""
    shape_t = shape_tensor(shape)
    values = known_values(shape_t)
    if values is not None:
        from gpugraph.ops.array_ops import RESHAPE

        return RESHAPE(tensor, name=scope, shape=values)
    return DYNAMIC_RESHAPE(tensor, shape_t, name=scope)


def fill(dims: Any, value: Any, scope: str) -> Tensor:
    dims_t = shape_tensor(dims, "dims")
    values = known_values(dims_t)
    if values is not None:
        from gpugraph.ops.array_ops import FILL

        return FILL(value, name=scope, shape=TensorShape(_non_negative(list(values))))
    return DYNAMIC_FILL(dims_t, value, name=scope)


def tile(input: Any, multiples: Any, scope: str) -> Tensor:
    multiples_t = shape_tensor(multiples, "multiples")
    values = known_values(multiples_t)
    if values is not None:
        from gpugraph.ops.index_ops import TILE

        return TILE(input, name=scope, multiples=values)
    return DYNAMIC_TILE(input, multiples_t, name=scope)


# --- Range ---
def _range_length(start: Any, limit: Any, delta: Any) -> int | None:
    if delta == 0 or (delta > 0 and start > limit) or (delta < 0 and start < limit):
        return None
    return len(np.arange(start, limit, delta))


def _range_infer(start: Tensor, limit: Tensor, delta: Tensor) -> Any:
    for t, what in ((start, "start"), (limit, "limit"), (delta, "delta")):
        if t.shape.ndims not in (None, 0):
            raise ValueError(f"Shape must be rank 0 but is rank {t.shape.ndims} ({what})")
    values = [shape_fns.constant_value(t) for t in (start, limit, delta)]
    size = None if any(v is None for v in values) else _range_length(*values)
    return (size,), start.dtype.base_dtype


def _range_impl(xp: Any, start: Any, limit: Any, delta: Any) -> Any:
    if delta == 0:
        raise ValueError(f"Requires delta != 0: {delta}")
    if delta > 0 and start > limit:
        raise ValueError(f"Requires start <= limit when delta > 0: {start}/{limit}")
    if delta < 0 and start < limit:
        raise ValueError(f"Requires start >= limit when delta < 0: {start}/{limit}")
    return xp.arange(start, limit, delta, dtype=start.dtype)


RANGE = register_op(OpDef(
    "Range", infer=_range_infer, impl=_range_impl, grad=NO_GRADIENT, input_names=("start", "limit", "delta"),
    gpu=False,
    sample=lambda rng: [([np.int32(2), np.int32(9), np.int32(3)], {}),
                        ([np.float32(2.5), np.float32(0.0), np.float32(-0.5)], {})],
))

_RANGE_DTYPES = (dtypes.int32, dtypes.int64, dtypes.float32, dtypes.float64)


def range(start: Any, limit: Any = None, delta: Any = 1, dtype: Any = None,  # noqa: A001 - TF1 name
          name: str = "range") -> Tensor:
    """Numbers from ``start`` up to (not including) ``limit`` by ``delta``; ``range(n)`` counts 0..n-1."""
    from gpugraph.framework.graph import get_default_graph
    from gpugraph.ops.math_ops import cast
    from gpugraph.ops.registry import graph_of

    if limit is None:
        start, limit = 0, start
    graph = graph_of([start, limit, delta]) if any(map(is_graph_value, (start, limit, delta))) \
        else get_default_graph()
    with graph.as_default(), graph.name_scope(name) as scope:
        want = dtypes.as_dtype(dtype).base_dtype if dtype is not None else None
        parts = [convert_to_tensor(v, dtype=None if is_graph_value(v) else want, name=n)
                 for v, n in ((start, "start"), (limit, "limit"), (delta, "delta"))]
        if want is None:
            kinds = [p.dtype.base_dtype for p in parts]
            if any(k not in _RANGE_DTYPES for k in kinds):
                raise TypeError(f"tf.range: dtypes {[k.name for k in kinds]} are not all in int32, int64, "
                                "float32, float64")
            want = max(kinds, key=_RANGE_DTYPES.index)
        parts = [p if p.dtype.base_dtype == want else cast(p, want) for p in parts]
        return RANGE(*parts, name=scope)
