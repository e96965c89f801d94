"""Segment reductions (segment_* over sorted ids, unsorted_segment_* with num_segments), dynamic_partition
and dynamic_stitch.

Sorted segment ops and dynamic_partition have output sizes that depend on the values: on a GPU, finding
the size needs one device-to-host read, as TF's GPU kernels do.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gpugraph.framework import dtypes
from gpugraph.framework.tensor import Tensor
from gpugraph.framework.tensor_shape import TensorShape
from gpugraph.ops import shape_fns
from gpugraph.ops.constant_ops import convert_to_tensor
from gpugraph.ops.registry import OpDef, graph_of, register_op
from gpugraph.ops.xp_compat import on_host, scatter_add

__all__ = ["segment_sum", "segment_mean", "segment_max", "segment_min", "segment_prod", "unsorted_segment_sum",
           "unsorted_segment_mean", "unsorted_segment_max", "unsorted_segment_min", "unsorted_segment_prod",
           "unsorted_segment_sqrt_n", "dynamic_partition", "dynamic_stitch"]

_INDEX = (dtypes.int32, dtypes.int64)


def _ids_dtype(ids: Tensor, what: str = "segment_ids") -> None:
    if ids.dtype.base_dtype not in _INDEX:
        raise TypeError(f"Value passed to parameter '{what}' has DataType {ids.dtype.base_dtype.name} not in list "
                        "of allowed values: int32, int64")


def _segment_infer(data: Tensor, ids: Tensor, *, num_segments: int | None, kind: str) -> Any:
    shape_fns.numeric(data)
    _ids_dtype(ids)
    dd, di = data.shape.as_tuple(), ids.shape.as_tuple()
    if num_segments is None and di is not None and len(di) != 1:
        raise ValueError(f"Shape must be rank 1 but is rank {len(di)} for segment_ids")
    if dd is None or di is None:
        return TensorShape(None), data.dtype.base_dtype
    if len(di) > len(dd):
        raise ValueError(f"Shape must be at least rank {len(di)} but is rank {len(dd)}")
    TensorShape(dd[:len(di)]).merge_with(TensorShape(di))
    return (num_segments,) + dd[len(di):], data.dtype.base_dtype


def _empty_value(dtype: Any, kind: str, sorted_ids: bool) -> Any:
    if kind in ("sum", "mean") or (sorted_ids and kind in ("max", "min")):
        return 0
    if kind == "prod":
        return 1
    info = np.finfo(dtype) if dtype.kind == "f" else np.iinfo(dtype)  # TF: the lowest/highest finite value
    return info.min if kind == "max" else info.max


def _segment_impl(xp: Any, data: Any, ids: Any, *, num_segments: int | None, kind: str) -> Any:
    sorted_ids = num_segments is None
    flat_ids = ids.reshape(-1).astype(xp.int64)
    if sorted_ids:
        if on_host(xp) and flat_ids.size and ((flat_ids[1:] < flat_ids[:-1]).any() or flat_ids[0] < 0):
            raise ValueError("segment ids are not increasing")
        n = flat_ids[-1] + 1 if flat_ids.size else 0  # one device-to-host read on a GPU sizes the output
    else:
        n = num_segments
        if on_host(xp) and flat_ids.size and flat_ids.max() >= n:
            raise ValueError(f"segment_ids[{int(flat_ids.argmax())}] = {int(flat_ids.max())} is out of range "
                             f"[0, {n})")
    rows = data.reshape((flat_ids.shape[0],) + data.shape[ids.ndim:])
    keep = flat_ids >= 0  # negative ids are dropped, as TF's unsorted segment ops drop them
    safe = xp.where(keep, flat_ids, 0)
    mask = keep.reshape((-1,) + (1,) * (rows.ndim - 1))
    out_shape = (n,) + rows.shape[1:]
    if kind in ("sum", "mean"):
        out = xp.zeros(out_shape, dtype=data.dtype)
        scatter_add(xp, out, safe, xp.where(mask, rows, xp.zeros((), dtype=data.dtype)))
        if kind == "mean":
            counts = xp.zeros((n,), dtype=data.dtype)
            scatter_add(xp, counts, safe, keep.astype(data.dtype))
            out = out / xp.maximum(counts, 1).reshape((-1,) + (1,) * (rows.ndim - 1))
            out = out.astype(data.dtype, copy=False)
        return out
    fill = _empty_value(data.dtype, kind, sorted_ids=False)
    out = xp.full(out_shape, fill, dtype=data.dtype)
    if kind == "prod":
        xp.multiply.at(out, safe, xp.where(mask, rows, xp.ones((), dtype=data.dtype)))
    else:
        ufunc = xp.maximum if kind == "max" else xp.minimum
        ufunc.at(out, safe, xp.where(mask, rows, xp.full((), fill, dtype=data.dtype)))
    if sorted_ids and kind in ("max", "min"):  # TF's sorted max/min write 0 to segments with no ids
        counts = xp.zeros((n,), dtype=xp.int32)
        scatter_add(xp, counts, safe, keep.astype(xp.int32))
        out = xp.where((counts > 0).reshape((-1,) + (1,) * (rows.ndim - 1)), out, xp.zeros((), dtype=data.dtype))
    return out


# --- gradients: gather rows back, dropping negative ids ---
def _gather_rows_impl(xp: Any, params: Any, ids: Any) -> Any:
    n = params.shape[0]
    flat = ids.reshape(-1).astype(xp.int64)
    valid = (flat >= 0) & (flat < n)
    taken = xp.take(params, xp.where(valid, flat, 0), axis=0) if n else xp.zeros((flat.shape[0],) + params.shape[1:],
                                                                                 dtype=params.dtype)
    taken = xp.where(valid.reshape((-1,) + (1,) * (params.ndim - 1)), taken, xp.zeros((), dtype=params.dtype))
    return taken.reshape(ids.shape + params.shape[1:])


def _gather_rows_infer(params: Tensor, ids: Tensor) -> Any:
    pd, di = params.shape.as_tuple(), ids.shape.as_tuple()
    if pd is None or di is None:
        return TensorShape(None), params.dtype.base_dtype
    return di + pd[1:], params.dtype.base_dtype


def _scatter_rows_impl(xp: Any, g: Any, ids: Any, like: Any) -> Any:
    n = like.shape[0]
    flat = ids.reshape(-1).astype(xp.int64)
    valid = (flat >= 0) & (flat < n)
    rows = g.reshape((flat.shape[0],) + like.shape[1:])
    out = xp.zeros(like.shape, dtype=g.dtype)
    scatter_add(xp, out, xp.where(valid, flat, 0),
                xp.where(valid.reshape((-1,) + (1,) * (rows.ndim - 1)), rows, xp.zeros((), dtype=g.dtype)))
    return out


GATHER_ROWS = register_op(OpDef(
    "GatherDropNegatives", infer=_gather_rows_infer, impl=_gather_rows_impl, same_dtype=False,
    input_names=("params", "ids"),
    grad=lambda op, g: [SCATTER_ROWS(g, op.inputs[1], op.inputs[0]), None],
    sample=lambda rng: [([rng.standard_normal((3, 2)), np.array([[0, -1], [2, 2]], np.int32)], {})],
))
SCATTER_ROWS = register_op(OpDef(
    "ScatterRowsLike", infer=lambda g, ids, like: (like.shape, g.dtype.base_dtype), impl=_scatter_rows_impl,
    same_dtype=False, input_names=("grad", "ids", "like"),
    grad=lambda op, g: [GATHER_ROWS(g, op.inputs[1]), None, None],
    sample=lambda rng: [([rng.standard_normal((2, 2, 3)), np.array([[0, -1], [2, 0]], np.int32),
                          rng.standard_normal((3, 3))], {})],
))


def _segment_grad(op: Any, dy: Tensor) -> list[Any]:
    from gpugraph.ops.array_ops import ones_like, zeros_like
    from gpugraph.ops.math_ops import cast, equal, greater, where

    data, ids = op.inputs
    kind, n = op.get_attr("kind"), op.get_attr("num_segments")
    opdef, summed = op.opdef, SEGMENT_OPS[(n is None, "sum")]
    if not data.dtype.base_dtype.is_floating:
        return [None, None]
    if kind == "sum":
        return [GATHER_ROWS(dy, ids), None]
    if kind == "mean":
        counts = summed(ones_like(data), ids, num_segments=n, kind="sum")
        return [GATHER_ROWS(dy / _at_least_one(counts), ids), None]
    if kind in ("max", "min"):
        selected = equal(data, GATHER_ROWS(op.outputs[0], ids))
        count = summed(cast(selected, dy.dtype), ids, num_segments=n, kind="sum")
        return [where(selected, GATHER_ROWS(dy / _at_least_one(count), ids), zeros_like(data)), None]
    # prod, as TF1: where an element is the only zero of its segment, its derivative is the others' product
    is_zero = equal(data, zeros_like(data))
    zeros = summed(cast(is_zero, dy.dtype), ids, num_segments=n, kind="sum")
    grad = where(greater(zeros, 1.0), zeros_like(dy), dy)
    non_zero = where(is_zero, ones_like(data), data)
    non_zero_prod = opdef(non_zero, ids, num_segments=n, kind="prod")
    partial = where(is_zero, GATHER_ROWS(non_zero_prod, ids), GATHER_ROWS(op.outputs[0], ids) / non_zero)
    return [GATHER_ROWS(grad, ids) * partial, None]


def _at_least_one(t: Tensor) -> Tensor:
    from gpugraph.ops.math_ops import maximum

    return maximum(t, 1.0)


def _segment_sample(sorted_ids: bool, kind: str) -> Any:
    def sample(rng: np.random.Generator) -> list[Any]:
        data = rng.permutation(12).reshape(6, 2) * 0.25 + 0.5 + rng.uniform(0.0, 0.1, (6, 2))
        ints = rng.integers(-5, 5, (5, 3)).astype(np.int32)
        if sorted_ids:
            ids, ids5 = np.array([0, 0, 2, 2, 2, 3]), np.array([0, 1, 1, 3, 3], np.int32)
            return [([data, ids], {"num_segments": None, "kind": kind}),
                    ([ints, ids5], {"num_segments": None, "kind": kind})]
        # max and min of an empty segment are the dtype's extremes, which central differences cannot take
        gaps = kind not in ("max", "min")
        ids2 = np.array([[2, 0, -1], [0 if gaps else 1, 2, 3]])
        ids1 = np.array([3, 0, 3 if gaps else 2, -1, 1, 3])
        return [([data, ids1], {"num_segments": 5 if gaps else 4, "kind": kind}),
                ([data.reshape(2, 3, 2), ids2], {"num_segments": 4, "kind": kind}),
                ([ints, np.array([1, 1, 0, 2, 1], np.int32)], {"num_segments": 3, "kind": kind})]
    return sample


SEGMENT_OPS: dict[tuple[bool, str], OpDef] = {}
for _kind in ("sum", "mean", "max", "min", "prod"):
    for _sorted in (True, False):
        if not _sorted and _kind == "mean":
            continue  # TF1 composes unsorted_segment_mean from sums
        _name = ("Segment" if _sorted else "UnsortedSegment") + _kind.capitalize()
        SEGMENT_OPS[(_sorted, _kind)] = register_op(OpDef(
            _name, infer=_segment_infer, impl=_segment_impl, grad=_segment_grad, same_dtype=False,
            input_names=("data", "segment_ids"), sample=_segment_sample(_sorted, _kind)))


def _segment(kind: str, data: Any, segment_ids: Any, name: str | None) -> Tensor:
    opdef = SEGMENT_OPS[(True, kind)]
    return opdef(data, segment_ids, name=name or opdef.name, num_segments=None, kind=kind)


def _num_segments(num_segments: Any) -> int:
    from gpugraph.ops.manip_ops import _int

    n = _int(num_segments, "num_segments")
    if n < 0:
        raise ValueError(f"num_segments must be non-negative, got {n}")
    return n


def _unsorted(kind: str, data: Any, segment_ids: Any, num_segments: Any, name: str | None) -> Tensor:
    opdef = SEGMENT_OPS[(False, kind)]
    return opdef(data, segment_ids, name=name or opdef.name, num_segments=_num_segments(num_segments), kind=kind)


def segment_sum(data: Any, segment_ids: Any, name: str | None = None) -> Tensor:
    return _segment("sum", data, segment_ids, name)


def segment_mean(data: Any, segment_ids: Any, name: str | None = None) -> Tensor:
    return _segment("mean", data, segment_ids, name)


def segment_max(data: Any, segment_ids: Any, name: str | None = None) -> Tensor:
    return _segment("max", data, segment_ids, name)


def segment_min(data: Any, segment_ids: Any, name: str | None = None) -> Tensor:
    return _segment("min", data, segment_ids, name)


def segment_prod(data: Any, segment_ids: Any, name: str | None = None) -> Tensor:
    return _segment("prod", data, segment_ids, name)


def unsorted_segment_sum(data: Any, segment_ids: Any, num_segments: Any, name: str | None = None) -> Tensor:
    return _unsorted("sum", data, segment_ids, num_segments, name)


def unsorted_segment_max(data: Any, segment_ids: Any, num_segments: Any, name: str | None = None) -> Tensor:
    return _unsorted("max", data, segment_ids, num_segments, name)


def unsorted_segment_min(data: Any, segment_ids: Any, num_segments: Any, name: str | None = None) -> Tensor:
    return _unsorted("min", data, segment_ids, num_segments, name)


def unsorted_segment_prod(data: Any, segment_ids: Any, num_segments: Any, name: str | None = None) -> Tensor:
    return _unsorted("prod", data, segment_ids, num_segments, name)


def _unsorted_scaled(data: Any, segment_ids: Any, num_segments: Any, name: str | None, default: str,
                     scale: Any) -> Tensor:
    from gpugraph.ops.array_ops import ones_like

    graph = graph_of([data, segment_ids])
    with graph.as_default(), graph.name_scope(name or default) as scope:
        data = convert_to_tensor(data, name="data")
        ids = convert_to_tensor(segment_ids, name="segment_ids")
        n = _num_segments(num_segments)
        ones = ones_like(GATHER_ROWS(data, ids))  # one per kept row, shaped like the data
        counts = _at_least_one(unsorted_segment_sum(ones, ids, n))
        total = unsorted_segment_sum(data, ids, n)
        from gpugraph.ops.math_ops import REAL_DIV

        return REAL_DIV(total, scale(counts), name=scope)


def unsorted_segment_mean(data: Any, segment_ids: Any, num_segments: Any, name: str | None = None) -> Tensor:
    return _unsorted_scaled(data, segment_ids, num_segments, name, "UnsortedSegmentMean", lambda c: c)


def unsorted_segment_sqrt_n(data: Any, segment_ids: Any, num_segments: Any, name: str | None = None) -> Tensor:
    from gpugraph.ops.unary_ops import sqrt

    return _unsorted_scaled(data, segment_ids, num_segments, name, "UnsortedSegmentSqrtN", sqrt)


# --- DynamicPartition, DynamicStitch ---
def _partition_infer(data: Tensor, partitions: Tensor, *, num_partitions: int) -> Any:
    if partitions.dtype.base_dtype != dtypes.int32:
        raise TypeError(f"Value passed to parameter 'partitions' has DataType {partitions.dtype.base_dtype.name} "
                        "not in list of allowed values: int32")
    if num_partitions < 1:
        raise ValueError(f"num_partitions must be at least 1, got {num_partitions}")
    dd, dp = data.shape.as_tuple(), partitions.shape.as_tuple()
    if dd is None or dp is None:
        return [(TensorShape(None), data.dtype.base_dtype)] * num_partitions
    TensorShape(dd[:len(dp)]).merge_with(TensorShape(dp))
    return [((None,) + dd[len(dp):], data.dtype.base_dtype)] * num_partitions


def _partition_impl(xp: Any, data: Any, partitions: Any, *, num_partitions: int) -> Any:
    if on_host(xp) and partitions.size and (partitions.min() < 0 or partitions.max() >= num_partitions):
        raise ValueError(f"partitions must be in [0, {num_partitions})")
    flat = partitions.reshape(-1)
    rows = data.reshape((flat.shape[0],) + data.shape[partitions.ndim:])
    # each part's row count needs one device-to-host read on a GPU
    parts = [rows[xp.nonzero(flat == p)[0]] for p in range(num_partitions)]
    return parts[0] if num_partitions == 1 else tuple(parts)


def _partition_grad(op: Any, *dys: Tensor) -> list[Any]:
    from gpugraph.ops.array_ops import reshape_like, size
    from gpugraph.ops.dynamic_shape_ops import range as range_

    data, partitions = op.inputs
    n = op.get_attr("num_partitions")
    positions = reshape_like(range_(size(partitions)), partitions)
    parts = DYNAMIC_PARTITION(positions, partitions, num_partitions=n)
    parts = [parts] if n == 1 else list(parts)
    stitched = DYNAMIC_STITCH(*parts, *dys)
    return [reshape_like(stitched, data), None]


DYNAMIC_PARTITION = register_op(OpDef(
    "DynamicPartition", infer=_partition_infer, impl=_partition_impl, grad=_partition_grad, same_dtype=False,
    input_names=("data", "partitions"),
    sample=lambda rng: [([rng.standard_normal((5, 2)), np.array([1, 0, 2, 1, 1], np.int32)], {"num_partitions": 3}),
                        ([rng.standard_normal((2, 3)), np.array([[0, 1, 0], [1, 1, 0]], np.int32)],
                         {"num_partitions": 2})],
))


def _stitch_infer(*args: Tensor) -> Any:
    k = len(args) // 2
    indices, data = args[:k], args[k:]
    for t in indices:
        _ids_dtype(t, "indices")
    dt = data[0].dtype.base_dtype
    for t in data:
        if t.dtype.base_dtype != dt:
            raise TypeError("Tensors in list passed to 'data' of 'DynamicStitch' Op have types that don't all match")
    tail: Any = None
    for i, d in zip(indices, data):
        di, dd = i.shape.as_tuple(), d.shape.as_tuple()
        if di is None or dd is None:
            continue
        tail = TensorShape(dd[len(di):]) if tail is None else tail.merge_with(TensorShape(dd[len(di):]))
    if tail is None or tail.ndims is None:
        return TensorShape(None), dt
    return (None,) + tail.as_tuple(), dt


def _stitch_impl(xp: Any, *args: Any) -> Any:
    k = len(args) // 2
    flat_idx = xp.concatenate([i.reshape(-1).astype(xp.int64) for i in args[:k]])
    tail = args[k].shape[args[0].ndim:]
    rows = xp.concatenate([d.reshape((-1,) + tail) for d in args[k:]])
    n = flat_idx.max() + 1 if flat_idx.size else 0  # one device-to-host read on a GPU sizes the output
    out = xp.zeros((n,) + tail, dtype=rows.dtype)
    out[flat_idx] = rows  # NumPy and CuPy keep the last write for a repeated index, as TF does
    return out


def _stitch_grad(op: Any, dy: Tensor) -> list[Any]:
    k = len(op.inputs) // 2
    return [None] * k + [GATHER_ROWS(dy, i) for i in op.inputs[:k]]


DYNAMIC_STITCH = register_op(OpDef(
    "DynamicStitch", infer=_stitch_infer, impl=_stitch_impl, grad=_stitch_grad, same_dtype=False,
    input_names=("indices", "data"),
    sample=lambda rng: [([np.array([0, 2]), np.array([[1], [3]]), rng.standard_normal((2, 3)),
                          rng.standard_normal((2, 1, 3))], {})],
))


def dynamic_partition(data: Any, partitions: Any, num_partitions: int, name: str | None = None) -> list[Tensor]:
    out = DYNAMIC_PARTITION(data, partitions, name=name, num_partitions=int(num_partitions))
    return [out] if isinstance(out, Tensor) else list(out)


def dynamic_stitch(indices: Any, data: Any, name: str | None = None) -> Tensor:
    indices, data = list(indices), list(data)
    if len(indices) != len(data) or not indices:
        raise ValueError(f"List argument 'data' to 'DynamicStitch' Op with length {len(data)} must match length "
                         f"{len(indices)} of argument 'indices'.")
    return DYNAMIC_STITCH(*indices, *data, name=name)
