"""2-D pooling ops: MaxPool, AvgPool and their gradients (MaxPoolGrad, MaxPoolGradGrad, AvgPoolGrad).

Each lowering loops over the KH*KW window taps, each step a strided (N, OH, OW, C) slice of the
padded NHWC input, so the work is whole-array and the loop is as short as the window.
MaxPoolGrad finds the window maxima from orig_input (the first maximum of a window wins, TF's
order), so it does not depend on orig_output's values. AvgPool's SAME windows divide by the
count of valid elements, as TF does. AvgPoolGrad takes the input sizes as an attribute (a None
batch is taken from the gradient) or, when they are not known at build time, from an optional
second input's shape, instead of TF1's int32 tensor input.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gpugraph.framework import dtypes
from gpugraph.framework.tensor import Operation, Tensor
from gpugraph.ops import conv_geometry as geo
from gpugraph.ops.array_ops import zeros_like
from gpugraph.ops.conv_ops import merged_sizes, sizes_arg
from gpugraph.ops.registry import OpDef, register_op

FLOATS = (dtypes.float16, dtypes.float32, dtypes.float64)
MAX_POOL_TYPES = FLOATS + (dtypes.int32, dtypes.int64, dtypes.int8, dtypes.uint8, dtypes.int16)
ATTRS = ("ksize", "strides", "padding", "data_format")
NO_DILATION = (1, 1, 1, 1)


def pool_attrs(op: Operation) -> dict[str, Any]:
    return {k: op.get_attr(k) for k in ATTRS}


def _check(op: str, ksize: Any, strides: Any, padding: str, data_format: str) -> None:
    if padding == "EXPLICIT":
        raise ValueError(f"{op} does not support EXPLICIT padding")
    geo.check_window_attrs(op, padding, (), data_format, strides)
    geo.check_window_attrs(op, padding, (), data_format, ksize, what="ksize")


def _pool_shape(dims: Any, ksize: Any, strides: Any, padding: str, data_format: str) -> tuple[Any, ...]:
    n, h, w, c = geo.to_nhwc(dims, data_format)
    _, kh, kw, _ = geo.to_nhwc(tuple(ksize), data_format)
    _, sh, sw, _ = geo.to_nhwc(tuple(strides), data_format)
    oh = geo.out_size(h, kh, sh, 1, padding)[0]
    ow = geo.out_size(w, kw, sw, 1, padding)[0]
    return geo.from_nhwc((n, oh, ow, c), data_format)


def _window(in_nhwc: Any, ksize: Any, strides: Any, padding: str, data_format: str) -> geo.Window:
    _, kh, kw, _ = geo.to_nhwc(tuple(ksize), data_format)
    return geo.window(in_nhwc, kh, kw, strides, NO_DILATION, padding, (), data_format)


def _lowest(xp: Any, dtype: Any) -> Any:
    """The padding value no element can lose to: -inf for floats, the minimum for integers."""
    return -xp.inf if dtype.kind == "f" else np.iinfo(dtype).min


def _pool_infer(op: str, allowed: tuple[dtypes.DType, ...]) -> Any:
    def infer(x: Tensor, *, ksize: Any, strides: Any, padding: str, data_format: str) -> Any:
        geo.check_dtype(x, "input", allowed)
        _check(op, ksize, strides, padding, data_format)
        return _pool_shape(geo.rank4(x), ksize, strides, padding, data_format), x.dtype.base_dtype
    return infer


def _window_max(xp: Any, xpad: Any, g: geo.Window) -> Any:
    out = geo.tap(xpad, g, 0, 0).copy()
    for t in range(1, g.kh * g.kw):
        xp.maximum(out, geo.tap(xpad, g, t // g.kw, t % g.kw), out=out)
    return out


def _first_max_masks(xp: Any, xn: Any, g: geo.Window) -> Any:
    """Yields (tap, mask): where tap (i, j) holds its window's first maximum, as (N, OH, OW, C) bools."""
    xpad = geo.pad_spatial(xp, xn, g, _lowest(xp, xn.dtype))
    best = _window_max(xp, xpad, g)
    free = xp.ones(best.shape, dtype=bool)
    for t in range(g.kh * g.kw):
        i, j = t // g.kw, t % g.kw
        hit = geo.tap(xpad, g, i, j) == best
        hit &= free
        free ^= hit
        yield (i, j), hit


# --- MaxPool and its gradients ---
def _max_pool_impl(xp: Any, x: Any, *, ksize: Any, strides: Any, padding: str, data_format: str) -> Any:
    xn = geo.nhwc(xp, x, data_format)
    g = _window(xn.shape, ksize, strides, padding, data_format)
    out = _window_max(xp, geo.pad_spatial(xp, xn, g, _lowest(xp, x.dtype)), g)
    return geo.from_nhwc_array(xp, out, data_format)


def _max_pool_grad_infer(x: Tensor, y: Tensor, dy: Tensor, **attrs: Any) -> Any:
    geo.check_dtype(x, "orig_input", MAX_POOL_TYPES)
    _check("MaxPoolGrad", **attrs)
    want = _pool_shape(geo.rank4(x), **attrs)
    for t in (y, dy):
        for a, b in zip(want, geo.rank4(t) or (None,) * 4):
            if a is not None and b is not None and a != b:
                raise ValueError(f"Dimensions must be equal, but are {a} and {b}")
    return x.shape, x.dtype.base_dtype


def _max_pool_grad_impl(xp: Any, x: Any, y: Any, dy: Any, *, ksize: Any, strides: Any, padding: str,
                        data_format: str) -> Any:
    xn = geo.nhwc(xp, x, data_format)
    dyn = geo.nhwc(xp, dy, data_format)
    g = _window(xn.shape, ksize, strides, padding, data_format)
    acc = xp.zeros(geo.padded_shape(xn.shape, g), dtype=dy.dtype)
    zero = xp.zeros((), dtype=dy.dtype)
    for (i, j), hit in _first_max_masks(xp, xn, g):
        geo.tap(acc, g, i, j)[...] += xp.where(hit, dyn, zero)  # where, not *: a NaN elsewhere stays there
    return geo.from_nhwc_array(xp, geo.crop(acc, xn.shape, g), data_format)


def _max_pool_grad_grad_infer(x: Tensor, y: Tensor, gx: Tensor, **attrs: Any) -> Any:
    geo.check_dtype(x, "orig_input", MAX_POOL_TYPES)
    _check("MaxPoolGradGrad", **attrs)
    if not x.shape.is_compatible_with(gx.shape):
        raise ValueError(f"Shapes must be equal: orig_input {x.shape} vs grad {gx.shape}")
    return _pool_shape(geo.rank4(x), **attrs), x.dtype.base_dtype


def _max_pool_grad_grad_impl(xp: Any, x: Any, y: Any, gx: Any, *, ksize: Any, strides: Any, padding: str,
                             data_format: str) -> Any:
    """The input-shaped ``gx`` read at each window's maximum: the forward of MaxPoolGrad's adjoint."""
    xn = geo.nhwc(xp, x, data_format)
    g = _window(xn.shape, ksize, strides, padding, data_format)
    gpad = geo.pad_spatial(xp, geo.nhwc(xp, gx, data_format), g)
    out = xp.zeros(geo.tap(gpad, g, 0, 0).shape, dtype=gx.dtype)
    for (i, j), hit in _first_max_masks(xp, xn, g):
        out = xp.where(hit, geo.tap(gpad, g, i, j), out)
    return geo.from_nhwc_array(xp, out, data_format)


# --- AvgPool and its gradient ---
def _window_counts(xp: Any, in_nhwc: Any, g: geo.Window, dtype: Any) -> Any:
    """(1, OH, OW, 1): how many real (unpadded) elements each window covers."""
    ones = geo.pad_spatial(xp, xp.ones((1, in_nhwc[1], in_nhwc[2], 1), dtype=dtype), g)
    count = xp.zeros((1, g.oh, g.ow, 1), dtype=dtype)
    for t in range(g.kh * g.kw):
        count += geo.tap(ones, g, t // g.kw, t % g.kw)
    return count


def _avg_pool_impl(xp: Any, x: Any, *, ksize: Any, strides: Any, padding: str, data_format: str) -> Any:
    xn = geo.nhwc(xp, x, data_format)
    g = _window(xn.shape, ksize, strides, padding, data_format)
    xpad = geo.pad_spatial(xp, xn, g)
    total = geo.tap(xpad, g, 0, 0).copy()
    for t in range(1, g.kh * g.kw):
        total += geo.tap(xpad, g, t // g.kw, t % g.kw)
    total /= _window_counts(xp, xn.shape, g, x.dtype)
    return geo.from_nhwc_array(xp, total, data_format)


def _avg_pool_grad_infer(dy: Tensor, *like: Tensor, orig_input_shape: Any, **attrs: Any) -> Any:
    geo.check_dtype(dy, "grad", FLOATS)
    _check("AvgPoolGrad", **attrs)
    sizes = merged_sizes(orig_input_shape, like, "orig_input_shape", "AvgPoolGrad")
    dyd = geo.rank4(dy) or (None,) * 4
    if sizes[0] is None:
        sizes[0] = dyd[0]
    for a, b in zip(_pool_shape(sizes, **attrs), dyd):
        if a is not None and b is not None and a != b:
            raise ValueError(f"Dimensions must be equal, but are {a} and {b}")
    return tuple(sizes), dy.dtype.base_dtype


def _avg_pool_grad_impl(xp: Any, dy: Any, *like: Any, orig_input_shape: Any, ksize: Any, strides: Any,
                        padding: str, data_format: str) -> Any:
    dyn = geo.nhwc(xp, dy, data_format)
    in_nhwc = geo.to_nhwc(geo.resolve_sizes(orig_input_shape, like, dy.shape[0], data_format), data_format)
    g = _window(in_nhwc, ksize, strides, padding, data_format)
    share = dyn / _window_counts(xp, in_nhwc, g, dy.dtype)
    acc = xp.zeros(geo.padded_shape(in_nhwc, g), dtype=dy.dtype)
    for t in range(g.kh * g.kw):
        geo.tap(acc, g, t // g.kw, t % g.kw)[...] += share
    return geo.from_nhwc_array(xp, geo.crop(acc, in_nhwc, g), data_format)


def _avg_pool_grad(op: Operation, dy: Tensor) -> list[Any]:
    sizes, like = sizes_arg(op.inputs[0], True)
    return [AVG_POOL_GRAD(dy, *like, orig_input_shape=sizes, **pool_attrs(op))]


# --- samples: distinct values (no ties within a window), SAME and VALID, both formats ---
def pool_cases() -> list[tuple[tuple[int, ...], dict[str, Any]]]:
    def attrs(k: Any, s: Any, padding: str, fmt: str = "NHWC") -> dict[str, Any]:
        return {"ksize": k, "strides": s, "padding": padding, "data_format": fmt}
    return [((2, 5, 4, 3), attrs((1, 2, 2, 1), (1, 2, 2, 1), "SAME")),
            ((1, 6, 5, 2), attrs((1, 3, 2, 1), (1, 2, 1, 1), "VALID")),
            ((1, 2, 5, 5), attrs((1, 1, 3, 3), (1, 1, 2, 2), "SAME", "NCHW"))]


def _distinct(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Values at least 0.01 apart, so central differences never cross a tie."""
    return rng.permutation(int(np.prod(shape))).reshape(shape) * 0.01 + rng.uniform(0, 0.001)


def _pooled(rng: np.random.Generator, x: np.ndarray, a: dict[str, Any]) -> np.ndarray:
    return rng.standard_normal(_pool_shape(x.shape, **a))


def _max_pool_grad_sample(rng: np.random.Generator) -> list[Any]:
    out = []
    for s, a in pool_cases():
        x = _distinct(rng, s)
        out.append(([x, _max_pool_impl(np, x, **a), _pooled(rng, x, a)], a))
    return out


def _max_pool_grad_grad_sample(rng: np.random.Generator) -> list[Any]:
    out = []
    for s, a in pool_cases():
        x = _distinct(rng, s)
        out.append(([x, _max_pool_impl(np, x, **a), rng.standard_normal(s)], a))
    return out


def _avg_pool_grad_sample(rng: np.random.Generator) -> list[Any]:
    out = []
    for k, (s, a) in enumerate(pool_cases()):
        like = [rng.standard_normal(s)] if k == 1 else []
        sizes = (None,) + s[1:] if k == 0 else s
        out.append(([_pooled(rng, np.zeros(s), a)] + like, {"orig_input_shape": sizes, **a}))
    return out


MAX_POOL = register_op(OpDef(
    "MaxPool", infer=_pool_infer("MaxPool", MAX_POOL_TYPES), impl=_max_pool_impl, input_names=("input",),
    grad=lambda op, dy: [MAX_POOL_GRAD(op.inputs[0], op.outputs[0], dy, **pool_attrs(op))],
    sample=lambda rng: [([_distinct(rng, s)], a) for s, a in pool_cases()],
))
MAX_POOL_GRAD = register_op(OpDef(
    "MaxPoolGrad", infer=_max_pool_grad_infer, impl=_max_pool_grad_impl,
    input_names=("orig_input", "orig_output", "grad"), sample=_max_pool_grad_sample,
    grad=lambda op, g: [zeros_like(op.inputs[0]), zeros_like(op.inputs[1]),
                        MAX_POOL_GRAD_GRAD(op.inputs[0], op.inputs[1], g, **pool_attrs(op))],
))
MAX_POOL_GRAD_GRAD = register_op(OpDef(
    "MaxPoolGradGrad", infer=_max_pool_grad_grad_infer, impl=_max_pool_grad_grad_impl,
    input_names=("orig_input", "orig_output", "grad"), sample=_max_pool_grad_grad_sample,
    grad=lambda op, g: [zeros_like(op.inputs[0]), zeros_like(op.inputs[1]),
                        MAX_POOL_GRAD(op.inputs[0], op.inputs[1], g, **pool_attrs(op))],
))
AVG_POOL = register_op(OpDef(
    "AvgPool", infer=_pool_infer("AvgPool", FLOATS), impl=_avg_pool_impl, grad=_avg_pool_grad,
    input_names=("value",), sample=lambda rng: [([rng.standard_normal(s)], a) for s, a in pool_cases()],
))
AVG_POOL_GRAD = register_op(OpDef(
    "AvgPoolGrad", infer=_avg_pool_grad_infer, impl=_avg_pool_grad_impl, input_names=("grad", "orig_input"),
    grad=lambda op, g: [AVG_POOL(g, **pool_attrs(op))] + [None] * (len(op.inputs) - 1),
    sample=_avg_pool_grad_sample,
))
