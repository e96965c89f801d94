"""Indexing with run-time Tensors: ``x[i]``, ``x[i:j]``, tf.strided_slice and tf.slice with Tensor bounds.

An integer index read at run time stays one StridedSlice whose index is an input (a 0-d device array
indexes without a host read). A slice with Tensor bounds has a run-time length: it gathers the rows of
a Range along its axis (the Range reads its bounds on the host), so gradients flow through the gather.
"""

from __future__ import annotations

from typing import Any

from gpugraph.framework import dtypes
from gpugraph.framework.tensor import Tensor
from gpugraph.ops import shape_fns
from gpugraph.ops.constant_ops import constant, convert_to_tensor
from gpugraph.ops.dynamic_shape_ops import is_graph_value
from gpugraph.ops.registry import graph_of

_INDEX_DTYPES = (dtypes.int32, dtypes.int64)


def static_int(value: Any) -> Any:
    """A graph value the graph alone determines (a constant scalar) as a Python int; others unchanged."""
    if not is_graph_value(value):
        return value
    t = convert_to_tensor(value)
    if t.dtype.base_dtype not in _INDEX_DTYPES or t.shape.ndims != 0:
        return value
    known = shape_fns.constant_value(t)
    return value if known is None else int(known)


def has_tensor(spec: tuple[Any, ...]) -> bool:
    return any(is_graph_value(s) or (isinstance(s, slice) and any(map(is_graph_value, (s.start, s.stop, s.step))))
               for s in spec)


def _index_tensor(item: Any, error: str) -> Tensor:
    t = convert_to_tensor(item)
    if t.dtype.base_dtype not in _INDEX_DTYPES or t.shape.ndims not in (0, None):
        raise TypeError(f"{error}, got {t!r}")
    return t


def getitem(x: Any, spec: tuple[Any, ...], name: str, error: str) -> Tensor:
    """``x[spec]`` where some entries (or slice bounds) are Tensors."""
    from gpugraph.ops.slicing_ops import STRIDED_SLICE, _index_item

    parts = [x] + [p for s in spec for p in ((s.start, s.stop, s.step) if isinstance(s, slice) else (s,))]
    graph = graph_of([p for p in parts if is_graph_value(p)])
    with graph.as_default(), graph.name_scope(name) as scope:
        x = convert_to_tensor(x, name="input")
        rank = x.shape.ndims
        n_real = sum(1 for s in spec if s is not None and s is not Ellipsis)
        items: list[Any] = []
        indices: list[Tensor] = []
        ranged: list[tuple[int, slice]] = []  # (output axis, slice with Tensor bounds)
        out_axis: int | None = 0
        for item in spec:
            if item is Ellipsis:
                items.append(item)
                out_axis = None if rank is None or out_axis is None else out_axis + rank - n_real
            elif isinstance(item, slice) and any(map(is_graph_value, (item.start, item.stop, item.step))):
                if out_axis is None:
                    raise ValueError(f"A slice with Tensor bounds after `...` needs the rank of {x.name}")
                ranged.append((out_axis, item))
                items.append(slice(None))
                out_axis += 1
            elif is_graph_value(item):
                items.append(("input", len(indices)))
                indices.append(_index_tensor(item, error))
            else:
                items.append(_index_item(item))
                if out_axis is not None and (item is None or isinstance(item, slice)):
                    out_axis += 1
        last = not ranged
        if indices or any(s != slice(None) and s is not Ellipsis for s in items):
            x = STRIDED_SLICE(x, *indices, name=scope if last else "strided_slice", spec=tuple(items))
        for k, (axis, sl) in enumerate(ranged):
            x = _gather_range(x, axis, sl, scope if k == len(ranged) - 1 else None)
        return x


def _gather_range(x: Tensor, axis: int, sl: slice, name: str | None) -> Tensor:
    """``x`` sliced along ``axis`` by ``sl`` with Python's clamping of out-of-range and negative bounds."""
    from gpugraph.ops.array_ops import shape
    from gpugraph.ops.dynamic_shape_ops import range as range_op
    from gpugraph.ops.index_ops import gather
    from gpugraph.ops.math_ops import maximum, minimum, where

    step = static_int(sl.step) if sl.step is not None else 1
    if is_graph_value(step):
        raise ValueError(f"Slice strides must be known when the graph is built, got {step!r}")
    if step == 0:
        raise ValueError("slice step cannot be zero")
    bounds = [b for b in (sl.start, sl.stop) if is_graph_value(b)]
    dt = convert_to_tensor(bounds[0]).dtype.base_dtype
    dims = x.shape.as_tuple()
    n = constant(dims[axis], dt) if dims is not None and dims[axis] is not None else shape(x, out_type=dt)[axis]

    def clamp(value: Any, default: Any, low: Any, high: Any) -> Tensor:
        if value is None:
            return convert_to_tensor(default, dtype=dt)
        v = convert_to_tensor(value, dtype=dt)
        v = where(v < 0, v + n, v)
        return minimum(maximum(v, low), high)

    if step > 0:
        begin = clamp(sl.start, 0, 0, n)
        end = maximum(clamp(sl.stop, n, 0, n), begin)
    else:
        begin = clamp(sl.start, n - 1, -1, n - 1)
        end = minimum(clamp(sl.stop, -1, -1, n - 1), begin)
    return gather(x, range_op(begin, end, step), axis=axis, name=name)


def entries(value: Any, what: str) -> tuple[Any, ...]:
    """The entries of a 1-D begin/end/strides/size argument: Python ints where known, else scalar Tensors."""
    from gpugraph.ops.array_ops import _shape_tuple

    if not is_graph_value(value):
        if isinstance(value, (list, tuple)) and any(map(is_graph_value, value)):
            return tuple(static_int(v) for v in value)
        return _shape_tuple(value, what)
    t = convert_to_tensor(value)
    known = shape_fns.constant_value(t)
    if known is not None:
        return tuple(int(v) for v in known.reshape(-1))
    dims = t.shape.as_tuple()
    if dims is None or len(dims) != 1 or dims[0] is None:
        raise ValueError(f"{what} must be a 1-D Tensor of known length, got {t!r}")
    return tuple(t[k] for k in range(dims[0]))


def slice_dynamic(input_: Any, begin: tuple[Any, ...], size: tuple[Any, ...], name: str) -> Tensor:
    """tf.slice with some Tensor entries in ``begin``/``size`` (size -1: to the end of the axis)."""
    from gpugraph.ops.array_ops import shape
    from gpugraph.ops.math_ops import where

    graph = graph_of([v for v in (input_, *begin, *size) if is_graph_value(v)])
    with graph.as_default(), graph.name_scope(name) as scope:
        x = convert_to_tensor(input_, name="input")
        spec = []
        for axis, (b, s) in enumerate(zip(begin, size)):
            if not is_graph_value(s):
                spec.append(slice(b, None if s == -1 else b + s))
            else:
                dt = s.dtype.base_dtype
                end = where(s < 0, shape(x, out_type=dt)[axis], convert_to_tensor(b, dtype=dt) + s)
                spec.append(slice(b, end))
        from gpugraph.ops.slicing_ops import _INDEX_ERROR

        out = getitem(x, tuple(spec), scope, _INDEX_ERROR)
        # a size given at build time is the output's dimension, wherever the slice starts
        out.set_shape([s if not is_graph_value(s) and s >= 0 else None for s in size])
        return out
