"""N-d indexing and layout: gather_nd, scatter_nd, where (coordinates), boolean_mask, sequence_mask,
broadcast_to, meshgrid, repeat, roll, reverse_sequence.

where(condition) and boolean_mask have output sizes that depend on the values: on a GPU, finding the
size needs one device-to-host read, as TF's GPU kernels do.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from gpugraph.framework import dtypes
from gpugraph.framework.tensor import Tensor
from gpugraph.framework.tensor_shape import TensorShape
from gpugraph.ops import shape_fns
from gpugraph.ops.constant_ops import convert_to_tensor
from gpugraph.ops.grad_util import SUM_TO_SHAPE
from gpugraph.ops.registry import NO_GRADIENT, OpDef, graph_of, register_op
from gpugraph.ops.xp_compat import on_host, scatter_add

__all__ = ["gather_nd", "scatter_nd", "boolean_mask", "sequence_mask", "broadcast_to", "meshgrid", "repeat",
           "roll", "reverse_sequence"]

_INDEX = (dtypes.int32, dtypes.int64)


def _linear(xp: Any, indices: Any, dims: tuple[int, ...]) -> Any:
    """Row-major offsets of index tuples (last axis of ``indices``) into the leading ``dims``."""
    k = indices.shape[-1]
    flat = indices.reshape(-1, k).astype(xp.int64)
    if on_host(xp) and flat.size:
        bad = (flat < 0) | (flat >= xp.asarray(dims, dtype=xp.int64))
        if bad.any():
            row = int(xp.argwhere(bad.any(axis=1))[0][0])
            raise ValueError(f"indices[{row}] = {flat[row].tolist()} does not index into param shape {list(dims)}")
    strides = [math.prod(dims[i + 1:]) for i in range(k)]  # Python ints: no device array
    return (flat * xp.asarray(strides, dtype=xp.int64)).sum(axis=1) if k else xp.zeros(flat.shape[0], xp.int64)


def _gather_nd_infer(params: Tensor, indices: Tensor) -> Any:
    if indices.dtype.base_dtype not in _INDEX:
        raise TypeError(f"Value passed to parameter 'indices' has DataType {indices.dtype.base_dtype.name} not in "
                        "list of allowed values: int32, int64")
    pd, di = params.shape.as_tuple(), indices.shape.as_tuple()
    if pd is None or di is None or di[-1] is None:
        return TensorShape(None), params.dtype.base_dtype
    if di[-1] > len(pd):
        raise ValueError(f"indices.shape[-1] must be <= params.rank, but saw indices shape: {list(di)} and params "
                         f"shape: {list(pd)}")
    return di[:-1] + pd[di[-1]:], params.dtype.base_dtype


def _gather_nd_impl(xp: Any, params: Any, indices: Any) -> Any:
    k = indices.shape[-1]
    rows = params.reshape((-1,) + params.shape[k:])
    return rows[_linear(xp, indices, params.shape[:k])].reshape(indices.shape[:-1] + params.shape[k:])


def _scatter_nd_add(xp: Any, indices: Any, updates: Any, shape: tuple[int, ...]) -> Any:
    k = indices.shape[-1]
    out = xp.zeros((math.prod(shape[:k]),) + tuple(shape[k:]), dtype=updates.dtype)
    scatter_add(xp, out, _linear(xp, indices, tuple(shape[:k])), updates.reshape((-1,) + tuple(shape[k:])))
    return out.reshape(shape)


GATHER_ND_GRAD = register_op(OpDef(
    "GatherNdGrad", infer=lambda dy, indices, params: (params.shape, dy.dtype.base_dtype), same_dtype=False,
    impl=lambda xp, dy, indices, params: _scatter_nd_add(xp, indices, dy, params.shape),
    grad=lambda op, g: [GATHER_ND(g, op.inputs[1]), None, None], input_names=("grad", "indices", "params"),
    sample=lambda rng: [([rng.standard_normal((3, 2)), np.array([[0, 1], [2, 0], [0, 1]]),
                          rng.standard_normal((3, 2, 2))], {})],
))
GATHER_ND = register_op(OpDef(
    "GatherNd", infer=_gather_nd_infer, impl=_gather_nd_impl, same_dtype=False, input_names=("params", "indices"),
    grad=lambda op, dy: [GATHER_ND_GRAD(dy, op.inputs[1], op.inputs[0]), None],
    sample=lambda rng: [([rng.standard_normal((3, 4)), np.array([[0, 1], [2, 3], [0, 1]])], {}),
                        ([rng.standard_normal((3, 2, 2)), np.array([[[2], [0]]], np.int32)], {})],
))


def _scatter_nd_infer(indices: Tensor, updates: Tensor, *, shape: tuple[int, ...]) -> Any:
    if indices.dtype.base_dtype not in _INDEX:
        raise TypeError(f"Value passed to parameter 'indices' has DataType {indices.dtype.base_dtype.name} not in "
                        "list of allowed values: int32, int64")
    di, du = indices.shape.as_tuple(), updates.shape.as_tuple()
    if di is not None and du is not None and di[-1] is not None:
        want = TensorShape(di[:-1] + tuple(shape[di[-1]:]))
        if not want.is_compatible_with(TensorShape(du)):
            raise ValueError(f"The outer {len(di) - 1} dimensions of indices.shape={list(di)} must match the outer "
                             f"dimensions of updates.shape={list(du)}; the inner dimensions must match shape {shape}")
    return shape, updates.dtype.base_dtype


SCATTER_ND = register_op(OpDef(
    "ScatterNd", infer=_scatter_nd_infer, same_dtype=False, input_names=("indices", "updates"),
    impl=lambda xp, indices, updates, *, shape: _scatter_nd_add(xp, indices, updates, shape),
    grad=lambda op, dy: [None, GATHER_ND(dy, op.inputs[0])],
    sample=lambda rng: [([np.array([[1], [3], [1]]), rng.standard_normal((3, 2))], {"shape": (4, 2)}),
                        ([np.array([[0, 1], [1, 1]], np.int32), rng.standard_normal((2,))], {"shape": (2, 3)})],
))


def gather_nd(params: Any, indices: Any, name: str | None = None, batch_dims: int = 0) -> Tensor:
    if batch_dims:
        raise ValueError("gather_nd: batch_dims other than 0 is not supported")
    return GATHER_ND(params, indices, name=name)


def scatter_nd(indices: Any, updates: Any, shape: Any, name: str | None = None) -> Tensor:
    """Zeros of ``shape`` with ``updates`` added at ``indices`` (repeated indices add up, as TF's)."""
    from gpugraph.ops.array_ops import _shape_tuple

    return SCATTER_ND(indices, updates, name=name, shape=_shape_tuple(shape, "scatter_nd shape"))


# --- Where: coordinates of true (non-zero) entries ---
WHERE = register_op(OpDef(
    "Where", infer=lambda x: ((None, x.shape.ndims), dtypes.int64),
    impl=lambda xp, x: xp.argwhere(x).astype(xp.int64),  # one device-to-host read on a GPU: the count
    grad=NO_GRADIENT, input_names=("input",),
    sample=lambda rng: [([rng.random((3, 4)) > 0.5], {}), ([np.array([0.0, 1.5, 0.0, -2.0])], {})],
))


def where_v1_coordinates(condition: Any, name: str | None = None) -> Tensor:
    """tf.where(condition) with no x and y: the [num_true, rank] int64 coordinates of true entries."""
    return WHERE(condition, name=name or "Where")


def boolean_mask(tensor: Any, mask: Any, name: str = "boolean_mask", axis: Any = None) -> Tensor:
    """The entries of ``tensor`` where ``mask`` is true, as TF1 builds it: flatten the masked dims, then gather."""
    from gpugraph.ops.array_ops import reshape, shape, squeeze
    from gpugraph.ops.index_ops import gather
    from gpugraph.ops.manip_ops import concat

    graph = graph_of([tensor, mask])
    with graph.as_default(), graph.name_scope(name) as scope:
        tensor = convert_to_tensor(tensor, name="tensor")
        mask = convert_to_tensor(mask, name="mask")
        if not mask.dtype.base_dtype.is_bool:
            raise TypeError(f"mask must be a bool tensor, got {mask.dtype.base_dtype.name}")
        ndims_mask = mask.shape.ndims
        if ndims_mask is None:
            raise ValueError("Number of mask dimensions must be specified, even if some dimensions are None.")
        if ndims_mask == 0:
            raise ValueError("mask cannot be scalar.")
        axis = 0 if axis is None else int(axis)
        rank = tensor.shape.ndims
        if rank is not None:
            axis = axis % rank
            mask_dims = tensor.shape[axis:axis + ndims_mask]
            if not TensorShape(mask_dims.as_tuple()).is_compatible_with(mask.shape):
                raise ValueError(f"Shapes {tensor.shape[axis:axis + ndims_mask]} and {mask.shape} are incompatible")
        dims = tensor.shape.as_tuple()
        lead = dims[axis:axis + ndims_mask] if dims is not None else None
        if lead is not None and shape_fns.known(lead) and dims is not None:
            flat_shape: Any = list(dims[:axis]) + [int(np.prod(lead))] + [-1 if d is None else d
                                                                        for d in dims[axis + ndims_mask:]]
            if flat_shape.count(-1) > 1:
                flat_shape = concat([shape(tensor)[:axis], [int(np.prod(lead))], shape(tensor)[axis + ndims_mask:]],
                                    0)
        else:
            flat_shape = concat([shape(tensor)[:axis], [-1], shape(tensor)[axis + ndims_mask:]], 0)
        flat = reshape(tensor, flat_shape)
        picked = squeeze(WHERE(reshape(mask, [-1])), axis=[1])
        return gather(flat, picked, axis=axis, name=scope)


def sequence_mask(lengths: Any, maxlen: Any = None, dtype: Any = dtypes.bool_, name: str | None = None) -> Tensor:
    """mask[..., j] = j < lengths[...]; maxlen defaults to max(lengths)."""
    from gpugraph.ops.array_ops import expand_dims
    from gpugraph.ops.dynamic_shape_ops import range as range_
    from gpugraph.ops.math_ops import CAST, cast, less, maximum
    from gpugraph.ops.reduction_ops import reduce_max

    graph = graph_of([lengths, maxlen])
    with graph.as_default(), graph.name_scope(name or "SequenceMask"):
        lengths = convert_to_tensor(lengths, name="lengths")
        if maxlen is None:
            maxlen = maximum(convert_to_tensor(0, dtype=lengths.dtype.base_dtype), reduce_max(lengths))
        else:
            maxlen = convert_to_tensor(maxlen, name="maxlen")
            if maxlen.shape.ndims not in (None, 0):
                raise ValueError(f"maxlen must be scalar for sequence_mask, got shape {maxlen.shape}")
        row = range_(0, maxlen, 1)
        # TF1's op names: the lengths cast to maxlen's dtype is Cast (always an op), the result's cast Cast_1
        with graph.name_scope("Cast") as cast_scope:
            matrix = CAST(expand_dims(lengths, -1), name=cast_scope, DstT=maxlen.dtype.base_dtype)
        result = less(row, matrix)
        target = dtypes.as_dtype(dtype).base_dtype
        return result if target == dtypes.bool_ else cast(result, target)


# --- BroadcastTo ---
def _broadcast_to_infer(x: Tensor, *, shape: tuple[int, ...]) -> Any:
    dims = x.shape.as_tuple()
    if dims is not None:
        out = shape_fns.broadcast_dims(dims, shape)
        if out is not None and tuple(out) != tuple(shape):
            raise ValueError(f"Unable to broadcast tensor of shape {list(dims)} to tensor of shape {list(shape)}")
    return shape, x.dtype.base_dtype


BROADCAST_TO = register_op(OpDef(
    "BroadcastTo", infer=_broadcast_to_infer, input_names=("input",), aliases=True,
    impl=lambda xp, x, *, shape: xp.broadcast_to(x, shape),
    grad=lambda op, dy: [SUM_TO_SHAPE(dy, op.inputs[0])],
    sample=lambda rng: [([rng.standard_normal((3, 1))], {"shape": (2, 3, 4)})],
))


def broadcast_to(input: Any, shape: Any, name: str | None = None) -> Tensor:  # noqa: A002 - TF1 name
    from gpugraph.ops.array_ops import _shape_tuple

    return BROADCAST_TO(input, name=name, shape=_shape_tuple(shape, "broadcast_to shape"))


def meshgrid(*args: Any, **kwargs: Any) -> list[Tensor]:
    """Coordinate grids: 'xy' (Cartesian, the default) swaps the first two output axes, 'ij' does not."""
    from gpugraph.ops.array_ops import ones_like, reshape

    indexing = kwargs.pop("indexing", "xy")
    name = kwargs.pop("name", "meshgrid")
    if kwargs:
        raise TypeError(f"'{next(iter(kwargs))}' is an invalid keyword argument for this function")
    if indexing not in ("xy", "ij"):
        raise ValueError("indexing parameter must be either 'xy' or 'ij'")
    graph = graph_of(list(args))
    with graph.as_default(), graph.name_scope(name):
        xs = [convert_to_tensor(a) for a in args]
        n = len(xs)
        shapes = []
        for i in range(n):
            s = [1] * n
            s[i] = -1
            if indexing == "xy" and n > 1 and i < 2:
                s[0], s[1] = s[1], s[0]
            shapes.append(s)
        flat = [reshape(x, s) for x, s in zip(xs, shapes)]
        ones = [ones_like(f) for f in flat]
        out = []
        for i, f in enumerate(flat):
            for j, o in enumerate(ones):
                if j != i:
                    f = f * o
            out.append(f)
        return out


def repeat(input: Any, repeats: Any, axis: Any = None, name: str | None = None) -> Tensor:  # noqa: A002
    """np.repeat: a gather of each index repeated (static repeats and a known axis length)."""
    from gpugraph.ops.array_ops import reshape
    from gpugraph.ops.index_ops import gather
    from gpugraph.ops.manip_ops import _ints

    graph = graph_of([input])
    with graph.as_default(), graph.name_scope(name or "Repeat") as scope:
        x = convert_to_tensor(input, name="input")
        if axis is None:
            x, axis = reshape(x, [-1]), 0
        reps = _ints(repeats, "repeat repeats")
        dims = x.shape.as_tuple()
        if dims is None:
            raise ValueError("repeat needs the rank of its input")
        axis = shape_fns.normalize_axis(int(axis), len(dims))
        n = dims[axis]
        if n is None:
            raise ValueError("repeat needs the length of its input along axis to be known")
        if len(reps) not in (1, n):
            raise ValueError(f"repeats must be a scalar or have length {n}, got {len(reps)}")
        index = np.repeat(np.arange(n, dtype=np.int32), reps if len(reps) == n else reps[0])
        return gather(x, index, axis=axis, name=scope)


# --- Roll, ReverseSequence ---
def _roll_infer(x: Tensor, *, shift: tuple[int, ...], axis: tuple[int, ...]) -> Any:
    if len(shift) != len(axis):
        raise ValueError(f"shift and axis must have the same size, got {len(shift)} and {len(axis)}")
    if x.shape.ndims is not None:
        for a in axis:
            shape_fns.normalize_axis(a, x.shape.ndims)
    return x.shape, x.dtype.base_dtype


ROLL = register_op(OpDef(
    "Roll", infer=_roll_infer, impl=lambda xp, x, *, shift, axis: xp.roll(x, shift, axis), input_names=("input",),
    grad=lambda op, dy: [ROLL(dy, shift=tuple(-s for s in op.get_attr("shift")), axis=op.get_attr("axis"))],
    sample=lambda rng: [([rng.standard_normal((3, 4))], {"shift": (1, -3), "axis": (0, 1)}),
                        ([rng.standard_normal((5,))], {"shift": (7,), "axis": (0,)})],
))


def roll(input: Any, shift: Any, axis: Any, name: str | None = None) -> Tensor:  # noqa: A002 - TF1 name
    from gpugraph.ops.manip_ops import _ints

    return ROLL(input, name=name, shift=_ints(shift, "roll shift"), axis=_ints(axis, "roll axis"))


def _reverse_sequence_infer(x: Tensor, lengths: Tensor, *, seq_axis: int, batch_axis: int) -> Any:
    if lengths.dtype.base_dtype not in _INDEX:
        raise TypeError("seq_lengths must be int32 or int64")
    if lengths.shape.ndims not in (None, 1):
        raise ValueError(f"Shape must be rank 1 but is rank {lengths.shape.ndims} for seq_lengths")
    rank = x.shape.ndims
    if rank is not None:
        if seq_axis == batch_axis or not (0 <= seq_axis < rank and 0 <= batch_axis < rank):
            raise ValueError(f"Invalid seq_axis {seq_axis} / batch_axis {batch_axis} for rank {rank}")
        TensorShape([x.shape.as_tuple()[batch_axis]]).merge_with(lengths.shape)
    return x.shape, x.dtype.base_dtype


def _reverse_sequence_impl(xp: Any, x: Any, lengths: Any, *, seq_axis: int, batch_axis: int) -> Any:
    if on_host(xp) and lengths.size and (lengths.max() > x.shape[seq_axis] or lengths.min() < 0):
        raise ValueError(f"seq_lengths must be in [0, {x.shape[seq_axis]}], got {lengths.tolist()}")
    t = xp.arange(x.shape[seq_axis], dtype=xp.int64)
    ln = lengths.astype(xp.int64)[:, None]
    src = xp.where(t[None, :] < ln, ln - 1 - t[None, :], t[None, :])  # [batch, time]
    shape = [1] * x.ndim
    shape[batch_axis], shape[seq_axis] = x.shape[batch_axis], x.shape[seq_axis]
    order = [batch_axis, seq_axis] if batch_axis < seq_axis else [seq_axis, batch_axis]
    src = src if order[0] == batch_axis else src.T
    return xp.take_along_axis(x, xp.broadcast_to(src.reshape(shape), x.shape), axis=seq_axis)


REVERSE_SEQUENCE = register_op(OpDef(
    "ReverseSequence", infer=_reverse_sequence_infer, impl=_reverse_sequence_impl, same_dtype=False,
    input_names=("input", "seq_lengths"),
    grad=lambda op, dy: [REVERSE_SEQUENCE(dy, op.inputs[1], **op.attrs), None],
    sample=lambda rng: [([rng.standard_normal((3, 4, 2)), np.array([2, 4, 0])], {"seq_axis": 1, "batch_axis": 0}),
                        ([rng.standard_normal((4, 2)), np.array([3, 1], np.int32)], {"seq_axis": 0, "batch_axis": 1})],
))


def reverse_sequence(input: Any, seq_lengths: Any, seq_axis: Any = None, batch_axis: Any = None,  # noqa: A002
                     name: str | None = None, seq_dim: Any = None, batch_dim: Any = None) -> Tensor:
    seq_axis = seq_dim if seq_axis is None else seq_axis
    batch_axis = batch_dim if batch_axis is None else batch_axis
    if seq_axis is None:
        raise ValueError("reverse_sequence needs seq_axis")
    return REVERSE_SEQUENCE(input, seq_lengths, name=name, seq_axis=int(seq_axis),
                            batch_axis=0 if batch_axis is None else int(batch_axis))
