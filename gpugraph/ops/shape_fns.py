"""Reusable static shape/dtype inference functions for OpDefs."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

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


# --- values known while the graph is built (TF1's tensor_util.constant_value / constant_value_as_shape) ---
_FOLD_LIMIT = 1024  # elements: larger inputs are not evaluated at build time
_NEVER_FOLDED = frozenset(["PlaceholderWithDefault"])


def constant_value(t: Tensor) -> Any:
    """The NumPy value of ``t`` when the graph alone determines it (small, pure subgraphs), else None."""
    return _constant_value(t, 16)


def _constant_value(t: Tensor, depth: int) -> Any:
    op = t.op
    if op.type == "Const":
        return op.get_attr("value")
    if op.type in ("Shape", "Size", "Rank"):
        dims = op.inputs[0].shape.as_tuple()
        if op.type == "Rank":
            return None if dims is None else np.asarray(len(dims), np.int32)
        if not known(dims):
            return None
        value = dims if op.type == "Shape" else int(np.prod(dims, dtype=np.int64))
        return np.asarray(value, op.get_attr("out_type").np_dtype)
    if op.type == "StridedSlice" and len(op.inputs) == 1 and op.inputs[0].op.type == "Shape":
        dims = partial_shape_values(op.inputs[0])
        if dims is not None:
            picked = np.asarray(dims, dtype=object)[op.get_attr("spec")]
            if all(d is not None for d in np.asarray(picked).reshape(-1)):
                return np.asarray(picked, dtype=t.dtype.np_dtype)
            return None
    opdef = op.opdef
    if (depth <= 0 or opdef.impl is None or opdef.stateful or opdef.ref_input or len(op.outputs) != 1
            or op.type in _NEVER_FOLDED or t.dtype.base_dtype == dtypes.string):
        return None
    values = []
    for inp in op.inputs:
        v = _constant_value(inp, depth - 1)
        if v is None or np.size(v) > _FOLD_LIMIT:
            return None
        values.append(np.asarray(v))
    try:
        with np.errstate(all="ignore"):
            return np.asarray(opdef.impl(np, *values, **op.attrs))
    except Exception:  # an op that fails here fails again, with its proper error, at run time
        return None


def partial_shape_values(t: Tensor) -> list[int | None] | None:
    """The entries of a 1-D shape tensor known at build time (-1 kept; None unknown); None if the length is not."""
    op = t.op
    if op.type == "Shape":
        dims = op.inputs[0].shape.as_tuple()
        return None if dims is None else list(dims)
    value = constant_value(t)
    if value is not None:
        return [int(v) for v in np.asarray(value).reshape(-1)]
    if op.type == "Pack" and op.get_attr("axis") == 0:
        out: list[int | None] = []
        for inp in op.inputs:
            v = constant_value(inp)
            out.append(None if v is None or np.ndim(v) != 0 else int(v))
        return out
    if op.type == "ConcatV2":
        parts = [partial_shape_values(inp) for inp in op.inputs]
        if any(p is None for p in parts):
            return _unknown_entries(t)
        return [d for p in parts for d in p]  # type: ignore[union-attr]
    if op.type == "StridedSlice" and len(op.inputs) == 1 and op.inputs[0].op.type == "Shape":
        dims = partial_shape_values(op.inputs[0])
        spec = op.get_attr("spec")
        if dims is not None and t.shape.ndims == 1:
            return list(np.asarray(dims, dtype=object)[spec])
    if op.type in ("Identity", "Cast"):
        return partial_shape_values(op.inputs[0])
    return _unknown_entries(t)


def _unknown_entries(t: Tensor) -> list[int | None] | None:
    dims = t.shape.as_tuple()
    if dims is None or len(dims) != 1 or dims[0] is None:
        return None
    return [None] * dims[0]


def constant_value_as_shape(t: Tensor) -> TensorShape:
    """The static shape a 1-D shape tensor describes: unknown entries (and -1) become None."""
    values = partial_shape_values(t)
    if values is None:
        return TensorShape(None)
    return TensorShape([None if v is None or v < 0 else v for v in values])
