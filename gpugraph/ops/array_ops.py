"""Shape and structure ops: identity, reshape, expand/squeeze, fill, stack, transpose (indexing: slicing_ops.py)."""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

from gpugraph.framework import dtypes
from gpugraph.framework.tensor import Tensor
from gpugraph.framework.tensor_shape import TensorShape
from gpugraph.ops import dynamic_shape_ops, shape_fns
from gpugraph.ops.constant_ops import convert_to_tensor
from gpugraph.ops.registry import NO_GRADIENT, OpDef, graph_of, register_op

__all__ = [
    "identity", "stop_gradient", "reshape", "expand_dims", "squeeze", "fill", "zeros", "ones",
    "zeros_like", "ones_like", "stack", "transpose", "shape", "size", "rank",
]


def _sample(*shapes: tuple[int, ...], **attrs: Any):
    return lambda rng: [([rng.standard_normal(s) for s in shapes], dict(attrs))]


IDENTITY = register_op(OpDef(
    "Identity", infer=shape_fns.same_shape, impl=lambda xp, x: x, grad=lambda op, dy: [dy],
    aliases=True, input_names=("input",), sample=_sample((2, 3)), cuda="out0 = in0",
))
STOP_GRADIENT = register_op(OpDef(
    "StopGradient", infer=shape_fns.same_shape, impl=lambda xp, x: x, grad=NO_GRADIENT,
    aliases=True, input_names=("input",), sample=_sample((2, 3)), cuda="out0 = in0",
))


def _reshape_dims(in_dims: Any, shape: tuple[int, ...]) -> tuple[Any, ...]:
    if sum(1 for s in shape if s == -1) > 1:
        raise ValueError(f"Cannot infer a shape with more than one -1 in {list(shape)}")
    if any(s < -1 for s in shape):
        raise ValueError(f"Invalid shape {list(shape)}: dimensions must be >= -1")
    if -1 not in shape:
        if shape_fns.known(in_dims) and int(np.prod(in_dims)) != int(np.prod(shape)):
            raise ValueError(f"Cannot reshape a tensor with {int(np.prod(in_dims))} elements to shape "
                             f"{list(shape)} ({int(np.prod(shape))} elements)")
        return shape
    if not shape_fns.known(in_dims):
        return tuple(None if s == -1 else s for s in shape)
    known = int(np.prod([s for s in shape if s != -1]))
    total = int(np.prod(in_dims))
    if known == 0 or total % known:
        raise ValueError(f"Cannot reshape a tensor with {total} elements to shape {list(shape)}")
    return tuple(total // known if s == -1 else s for s in shape)


def _reshape_infer(x: Tensor, *, shape: tuple[int, ...]) -> Any:
    return _reshape_dims(x.shape.as_tuple(), shape), x.dtype.base_dtype


RESHAPE = register_op(OpDef(
    "Reshape", infer=_reshape_infer, impl=lambda xp, x, *, shape: x.reshape(shape),
    grad=lambda op, dy: [reshape_like(dy, op.inputs[0])], aliases=True, input_names=("tensor",),
    sample=_sample((2, 3), shape=(3, -1)),
))
RESHAPE_LIKE = register_op(OpDef(
    "ReshapeLike", infer=lambda x, like: (like.shape, x.dtype.base_dtype),
    impl=lambda xp, x, like: x.reshape(like.shape),
    grad=lambda op, dy: [reshape_like(dy, op.inputs[0]), None], aliases=True, same_dtype=False,
    input_names=("tensor", "like"), sample=_sample((2, 3), (3, 2)),
))


def _expand_infer(x: Tensor, *, axis: int) -> Any:
    dims = x.shape.as_tuple()
    if dims is None:
        return TensorShape(None), x.dtype.base_dtype
    rank = len(dims) + 1
    a = shape_fns.normalize_axis(axis, rank)
    return dims[:a] + (1,) + dims[a:], x.dtype.base_dtype


def _expand_lowering(op: Any, xp: Any) -> Any:
    """Where the input's rank is known, the new axis as an index (``x[:, None, ...]``): the same view as
    ``expand_dims`` without its axis normalisation (10 -> 0.3 us for a loss gradient's column)."""
    rank = op.inputs[0].shape.ndims
    if rank is None:
        return None
    position = shape_fns.normalize_axis(op.get_attr("axis"), rank + 1)
    return operator.itemgetter((slice(None),) * position + (None, Ellipsis))


EXPAND_DIMS = register_op(OpDef(
    "ExpandDims", infer=_expand_infer, impl=lambda xp, x, *, axis: xp.expand_dims(x, axis),
    grad=lambda op, dy: [reshape_like(dy, op.inputs[0])], aliases=True, input_names=("input",),
    sample=_sample((2, 3), axis=-1), lowering=_expand_lowering,
))


def _squeeze_infer(x: Tensor, *, axis: tuple[int, ...] | None) -> Any:
    dims = x.shape.as_tuple()
    if dims is None:
        return TensorShape(None), x.dtype.base_dtype
    if axis is None:
        if any(d is None for d in dims):
            return TensorShape(None), x.dtype.base_dtype
        return tuple(d for d in dims if d != 1), x.dtype.base_dtype
    axes = {shape_fns.normalize_axis(a, len(dims)) for a in axis}
    for a in axes:
        if dims[a] not in (1, None):
            raise ValueError(f"Can not squeeze dim[{a}], expected a dimension of 1, got {dims[a]}")
    return tuple(d for i, d in enumerate(dims) if i not in axes), x.dtype.base_dtype


SQUEEZE = register_op(OpDef(
    "Squeeze", infer=_squeeze_infer, impl=lambda xp, x, *, axis: xp.squeeze(x, axis=axis),
    grad=lambda op, dy: [reshape_like(dy, op.inputs[0])], aliases=True, input_names=("input",),
    sample=_sample((2, 1, 3), axis=None),
))


def _fill_infer(value: Tensor, *, shape: TensorShape) -> Any:
    if value.shape.ndims not in (None, 0):
        raise ValueError(f"Shape must be rank 0 but is rank {value.shape.ndims}")
    return shape, value.dtype.base_dtype


FILL = register_op(OpDef(
    "Fill", infer=_fill_infer,
    impl=lambda xp, value, *, shape: xp.full(tuple(shape.as_list()), value),
    grad=lambda op, dy: [_sum_all(dy)], input_names=("value",),
    sample=lambda rng: [([np.float64(rng.standard_normal())], {"shape": TensorShape((2, 3))})],
))


def _like_infer(x: Tensor, *, dtype: dtypes.DType | None = None) -> Any:
    return x.shape, (x.dtype.base_dtype if dtype is None else dtype)


def _np_dtype(x: Any, dtype: dtypes.DType | None) -> Any:
    return x.dtype if dtype is None else dtype.np_dtype


ZEROS_LIKE = register_op(OpDef(
    "ZerosLike", infer=_like_infer, impl=lambda xp, x, *, dtype=None: xp.zeros(x.shape, _np_dtype(x, dtype)),
    grad=NO_GRADIENT, sample=_sample((2, 3)),
))
ONES_LIKE = register_op(OpDef(
    "OnesLike", infer=_like_infer, impl=lambda xp, x, *, dtype=None: xp.ones(x.shape, _np_dtype(x, dtype)),
    grad=NO_GRADIENT, sample=lambda rng: [([rng.standard_normal((2, 3))], {}),
                                          ([rng.standard_normal((3,))], {"dtype": dtypes.int32})],
))


def _pack_infer(*xs: Tensor, axis: int) -> Any:
    if not xs:
        raise ValueError("stack requires at least one tensor")
    dims: Any = xs[0].shape.as_tuple()
    for t in xs[1:]:
        if not TensorShape(dims).is_compatible_with(t.shape):
            raise ValueError(f"Shapes must be equal rank, but are {TensorShape(dims)} and {t.shape}")
        dims = TensorShape(dims).merge_with(t.shape).as_tuple()
    if dims is None:
        return TensorShape(None), xs[0].dtype.base_dtype
    a = shape_fns.normalize_axis(axis, len(dims) + 1)
    return dims[:a] + (len(xs),) + dims[a:], xs[0].dtype.base_dtype


def _pack_grad(op: Any, dy: Tensor) -> list[Any]:
    from gpugraph.ops.manip_ops import unstack

    return list(unstack(dy, num=len(op.inputs), axis=op.get_attr("axis")))


PACK = register_op(OpDef(
    "Pack", infer=_pack_infer, impl=lambda xp, *xs, axis: xp.stack(xs, axis=axis), grad=_pack_grad,
    input_names=("values",), sample=_sample((2, 3), (2, 3), axis=1),
))


def _transpose_infer(x: Tensor, *, perm: tuple[int, ...] | None) -> Any:
    dims = x.shape.as_tuple()
    if dims is None:
        return TensorShape(None), x.dtype.base_dtype
    if perm is None:
        return tuple(reversed(dims)), x.dtype.base_dtype
    if sorted(perm) != list(range(len(dims))):
        raise ValueError(f"perm {list(perm)} is not a permutation of the {len(dims)} dimensions")
    return tuple(dims[p] for p in perm), x.dtype.base_dtype


def _transpose_grad(op: Any, dy: Tensor) -> list[Any]:
    perm = op.get_attr("perm")
    inverse = None if perm is None else tuple(int(i) for i in np.argsort(perm))
    return [TRANSPOSE(dy, perm=inverse)]


TRANSPOSE = register_op(OpDef(
    "Transpose", infer=_transpose_infer, impl=lambda xp, x, *, perm: xp.transpose(x, perm),
    grad=_transpose_grad, aliases=True, sample=_sample((2, 3, 4), perm=(1, 2, 0)),
))

SHAPE = register_op(OpDef(
    "Shape", infer=lambda x, *, out_type: ((x.shape.ndims,), out_type),
    impl=lambda xp, x, *, out_type: xp.asarray(x.shape, dtype=out_type.np_dtype),
    grad=NO_GRADIENT, same_dtype=False, input_names=("input",),
    sample=_sample((2, 3), out_type=dtypes.int32),
))
SIZE = register_op(OpDef(
    "Size", infer=lambda x, *, out_type: ((), out_type),
    impl=lambda xp, x, *, out_type: xp.asarray(x.size, dtype=out_type.np_dtype),
    grad=NO_GRADIENT, same_dtype=False, input_names=("input",),
    sample=_sample((2, 3), out_type=dtypes.int32),
))
RANK = register_op(OpDef(
    "Rank", infer=lambda x: ((), dtypes.int32), impl=lambda xp, x: xp.asarray(x.ndim, dtype=np.int32),
    grad=NO_GRADIENT, same_dtype=False, input_names=("input",), sample=_sample((2, 3)),
))


# --- public functions ---
def identity(input: Any, name: str | None = None) -> Tensor:
    return IDENTITY(input, name=name)


def stop_gradient(input: Any, name: str | None = None) -> Tensor:
    return STOP_GRADIENT(input, name=name)


def _int(value: Any, what: str) -> int:
    """An exact integer (Python or NumPy); floats and bools are refused as TF1 refuses them."""
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{what}: expected an integer, got {value!r}")
    try:
        return operator.index(value)
    except TypeError:
        raise TypeError(f"{what}: expected an integer, got {value!r}") from None


def _ints(values: Any, what: str) -> tuple[int, ...]:
    if dynamic_shape_ops.contains_graph_value(values):
        values = _known_ints(values, what)
    if isinstance(values, np.ndarray):
        values = values.reshape(-1).tolist()
    if not isinstance(values, (list, tuple)):
        return (_int(values, what),)
    return tuple(_int(v, what) for v in values)


def _axis(axis: Any, what: str) -> int:
    """One axis: an int or a one-element list (TF1 accepts both)."""
    axes = _ints(axis, what)
    if len(axes) != 1:
        raise ValueError(f"{what}: expected a single axis, got {axis!r}")
    return axes[0]


def _known_ints(value: Any, what: str) -> list[int]:
    """A Tensor argument whose value the graph alone fixes; one known only at run time is refused."""
    t = convert_to_tensor(value)
    known = shape_fns.constant_value(t)
    if known is None or not t.dtype.base_dtype.is_integer:
        raise TypeError(f"{what}: a Tensor whose value is only known at run time is not supported here; "
                        f"got {t}.")
    return np.asarray(known).reshape(-1).tolist()


def _shape_tuple(shape: Any, what: str) -> tuple[int, ...]:
    if dynamic_shape_ops.contains_graph_value(shape):
        shape = _known_ints(shape, what)
    if isinstance(shape, TensorShape):
        if not shape.is_fully_defined():
            raise ValueError(f"{what}: shape {shape} must be fully defined")
        return tuple(shape.as_list())
    try:
        return _ints(shape, what)
    except TypeError:
        raise TypeError(f"{what}: shape must be a list of ints, got {shape!r}") from None


def reshape(tensor: Any, shape: Any, name: str | None = None) -> Tensor:
    """``tensor`` with the given shape; a shape Tensor (or a list holding some) may be known only at run time."""
    if not dynamic_shape_ops.contains_graph_value(shape):
        return RESHAPE(tensor, name=name, shape=_shape_tuple(shape, "tf.reshape"))
    graph = graph_of([tensor, *_flat(shape)])
    with graph.as_default(), graph.name_scope(name or "Reshape") as scope:
        return dynamic_shape_ops.reshape(tensor, shape, scope)


def _flat(value: Any) -> list[Any]:
    if isinstance(value, (list, tuple)):
        return [v for item in value for v in _flat(item)]
    return [value]


def reshape_like(x: Any, like: Tensor, name: str | None = None) -> Tensor:
    x = convert_to_tensor(x)
    if x.shape.is_fully_defined() and like.shape.is_fully_defined() and x.shape == like.shape:
        return x
    return RESHAPE_LIKE(x, like, name=name)


def expand_dims(input: Any, axis: Any = None, name: str | None = None, dim: Any = None) -> Tensor:
    axis = dim if axis is None else axis
    if axis is None:
        raise ValueError("tf.expand_dims requires an axis")
    return EXPAND_DIMS(input, name=name, axis=_axis(axis, "tf.expand_dims axis"))


def squeeze(input: Any, axis: Any = None, name: str | None = None, squeeze_dims: Any = None) -> Tensor:
    axis = squeeze_dims if axis is None else axis
    if axis is not None:
        axis = _ints(axis, "tf.squeeze axis")
        if not axis:
            axis = None
    return SQUEEZE(input, name=name, axis=axis)


def fill(dims: Any, value: Any, name: str | None = None) -> Tensor:
    """A tensor of shape ``dims`` filled with the scalar ``value``; ``dims`` may be a run-time Tensor."""
    if not dynamic_shape_ops.contains_graph_value(dims):
        return FILL(value, name=name, shape=TensorShape(_shape_tuple(dims, "tf.fill")))
    graph = graph_of([value, *_flat(dims)])
    with graph.as_default(), graph.name_scope(name or "Fill") as scope:
        return dynamic_shape_ops.fill(dims, value, scope)


def zeros(shape: Any, dtype: Any = dtypes.float32, name: str | None = None) -> Tensor:
    dt = dtypes.as_dtype(dtype).base_dtype
    return fill(shape, np.zeros((), dt.np_dtype), name=name or "zeros")


def ones(shape: Any, dtype: Any = dtypes.float32, name: str | None = None) -> Tensor:
    dt = dtypes.as_dtype(dtype).base_dtype
    return fill(shape, np.ones((), dt.np_dtype), name=name or "ones")


def _like(tensor: Any, dtype: Any, name: str | None, optimize: bool, default: str, op: OpDef,
          value: int) -> Tensor:
    """TF1's zeros_like/ones_like: a constant fill when the shape is known, else an op on ``tensor``."""
    graph = graph_of([tensor])
    with graph.as_default(), graph.name_scope(name or default) as scope:
        tensor = convert_to_tensor(tensor, name="tensor")
        dt = tensor.dtype.base_dtype if dtype is None else dtypes.as_dtype(dtype).base_dtype
        if optimize and tensor.shape.is_fully_defined():
            return fill(tensor.shape, np.full((), value, dt.np_dtype), name=scope)
        return op(tensor, name=scope, dtype=None if dt == tensor.dtype.base_dtype else dt)


def zeros_like(tensor: Any, dtype: Any = None, name: str | None = None, optimize: bool = True) -> Tensor:
    return _like(tensor, dtype, name, optimize, "zeros_like", ZEROS_LIKE, 0)


def ones_like(tensor: Any, dtype: Any = None, name: str | None = None, optimize: bool = True) -> Tensor:
    return _like(tensor, dtype, name, optimize, "ones_like", ONES_LIKE, 1)


def _sum_all(x: Tensor) -> Tensor:
    from gpugraph.ops.reduction_ops import reduce_sum

    return reduce_sum(x)


def stack(values: Any, axis: int = 0, name: str = "stack") -> Tensor:
    if not isinstance(values, (list, tuple)) or not values:
        raise ValueError("tf.stack expects a non-empty list of tensors")
    return PACK(*values, name=name, axis=_int(axis, "tf.stack axis"))


def transpose(a: Any, perm: Any = None, name: str = "transpose", conjugate: bool = False) -> Tensor:
    perm = None if perm is None else _ints(perm, "tf.transpose perm")
    return TRANSPOSE(a, name=name, perm=perm)


def shape(input: Any, name: str | None = None, out_type: Any = dtypes.int32) -> Tensor:
    return SHAPE(input, name=name, out_type=dtypes.as_dtype(out_type))


def size(input: Any, name: str | None = None, out_type: Any = dtypes.int32) -> Tensor:
    return SIZE(input, name=name, out_type=dtypes.as_dtype(out_type))


def rank(input: Any, name: str | None = None) -> Tensor:
    return RANK(input, name=name)
