"""Indexing: ``tensor[...]`` and tf.strided_slice (TF1's bit masks), with the gradient scatter."""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

from gpugraph.framework.tensor import Tensor
from gpugraph.framework.tensor_shape import TensorShape
from gpugraph.ops import dynamic_slicing
from gpugraph.ops.array_ops import _sample
from gpugraph.ops.constant_ops import convert_to_tensor
from gpugraph.ops.registry import OpDef, register_op

__all__ = ["strided_slice"]

_INDEX_ERROR = ("Only integers, slices (`:`), ellipsis (`...`), tf.newaxis (`None`) and scalar tf.int32/tf.int64 "
                "tensors are valid indices")


def _is_input_index(item: Any) -> bool:
    """A spec entry ("input", k): an integer index read from the op's input k + 1 at run time."""
    return isinstance(item, tuple)


def _resolve(spec: tuple[Any, ...], indices: tuple[Any, ...]) -> tuple[Any, ...]:
    """The index ``spec`` stands for: without index inputs, ``spec`` itself (a run pays no rebuild)."""
    if not indices:
        return spec
    # a 0-d device array indexes as an int (NumPy and CuPy alike): no host read of the index
    return tuple(indices[item[1]] if isinstance(item, tuple) else item for item in spec)


# --- strided slice: `tensor[...]` with ints, slices, None (new axis) and Ellipsis ---
def _slice_dims(dims: tuple[Any, ...], spec: tuple[Any, ...]) -> tuple[Any, ...]:
    n_real = sum(1 for s in spec if s is not None and s is not Ellipsis)
    if n_real > len(dims):
        raise ValueError(f"Index {spec} has more dimensions than the tensor's rank {len(dims)}")
    if Ellipsis not in spec:
        spec = spec + (Ellipsis,)
    out: list[Any] = []
    d = 0
    for item in spec:
        if item is None:
            out.append(1)
        elif item is Ellipsis:
            take = len(dims) - n_real
            out.extend(dims[d:d + take])
            d += take
        elif isinstance(item, slice):
            size = dims[d]
            out.append(None if size is None else len(range(*item.indices(size))))
            d += 1
        else:
            size = dims[d]
            if not _is_input_index(item) and size is not None and not -size <= item < size:
                raise ValueError(f"slice index {item} of dimension {d} out of bounds (size {size})")
            d += 1
    return tuple(out)


def _strided_slice_infer(x: Tensor, *indices: Tensor, spec: tuple[Any, ...]) -> Any:
    if sum(1 for s in spec if s is Ellipsis) > 1:
        raise ValueError("Multiple ellipses in slice spec not allowed")
    dims = x.shape.as_tuple()
    if dims is None:
        return TensorShape(None), x.dtype.base_dtype
    return _slice_dims(dims, spec), x.dtype.base_dtype


def _strided_slice_impl(xp: Any, x: Any, *indices: Any, spec: tuple[Any, ...]) -> Any:
    return x[_resolve(spec, indices) if indices else spec]


def _strided_slice_grad_impl(xp: Any, dy: Any, x: Any, *indices: Any, spec: tuple[Any, ...]) -> Any:
    out = xp.zeros(x.shape, dtype=dy.dtype)
    out[_resolve(spec, indices) if indices else spec] = dy
    return out


def _strided_slice_grad(op: Any, dy: Tensor) -> list[Any]:
    return [STRIDED_SLICE(dy, *op.inputs[1:], spec=op.get_attr("spec"))] + [None] * (len(op.inputs) - 1)


def _index_sample(rng: Any) -> list[Any]:
    return [([rng.standard_normal((3, 4)), np.int32(2)], {"spec": (slice(None), ("input", 0))}),
            ([rng.standard_normal((3, 4)), np.int64(-3)], {"spec": (("input", 0), slice(1, None))})]


STRIDED_SLICE_GRAD = register_op(OpDef(
    "StridedSliceGrad", infer=lambda dy, x, *indices, spec: (x.shape, dy.dtype.base_dtype),
    impl=_strided_slice_grad_impl, same_dtype=False, input_names=("dy", "x", "index"),
    grad=lambda op, g: [STRIDED_SLICE(g, *op.inputs[2:], spec=op.get_attr("spec"))] + [None] * (len(op.inputs) - 1),
    sample=lambda rng: [([rng.standard_normal((2,)), rng.standard_normal((2, 3))], {"spec": (slice(None), 1)})],
))
STRIDED_SLICE = register_op(OpDef(
    "StridedSlice", infer=_strided_slice_infer, impl=_strided_slice_impl,
    grad=lambda op, dy: [STRIDED_SLICE_GRAD(dy, *op.inputs, spec=op.get_attr("spec"))] + [None] * (len(op.inputs) - 1),
    aliases=True, same_dtype=False, input_names=("input", "index"),
    sample=lambda rng: _sample((3, 4), spec=(slice(0, 2), slice(1, None)))(rng) + _index_sample(rng),
    # an index of constants is the subscript itself: w[i] in a per-sample loop costs what NumPy's does
    lowering=lambda op, xp: operator.itemgetter(op.get_attr("spec")) if len(op.inputs) == 1 else None,
))


def _index_item(item: Any) -> Any:
    if item is None or item is Ellipsis:
        return item
    if isinstance(item, slice):
        parts = [_index_item(p) if p is not None else None for p in (item.start, item.stop, item.step)]
        if parts[2] == 0:
            raise ValueError("slice step cannot be zero")
        return slice(*parts)
    if isinstance(item, (bool, np.bool_)) or not hasattr(item, "__index__"):
        raise TypeError(f"{_INDEX_ERROR}, got {item!r}")
    return int(item)


def _fold(item: Any) -> Any:
    if isinstance(item, slice):
        return slice(*(dynamic_slicing.static_int(p) for p in (item.start, item.stop, item.step)))
    return dynamic_slicing.static_int(item)


def getitem(x: Any, spec: Any, name: str = "strided_slice") -> Tensor:
    """``tensor[spec]``: ints, slices, ``None`` (new axis), ``...`` and scalar int32/int64 Tensors."""
    if not isinstance(spec, tuple):
        spec = (spec,)
    spec = tuple(_fold(s) for s in spec)  # constant Tensors index as the ints they hold
    if dynamic_slicing.has_tensor(spec):
        return dynamic_slicing.getitem(x, spec, name, _INDEX_ERROR)
    return STRIDED_SLICE(convert_to_tensor(x), name=name, spec=tuple(_index_item(s) for s in spec))


def strided_slice(input_: Any, begin: Any, end: Any, strides: Any = None, begin_mask: int = 0, end_mask: int = 0,
                  ellipsis_mask: int = 0, new_axis_mask: int = 0, shrink_axis_mask: int = 0, var: Any = None,
                  name: str | None = None) -> Tensor:
    """TF1's bit-mask form; bit i of a mask applies to the i-th entry of ``begin``/``end``/``strides``."""
    begin = dynamic_slicing.entries(begin, "tf.strided_slice begin")
    end = dynamic_slicing.entries(end, "tf.strided_slice end")
    strides = (1,) * len(begin) if strides is None else dynamic_slicing.entries(strides, "tf.strided_slice strides")
    if not len(begin) == len(end) == len(strides):
        raise ValueError(f"tf.strided_slice: begin, end and strides must have the same length, got "
                         f"{len(begin)}, {len(end)} and {len(strides)}")
    spec: list[Any] = []
    for i, (b, e, step) in enumerate(zip(begin, end, strides)):
        bit = 1 << i
        if ellipsis_mask & bit:
            spec.append(Ellipsis)
        elif new_axis_mask & bit:
            spec.append(None)
        elif shrink_axis_mask & bit:
            spec.append(b)
        else:
            spec.append(slice(None if begin_mask & bit else b, None if end_mask & bit else e, step))
    return getitem(input_, tuple(spec), name=name or "StridedSlice")
