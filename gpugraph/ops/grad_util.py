"""Ops that gradients are built from: reduce a broadcast gradient, expand a reduced one."""

from __future__ import annotations

from typing import Any

import numpy as np

from gpugraph.framework import dtypes
from gpugraph.framework.tensor import Tensor
from gpugraph.framework.tensor_shape import TensorShape
from gpugraph.ops import shape_fns
from gpugraph.ops.registry import OpDef, register_op
from gpugraph.ops.xp_compat import FLOAT_SCALARS


def _sum_to_shape_impl(xp: Any, g: Any, like: Any) -> Any:
    shape = like.shape
    if g.shape == shape:
        return g
    lead = g.ndim - len(shape)
    r = g.sum(axis=tuple(range(lead))) if lead > 0 else g
    axes = tuple(i for i, s in enumerate(shape) if s == 1 and r.shape[i] != 1)
    if axes:
        r = r.sum(axis=axes, keepdims=True)
    return r


def _sum_to_shape_lowering(op: Any, xp: Any) -> Any:
    """On NumPy, a sum over leading axes only (a bias's gradient) by the compiled loop, NumPy's bits."""
    if xp is not np:
        return None
    from gpugraph.kernels.leading_sums import leading_sum  # the kernels import the ops: not at load

    def sum_to_shape(g: Any, like: Any) -> Any:
        lead = g.ndim - like.ndim
        if lead > 0 and g.shape[lead:] == like.shape:
            summed = leading_sum(g, lead)
            if summed is not None:
                return summed
        return _sum_to_shape_impl(np, g, like)
    return sum_to_shape


SUM_TO_SHAPE = register_op(OpDef(
    "SumToShape",
    infer=lambda g, like: (like.shape, g.dtype.base_dtype),
    impl=_sum_to_shape_impl,
    lowering=_sum_to_shape_lowering,
    grad=lambda op, dy: [BROADCAST_LIKE(dy, op.inputs[0]), None],
    same_dtype=False,
    aliases=True,  # returns the gradient itself when the shapes already match
    input_names=("grad", "like"),
    shape_only=(1,),
    sample=lambda rng: [([rng.standard_normal((4, 2, 3)), rng.standard_normal((2, 1))], {}),
                        ([rng.standard_normal((2, 3)), rng.standard_normal((2, 3))], {})],
))

BROADCAST_LIKE = register_op(OpDef(
    "BroadcastLike",
    infer=lambda x, like: (shape_fns.broadcast(x, like)[0], x.dtype.base_dtype),
    impl=lambda xp, x, like: xp.broadcast_to(x, xp.broadcast_shapes(x.shape, like.shape)),
    grad=lambda op, dy: [SUM_TO_SHAPE(dy, op.inputs[0]), None],
    same_dtype=False,
    aliases=True,
    input_names=("x", "like"),
    shape_only=(1,),
    sample=lambda rng: [([rng.standard_normal((3, 1)), rng.standard_normal((2, 3, 4))], {})],
))


def unbroadcast(grad: Tensor | None, x: Tensor) -> Tensor | None:
    """Sum ``grad`` over the dimensions along which ``x`` was broadcast."""
    if grad is None:
        return None
    gs, xs = grad.shape, x.shape
    if gs.is_fully_defined() and xs.is_fully_defined() and gs.as_tuple() == xs.as_tuple():
        return grad
    return SUM_TO_SHAPE(grad, x)


def _keepdims_shape(x_shape: tuple[int, ...], axes: tuple[int, ...] | None) -> tuple[int, ...]:
    if axes is None:
        return (1,) * len(x_shape)
    return tuple(1 if i in axes else d for i, d in enumerate(x_shape))


def _broadcast_reduced_impl(xp: Any, dy: Any, x: Any, *, axes: Any, scale: bool) -> Any:
    kind = type(dy)
    if kind in FLOAT_SCALARS and type(x) is kind:  # a scalar's own sum or mean: its gradient is dy
        return dy
    shape = x.shape
    if dy.shape == shape and (not scale or dy.dtype.kind == "f"):
        # the reduced axes have length 1 (a scalar's mean, say): a float divided by the count 1 is itself; a
        # 0-d quotient is a NumPy scalar, which later scalar arithmetic takes faster than a 0-d array
        return dy[()] if scale and not shape else dy
    # Where the mean's count divides, it divides before the broadcast (the same quotient per element), and
    # the quotient fills a new array: NumPy's broadcast_to costs more than the whole step for a small array.
    if scale and dy.size == 1:  # a whole-tensor mean (a loss): its count is every element
        # NumPy: scalar arithmetic; CuPy: a 0-d array. The count is a Python int, which divides in dy's
        # own dtype (a weak scalar) as the count converted to that dtype would, at a fifth of the cost
        kept = (dy[()] if dy.ndim == 0 else dy.reshape(-1)[0]) / (x.size or 1)
    else:
        norm = None if axes is None else tuple(a % x.ndim for a in axes)
        kept = dy.reshape(_keepdims_shape(shape, norm))
        if not scale:
            return xp.broadcast_to(kept, shape)
        count = max(x.size // max(dy.size, 1), 1) if x.size else 1
        kept = kept / dy.dtype.type(count)  # a scalar of dy's dtype: no device array made for it
    out = xp.empty(shape, dtype=kept.dtype)
    if isinstance(kept, np.generic):  # a NumPy scalar fills faster than it assigns
        out.fill(kept)
    else:
        out[...] = kept
    return out


def _broadcast_reduced_grad(op: Any, g: Tensor) -> list[Any]:
    from gpugraph.ops.reduction_ops import reduce_mean, reduce_sum

    axes, scale = op.get_attr("axes"), op.get_attr("scale")
    dy = op.inputs[0]
    reducer = reduce_mean if scale else reduce_sum
    out = reducer(g, axis=None if axes is None else list(axes), keepdims=False)
    from gpugraph.ops.array_ops import reshape_like

    return [reshape_like(out, dy), None]


BROADCAST_REDUCED = register_op(OpDef(
    "BroadcastReduced",
    infer=lambda dy, x, *, axes, scale: (x.shape, dy.dtype.base_dtype),
    impl=_broadcast_reduced_impl,
    grad=_broadcast_reduced_grad,
    same_dtype=False,
    aliases=True,
    input_names=("dy", "x"),
    sample=lambda rng: [([rng.standard_normal((3,)), rng.standard_normal((3, 4))], {"axes": (1,), "scale": True}),
                        ([rng.standard_normal(()), rng.standard_normal((2, 3))], {"axes": None, "scale": False})],
))


def float_like(dtype: dtypes.DType) -> bool:
    return dtype.base_dtype.is_floating


def static_dims(t: Tensor) -> tuple[Any, ...] | None:
    return t.shape.as_tuple()


def shape_of(dims: Any) -> TensorShape:
    return TensorShape(dims)
