"""More neural-network ops: Selu, Softsign, and MaxPoolWithArgmax with its gradients.

MaxPoolWithArgmax returns TF's flattened argmax: ((b * height + y) * width + x) * channels + c,
with the b term only when include_batch_in_index; padding never wins a window. The gradient ops
scatter (MaxPoolGradWithArgmax, a weighted bincount) or gather (MaxPoolGradGradWithArgmax)
through those indices, so they read no window geometry of their own.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gpugraph.framework import dtypes
from gpugraph.framework.tensor import Operation, Tensor
from gpugraph.ops import conv_geometry as geo
from gpugraph.ops import shape_fns
from gpugraph.ops.array_ops import zeros_like
from gpugraph.ops.math_ops import less, where
from gpugraph.ops.nn_ops import _unary_sample
from gpugraph.ops.pool_ops import MAX_POOL_TYPES, _check, _lowest, _pool_shape, _window
from gpugraph.ops.registry import OpDef, register_op
from gpugraph.ops.unary_ops import abs as abs_

SELU_SCALE = 1.0507009873554804934193349852946
SELU_ALPHA = 1.6732632423543772848170429916717


def _selu_impl(xp: Any, x: Any) -> Any:
    return xp.where(x > 0, x * SELU_SCALE, xp.expm1(xp.minimum(x, 0)) * (SELU_SCALE * SELU_ALPHA)).astype(x.dtype)


def _selu_grad(op: Operation, dy: Tensor) -> list[Any]:
    y = op.outputs[0]  # SeluGrad: y + scale * alpha where y < 0, else scale (so scale at 0, as TF)
    return [where(less(y, 0), dy * (y + SELU_SCALE * SELU_ALPHA), dy * SELU_SCALE)]


def _softsign_grad(op: Operation, dy: Tensor) -> list[Any]:
    d = 1 + abs_(op.inputs[0])
    return [dy / (d * d)]


SELU = register_op(OpDef(
    "Selu", infer=shape_fns.same_shape_float, impl=_selu_impl, grad=_selu_grad, input_names=("features",),
    cuda=f"out0 = in0 > 0 ? in0 * {SELU_SCALE!r} : expm1(in0) * {SELU_SCALE * SELU_ALPHA!r}",
    sample=_unary_sample(),
))
SOFTSIGN = register_op(OpDef(
    "Softsign", infer=shape_fns.same_shape_float, impl=lambda xp, x: x / (1 + xp.abs(x)), grad=_softsign_grad,
    input_names=("features",), cuda="out0 = in0 / (1 + fabs(in0))", sample=_unary_sample(),
))


# --- MaxPoolWithArgmax ---
ARGMAX_ATTRS = ("ksize", "strides", "padding", "include_batch_in_index")
INDEX_TYPES = (dtypes.int32, dtypes.int64)


def _argmax_attrs(op: Operation) -> dict[str, Any]:
    return {k: op.get_attr(k) for k in ARGMAX_ATTRS}


def _argmax_infer(x: Tensor, *, ksize: Any, strides: Any, padding: str, Targmax: Any,
                  include_batch_in_index: bool) -> Any:
    geo.check_dtype(x, "input", MAX_POOL_TYPES)
    if dtypes.as_dtype(Targmax) not in INDEX_TYPES:
        raise TypeError(f"Value passed to parameter 'Targmax' has DataType {dtypes.as_dtype(Targmax).name} not in "
                        f"list of allowed values: int32, int64")
    _check("MaxPoolWithArgmax", ksize, strides, padding, "NHWC")
    shape = _pool_shape(geo.rank4(x), ksize, strides, padding, "NHWC")
    return [(shape, x.dtype.base_dtype), (shape, dtypes.as_dtype(Targmax))]


def _argmax_impl(xp: Any, x: Any, *, ksize: Any, strides: Any, padding: str, Targmax: Any,
                 include_batch_in_index: bool) -> Any:
    n, h, w, c = x.shape
    g = _window(x.shape, ksize, strides, padding, "NHWC")
    xpad = geo.pad_spatial(xp, x, g, _lowest(xp, x.dtype))
    (top, _), (left, _) = g.pads
    rows = xp.arange(g.oh).reshape(1, -1, 1, 1) * g.sh - top
    cols = xp.arange(g.ow).reshape(1, 1, -1, 1) * g.sw - left
    chan = xp.arange(c).reshape(1, 1, 1, -1)
    base = xp.arange(n).reshape(-1, 1, 1, 1) * h if include_batch_in_index else 0
    best = geo.tap(xpad, g, 0, 0).copy()
    index = ((base + rows) * w + cols) * c + chan + xp.zeros(best.shape, dtype=np.int64)
    for t in range(1, g.kh * g.kw):
        i, j = t // g.kw, t % g.kw
        value = geo.tap(xpad, g, i, j)
        better = value > best  # strict: the first maximum in the window keeps its index
        best = xp.where(better, value, best)
        index = xp.where(better, ((base + rows + i) * w + cols + j) * c + chan, index)
    return best, index.astype(dtypes.as_dtype(Targmax).as_numpy_dtype)


def _flat_index(xp: Any, argmax: Any, n: int, per_image: int, include_batch_in_index: bool) -> Any:
    idx = argmax.astype(np.int64).reshape(n, -1)
    if not include_batch_in_index:
        idx = idx + xp.arange(n, dtype=np.int64).reshape(-1, 1) * per_image
    return idx.reshape(-1)


def _grad_argmax_infer(x: Tensor, dy: Tensor, argmax: Tensor, *, ksize: Any, strides: Any, padding: str,
                       include_batch_in_index: bool) -> Any:
    geo.check_dtype(x, "input", MAX_POOL_TYPES)
    geo.check_dtype(argmax, "argmax", INDEX_TYPES)
    _check("MaxPoolGradWithArgmax", ksize, strides, padding, "NHWC")
    want = _pool_shape(geo.rank4(x), ksize, strides, padding, "NHWC")
    for t in (dy, argmax):
        for a, b in zip(want, geo.rank4(t) or (None,) * 4):
            if a is not None and b is not None and a != b:
                raise ValueError(f"Dimensions must be equal, but are {a} and {b}")
    return x.shape, x.dtype.base_dtype


def _grad_argmax_impl(xp: Any, x: Any, dy: Any, argmax: Any, *, ksize: Any, strides: Any, padding: str,
                      include_batch_in_index: bool) -> Any:
    n = x.shape[0]
    idx = _flat_index(xp, argmax, n, x.size // max(n, 1), include_batch_in_index)
    total = xp.bincount(idx, weights=dy.reshape(-1), minlength=x.size)
    return total[:x.size].astype(dy.dtype).reshape(x.shape)


def _grad_grad_argmax_infer(x: Tensor, gx: Tensor, argmax: Tensor, *, ksize: Any, strides: Any, padding: str,
                            include_batch_in_index: bool) -> Any:
    geo.check_dtype(x, "input", MAX_POOL_TYPES)
    geo.check_dtype(argmax, "argmax", INDEX_TYPES)
    _check("MaxPoolGradGradWithArgmax", ksize, strides, padding, "NHWC")
    if not x.shape.is_compatible_with(gx.shape):
        raise ValueError(f"Shapes must be equal: input {x.shape} vs grad {gx.shape}")
    return _pool_shape(geo.rank4(x), ksize, strides, padding, "NHWC"), x.dtype.base_dtype


def _grad_grad_argmax_impl(xp: Any, x: Any, gx: Any, argmax: Any, *, ksize: Any, strides: Any, padding: str,
                           include_batch_in_index: bool) -> Any:
    n = x.shape[0]
    idx = _flat_index(xp, argmax, n, x.size // max(n, 1), include_batch_in_index)
    return xp.take(gx.reshape(-1), idx).reshape(argmax.shape)


def _argmax_cases() -> list[dict[str, Any]]:
    return [{"ksize": (1, 2, 2, 1), "strides": (1, 2, 2, 1), "padding": "SAME", "include_batch_in_index": False},
            {"ksize": (1, 3, 2, 1), "strides": (1, 2, 1, 1), "padding": "VALID", "include_batch_in_index": True}]


def _distinct(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.permutation(int(np.prod(shape))).reshape(shape) * 0.01 + rng.uniform(0, 0.001)


def _argmax_sample(rng: np.random.Generator) -> list[Any]:
    return [([_distinct(rng, (2, 5, 4, 3))], {**a, "Targmax": dtypes.int64}) for a in _argmax_cases()]


def _grad_sample(forward_shaped: bool) -> Any:
    def sample(rng: np.random.Generator) -> list[Any]:
        out = []
        for a in _argmax_cases():
            x = _distinct(rng, (2, 5, 4, 3))
            _, argmax = _argmax_impl(np, x, Targmax=dtypes.int64, **a)
            g = rng.standard_normal(argmax.shape if forward_shaped else x.shape)
            out.append(([x, g, argmax], a))
        return out
    return sample


MAX_POOL_WITH_ARGMAX = register_op(OpDef(
    "MaxPoolWithArgmax", infer=_argmax_infer, impl=_argmax_impl, input_names=("input",), sample=_argmax_sample,
    grad=lambda op, dy, _dargmax: [MAX_POOL_GRAD_WITH_ARGMAX(op.inputs[0], dy, op.outputs[1], **_argmax_attrs(op))],
))
MAX_POOL_GRAD_WITH_ARGMAX = register_op(OpDef(
    "MaxPoolGradWithArgmax", infer=_grad_argmax_infer, impl=_grad_argmax_impl, same_dtype=False,
    input_names=("input", "grad", "argmax"), sample=_grad_sample(True),
    grad=lambda op, g: [zeros_like(op.inputs[0]),
                        MAX_POOL_GRAD_GRAD_WITH_ARGMAX(op.inputs[0], g, op.inputs[2], **_argmax_attrs(op)), None],
))
MAX_POOL_GRAD_GRAD_WITH_ARGMAX = register_op(OpDef(
    "MaxPoolGradGradWithArgmax", infer=_grad_grad_argmax_infer, impl=_grad_grad_argmax_impl, same_dtype=False,
    input_names=("input", "grad", "argmax"), sample=_grad_sample(False),
    grad=lambda op, g: [zeros_like(op.inputs[0]),
                        MAX_POOL_GRAD_WITH_ARGMAX(op.inputs[0], g, op.inputs[2], **_argmax_attrs(op)), None],
))
