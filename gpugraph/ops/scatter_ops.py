"""Sparse updates of variables in place: tf.scatter_* and tf.scatter_nd_*, tf.count_up_to."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from gpugraph import errors
from gpugraph.framework import dtypes
from gpugraph.framework.tensor import Operation, Tensor
from gpugraph.framework.tensor_shape import TensorShape
from gpugraph.ops import xp_compat
from gpugraph.ops.registry import NO_GRADIENT, OpDef, register_op
from gpugraph.ops.state_ops import _ref_of, _uninitialized

__all__ = ["scatter_update", "scatter_add", "scatter_sub", "scatter_mul", "scatter_div", "scatter_max",
           "scatter_min", "scatter_nd_update", "scatter_nd_add", "scatter_nd_sub", "batch_scatter_update",
           "count_up_to"]

_INDEX_DTYPES = (dtypes.int32, dtypes.int64)


def _dims(shape: TensorShape | tuple[int, ...]) -> str:
    dims = shape.as_tuple() if isinstance(shape, TensorShape) else shape
    return "?" if dims is None else "[" + ",".join("?" if d is None else str(d) for d in dims) + "]"


def _check_dtypes(kind: str, ref: Tensor, indices: Tensor, updates: Tensor) -> None:
    if updates.dtype.base_dtype != ref.dtype.base_dtype:
        raise TypeError(f"Input 'updates' of '{kind}' Op has type {updates.dtype.base_dtype.name} that does not "
                        f"match type {ref.dtype.base_dtype.name} of argument 'ref'.")
    if indices.dtype.base_dtype not in _INDEX_DTYPES:
        raise TypeError(f"Value passed to parameter 'indices' has DataType {indices.dtype.base_dtype.name} not in "
                        f"list of allowed values: int32, int64")


def _merge_shapes(kind: str, expected: TensorShape, updates: TensorShape, shapes: str) -> None:
    """TF's shape-function errors for ``updates`` against ``indices.shape + ref.shape[1:]``."""
    if expected.ndims is None or updates.ndims is None:
        return
    if expected.ndims != updates.ndims:
        raise ValueError(f"Shapes must be equal rank, but are {updates.ndims} and {expected.ndims} "
                         f"for '{kind}' with input shapes: {shapes}.")
    for i, (a, b) in enumerate(zip(updates.as_tuple(), expected.as_tuple())):
        if a is not None and b is not None and a != b:
            raise ValueError(f"Dimension {i} in both shapes must be equal, but are {a} and {b}. Shapes are "
                             f"{_dims(updates)} and {_dims(expected)}. for '{kind}' with input shapes: {shapes}.")


def _scatter_infer(kind: str) -> Any:
    def infer(ref: Tensor, indices: Tensor, updates: Tensor, use_locking: bool = False) -> Any:
        _check_dtypes(kind, ref, indices, updates)
        shapes = f"{_dims(ref.shape)}, {_dims(indices.shape)}, {_dims(updates.shape)}"
        if ref.shape.ndims == 0:
            raise ValueError(f"Shape must be at least rank 1 but is rank 0 for '{kind}' with input shapes: {shapes}.")
        if ref.shape.ndims is not None and indices.shape.ndims is not None:
            expected = TensorShape(list(indices.shape.as_tuple()) + list(ref.shape.as_tuple()[1:]))
            _merge_shapes(kind, expected, updates.shape, shapes)
        return ref.shape, ref.dtype.base_dtype._as_ref
    return infer


def _scatter_nd_infer(kind: str) -> Any:
    def infer(ref: Tensor, indices: Tensor, updates: Tensor, use_locking: bool = False) -> Any:
        _check_dtypes(kind, ref, indices, updates)
        shapes = f"{_dims(ref.shape)}, {_dims(indices.shape)}, {_dims(updates.shape)}"
        idx = indices.shape.as_tuple()
        if idx is not None and len(idx) == 0:
            raise ValueError(f"Shape must be at least rank 1 but is rank 0 for '{kind}' with input shapes: {shapes}.")
        if idx is not None and idx[-1] is not None and ref.shape.ndims is not None:
            depth = idx[-1]
            if depth > ref.shape.ndims:
                raise ValueError(f"Dimension {depth} must be >= {ref.shape.ndims}... indices.shape[-1] must be "
                                 f"<= params.rank, got indices.shape[-1] = {depth} and params.rank = "
                                 f"{ref.shape.ndims} for '{kind}' with input shapes: {shapes}.")
            expected = TensorShape(list(idx[:-1]) + list(ref.shape.as_tuple()[depth:]))
            _merge_shapes(kind, expected, updates.shape, shapes)
        return ref.shape, ref.dtype.base_dtype._as_ref
    return infer


def _checked_cell(op: Operation, ctx: Any) -> Any:
    var_op = op.inputs[0].op
    cell = ctx.cell(var_op)

    def value() -> Any:
        current = cell.value
        if current is None:
            raise _uninitialized(var_op)
        return current
    return value


def _check_updates_shape(op: Operation, want: tuple[int, ...], updates: Any, ref: Any, indices: Any) -> None:
    if tuple(updates.shape) != want:
        raise errors.InvalidArgumentError(
            None, op, f"Must have updates.shape = indices.shape + params.shape[1:] or updates.shape = [], got "
                      f"updates.shape {_dims(tuple(updates.shape))}, indices.shape {_dims(tuple(indices.shape))}, "
                      f"params.shape {_dims(tuple(ref.shape))}\n\t [[{{{{node {op.name}}}}}]]")


def _bind_scatter(kind: str) -> Any:
    def bind(op: Operation, ctx: Any) -> Any:
        read = _checked_cell(op, ctx)
        xp = ctx.backend.xp

        def step(indices: Any, updates: Any) -> Any:
            ref = read()
            want = tuple(indices.shape) + tuple(ref.shape[1:])
            if updates.ndim == 0:
                updates = xp.broadcast_to(updates, want)
            _check_updates_shape(op, want, updates, ref, indices)
            rows = indices.reshape(-1)
            if xp_compat.on_host(xp):
                bad = xp.flatnonzero((rows < 0) | (rows >= ref.shape[0]))
                if bad.size:
                    raise errors.InvalidArgumentError(
                        None, op, f"indices[{bad[0]}] = {rows[bad[0]]} is not in [0, {ref.shape[0]})"
                                  f"\n\t [[{{{{node {op.name}}}}}]]")
            xp_compat.scatter_rows(xp, kind, ref, rows, updates.reshape((rows.shape[0],) + ref.shape[1:]))
            return ref
        return step
    return bind


def _bind_scatter_nd(kind: str) -> Any:
    def bind(op: Operation, ctx: Any) -> Any:
        read = _checked_cell(op, ctx)
        xp = ctx.backend.xp

        def step(indices: Any, updates: Any) -> Any:
            ref = read()
            depth = indices.shape[-1]
            want = tuple(indices.shape[:-1]) + tuple(ref.shape[depth:])
            if updates.ndim == 0:
                updates = xp.broadcast_to(updates, want)
            _check_updates_shape(op, want, updates, ref, indices)
            flat = indices.reshape(-1, depth)
            if xp_compat.on_host(xp):
                bad = xp.flatnonzero(((flat < 0) | (flat >= xp.asarray(ref.shape[:depth]))).any(axis=1))
                if bad.size:
                    where = "[" + ", ".join(str(int(v)) for v in flat[bad[0]]) + "]"
                    raise errors.InvalidArgumentError(
                        None, op, f"indices[{bad[0]}] = {where} does not index into shape {_dims(tuple(ref.shape))}"
                                  f"\n\t [[{{{{node {op.name}}}}}]]")
            rows = xp.zeros(flat.shape[0], dtype=flat.dtype)
            for k in range(depth):  # over index depth (static), not over elements
                rows = rows * ref.shape[k] + flat[:, k]
            blocks = math.prod(ref.shape[:depth])
            view = ref.reshape((blocks,) + ref.shape[depth:])
            xp_compat.scatter_rows(xp, kind, view, rows, updates.reshape((flat.shape[0],) + ref.shape[depth:]))
            return ref
        return step
    return bind


def _register(name: str, kind: str, nd: bool) -> OpDef:
    return register_op(OpDef(
        name, infer=(_scatter_nd_infer if nd else _scatter_infer)(name),
        bind=(_bind_scatter_nd if nd else _bind_scatter)(kind), ref_input=True, stateful=True, grad=NO_GRADIENT,
        same_dtype=False, input_names=("ref", "indices", "updates"),
    ))


SCATTER_UPDATE = _register("ScatterUpdate", "update", nd=False)
SCATTER_ADD = _register("ScatterAdd", "add", nd=False)
SCATTER_SUB = _register("ScatterSub", "sub", nd=False)
SCATTER_MUL = _register("ScatterMul", "mul", nd=False)
SCATTER_DIV = _register("ScatterDiv", "div", nd=False)
SCATTER_MAX = _register("ScatterMax", "max", nd=False)
SCATTER_MIN = _register("ScatterMin", "min", nd=False)
SCATTER_ND_UPDATE = _register("ScatterNdUpdate", "update", nd=True)
SCATTER_ND_ADD = _register("ScatterNdAdd", "add", nd=True)
SCATTER_ND_SUB = _register("ScatterNdSub", "sub", nd=True)
SCATTER_ND_MAX = _register("ScatterNdMax", "max", nd=True)
SCATTER_ND_MIN = _register("ScatterNdMin", "min", nd=True)


def _builder(opdef: OpDef, locks_by_default: bool = False) -> Any:
    def build(ref: Any, indices: Any, updates: Any, use_locking: bool = locks_by_default,
              name: str | None = None) -> Tensor:
        target = _ref_of(ref)
        if not (isinstance(updates, Tensor) or hasattr(updates, "_as_tensor") or _holds_tensor(updates)):
            updates = np.asarray(updates, dtype=target.dtype.base_dtype.np_dtype)  # TF converts to ref's dtype
        # a list holding Tensors is packed (in ref's dtype) where the op converts its inputs, as TF1 does
        return opdef(target, indices, updates, name=name or opdef.name, use_locking=bool(use_locking))
    build.__name__ = build.__qualname__ = _snake(opdef.name)
    build.__doc__ = f"TF1's tf.{_snake(opdef.name)}: updates ``ref`` in place and returns it (a ref tensor)."
    return build


def _holds_tensor(value: Any) -> bool:
    from gpugraph.ops.constant_ops import _contains_tensor

    return isinstance(value, (list, tuple)) and _contains_tensor(value)


def _snake(op_name: str) -> str:
    out = "".join("_" + c.lower() if c.isupper() else c for c in op_name).lstrip("_")
    return out.replace("n_d_", "nd_")


scatter_update = _builder(SCATTER_UPDATE, locks_by_default=True)
scatter_add = _builder(SCATTER_ADD)
scatter_sub = _builder(SCATTER_SUB)
scatter_mul = _builder(SCATTER_MUL)
scatter_div = _builder(SCATTER_DIV)
scatter_max = _builder(SCATTER_MAX)
scatter_min = _builder(SCATTER_MIN)
scatter_nd_update = _builder(SCATTER_ND_UPDATE, locks_by_default=True)
scatter_nd_add = _builder(SCATTER_ND_ADD)
scatter_nd_sub = _builder(SCATTER_ND_SUB)
scatter_nd_max = _builder(SCATTER_ND_MAX)
scatter_nd_min = _builder(SCATTER_ND_MIN)


def batch_scatter_update(ref: Any, indices: Any, updates: Any, use_locking: bool = True,
                         name: str | None = None) -> Tensor:
    """``ref[i..., indices[i..., j]] = updates[i..., j]``: a scatter_nd_update over the leading batch dims."""
    from gpugraph import name_scope
    from gpugraph.ops.array_ops import reshape, shape as shape_of, stack
    from gpugraph.ops.constant_ops import convert_to_tensor
    from gpugraph.ops.dynamic_shape_ops import range as range_op
    from gpugraph.ops.math_ops import cast

    target = _ref_of(ref)
    with name_scope(name, "BatchScatterUpdate", [ref, indices, updates]):
        indices = convert_to_tensor(indices, name="indices")
        ndims = indices.shape.ndims
        if ndims is None:
            raise ValueError("batch_scatter_update needs the rank of indices to be known")
        if ndims == 1:
            return SCATTER_UPDATE(target, indices, updates, name="ScatterUpdate", use_locking=bool(use_locking))
        dims = shape_of(indices, out_type=indices.dtype)
        batch = []
        for axis in range(ndims - 1):  # one coordinate per batch dimension, broadcast to indices' shape
            pos = cast(range_op(dims[axis]), indices.dtype)
            view = [1] * ndims
            view[axis] = -1
            batch.append(reshape(pos, view) + indices * 0)
        nd_indices = stack(batch + [indices], axis=-1)
        return SCATTER_ND_UPDATE(target, nd_indices, updates, name="ScatterNdUpdate", use_locking=bool(use_locking))


def _count_up_to_bind(op: Operation, ctx: Any) -> Any:
    read = _checked_cell(op, ctx)
    limit = op.get_attr("limit")

    def step() -> Any:
        current = read()
        before = np.array(current)  # a host variable (gpu=False): a copy, not a round-trip
        if before >= limit:
            raise errors.OutOfRangeError(None, op, f"Reached limit of {limit}\n\t [[{{{{node {op.name}}}}}]]")
        current += 1
        return before
    return step


def _count_up_to_infer(ref: Tensor, *, limit: int) -> Any:
    if ref.dtype.base_dtype not in _INDEX_DTYPES:
        raise TypeError(f"Value passed to parameter 'ref' has DataType {ref.dtype.base_dtype.name} not in list of "
                        f"allowed values: int32, int64")
    if not ref.shape.is_compatible_with(TensorShape([])):
        raise ValueError(f"Shape must be rank 0 but is rank {ref.shape.ndims} for 'CountUpTo'")
    return TensorShape([]), ref.dtype.base_dtype


COUNT_UP_TO = register_op(OpDef(
    "CountUpTo", infer=_count_up_to_infer, bind=_count_up_to_bind, ref_input=True, stateful=True,
    grad=NO_GRADIENT, input_names=("ref",), gpu=False,
))


def count_up_to(ref: Any, limit: int, name: str | None = None) -> Tensor:
    """Increments ``ref`` and returns its old value; OutOfRangeError once it has reached ``limit``."""
    return COUNT_UP_TO(_ref_of(ref), name=name or "CountUpTo", limit=int(limit))
