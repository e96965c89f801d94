"""3-D pooling ops: MaxPool3D, AvgPool3D and their gradients (MaxPool3DGrad, MaxPool3DGradGrad, AvgPool3DGrad).

The lowerings of pool_ops.py over three spatial dimensions (window_nd.py): a loop over the
KD*KH*KW window taps, each a strided (N, OD, OH, OW, C) slice of the padded channels-last input.
The first maximum of a window (row-major tap order) takes the gradient; SAME windows average over
their real elements only. AvgPool3DGrad takes the input sizes as an attribute (or, when not known
at build time, from an optional second input's shape) instead of TF1's int32 tensor input.
"""

from __future__ import annotations

from typing import Any, Iterator

import numpy as np

from gpugraph.framework import dtypes
from gpugraph.framework.tensor import Operation, Tensor
from gpugraph.ops import conv_geometry as geo
from gpugraph.ops import window_nd as wnd
from gpugraph.ops.array_ops import zeros_like
from gpugraph.ops.conv3d_ops import merged_sizes5, rank5
from gpugraph.ops.conv_ops import sizes_arg
from gpugraph.ops.registry import OpDef, register_op

FLOATS = (dtypes.float16, dtypes.float32, dtypes.float64)
ATTRS = ("ksize", "strides", "padding", "data_format")


def pool3d_attrs(op: Operation) -> dict[str, Any]:
    return {k: op.get_attr(k) for k in ATTRS}


def _check(op: str, ksize: Any, strides: Any, padding: str, data_format: str) -> None:
    wnd.check_attrs(op, padding, data_format, {"ksize": ksize, "strides": strides})


def _shape(dims: Any, ksize: Any, strides: Any, padding: str, data_format: str) -> tuple[Any, ...]:
    last = wnd.to_last(dims, data_format)
    k, s = wnd.to_last(ksize, data_format)[1:-1], wnd.to_last(strides, data_format)[1:-1]
    return wnd.from_last((last[0], *wnd.out_spatial(last[1:-1], k, s, (1, 1, 1), padding), last[-1]), data_format)


def _window(in_last: Any, ksize: Any, strides: Any, padding: str, data_format: str) -> wnd.WindowND:
    k, s = wnd.to_last(ksize, data_format)[1:-1], wnd.to_last(strides, data_format)[1:-1]
    return wnd.window(in_last, k, s, (1, 1, 1), padding)


def _infer(op: str) -> Any:
    def infer(x: Tensor, *, ksize: Any, strides: Any, padding: str, data_format: str) -> Any:
        geo.check_dtype(x, "input", FLOATS)
        _check(op, ksize, strides, padding, data_format)
        return _shape(rank5(x), ksize, strides, padding, data_format), x.dtype.base_dtype
    return infer


def _window_max(xp: Any, xpad: Any, g: wnd.WindowND) -> Any:
    taps = list(g.taps())
    out = wnd.tap(xpad, g, taps[0]).copy()
    for t in taps[1:]:
        xp.maximum(out, wnd.tap(xpad, g, t), out=out)
    return out


def _first_max_masks(xp: Any, xl: Any, g: wnd.WindowND) -> Iterator[tuple[tuple[int, ...], Any]]:
    """(tap, mask): where a tap holds its window's first maximum, as (N, *out, C) bools."""
    xpad = wnd.pad(xp, xl, g, -xp.inf)
    best = _window_max(xp, xpad, g)
    free = xp.ones(best.shape, dtype=bool)
    for t in g.taps():
        hit = wnd.tap(xpad, g, t) == best
        hit &= free
        free ^= hit
        yield t, hit


def _max_pool_impl(xp: Any, x: Any, *, ksize: Any, strides: Any, padding: str, data_format: str) -> Any:
    xl = wnd.last_array(xp, x, data_format)
    g = _window(xl.shape, ksize, strides, padding, data_format)
    return wnd.from_last_array(xp, _window_max(xp, wnd.pad(xp, xl, g, -xp.inf), g), data_format)


def _max_grad_infer(x: Tensor, y: Tensor, dy: Tensor, **attrs: Any) -> Any:
    geo.check_dtype(x, "orig_input", FLOATS)
    _check("MaxPool3DGrad", **attrs)
    want = _shape(rank5(x), **attrs)
    for t in (y, dy):
        for a, b in zip(want, rank5(t) or (None,) * 5):
            if a is not None and b is not None and a != b:
                raise ValueError(f"Dimensions must be equal, but are {a} and {b}")
    return x.shape, x.dtype.base_dtype


def _max_grad_impl(xp: Any, x: Any, y: Any, dy: Any, *, ksize: Any, strides: Any, padding: str,
                   data_format: str) -> Any:
    xl = wnd.last_array(xp, x, data_format)
    dyl = wnd.last_array(xp, dy, data_format)
    g = _window(xl.shape, ksize, strides, padding, data_format)
    acc = xp.zeros(wnd.padded_shape(xl.shape, g), dtype=dy.dtype)
    zero = xp.zeros((), dtype=dy.dtype)
    for t, hit in _first_max_masks(xp, xl, g):
        wnd.tap(acc, g, t)[...] += xp.where(hit, dyl, zero)
    return wnd.from_last_array(xp, wnd.crop(acc, xl.shape, g), data_format)


def _max_grad_grad_infer(x: Tensor, y: Tensor, gx: Tensor, **attrs: Any) -> Any:
    geo.check_dtype(x, "orig_input", FLOATS)
    _check("MaxPool3DGradGrad", **attrs)
    if not x.shape.is_compatible_with(gx.shape):
        raise ValueError(f"Shapes must be equal: orig_input {x.shape} vs grad {gx.shape}")
    return _shape(rank5(x), **attrs), x.dtype.base_dtype


def _max_grad_grad_impl(xp: Any, x: Any, y: Any, gx: Any, *, ksize: Any, strides: Any, padding: str,
                        data_format: str) -> Any:
    """The input-shaped ``gx`` read at each window's maximum."""
    xl = wnd.last_array(xp, x, data_format)
    g = _window(xl.shape, ksize, strides, padding, data_format)
    gpad = wnd.pad(xp, wnd.last_array(xp, gx, data_format), g)
    out = xp.zeros((xl.shape[0], *g.out, xl.shape[-1]), dtype=gx.dtype)
    for t, hit in _first_max_masks(xp, xl, g):
        out = xp.where(hit, wnd.tap(gpad, g, t), out)
    return wnd.from_last_array(xp, out, data_format)


def _counts(xp: Any, in_last: Any, g: wnd.WindowND, dtype: Any) -> Any:
    """(1, *out, 1): how many real (unpadded) elements each window covers."""
    ones = wnd.pad(xp, xp.ones((1, *in_last[1:-1], 1), dtype=dtype), g)
    count = xp.zeros((1, *g.out, 1), dtype=dtype)
    for t in g.taps():
        count += wnd.tap(ones, g, t)
    return count


def _avg_pool_impl(xp: Any, x: Any, *, ksize: Any, strides: Any, padding: str, data_format: str) -> Any:
    xl = wnd.last_array(xp, x, data_format)
    g = _window(xl.shape, ksize, strides, padding, data_format)
    xpad = wnd.pad(xp, xl, g)
    total = xp.zeros((xl.shape[0], *g.out, xl.shape[-1]), dtype=x.dtype)
    for t in g.taps():
        total += wnd.tap(xpad, g, t)
    total /= _counts(xp, xl.shape, g, x.dtype)
    return wnd.from_last_array(xp, total, data_format)


def _avg_grad_infer(dy: Tensor, *like: Tensor, orig_input_shape: Any, **attrs: Any) -> Any:
    geo.check_dtype(dy, "grad", FLOATS)
    _check("AvgPool3DGrad", **attrs)
    sizes = merged_sizes5(orig_input_shape, like, "orig_input_shape", "AvgPool3DGrad")
    dyd = rank5(dy) or (None,) * 5
    if sizes[0] is None:
        sizes[0] = dyd[0]
    for a, b in zip(_shape(sizes, **attrs), dyd):
        if a is not None and b is not None and a != b:
            raise ValueError(f"Dimensions must be equal, but are {a} and {b}")
    return tuple(sizes), dy.dtype.base_dtype


def _avg_grad_impl(xp: Any, dy: Any, *like: Any, orig_input_shape: Any, ksize: Any, strides: Any, padding: str,
                   data_format: str) -> Any:
    dyl = wnd.last_array(xp, dy, data_format)
    in_last = wnd.to_last(geo.resolve_sizes(orig_input_shape, like, dy.shape[0], data_format), data_format)
    g = _window(in_last, ksize, strides, padding, data_format)
    share = dyl / _counts(xp, in_last, g, dy.dtype)
    acc = xp.zeros(wnd.padded_shape(in_last, g), dtype=dy.dtype)
    for t in g.taps():
        wnd.tap(acc, g, t)[...] += share
    return wnd.from_last_array(xp, wnd.crop(acc, in_last, g), data_format)


def _avg_grad(op: Operation, dy: Tensor) -> list[Any]:
    sizes, like = sizes_arg(op.inputs[0], True)
    return [AVG_POOL3D_GRAD(dy, *like, orig_input_shape=sizes, **pool3d_attrs(op))]


# --- samples: distinct values (no ties within a window), SAME and VALID, both formats ---
def pool3d_cases() -> list[tuple[tuple[int, ...], dict[str, Any]]]:
    def attrs(k: Any, s: Any, padding: str, fmt: str = "NDHWC") -> dict[str, Any]:
        return {"ksize": k, "strides": s, "padding": padding, "data_format": fmt}
    return [((2, 3, 4, 3, 2), attrs((1, 2, 2, 2, 1), (1, 2, 2, 2, 1), "SAME")),
            ((1, 4, 5, 3, 1), attrs((1, 2, 3, 1, 1), (1, 1, 2, 1, 1), "VALID")),
            ((1, 2, 3, 4, 3), attrs((1, 1, 2, 2, 2), (1, 1, 1, 2, 2), "SAME", "NCDHW"))]


def _distinct(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.permutation(int(np.prod(shape))).reshape(shape) * 0.01 + rng.uniform(0, 0.001)


def _grad_sample(upstream_like_input: bool) -> Any:
    def sample(rng: np.random.Generator) -> list[Any]:
        out = []
        for s, a in pool3d_cases():
            x = _distinct(rng, s)
            g = rng.standard_normal(s if upstream_like_input else _shape(s, **a))
            out.append(([x, _max_pool_impl(np, x, **a), g], a))
        return out
    return sample


def _avg_grad_sample(rng: np.random.Generator) -> list[Any]:
    out = []
    for k, (s, a) in enumerate(pool3d_cases()):
        like = [rng.standard_normal(s)] if k == 1 else []
        sizes = (None,) + s[1:] if k == 0 else s
        out.append(([rng.standard_normal(_shape(s, **a))] + like, {"orig_input_shape": sizes, **a}))
    return out


MAX_POOL3D = register_op(OpDef(
    "MaxPool3D", infer=_infer("MaxPool3D"), impl=_max_pool_impl, input_names=("input",),
    grad=lambda op, dy: [MAX_POOL3D_GRAD(op.inputs[0], op.outputs[0], dy, **pool3d_attrs(op))],
    sample=lambda rng: [([_distinct(rng, s)], a) for s, a in pool3d_cases()],
))
MAX_POOL3D_GRAD = register_op(OpDef(
    "MaxPool3DGrad", infer=_max_grad_infer, impl=_max_grad_impl, input_names=("orig_input", "orig_output", "grad"),
    sample=_grad_sample(False),
    grad=lambda op, g: [zeros_like(op.inputs[0]), zeros_like(op.inputs[1]),
                        MAX_POOL3D_GRAD_GRAD(op.inputs[0], op.inputs[1], g, **pool3d_attrs(op))],
))
MAX_POOL3D_GRAD_GRAD = register_op(OpDef(
    "MaxPool3DGradGrad", infer=_max_grad_grad_infer, impl=_max_grad_grad_impl,
    input_names=("orig_input", "orig_output", "grad"), sample=_grad_sample(True),
    grad=lambda op, g: [zeros_like(op.inputs[0]), zeros_like(op.inputs[1]),
                        MAX_POOL3D_GRAD(op.inputs[0], op.inputs[1], g, **pool3d_attrs(op))],
))
AVG_POOL3D = register_op(OpDef(
    "AvgPool3D", infer=_infer("AvgPool3D"), impl=_avg_pool_impl, grad=_avg_grad, input_names=("input",),
    sample=lambda rng: [([rng.standard_normal(s)], a) for s, a in pool3d_cases()],
))
AVG_POOL3D_GRAD = register_op(OpDef(
    "AvgPool3DGrad", infer=_avg_grad_infer, impl=_avg_grad_impl, input_names=("grad", "orig_input"),
    grad=lambda op, g: [AVG_POOL3D(g, **pool3d_attrs(op))] + [None] * (len(op.inputs) - 1),
    sample=_avg_grad_sample,
))
