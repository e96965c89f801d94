"""tf.TensorArray: a flow tensor whose run-time value is a TensorArrayValue (TF1's mutable resource).

Forward writes go in place into one buffer of shape [size, *element_shape], indexed on the device
(no host read, except to grow a ``dynamic_size`` array). Gradients are TensorArrayValues too: the
gradient of a read is a sparse entry (index, dy); sums of gradient arrays add buffers and chain entries.
"""

from __future__ import annotations

import math
from typing import Any

from gpugraph.framework import dtypes
from gpugraph.framework.tensor import Operation, Tensor
from gpugraph.framework.tensor_shape import TensorShape
from gpugraph.ops import xp_compat
from gpugraph.ops.constant_ops import convert_to_tensor
from gpugraph.ops.registry import NO_GRADIENT, OpDef, graph_of, register_op

__all__ = ["TensorArray"]

_FLOW = (TensorShape(()), dtypes.float32)


class TensorArrayValue:
    """The run-time value of a TensorArray flow."""

    __array_ufunc__ = None  # NumPy defers ``zero + value`` (gradient sums) to __radd__

    def __init__(self, xp: Any, size: int | None, dynamic: bool, element_shape: tuple[int, ...] | None,
                 dtype: Any, dense: Any = None, entries: Any = None):
        self.xp, self.size, self.dynamic = xp, size, dynamic
        self.element_shape, self.dtype = element_shape, dtype
        self.dense = dense  # [capacity, *element_shape] or None before the first write
        self.entries = entries  # gradient entries: a chain ((indices, values), rest) or None
        self._rows_read = False  # a gradient read from it before: the next read stacks it once
        self._stacked: Any = None  # that stack, kept for the reads after it (a backward loop reads every row)

    # --- forward ---
    def _buffer_for(self, shape: tuple[int, ...], dtype: Any, needed: int) -> Any:
        if self.dense is None:
            capacity = max(needed, self.size or 0)
            self.element_shape = tuple(shape)
            self.dense = self.xp.zeros((capacity, *shape), dtype=dtype)
        elif tuple(shape) != tuple(self.dense.shape[1:]):
            raise ValueError(f"Could not write to TensorArray: element shape {tuple(shape)} differs from "
                             f"the shape of the elements already written, {tuple(self.dense.shape[1:])}")
        elif needed > self.dense.shape[0]:
            grown = self.xp.zeros((max(needed, 2 * self.dense.shape[0]), *shape), dtype=self.dense.dtype)
            grown[: self.dense.shape[0]] = self.dense
            self.dense = grown
        return self.dense

    def write(self, index: Any, value: Any) -> TensorArrayValue:
        needed = 0
        if self.dynamic:  # growing needs the index on the host
            needed = int(index) + 1
            self.size = max(self.size or 0, needed)
        self._stacked = None
        self._buffer_for(value.shape, value.dtype, needed)[index] = value
        return self

    def scatter(self, indices: Any, values: Any) -> TensorArrayValue:
        needed = 0
        if self.dynamic:
            needed = int(indices.max()) + 1 if indices.size else 0
            self.size = max(self.size or 0, needed)
        self._stacked = None
        self._buffer_for(values.shape[1:], values.dtype, needed)[indices] = values
        return self

    def stacked(self) -> Any:
        """All elements as one array (gradient entries added in)."""
        if self.dense is None and self.entries is None:
            if self.element_shape is None or self.size:
                raise ValueError("TensorArray has size zero, or its elements were never written and their "
                                 "shape is unknown: cannot read, stack or gather them")
            return self.xp.zeros((0, *self.element_shape), dtype=self.dtype)
        if self.entries is None:
            return self.dense[: self.size] if self.size is not None else self.dense
        out = self.xp.zeros((self.size, *self.element_shape), dtype=self.dtype) if self.dense is None \
            else self.xp.array(self.dense[: self.size], copy=True)
        node = self.entries
        while node is not None:
            (indices, values), node = node
            _scatter_rows_add(self.xp, out, indices, values)
        return out

    def read(self, index: Any) -> Any:
        return self.xp.take(self.stacked(), index, axis=0)

    # --- gradients ---
    def zero_gradient(self) -> TensorArrayValue:
        return TensorArrayValue(self.xp, self.size, False, self.element_shape, self.dtype)

    def with_entry(self, indices: Any, values: Any) -> TensorArrayValue:
        shape = self.element_shape if self.element_shape is not None else tuple(values.shape[indices.ndim:])
        return TensorArrayValue(self.xp, self.size, False, shape, values.dtype, None, ((indices, values), None))

    def __add__(self, other: Any) -> TensorArrayValue:
        if not isinstance(other, TensorArrayValue):
            return self  # a zero gradient: autodiff fills missing flow gradients with 0.0
        dense = other.dense if self.dense is None else self.dense if other.dense is None else \
            self.dense[: self.size] + other.dense[: other.size]
        longer, shorter = (self.entries, other.entries) if _length(self.entries) >= _length(other.entries) \
            else (other.entries, self.entries)
        while shorter is not None:  # prepend the shorter chain: sums stay linear over a loop
            entry, shorter = shorter
            longer = (entry, longer)
        size = self.size if self.size is not None else other.size
        shape = self.element_shape if self.element_shape is not None else other.element_shape
        return TensorArrayValue(self.xp, size, False, shape, self.dtype, dense, longer)

    __radd__ = __add__


def _scatter_rows_add(xp: Any, out: Any, indices: Any, values: Any) -> None:
    """``out[indices] += values`` (repeated rows summed) as one scatter over elements: NumPy's add.at is
    several times faster on flat indices than on rows. ``out`` is contiguous."""
    width = math.prod(out.shape[1:])
    flat = (xp.reshape(indices, (-1, 1)).astype(xp.int64) * width + xp.arange(width, dtype=xp.int64)).reshape(-1)
    xp_compat.scatter_add(xp, out.reshape(-1), flat, xp.reshape(values, (-1,)))


def _length(chain: Any) -> int:
    n = 0
    while chain is not None and n < 64:  # enough to pick the shorter of two chains in the common case
        chain = chain[1]
        n += 1
    return n


def _value_or_zeros(xp: Any, flow: Any, index: Any, like: Any, gather: bool = False) -> Any:
    if not isinstance(flow, TensorArrayValue) or (flow.dense is None and flow.entries is None):
        return xp.zeros_like(like)
    if flow.entries is None:
        return xp.take(flow.stacked(), index, axis=0)
    if flow._rows_read and flow.size is not None:  # read again (one row per step of a backward loop): stack once
        if flow._stacked is None:
            flow._stacked = flow.stacked()
        return xp.take(flow._stacked, index, axis=0)
    flow._rows_read = True
    # Only the rows at ``index``: a flow read once (a new flow each step) is not stacked whole for one row.
    out = xp.zeros_like(like) if flow.dense is None else xp.take(flow.dense, index, axis=0)
    node = flow.entries
    while node is not None:
        (indices, values), node = node
        flat = indices.reshape(-1)
        hits = (xp.reshape(index, (-1, 1)) == flat.reshape(1, -1)).astype(values.dtype)  # [rows read, rows held]
        out = out + xp.matmul(hits, values.reshape((flat.shape[0], -1))).reshape(out.shape)
    return out


def _flow_only(*args: Any, **attrs: Any) -> Any:
    return _FLOW


def _spec(shape: Any, dtype: dtypes.DType) -> Any:
    return TensorShape(shape), dtype


def _new_array(xp: Any, size: Any, *, dtype: dtypes.DType, element_shape: TensorShape, dynamic_size: bool) -> Any:
    dims = element_shape.as_tuple()
    known = dims if dims is not None and None not in dims else None
    value = TensorArrayValue(xp, int(size), dynamic_size, known, dtype.np_dtype)  # the size: read once, at creation
    if known is not None and not dynamic_size:
        value.dense = xp.zeros((int(size), *known), dtype=dtype.np_dtype)
    return value


TENSOR_ARRAY = register_op(OpDef("TensorArrayV3", infer=_flow_only, impl=_new_array, grad=NO_GRADIENT,
                                 stateful=True, input_names=("size",)))
WRITE = register_op(OpDef(
    "TensorArrayWriteV3", infer=_flow_only, impl=lambda xp, flow, index, value: flow.write(index, value),
    grad=lambda op, dflow: [dflow, None, READ_GRAD_VALUE(dflow, op.inputs[1], op.inputs[2])],
    stateful=True, same_dtype=False, input_names=("flow_in", "index", "value")))
SCATTER = register_op(OpDef(
    "TensorArrayScatterV3", infer=_flow_only, impl=lambda xp, flow, indices, value: flow.scatter(indices, value),
    grad=lambda op, dflow: [dflow, None, READ_GRAD_VALUE(dflow, op.inputs[1], op.inputs[2])],
    stateful=True, same_dtype=False, input_names=("flow_in", "indices", "value")))


def _read_infer(flow: Tensor, index: Tensor, *, dtype: dtypes.DType, element_shape: TensorShape) -> Any:
    return (TensorShape(index.shape.concatenate(element_shape)) if index.shape.ndims is not None and
            element_shape.ndims is not None else TensorShape(None)), dtype


READ = register_op(OpDef(
    "TensorArrayReadV3", infer=_read_infer,
    impl=lambda xp, flow, index, *, dtype, element_shape: flow.read(index),
    grad=lambda op, dy: [ENTRY_GRAD(op.inputs[0], op.inputs[1], dy), None],
    stateful=True, same_dtype=False, input_names=("flow_in", "index")))
SIZE = register_op(OpDef(
    "TensorArraySizeV3", infer=lambda flow: (TensorShape(()), dtypes.int32),
    impl=lambda xp, flow: xp.asarray(flow.size if flow.size is not None else 0, dtype=xp.int32),
    grad=NO_GRADIENT, stateful=True, input_names=("flow_in",)))
# gradients: a flow holding one entry; an element (or gathered rows) of a gradient flow, or zeros
ENTRY_GRAD = register_op(OpDef(
    "TensorArrayEntryGrad", infer=lambda flow, index, dy: _FLOW,
    impl=lambda xp, flow, index, dy: flow.with_entry(index, dy), grad=NO_GRADIENT, stateful=True,
    same_dtype=False, input_names=("flow_in", "index", "grad")))
READ_GRAD_VALUE = register_op(OpDef(
    "TensorArrayGradRead", infer=lambda flow, index, like: (like.shape, like.dtype.base_dtype),
    impl=lambda xp, flow, index, like: _value_or_zeros(xp, flow, index, like), grad=NO_GRADIENT,
    stateful=True, same_dtype=False, input_names=("flow_in", "index", "like")))


def _concat_impl(xp: Any, flow: Any, *, dtype: dtypes.DType, element_shape: TensorShape) -> Any:
    stacked = flow.stacked()
    lengths = xp.full((stacked.shape[0],), stacked.shape[1] if stacked.ndim > 1 else 1, dtype=xp.int64)
    return stacked.reshape((-1, *stacked.shape[2:])), lengths


def _concat_infer(flow: Tensor, *, dtype: dtypes.DType, element_shape: TensorShape) -> Any:
    dims = element_shape.as_tuple()
    shape = TensorShape((None, *dims[1:])) if dims else TensorShape(None)
    return [(shape, dtype), (TensorShape((None,)), dtypes.int64)]


CONCAT = register_op(OpDef(
    "TensorArrayConcatV3", infer=_concat_infer, impl=_concat_impl,
    grad=lambda op, dy, dlengths: [CONCAT_GRAD(op.inputs[0], dy)], stateful=True, input_names=("flow_in",)))
CONCAT_GRAD = register_op(OpDef(
    "TensorArrayConcatGrad", infer=lambda flow, dy: _FLOW,
    impl=lambda xp, flow, dy: TensorArrayValue(xp, flow.size, False, flow.element_shape, dy.dtype,
                                               dy.reshape((flow.size, *flow.element_shape))),
    grad=NO_GRADIENT, stateful=True, same_dtype=False, input_names=("flow_in", "grad")))


class TensorArray:
    """TF1's ``tf.TensorArray``: write/read/stack/unstack/gather/scatter/concat, usable as a loop variable."""

    def __init__(self, dtype: Any, size: Any = None, dynamic_size: Any = None, clear_after_read: Any = None,
                 tensor_array_name: Any = None, handle: Any = None, flow: Any = None, infer_shape: bool = True,
                 element_shape: Any = None, colocate_with_first_write_call: bool = True, name: Any = None):
        self._dtype = dtypes.as_dtype(dtype).base_dtype
        self._dynamic_size = bool(dynamic_size)
        self._infer_shape = infer_shape
        self._shape_cell = [TensorShape(element_shape)]  # shared by every TensorArray of this flow chain, as TF1
        if flow is not None:
            self._flow = convert_to_tensor(flow)
            return
        if handle is not None:
            raise ValueError("TensorArray from a handle alone is not supported; pass flow= as well")
        if size is None:
            raise ValueError("Size must be provided if handle is not provided")
        graph = graph_of([size])
        with graph.as_default(), graph.name_scope(name or "TensorArray") as scope:
            size_t = convert_to_tensor(size, dtype=dtypes.int32, name="size")
            self._flow = TENSOR_ARRAY(size_t, name=scope, dtype=self._dtype, element_shape=self._element_shape,
                                      dynamic_size=self._dynamic_size)

    def _with_flow(self, flow: Tensor) -> TensorArray:
        ta = TensorArray.__new__(TensorArray)
        ta._dtype, ta._dynamic_size, ta._infer_shape = self._dtype, self._dynamic_size, self._infer_shape
        ta._shape_cell, ta._flow = self._shape_cell, flow
        return ta

    @property
    def flow(self) -> Tensor:
        return self._flow

    @property
    def handle(self) -> Tensor:
        return self._flow

    @property
    def dtype(self) -> dtypes.DType:
        return self._dtype

    @property
    def dynamic_size(self) -> bool:
        return self._dynamic_size

    @property
    def element_shape(self) -> TensorShape:
        return self._shape_cell[0]

    @property
    def _element_shape(self) -> TensorShape:
        return self._shape_cell[0]

    def _merge_shape(self, shape: TensorShape) -> None:
        if not self._infer_shape:
            return
        if not self._element_shape.is_compatible_with(shape):
            raise ValueError(f"Inconsistent shapes: saw {shape} but expected {self._element_shape} "
                             "(and infer_shape=True)")
        self._shape_cell[0] = self._element_shape.merge_with(shape)

    def identity(self) -> TensorArray:
        from gpugraph.ops.array_ops import identity

        return self._with_flow(identity(self._flow))

    def write(self, index: Any, value: Any, name: str | None = None) -> TensorArray:
        graph = graph_of([self._flow, index, value])
        with graph.as_default(), graph.name_scope(name or "TensorArrayWrite"):
            value = convert_to_tensor(value, dtype=self._dtype, name="value")
            self._merge_shape(value.shape)
            flow = WRITE(self._flow, convert_to_tensor(index, dtype=dtypes.int32), value)
        return self._with_flow(flow)

    def read(self, index: Any, name: str | None = None) -> Tensor:
        return READ(self._flow, convert_to_tensor(index, dtype=dtypes.int32), name=name,
                    dtype=self._dtype, element_shape=self._element_shape)

    def size(self, name: str | None = None) -> Tensor:
        return SIZE(self._flow, name=name)

    def gather(self, indices: Any, name: str | None = None) -> Tensor:
        return READ(self._flow, convert_to_tensor(indices, dtype=dtypes.int32), name=name or "TensorArrayGatherV3",
                    dtype=self._dtype, element_shape=self._element_shape)

    def stack(self, name: str | None = None) -> Tensor:
        from gpugraph.ops.dynamic_shape_ops import range as range_

        graph = graph_of([self._flow])
        with graph.as_default(), graph.name_scope(name or "TensorArrayStack"):
            return self.gather(range_(0, self.size()), name="TensorArrayGatherV3")

    def scatter(self, indices: Any, value: Any, name: str | None = None) -> TensorArray:
        graph = graph_of([self._flow, indices, value])
        with graph.as_default(), graph.name_scope(name or "TensorArrayScatter"):
            value = convert_to_tensor(value, dtype=self._dtype, name="value")
            if value.shape.ndims:
                self._merge_shape(TensorShape(value.shape.as_tuple()[1:]))
            flow = SCATTER(self._flow, convert_to_tensor(indices, dtype=dtypes.int32), value)
        return self._with_flow(flow)

    def unstack(self, value: Any, name: str | None = None) -> TensorArray:
        from gpugraph.ops.array_ops import shape as shape_of
        from gpugraph.ops.dynamic_shape_ops import range as range_

        graph = graph_of([self._flow, value])
        with graph.as_default(), graph.name_scope(name or "TensorArrayUnstack"):
            value = convert_to_tensor(value, dtype=self._dtype, name="value")
            n = value.shape.as_tuple()[0] if value.shape.ndims and value.shape.as_tuple()[0] is not None \
                else shape_of(value)[0]
            return self.scatter(range_(0, n), value, name="TensorArrayScatter")

    def concat(self, name: str | None = None) -> Tensor:
        return CONCAT(self._flow, name=name or "TensorArrayConcatV3", dtype=self._dtype,
                      element_shape=self._element_shape)[0]

    def close(self, name: str | None = None) -> Operation:
        from gpugraph.ops.control_flow_ops import no_op

        return no_op(name=name or "TensorArrayCloseV3")
