"""Sorting and searching: sort/argsort, searchsorted, unique, setdiff1d, invert_permutation, bincount,
histogram_fixed_width, confusion_matrix.

unique, setdiff1d, bincount (and confusion_matrix without num_classes) have output sizes that depend on
the values: on a GPU, finding the size needs one device-to-host read, as TF's GPU kernels do.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gpugraph.framework import dtypes
from gpugraph.framework.tensor import Tensor
from gpugraph.framework.tensor_shape import TensorShape
from gpugraph.ops import shape_fns
from gpugraph.ops.constant_ops import convert_to_tensor
from gpugraph.ops.registry import NO_GRADIENT, OpDef, graph_of, register_op
from gpugraph.ops.xp_compat import on_host

__all__ = ["sort", "argsort", "searchsorted", "unique", "unique_with_counts", "setdiff1d", "invert_permutation",
           "bincount", "histogram_fixed_width", "confusion_matrix"]

_INDEX = (dtypes.int32, dtypes.int64)


def _index_dtype(t: Tensor, what: str) -> None:
    if t.dtype.base_dtype not in _INDEX:
        raise TypeError(f"Value passed to parameter '{what}' has DataType {t.dtype.base_dtype.name} not in list of "
                        "allowed values: int32, int64")


def _rank(t: Tensor, want: int, what: str) -> None:
    if t.shape.ndims not in (None, want):
        raise ValueError(f"Shape must be rank {want} but is rank {t.shape.ndims} for '{what}'")


# --- Sort: values and indices along one axis; equal values keep their order (as TF's top_k-based sort) ---
def _sort_infer(x: Tensor, *, axis: int, descending: bool) -> Any:
    dt = x.dtype.base_dtype
    if not (dt.is_floating or dt.is_integer):
        raise TypeError(f"Value passed to parameter 'values' has DataType {dt.name}: sort needs real numbers")
    if x.shape.ndims is not None:
        if x.shape.ndims == 0:
            raise ValueError("Shape must be at least rank 1 but is rank 0")
        shape_fns.normalize_axis(axis, x.shape.ndims)
    return [(x.shape, dt), (x.shape, dtypes.int32)]


def _sort_order(xp: Any, x: Any, axis: int, descending: bool) -> Any:
    if descending:  # negate in a wider type: int32 minima and unsigned values do not wrap
        key = -x.astype(xp.int64) if x.dtype.kind in "iu" else -x
    else:
        key = x
    return xp.argsort(key, axis=axis, kind="stable")


def _sort_impl(xp: Any, x: Any, *, axis: int, descending: bool) -> Any:
    idx = _sort_order(xp, x, axis, descending)
    return xp.take_along_axis(x, idx, axis=axis), idx.astype(xp.int32)


def _sort_grad_impl(xp: Any, dy: Any, indices: Any, x: Any, *, axis: int) -> Any:
    out = xp.zeros(x.shape, dtype=dy.dtype)
    xp.put_along_axis(out, indices.astype(xp.int64), dy, axis=axis)  # a permutation: no two writes collide
    return out


SORT_GRAD = register_op(OpDef(
    "SortGrad", infer=lambda dy, indices, x, *, axis: (x.shape, dy.dtype.base_dtype), impl=_sort_grad_impl,
    same_dtype=False, input_names=("grad", "indices", "input"),
    grad=lambda op, g: [SORT_TAKE(g, op.inputs[1], axis=op.get_attr("axis")), None, None],
    sample=lambda rng: [([rng.standard_normal((2, 3)), np.array([[2, 0, 1], [0, 1, 2]], np.int32),
                          rng.standard_normal((2, 3))], {"axis": 1})],
))
SORT_TAKE = register_op(OpDef(
    "SortTake", infer=lambda x, indices, *, axis: (indices.shape, x.dtype.base_dtype), same_dtype=False,
    impl=lambda xp, x, indices, *, axis: xp.take_along_axis(x, indices.astype(xp.int64), axis=axis),
    grad=lambda op, g: [SORT_GRAD(g, op.inputs[1], op.inputs[0], axis=op.get_attr("axis")), None],
    input_names=("input", "indices"),
    sample=lambda rng: [([rng.standard_normal((3, 2)), np.array([[2, 0], [0, 1], [1, 2]], np.int32)], {"axis": 0})],
))


def _sort_sample(rng: np.random.Generator) -> list[Any]:
    distinct = rng.permutation(12).reshape(3, 4) + rng.uniform(0.0, 0.5, (3, 4))
    ties = np.array([[1, 3, 3, 0, 3], [2, 2, 2, 2, 2]], np.int32)
    return [([distinct], {"axis": -1, "descending": False}), ([distinct], {"axis": 0, "descending": True}),
            ([ties], {"axis": 1, "descending": True}), ([ties], {"axis": 1, "descending": False})]


SORT = register_op(OpDef(
    "Sort", infer=_sort_infer, impl=_sort_impl, input_names=("values",), sample=_sort_sample,
    grad=lambda op, dv, di: [SORT_GRAD(dv, op.outputs[1], op.inputs[0], axis=op.get_attr("axis"))],
))


def _direction(direction: str) -> bool:
    if direction not in ("ASCENDING", "DESCENDING"):
        raise ValueError(f"{direction} should be one of ASCENDING, DESCENDING")
    return direction == "DESCENDING"


def sort(values: Any, axis: int = -1, direction: str = "ASCENDING", name: str | None = None) -> Tensor:
    from gpugraph.ops.manip_ops import _int

    return SORT(values, name=name or "sort", axis=_int(axis, "axis"), descending=_direction(direction))[0]


def argsort(values: Any, axis: int = -1, direction: str = "ASCENDING", stable: bool = False,
            name: str | None = None) -> Tensor:
    """Indices (int32) that sort ``values``; equal values always keep their order, so ``stable`` holds either way."""
    from gpugraph.ops.manip_ops import _int

    return SORT(values, name=name or "argsort", axis=_int(axis, "axis"), descending=_direction(direction))[1]


# --- LowerBound / UpperBound (searchsorted) over the last axis, batched over the leading ones ---
def _bound_infer(seq: Tensor, values: Tensor, *, out_type: dtypes.DType) -> Any:
    if seq.dtype.base_dtype != values.dtype.base_dtype:
        raise TypeError(f"sorted_sequence and values must have the same dtype, got {seq.dtype.base_dtype.name} "
                        f"and {values.dtype.base_dtype.name}")
    sd, vd = seq.shape.as_tuple(), values.shape.as_tuple()
    if sd is not None and vd is not None:
        if len(sd) != len(vd):
            raise ValueError(f"sorted_sequence and values must have the same rank, got {len(sd)} and {len(vd)}")
        TensorShape(sd[:-1]).merge_with(TensorShape(vd[:-1]))
    return values.shape, out_type


def _bound(side: str) -> Any:
    def impl(xp: Any, seq: Any, values: Any, *, out_type: dtypes.DType) -> Any:
        # count the entries before each value: O(M*N) work per row, no per-row loop
        s, v = seq[..., None, :], values[..., :, None]
        before = (s < v) if side == "left" else (s <= v)
        return before.sum(axis=-1).astype(out_type.np_dtype)
    return impl


def _bound_sample(rng: np.random.Generator) -> list[Any]:
    seq = np.sort(rng.integers(0, 6, (2, 5)), axis=-1).astype(np.float64)
    vals = rng.integers(-1, 7, (2, 4)).astype(np.float64)
    return [([seq, vals], {"out_type": dtypes.int32}), ([seq[0], vals[1]], {"out_type": dtypes.int64})]


LOWER_BOUND = register_op(OpDef("LowerBound", infer=_bound_infer, impl=_bound("left"), grad=NO_GRADIENT,
                                same_dtype=False, input_names=("sorted_inputs", "values"), sample=_bound_sample))
UPPER_BOUND = register_op(OpDef("UpperBound", infer=_bound_infer, impl=_bound("right"), grad=NO_GRADIENT,
                                same_dtype=False, input_names=("sorted_inputs", "values"), sample=_bound_sample))


def searchsorted(sorted_sequence: Any, values: Any, side: str = "left", out_type: Any = dtypes.int32,
                 name: str | None = None) -> Tensor:
    if side not in ("left", "right"):
        raise ValueError(f"Argument `side` must be either 'right' or 'left'. Received: `side` = '{side}'.")
    opdef = LOWER_BOUND if side == "left" else UPPER_BOUND
    return opdef(sorted_sequence, values, name=name or "SearchSorted", out_type=dtypes.as_dtype(out_type))


# --- Unique, UniqueWithCounts: values in order of first appearance ---
def _unique_parts(xp: Any, x: Any) -> tuple[Any, Any, Any]:
    """(unique values by first appearance, index of each x into them, counts)."""
    n = x.shape[0]
    order = xp.argsort(x, kind="stable")
    ordered = x[order]
    starts = xp.concatenate([xp.ones((min(n, 1),), dtype=bool), ordered[1:] != ordered[:-1]])
    group_sorted = xp.cumsum(starts) - 1  # group of each sorted element, groups in value order
    first = order[starts]  # one device-to-host read on a GPU: the number of groups sizes the output
    by_appearance = xp.argsort(first, kind="stable")
    rank = xp.empty_like(by_appearance)
    rank[by_appearance] = xp.arange(by_appearance.shape[0], dtype=by_appearance.dtype)
    idx = xp.empty((n,), dtype=xp.int64)
    idx[order] = rank[group_sorted]
    bounds = xp.concatenate([xp.nonzero(starts)[0], xp.asarray([n])])
    counts = (bounds[1:] - bounds[:-1])[by_appearance]
    return x[first[by_appearance]], idx, counts


def _unique_infer(x: Tensor, *, out_idx: dtypes.DType) -> Any:
    _rank(x, 1, "x")
    if out_idx not in _INDEX:
        raise TypeError(f"out_idx must be int32 or int64, got {out_idx.name}")
    return [((None,), x.dtype.base_dtype), (x.shape, out_idx)]


def _unique_impl(xp: Any, x: Any, *, out_idx: dtypes.DType) -> Any:
    y, idx, _ = _unique_parts(xp, x)
    return y, idx.astype(out_idx.np_dtype)


def _unique_counts_impl(xp: Any, x: Any, *, out_idx: dtypes.DType) -> Any:
    y, idx, counts = _unique_parts(xp, x)
    return y, idx.astype(out_idx.np_dtype), counts.astype(out_idx.np_dtype)


def _unique_sample(rng: np.random.Generator) -> list[Any]:
    return [([rng.integers(0, 4, (9,)).astype(np.int32)], {"out_idx": dtypes.int32}),
            ([np.array([2.5, -1.0, 2.5, 7.0, -1.0])], {"out_idx": dtypes.int64}),
            ([np.zeros((0,), np.int64)], {"out_idx": dtypes.int32})]


UNIQUE = register_op(OpDef("Unique", infer=_unique_infer, impl=_unique_impl, grad=NO_GRADIENT,
                           sample=_unique_sample))
UNIQUE_WITH_COUNTS = register_op(OpDef(
    "UniqueWithCounts", infer=lambda x, *, out_idx: _unique_infer(x, out_idx=out_idx) + [((None,), out_idx)],
    impl=_unique_counts_impl, grad=NO_GRADIENT, sample=_unique_sample,
))


def unique(x: Any, out_idx: Any = dtypes.int32, name: str | None = None) -> tuple[Tensor, Tensor]:
    return tuple(UNIQUE(x, name=name, out_idx=dtypes.as_dtype(out_idx)))  # type: ignore[return-value]


def unique_with_counts(x: Any, out_idx: Any = dtypes.int32, name: str | None = None) -> tuple[Tensor, ...]:
    return tuple(UNIQUE_WITH_COUNTS(x, name=name, out_idx=dtypes.as_dtype(out_idx)))


# --- ListDiff (setdiff1d) ---
def _list_diff_infer(x: Tensor, y: Tensor, *, out_idx: dtypes.DType) -> Any:
    _rank(x, 1, "x")
    _rank(y, 1, "y")
    return [((None,), x.dtype.base_dtype), ((None,), out_idx)]


def _list_diff_impl(xp: Any, x: Any, y: Any, *, out_idx: dtypes.DType) -> Any:
    keep = ~xp.isin(x, y)
    where = xp.nonzero(keep)[0]  # one device-to-host read on a GPU: the kept count sizes the output
    return x[where], where.astype(out_idx.np_dtype)


LIST_DIFF = register_op(OpDef(
    "ListDiff", infer=_list_diff_infer, impl=_list_diff_impl, grad=NO_GRADIENT,
    sample=lambda rng: [([np.array([1, 2, 3, 4, 5, 6, 2], np.int32), np.array([1, 3, 5], np.int32)],
                         {"out_idx": dtypes.int32}),
                        ([rng.standard_normal((4,)), rng.standard_normal((2,))], {"out_idx": dtypes.int64})],
))


def setdiff1d(x: Any, y: Any, index_dtype: Any = dtypes.int32, name: str | None = None) -> tuple[Tensor, Tensor]:
    return tuple(LIST_DIFF(x, y, name=name, out_idx=dtypes.as_dtype(index_dtype)))  # type: ignore[return-value]


# --- InvertPermutation ---
def _invert_infer(x: Tensor) -> Any:
    _index_dtype(x, "x")
    _rank(x, 1, "x")
    return x.shape, x.dtype.base_dtype


def _invert_impl(xp: Any, x: Any) -> Any:
    n = x.shape[0]
    if on_host(xp):  # checked on the host only: on a GPU the check would stall the stream
        seen = xp.zeros((n,), dtype=bool)
        inside = (x >= 0) & (x < n)
        seen[x[inside]] = True
        if not (inside.all() and seen.all()):
            raise ValueError(f"{x.tolist()} is not a permutation of 0..{n - 1}")
    out = xp.empty_like(x)
    out[x] = xp.arange(n, dtype=x.dtype)
    return out


INVERT_PERMUTATION = register_op(OpDef(
    "InvertPermutation", infer=_invert_infer, impl=_invert_impl, grad=NO_GRADIENT,
    sample=lambda rng: [([rng.permutation(6).astype(np.int32)], {}), ([np.array([2, 0, 1], np.int64)], {})],
))


def invert_permutation(x: Any, name: str | None = None) -> Tensor:
    return INVERT_PERMUTATION(x, name=name)


# --- Bincount (the output length depends on max(arr) unless minlength == maxlength) ---
def _bincount_infer(arr: Tensor, *weights: Tensor, minlength: int | None, maxlength: int | None,
                    dtype: dtypes.DType) -> Any:
    if arr.dtype.base_dtype != dtypes.int32:
        raise TypeError(f"Value passed to parameter 'arr' has DataType {arr.dtype.base_dtype.name} not in list of "
                        "allowed values: int32")
    out = weights[0].dtype.base_dtype if weights else dtype
    size = minlength if minlength is not None and minlength == maxlength else None
    return (size,), out


def _bincount_impl(xp: Any, arr: Any, *weights: Any, minlength: int | None, maxlength: int | None,
                   dtype: dtypes.DType) -> Any:
    if on_host(xp) and arr.size and arr.min() < 0:
        raise ValueError("Input arr must be non-negative!")
    flat = arr.reshape(-1)
    length = flat.max() + 1 if flat.size else 0  # one device-to-host read on a GPU sizes the output
    length = max(length, minlength or 0)
    if maxlength is not None:
        length = min(length, maxlength)
    w = weights[0].reshape(-1) if weights else None
    keep = flat < length
    ids = xp.where(keep, flat, 0)
    if w is None:
        vals = keep.astype(dtype.np_dtype)
    else:
        vals = xp.where(keep, w, xp.zeros((), dtype=w.dtype))
    out = xp.zeros((length,), dtype=vals.dtype)
    from gpugraph.ops.xp_compat import scatter_add

    scatter_add(xp, out, ids, vals)
    return out


BINCOUNT = register_op(OpDef(
    "Bincount", infer=_bincount_infer, impl=_bincount_impl, grad=NO_GRADIENT, same_dtype=False,
    input_names=("arr", "weights"),
    sample=lambda rng: [([rng.integers(0, 5, (7,)).astype(np.int32)],
                         {"minlength": None, "maxlength": None, "dtype": dtypes.int32}),
                        ([np.array([[1, 4], [4, 9]], np.int32), rng.standard_normal((2, 2))],
                         {"minlength": 3, "maxlength": 6, "dtype": dtypes.float32}),
                        ([np.array([1, 1, 0], np.int32)], {"minlength": 5, "maxlength": 5, "dtype": dtypes.float64})],
))


def bincount(arr: Any, weights: Any = None, minlength: Any = None, maxlength: Any = None, dtype: Any = dtypes.int32,
             name: str | None = None) -> Tensor:
    """Counts of each value of ``arr`` (or sums of ``weights``); the length is max(arr)+1 within
    [minlength, maxlength]."""
    inputs = [arr] if weights is None else [arr, weights]
    return BINCOUNT(*inputs, name=name or "bincount", minlength=None if minlength is None else int(minlength),
                    maxlength=None if maxlength is None else int(maxlength), dtype=dtypes.as_dtype(dtype))


# --- HistogramFixedWidth ---
def _histogram_infer(values: Tensor, value_range: Tensor, *, nbins: int, dtype: dtypes.DType) -> Any:
    shape_fns.numeric(values)
    if value_range.shape.ndims is not None and value_range.shape.as_tuple() not in ((2,), (None,)):
        raise ValueError(f"value_range must have shape [2], got {value_range.shape}")
    if nbins <= 0:
        raise ValueError(f"nbins should be a positive number, but got '{nbins}'")
    return (nbins,), dtype


def _histogram_impl(xp: Any, values: Any, value_range: Any, *, nbins: int, dtype: dtypes.DType) -> Any:
    lo, hi = value_range[0], value_range[1]
    scaled = (values.reshape(-1) - lo) / (hi - lo)
    bins = xp.clip(xp.floor(scaled * nbins), 0, nbins - 1).astype(xp.int64)
    return xp.bincount(bins, minlength=nbins).astype(dtype.np_dtype)


HISTOGRAM_FIXED_WIDTH = register_op(OpDef(
    "HistogramFixedWidth", infer=_histogram_infer, impl=_histogram_impl, grad=NO_GRADIENT,
    input_names=("values", "value_range"),
    sample=lambda rng: [([rng.uniform(-2.0, 7.0, (4, 5)), np.array([0.0, 5.0])],
                         {"nbins": 5, "dtype": dtypes.int32})],
))


def histogram_fixed_width(values: Any, value_range: Any, nbins: int = 100, dtype: Any = dtypes.int32,
                          name: str | None = None) -> Tensor:
    graph = graph_of([values, value_range])
    with graph.as_default(), graph.name_scope(name or "histogram_fixed_width") as scope:
        values = convert_to_tensor(values, name="values")
        value_range = convert_to_tensor(value_range, dtype=values.dtype.base_dtype, name="value_range")
        return HISTOGRAM_FIXED_WIDTH(values, value_range, name=scope, nbins=int(nbins),
                                     dtype=dtypes.as_dtype(dtype))


# --- confusion_matrix ---
def _confusion_infer(labels: Tensor, predictions: Tensor, *weights: Tensor, num_classes: int | None,
                     dtype: dtypes.DType) -> Any:
    _rank(labels, 1, "labels")
    _rank(predictions, 1, "predictions")
    labels.shape.merge_with(predictions.shape)
    return (num_classes, num_classes), dtype


def _confusion_impl(xp: Any, labels: Any, predictions: Any, *weights: Any, num_classes: int | None,
                    dtype: dtypes.DType) -> Any:
    lab, pred = labels.astype(xp.int64), predictions.astype(xp.int64)
    if num_classes is None:
        n = (xp.maximum(lab.max(), pred.max()) + 1) if lab.size else 0  # one device-to-host read on a GPU
    else:
        n = num_classes
        if on_host(xp) and lab.size and (lab.min() < 0 or lab.max() >= n or pred.min() < 0 or pred.max() >= n):
            raise ValueError(f"labels and predictions must be in [0, {n})")
    out = xp.zeros((n * n,), dtype=dtype.np_dtype)
    vals = weights[0].astype(dtype.np_dtype) if weights else xp.ones(lab.shape, dtype=dtype.np_dtype)
    from gpugraph.ops.xp_compat import scatter_add

    scatter_add(xp, out, lab * n + pred, vals)
    return out.reshape(n, n)


CONFUSION_MATRIX = register_op(OpDef(
    "ConfusionMatrix", infer=_confusion_infer, impl=_confusion_impl, grad=NO_GRADIENT, same_dtype=False,
    input_names=("labels", "predictions", "weights"),
    sample=lambda rng: [([np.array([1, 2, 4, 0, 2]), np.array([2, 2, 4, 1, 0])],
                         {"num_classes": None, "dtype": dtypes.int32}),
                        ([np.array([0, 1, 1]), np.array([1, 1, 0]), rng.uniform(0, 1, (3,))],
                         {"num_classes": 3, "dtype": dtypes.float64})],
))


def confusion_matrix(labels: Any, predictions: Any, num_classes: Any = None, dtype: Any = dtypes.int32,
                     name: str | None = None, weights: Any = None) -> Tensor:
    """Rows are labels, columns predictions; [n, n] with n = num_classes or max(labels, predictions) + 1."""
    graph = graph_of([labels, predictions, weights])
    with graph.as_default(), graph.name_scope(name or "confusion_matrix") as scope:
        labels = convert_to_tensor(labels, name="labels")
        predictions = convert_to_tensor(predictions, name="predictions")
        for t, what in ((labels, "labels"), (predictions, "predictions")):
            if not t.dtype.base_dtype.is_integer:
                raise TypeError(f"{what} must be an integer tensor, got {t.dtype.base_dtype.name}")
        inputs = [labels, predictions] + ([] if weights is None else [convert_to_tensor(weights, name="weights")])
        return CONFUSION_MATRIX(*inputs, name=scope, num_classes=None if num_classes is None else int(num_classes),
                                dtype=dtypes.as_dtype(dtype))
