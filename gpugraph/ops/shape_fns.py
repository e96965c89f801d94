"""Reusable static shape/dtype inference functions for OpDefs."""

from __future__ import annotations

from typing import Any, Sequence

from gpugraph.framework import dtypes
from gpugraph.framework.tensor import Tensor
from gpugraph.framework.tensor_shape import TensorShape

Dims = tuple[Any, ...] | None


def broadcast_dims(a: Dims, b: Dims) -> Dims:
    """NumPy broadcasting over partially known dims; ValueError when surely incompatible."""
    if a is None or b is None:
        return None
    out: list[int | None] = []
    for i in range(1, max(len(a), len(b)) + 1):
        da = a[-i] if i <= len(a) else 1
        db = b[-i] if i <= len(b) else 1
        if da == 1:
            out.append(db)
        elif db == 1:
            out.append(da)
        elif da is None:
            out.append(db)
        elif db is None or da == db:
            out.append(da)
        else:
            raise ValueError(f"Dimensions must be equal, but are {da} and {db}")
    return tuple(reversed(out))


def broadcast(*ts: Tensor) -> tuple[TensorShape, dtypes.DType]:
    dims: Dims = ts[0].shape.as_tuple()
    for t in ts[1:]:
        dims = broadcast_dims(dims, t.shape.as_tuple())
    return TensorShape(dims), ts[0].dtype.base_dtype


def broadcast_bool(*ts: Tensor) -> tuple[TensorShape, dtypes.DType]:
    return broadcast(*ts)[0], dtypes.bool_


def require(t: Tensor, what: str, ok: bool) -> None:
    if not ok:
        raise TypeError(f"Value passed to parameter '{what}' has DataType {t.dtype.base_dtype.name} "
                        f"not in the list of allowed values")


def floating(t: Tensor) -> None:
    require(t, "x", t.dtype.base_dtype.is_floating)


def numeric(t: Tensor) -> None:
    require(t, "x", t.dtype.base_dtype.is_numeric)


def same_shape(x: Tensor, **_: Any) -> tuple[TensorShape, dtypes.DType]:
    return x.shape, x.dtype.base_dtype


def same_shape_float(x: Tensor, **_: Any) -> tuple[TensorShape, dtypes.DType]:
    floating(x)
    return x.shape, x.dtype.base_dtype


def same_shape_numeric(x: Tensor, **_: Any) -> tuple[TensorShape, dtypes.DType]:
    numeric(x)
    return x.shape, x.dtype.base_dtype


def binary_numeric(x: Tensor, y: Tensor) -> tuple[TensorShape, dtypes.DType]:
    numeric(x)
    return broadcast(x, y)


def binary_float(x: Tensor, y: Tensor) -> tuple[TensorShape, dtypes.DType]:
    floating(x)
    return broadcast(x, y)


def normalize_axis(axis: int, rank: int | None, what: str = "axis") -> int:
    if rank is None:
        return axis
    if not -rank <= axis < rank:
        raise ValueError(f"{what} {axis} is out of bounds for a tensor of rank {rank}")
    return axis % rank


def axes_tuple(axis: Any, rank: int | None) -> tuple[int, ...] | None:
    """Reduction axes as a sorted tuple of non-negative ints; None = all axes."""
    if axis is None:
        return None if rank is None else tuple(range(rank))
    if isinstance(axis, (int,)) or hasattr(axis, "__index__"):
        axis = [int(axis)]
    out = sorted({normalize_axis(int(a), rank) for a in axis})
    return tuple(out)


def reduced_dims(dims: Dims, axes: tuple[int, ...] | None, keepdims: bool) -> Dims:
    if dims is None:
        return None
    if axes is None:
        axes = tuple(range(len(dims)))
    if keepdims:
        return tuple(1 if i in axes else d for i, d in enumerate(dims))
    return tuple(d for i, d in enumerate(dims) if i not in axes)


def known(dims: Sequence[Any] | None) -> bool:
    return dims is not None and all(d is not None for d in dims)
