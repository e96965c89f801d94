"""Reductions over axes: sum, mean, max, min, prod (with keepdims)."""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from gpugraph.framework.tensor import Tensor
from gpugraph.framework.tensor_shape import TensorShape
from gpugraph.ops import shape_fns
from gpugraph.ops.grad_util import BROADCAST_REDUCED
from gpugraph.ops.registry import OpDef, register_op
from gpugraph.ops.xp_compat import FLOAT_SCALARS, on_host

__all__ = ["reduce_sum", "reduce_mean", "reduce_max", "reduce_min", "reduce_prod"]


def _reduce_infer(x: Tensor, *, axes: tuple[int, ...] | None, keepdims: bool) -> Any:
    shape_fns.numeric(x)
    dims = x.shape.as_tuple()
    if dims is None:
        if axes is None and not keepdims:
            return (), x.dtype.base_dtype
        return TensorShape(None), x.dtype.base_dtype
    norm = None if axes is None else tuple(
        shape_fns.normalize_axis(a, len(dims), "Invalid reduction dimension") for a in axes)
    if norm is not None and len(set(norm)) != len(norm):
        raise ValueError(f"Invalid reduction arguments: axes {list(axes or ())} contain a duplicate dimension")
    return shape_fns.reduced_dims(dims, norm, keepdims), x.dtype.base_dtype


def _sample(rng: np.random.Generator) -> list[Any]:
    x = rng.uniform(0.5, 2.0, (3, 4))
    return [([x], {"axes": (1,), "keepdims": False}), ([x], {"axes": None, "keepdims": True}),
            ([rng.uniform(0.5, 2.0, (2, 3, 2))], {"axes": (0, 2), "keepdims": False})]


def _expand(op: Any, t: Tensor, scale: bool = False) -> Tensor:
    return BROADCAST_REDUCED(t, op.inputs[0], axes=op.get_attr("axes"), scale=scale)


def _minmax_grad(op: Any, dy: Tensor) -> list[Any]:
    from gpugraph.ops.math_ops import cast, equal

    x = op.inputs[0]
    hits = cast(equal(x, _expand(op, op.outputs[0])), x.dtype)
    count = _expand(op, SUM(hits, axes=op.get_attr("axes"), keepdims=op.get_attr("keepdims")))
    return [hits / count * _expand(op, dy)]


def _prod_grad_impl(xp: Any, dy: Any, x: Any, *, axes: Any, keepdims: bool) -> Any:
    """d prod / d x_i = product of the other elements, exact even where x has zeros."""
    norm = tuple(range(x.ndim)) if axes is None else tuple(a % x.ndim for a in axes)
    keep = [i for i in range(x.ndim) if i not in norm]
    moved = xp.transpose(x, keep + list(norm))
    flat = moved.reshape(moved.shape[:len(keep)] + (-1,))
    ones = xp.ones(flat.shape[:-1] + (1,), dtype=x.dtype)
    left = xp.cumprod(xp.concatenate([ones, flat[..., :-1]], axis=-1), axis=-1)
    right = xp.flip(xp.cumprod(xp.concatenate([ones, xp.flip(flat, -1)[..., :-1]], axis=-1), axis=-1), -1)
    others = (left * right).reshape(moved.shape)
    kept_shape = tuple(x.shape[i] for i in keep)
    g = dy.reshape(kept_shape + (1,) * len(norm)) * others
    order = keep + list(norm)
    return xp.transpose(g, tuple(sorted(range(len(order)), key=order.__getitem__)))  # the inverse permutation


PROD_GRAD = register_op(OpDef(
    "ProdGrad", infer=lambda dy, x, *, axes, keepdims: (x.shape, x.dtype.base_dtype), impl=_prod_grad_impl,
    input_names=("dy", "x"),
    sample=lambda rng: [([rng.standard_normal((3,)), rng.uniform(0.5, 2.0, (3, 4))],
                         {"axes": (1,), "keepdims": False})],
))


def _empty_identity(fn: str, dtype: Any) -> Any:
    """TF1's max/min of nothing: the lowest/highest value of the dtype (NumPy raises instead)."""
    if dtype.kind == "f":
        return -np.inf if fn == "max" else np.inf
    info = np.iinfo(dtype) if dtype.kind in "iu" else None
    if info is None:
        return fn == "min"  # bool: max of nothing is False, min is True
    return info.min if fn == "max" else info.max


def _host_float_mean(xp: Any, x: Any, axes: Any, keepdims: bool) -> Any:
    """numpy.mean of a non-empty float32/float64 host array, without its generic path's checks: the same
    sum in the array's dtype divided by the same intp count, so the same bits (a per-sample loss is a
    scalar mean, where those checks cost more than the sum)."""
    if not x.ndim and not axes and not keepdims:
        return x[()] + 0  # a scalar's mean: its sum from 0 (-0.0 becomes 0.0), a NumPy scalar, as numpy.mean's
    total = xp.add.reduce(x, axis=axes, keepdims=keepdims)
    count = x.size // total.size
    if count == 1:  # numpy divides by 1 in float64 and rounds back: the sum itself, exactly
        return total
    if isinstance(total, xp.ndarray):
        return xp.true_divide(total, xp.intp(count), out=total, casting="unsafe")
    return total.dtype.type(total / xp.intp(count))


def _reduction(name: str, fn: str, grad: Any) -> Any:
    def impl(xp: Any, x: Any, *, axes: Any, keepdims: bool) -> Any:
        if fn == "mean" and on_host(xp) and x.dtype.kind == "f" and x.dtype.itemsize >= 4 and x.size:
            return _host_float_mean(xp, x, axes, keepdims)
        if x.size == 0 and fn in ("max", "min"):
            shape = xp.sum(x, axis=axes, keepdims=keepdims).shape
            return xp.full(shape, _empty_identity(fn, x.dtype), dtype=x.dtype)
        out = getattr(xp, fn)(x, axis=axes, keepdims=keepdims)
        return out if out.dtype == x.dtype else out.astype(x.dtype)  # integer mean stays integer
    return register_op(OpDef(name, infer=_reduce_infer, impl=impl, grad=grad, input_names=("input",),
                             sample=_sample, lowering=_scalar_mean if fn == "mean" else None))


_MEAN_SCALARS = FLOAT_SCALARS - {np.float16}  # float16's mean goes the generic way, in float32


def _scalar_mean(op: Any, xp: Any) -> Any:
    """A whole-tensor host mean that may see a NumPy float scalar (a per-sample loss): the scalar plus 0,
    as numpy.mean's sum from 0 gives it (-0.0 becomes 0.0), without the generic path's checks."""
    if xp is not np or op.get_attr("axes") is not None or op.get_attr("keepdims") or op.inputs[0].shape.ndims:
        return None
    general = functools.partial(MEAN.impl, xp, axes=None, keepdims=False)

    def mean(x: Any) -> Any:
        return x + 0 if type(x) in _MEAN_SCALARS else general(x)
    return mean


SUM = _reduction("Sum", "sum", lambda op, dy: [_expand(op, dy)])
MEAN = _reduction("Mean", "mean", lambda op, dy: [_expand(op, dy, scale=True)])
MAX = _reduction("Max", "max", _minmax_grad)
MIN = _reduction("Min", "min", _minmax_grad)
PROD = _reduction("Prod", "prod", lambda op, dy: [PROD_GRAD(dy, op.inputs[0], axes=op.get_attr("axes"),
                                                            keepdims=op.get_attr("keepdims"))])


def _axes(axis: Any, reduction_indices: Any) -> tuple[int, ...] | None:
    if axis is not None and reduction_indices is not None:
        raise ValueError("Cannot specify both 'axis' and 'reduction_indices'.")
    if axis is None:
        axis = reduction_indices
    if axis is None:
        return None
    if isinstance(axis, Tensor) or hasattr(axis, "_as_tensor"):
        raise TypeError("A reduction axis given as a Tensor is not supported; pass ints.")
    if isinstance(axis, (int, np.integer)):
        return (int(axis),)
    return tuple(int(a) for a in np.asarray(axis).reshape(-1))


def _reduce(opdef: Any, default: str, x: Any, axis: Any, keepdims: Any, name: Any,
            reduction_indices: Any, keep_dims: Any) -> Tensor:
    if keepdims is not None and keep_dims is not None:
        raise ValueError("Cannot specify both 'keepdims' and 'keep_dims'.")
    keep = bool(keep_dims if keepdims is None else keepdims)
    return opdef(x, name=name or default, axes=_axes(axis, reduction_indices), keepdims=keep)


def reduce_sum(input_tensor: Any, axis: Any = None, keepdims: Any = None, name: str | None = None,
               reduction_indices: Any = None, keep_dims: Any = None) -> Tensor:
    return _reduce(SUM, "Sum", input_tensor, axis, keepdims, name, reduction_indices, keep_dims)


def reduce_mean(input_tensor: Any, axis: Any = None, keepdims: Any = None, name: str | None = None,
                reduction_indices: Any = None, keep_dims: Any = None) -> Tensor:
    return _reduce(MEAN, "Mean", input_tensor, axis, keepdims, name, reduction_indices, keep_dims)


def reduce_max(input_tensor: Any, axis: Any = None, keepdims: Any = None, name: str | None = None,
               reduction_indices: Any = None, keep_dims: Any = None) -> Tensor:
    return _reduce(MAX, "Max", input_tensor, axis, keepdims, name, reduction_indices, keep_dims)


def reduce_min(input_tensor: Any, axis: Any = None, keepdims: Any = None, name: str | None = None,
               reduction_indices: Any = None, keep_dims: Any = None) -> Tensor:
    return _reduce(MIN, "Min", input_tensor, axis, keepdims, name, reduction_indices, keep_dims)


def reduce_prod(input_tensor: Any, axis: Any = None, keepdims: Any = None, name: str | None = None,
                reduction_indices: Any = None, keep_dims: Any = None) -> Tensor:
    return _reduce(PROD, "Prod", input_tensor, axis, keepdims, name, reduction_indices, keep_dims)
