"""Tensor manipulation: concat, split, unstack, slice (see index_ops.py for gather, pad, one_hot...).

Axes, sizes, multiples and paddings are static attrs (Python ints); Tensor-valued ones raise TypeError.
"""

from __future__ import annotations

import builtins
import itertools
from typing import Any, Sequence

import numpy as np

from gpugraph.framework import dtypes
from gpugraph.framework.tensor import Operation, Tensor
from gpugraph.framework.tensor_shape import TensorShape
from gpugraph.ops import array_ops, shape_fns, slicing_ops
from gpugraph.ops.constant_ops import convert_to_tensor
from gpugraph.ops.registry import OpDef, register_op

__all__ = ["concat", "unstack", "split", "slice"]

_ALL = builtins.slice(None)
_INDEX_TYPES = (dtypes.int32, dtypes.int64)


# --- static-argument helpers ---
def _no_tensor(value: Any, what: str) -> None:
    if isinstance(value, Tensor) or hasattr(value, "_as_tensor"):
        raise TypeError(f"{what} given as a Tensor is not supported; pass Python ints.")


def _static_value(value: Any, what: str) -> Any:
    """A Tensor argument (or list holding Tensors) whose value the graph alone fixes, as NumPy; else refused."""
    from gpugraph.ops import dynamic_shape_ops

    if not dynamic_shape_ops.contains_graph_value(value):
        return value
    t = convert_to_tensor(value)
    known = shape_fns.constant_value(t)
    if known is None:
        raise TypeError(f"{what} given as a Tensor known only at run time is not supported; got {t}.")
    return known


def _int(value: Any, what: str) -> int:
    value = _static_value(value, what)
    arr = np.asarray(value)
    if arr.ndim != 0 or arr.dtype.kind not in "iu":
        raise TypeError(f"{what} must be a Python int, got {value!r}")
    return int(arr)


def _ints(value: Any, what: str) -> tuple[int, ...]:
    value = _static_value(value, what)
    if isinstance(value, (int, np.integer)):
        return (int(value),)
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError):
        raise TypeError(f"{what} must be a list of ints, got {value!r}") from None
    if arr.size and arr.dtype.kind not in "iu" or arr.ndim > 1:
        raise TypeError(f"{what} must be a list of ints, got {value!r}")
    return tuple(int(v) for v in arr.reshape(-1))


def _axis(axis: int, rank: int, what: str = "axis") -> int:
    if not -rank <= axis < rank:
        raise ValueError(f"Expected {what} in the range [{-rank}, {rank}), but got {axis}")
    return axis % rank


def _outs(parts: Sequence[Any]) -> Any:
    """A multi-output impl returns a tuple; with one output, the bare array (what the plan expects)."""
    return parts[0] if len(parts) == 1 else tuple(parts)


def _as_list(result: Any) -> list[Tensor]:
    if isinstance(result, Operation):
        return []
    return [result] if isinstance(result, Tensor) else list(result)


def _replace(dims: tuple[Any, ...], a: int, value: Any) -> tuple[Any, ...]:
    return dims[:a] + (value,) + dims[a + 1:]


def _along(axis: int, lo: Any, hi: Any) -> tuple[Any, ...]:
    return (_ALL,) * axis + (builtins.slice(lo, hi),)


def _randn(*shapes: tuple[int, ...], **attrs: Any) -> Any:
    return lambda rng: [([rng.standard_normal(s) for s in shapes], dict(attrs))]


# --- ConcatV2 and its gradient SplitLike ---
def _concat_infer(*xs: Tensor, axis: int) -> Any:
    dt = xs[0].dtype.base_dtype
    known = [t for t in xs if t.shape.ndims is not None]
    if not known:
        return TensorShape(None), dt
    rank = known[0].shape.ndims
    for t in known:
        if t.shape.ndims != rank:
            raise ValueError(f"Shape must be rank {rank} but is rank {t.shape.ndims}")
    if rank == 0:
        raise ValueError("Can't concatenate scalars (use tf.stack instead)")
    a = _axis(axis, rank, "concatenating dimensions")
    out: list[Any] = [None] * rank
    for t in known:
        for i, d in enumerate(t.shape.as_tuple()):
            if i == a or d is None:
                continue
            if out[i] is not None and out[i] != d:
                raise ValueError(f"Dimension {i} in both shapes must be equal, but are {out[i]} and {d}. "
                                 f"Shapes are {known[0].shape} and {t.shape}.")
            out[i] = d
    sizes = [t.shape.as_tuple()[a] for t in known]
    out[a] = sum(sizes) if len(known) == len(xs) and None not in sizes else None
    return tuple(out), dt


CONCAT = register_op(OpDef(
    "ConcatV2", infer=_concat_infer, impl=lambda xp, *xs, axis: xp.concatenate(xs, axis=axis),
    grad=lambda op, dy: _as_list(SPLIT_LIKE(dy, *op.inputs, axis=op.get_attr("axis"))),
    input_names=("values",), default_name="concat",
    sample=lambda rng: [([rng.standard_normal((2, 3)), rng.standard_normal((2, 2))], {"axis": 1}),
                        ([rng.standard_normal((1, 3)) for _ in range(3)], {"axis": -2})],
))


def _split_like_infer(value: Tensor, *likes: Tensor, axis: int) -> Any:
    dims = value.shape.as_tuple()
    dt = value.dtype.base_dtype
    if dims is None:
        return [(like.shape, dt) for like in likes]
    a = _axis(axis, len(dims))
    return [(TensorShape(_replace(dims, a, None)).merge_with(like.shape), dt) for like in likes]


def _split_like_impl(xp: Any, value: Any, *likes: Any, axis: int) -> Any:
    return _outs(_pieces(value, [0, *itertools.accumulate(like.shape[axis] for like in likes)], axis))


def _pieces(x: Any, edges: Sequence[int], axis: int) -> list[Any]:
    """Views of ``x`` between consecutive ``edges`` along ``axis`` (basic slicing: cheaper than xp.split)."""
    lead = (builtins.slice(None),) * (axis % x.ndim)  # this module defines tf.slice
    return [x[lead + (builtins.slice(a, b),)] for a, b in zip(edges[:-1], edges[1:])]


def _split_equal(xp: Any, x: Any, *, num_split: int, axis: int) -> Any:
    d = x.shape[axis]
    if d % num_split:
        raise ValueError(f"Dimension size must be evenly divisible by {num_split} but is {d}")
    return _outs(_pieces(x, [i * (d // num_split) for i in range(num_split + 1)], axis))


SPLIT_LIKE = register_op(OpDef(
    "SplitLike", infer=_split_like_infer, impl=_split_like_impl, same_dtype=False, aliases=True,
    grad=lambda op, *dys: [_concat(dys, op.get_attr("axis"))] + [None] * (len(op.inputs) - 1),
    input_names=("value", "like"),
    sample=_randn((2, 5), (2, 3), (2, 2), axis=1),
))


def _concat(values: Sequence[Any], axis: int, name: str = "concat") -> Tensor:
    if len(values) == 1:
        return array_ops.identity(values[0], name=name)
    return CONCAT(*values, name=name, axis=axis)


# --- Unpack, Split, SplitV ---
def _unpack_infer(value: Tensor, *, num: int, axis: int) -> Any:
    dims = value.shape.as_tuple()
    dt = value.dtype.base_dtype
    if dims is None:
        return [(TensorShape(None), dt)] * num
    a = _axis(axis, len(dims))
    if dims[a] is not None and dims[a] != num:
        raise ValueError(f"Dimension must be {num} but is {dims[a]}")
    return [(dims[:a] + dims[a + 1:], dt)] * num


def _unpack_impl(xp: Any, value: Any, *, num: int, axis: int) -> Any:
    if value.shape[axis] != num:
        raise ValueError(f"Input shape axis {axis} must equal {num}, got shape {list(value.shape)}")
    lead = (_ALL,) * (axis % value.ndim)
    return _outs([value[lead + (i,)] for i in range(num)])


UNPACK = register_op(OpDef(
    "Unpack", infer=_unpack_infer, impl=_unpack_impl, aliases=True,
    grad=lambda op, *dys: [array_ops.PACK(*dys, axis=op.get_attr("axis"))],
    sample=lambda rng: [([rng.standard_normal((3, 4))], {"num": 3, "axis": 0}),
                        ([rng.standard_normal((2, 3))], {"num": 3, "axis": -1})],
))


def _split_infer(value: Tensor, *, num_split: int, axis: int) -> Any:
    dims = value.shape.as_tuple()
    dt = value.dtype.base_dtype
    if dims is None:
        return [(TensorShape(None), dt)] * num_split
    a = _axis(axis, len(dims))
    d = dims[a]
    if d is not None and d % num_split:
        raise ValueError(f"Dimension size must be evenly divisible by {num_split} but is {d}")
    return [(_replace(dims, a, None if d is None else d // num_split), dt)] * num_split


def _split_grad(op: Operation, *dys: Tensor) -> list[Any]:
    return [_concat(dys, op.get_attr("axis"))]


SPLIT = register_op(OpDef(
    "Split", infer=_split_infer, grad=_split_grad, aliases=True, input_names=("value",),
    impl=_split_equal,
    sample=_randn((4, 6), num_split=3, axis=1),
))


def _split_sizes(sizes: tuple[int, ...], d: int | None) -> list[Any]:
    """Resolve the one allowed -1 of SplitV's sizes against the split dimension (None: unknown)."""
    given = sum(s for s in sizes if s != -1)
    fits = d is None or (given <= d if -1 in sizes else given == d)
    if not fits:
        raise ValueError("Determined shape must either match input shape along split_dim exactly if fully "
                         "specified, or be less than the size of the input along split_dim if not fully "
                         f"specified.  Got: {given} (dimension size {d})")
    return [(None if d is None else d - given) if s == -1 else s for s in sizes]


def _split_v_infer(value: Tensor, *, size_splits: tuple[int, ...], axis: int) -> Any:
    dims = value.shape.as_tuple()
    dt = value.dtype.base_dtype
    if dims is None:
        return [(TensorShape(None), dt)] * len(size_splits)
    a = _axis(axis, len(dims))
    return [(_replace(dims, a, s), dt) for s in _split_sizes(size_splits, dims[a])]


def _split_v_impl(xp: Any, x: Any, *, size_splits: tuple[int, ...], axis: int) -> Any:
    bounds = list(itertools.accumulate(_split_sizes(size_splits, x.shape[axis])))[:-1]
    return _outs(xp.split(x, bounds, axis=axis))


SPLIT_V = register_op(OpDef(
    "SplitV", infer=_split_v_infer, impl=_split_v_impl, grad=_split_grad, aliases=True,
    input_names=("value",), sample=_randn((2, 6), size_splits=(1, -1, 2), axis=1),
))


# --- Slice ---
def _slice_dims(dims: tuple[Any, ...], begin: tuple[int, ...], size: tuple[int, ...]) -> tuple[Any, ...]:
    if not len(dims) == len(begin) == len(size):
        raise ValueError(f"Expected begin and size arguments to be 1-D tensors of size {len(dims)}, but got "
                         f"shapes [{len(begin)}] and [{len(size)}] instead.")
    out: list[Any] = []
    for i, (b, s, d) in enumerate(zip(begin, size, dims)):
        if b < 0 or (d is not None and b > d):
            raise ValueError(f"Expected begin[{i}] in [0, {'?' if d is None else d}], but got {b}")
        if s < -1 or (d is not None and s != -1 and b + s > d):
            raise ValueError(f"Expected size[{i}] in [-1, {'?' if d is None else d - b}], but got {s}")
        out.append((None if d is None else d - b) if s == -1 else s)
    return tuple(out)


def _slice_spec(begin: tuple[int, ...], size: tuple[int, ...]) -> tuple[builtins.slice, ...]:
    return tuple(builtins.slice(b, None if s == -1 else b + s) for b, s in zip(begin, size))


def _slice_infer(x: Tensor, *, begin: tuple[int, ...], size: tuple[int, ...]) -> Any:
    dims = x.shape.as_tuple()
    return _slice_dims((None,) * len(begin) if dims is None else dims, begin, size), x.dtype.base_dtype


def _slice_impl(xp: Any, x: Any, *, begin: tuple[int, ...], size: tuple[int, ...]) -> Any:
    _slice_dims(x.shape, begin, size)  # NumPy would silently clip an out-of-range slice
    return x[_slice_spec(begin, size)]


SLICE = register_op(OpDef(
    "Slice", infer=_slice_infer, impl=_slice_impl, aliases=True, input_names=("input",),
    grad=lambda op, dy: [slicing_ops.STRIDED_SLICE_GRAD(
        dy, op.inputs[0], spec=_slice_spec(op.get_attr("begin"), op.get_attr("size")))],
    sample=_randn((3, 4), begin=(1, 0), size=(2, -1)),
))


# --- public functions (TF1 names, signatures and default op names) ---
def concat(values: Any, axis: Any, name: str = "concat") -> Tensor:
    """Join tensors along ``axis``; a single value is returned through an identity, as TF1 does."""
    values = list(values) if isinstance(values, (list, tuple)) else [values]
    if not values:
        raise ValueError("tf.concat requires a non-empty list of tensors")
    types = [v.dtype.base_dtype for v in values if isinstance(v, Tensor) or hasattr(v, "_as_tensor")]
    if len(set(types)) > 1:
        raise TypeError(f"Tensors in list passed to 'values' of 'ConcatV2' Op have types "
                        f"[{', '.join(t.name for t in types)}] that don't all match.")
    return _concat(values, _int(axis, "tf.concat axis"), name=name)


def unstack(value: Any, num: Any = None, axis: Any = 0, name: str = "unstack") -> list[Tensor]:
    value = convert_to_tensor(value)
    axis = _int(axis, "tf.unstack axis")
    if num is None:
        dims = value.shape.as_tuple()
        a = None if dims is None else _axis(axis, len(dims))
        if a is None or dims[a] is None:  # type: ignore[index]
            raise ValueError(f"Cannot infer num from shape {value.shape} for '{name}' (op: 'Unpack')")
        num = dims[a]  # type: ignore[index]
    return _as_list(UNPACK(value, name=name, num=_int(num, "tf.unstack num"), axis=axis))


def split(value: Any, num_or_size_splits: Any, axis: Any = 0, num: Any = None, name: str = "split") -> list[Tensor]:
    """An int splits into that many equal parts ('Split'); a list of sizes (one may be -1) uses 'SplitV'."""
    axis = _int(axis, "tf.split axis")
    _no_tensor(num_or_size_splits, "tf.split num_or_size_splits")
    if isinstance(num_or_size_splits, (int, np.integer)):
        count = int(num_or_size_splits)
        if count < 1:
            raise ValueError(f"tf.split: num_or_size_splits must be >= 1, got {count}")
        return _as_list(SPLIT(value, name=name, num_split=count, axis=axis))
    sizes = _ints(num_or_size_splits, "tf.split num_or_size_splits")
    if not sizes:
        raise ValueError("tf.split: size_splits must not be empty")
    if sizes.count(-1) > 1 or any(s < -1 for s in sizes):
        raise ValueError(f"tf.split: size_splits {list(sizes)} may hold at most one -1 and no other negatives")
    return _as_list(SPLIT_V(value, name=name, size_splits=sizes, axis=axis))


def slice(input_: Any, begin: Any, size: Any, name: str | None = None) -> Tensor:  # noqa: A001 - TF1 name
    from gpugraph.ops import dynamic_slicing

    begin_entries = dynamic_slicing.entries(begin, "tf.slice begin")
    size_entries = dynamic_slicing.entries(size, "tf.slice size")
    if any(isinstance(v, Tensor) for v in begin_entries + size_entries):
        return dynamic_slicing.slice_dynamic(input_, begin_entries, size_entries, name or "Slice")
    return SLICE(input_, name=name, begin=_ints(begin, "tf.slice begin"), size=_ints(size, "tf.slice size"))
