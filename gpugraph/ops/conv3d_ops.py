"""3-D convolution ops: Conv3D and its gradient ops Conv3DBackpropInputV2 / Conv3DBackpropFilterV2.

The lowerings are those of conv_ops.py over three spatial dimensions (window_nd.py): one im2col
copy of the (N, OD, OH, OW, KD, KH, KW, C) patches view and one matmul for the forward and filter
gradient; the input gradient is one (M, O) @ (O, C) product per tap added into its strided slice.
As for Conv2D, the backprop ops take static sizes as an attribute (a None batch comes from
out_backprop at run time) plus an optional input whose shape gives the sizes when not known.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from gpugraph.framework import dtypes
from gpugraph.framework.tensor import Operation, Tensor
from gpugraph.ops import conv_geometry as geo
from gpugraph.ops import window_nd as wnd
from gpugraph.ops.conv_ops import check_depth, check_equal, sizes_arg
from gpugraph.ops.registry import OpDef, register_op

FLOATS = (dtypes.float16, dtypes.float32, dtypes.float64)
ATTRS = ("strides", "padding", "data_format", "dilations")


def conv3d_attrs(op: Operation) -> dict[str, Any]:
    return {k: op.get_attr(k) for k in ATTRS}


def rank5(t: Tensor) -> tuple[Any, ...] | None:
    dims = t.shape.as_tuple()
    if dims is not None and len(dims) != 5:
        raise ValueError(f"Shape must be rank 5 but is rank {len(dims)}")
    return dims


def _check(op: str, attrs: dict[str, Any]) -> None:
    wnd.check_attrs(op, attrs["padding"], attrs["data_format"],
                    {"strides": attrs["strides"], "dilations": attrs["dilations"]})


def _spatial(values: Any, fmt: str) -> tuple[int, ...]:
    return wnd.to_last(values, fmt)[1:-1]


def _out(in_last: Any, kernel: Any, attrs: dict[str, Any]) -> tuple[Any, ...]:
    fmt = attrs["data_format"]
    return wnd.out_spatial(in_last[1:-1], kernel, _spatial(attrs["strides"], fmt), _spatial(attrs["dilations"], fmt),
                           attrs["padding"])


def _geometry(in_last: Any, kernel: Any, strides: Any, dilations: Any, padding: str, fmt: str) -> wnd.WindowND:
    return wnd.window(in_last, kernel, _spatial(strides, fmt), _spatial(dilations, fmt), padding)


def _check_out(op: str, computed: Any, dy_last: Any) -> None:
    for got, want in zip(dy_last[1:-1], computed):
        if got is not None and want is not None and got != want:
            raise ValueError(f"{op}: Size of out_backprop doesn't match computed: actual = {got}, computed = {want}")


def merged_sizes5(sizes: Any, like: tuple[Tensor, ...], what: str, op: str) -> list[Any]:
    if len(sizes) != 5:
        raise ValueError(f"{op} requires {what} to contain 5 values, but got: {len(sizes)}")
    out = [None if s is None or s < 0 else int(s) for s in sizes]
    if like:
        for i, d in enumerate(rank5(like[0]) or ()):
            check_equal(out[i], d)
            out[i] = d if out[i] is None else out[i]
    return out


# --- Conv3D ---
def _conv3d_infer(x: Tensor, w: Tensor, **attrs: Any) -> Any:
    geo.check_dtype(x, "input", FLOATS)
    _check("Conv3D", attrs)
    fmt = attrs["data_format"]
    xd = wnd.to_last(rank5(x), fmt)
    wd = rank5(w) or (None,) * 5
    check_depth(xd[-1], wd[3])
    return wnd.from_last((xd[0], *_out(xd, wd[:3], attrs), wd[4]), fmt), x.dtype.base_dtype


def _conv3d_impl(xp: Any, x: Any, w: Any, *, strides: Any, padding: str, data_format: str, dilations: Any) -> Any:
    xl = wnd.last_array(xp, x, data_format)
    *kernel, c, o = w.shape
    g = _geometry(xl.shape, kernel, strides, dilations, padding, data_format)
    cols = wnd.windows(xp, xl, g).reshape(-1, w.size // o)  # the one im2col copy
    out = (cols @ w.reshape(-1, o)).reshape(xl.shape[0], *g.out, o)
    return wnd.from_last_array(xp, out, data_format)


def _conv3d_grad(op: Operation, dy: Tensor) -> list[Any]:
    x, w = op.inputs
    attrs = conv3d_attrs(op)
    in_sizes, in_like = sizes_arg(x, True)
    f_sizes, f_like = sizes_arg(w, False)
    return [CONV3D_BACKPROP_INPUT(w, dy, *in_like, input_sizes=in_sizes, **attrs),
            CONV3D_BACKPROP_FILTER(x, dy, *f_like, filter_sizes=f_sizes, **attrs)]


# --- Conv3DBackpropInputV2: d conv / d input, and conv3d_transpose ---
def _bp_input_infer(w: Tensor, dy: Tensor, *like: Tensor, input_sizes: Any, **attrs: Any) -> Any:
    geo.check_dtype(dy, "out_backprop", FLOATS)
    _check("Conv3DBackpropInputV2", attrs)
    fmt = attrs["data_format"]
    sizes = wnd.to_last(merged_sizes5(input_sizes, like, "input_sizes", "Conv3DBackpropInputV2"), fmt)
    wd = rank5(w) or (None,) * 5
    dyd = wnd.to_last(rank5(dy), fmt)
    check_equal(wd[4], dyd[-1])
    check_equal(sizes[0], dyd[0])
    check_depth(sizes[-1], wd[3])
    _check_out("Conv3DBackpropInputV2", _out(sizes, wd[:3], attrs), dyd)
    c = sizes[-1] if sizes[-1] is not None else wd[3]
    return wnd.from_last((dyd[0], *sizes[1:-1], c), fmt), dy.dtype.base_dtype


def _bp_input_impl(xp: Any, w: Any, dy: Any, *like: Any, input_sizes: Any, strides: Any, padding: str,
                   data_format: str, dilations: Any) -> Any:
    dyl = wnd.last_array(xp, dy, data_format)
    in_last = wnd.to_last(geo.resolve_sizes(input_sizes, like, dy.shape[0], data_format), data_format)
    *kernel, c, o = w.shape
    g = _geometry(in_last, kernel, strides, dilations, padding, data_format)
    _check_out("Conv3DBackpropInputV2", g.out, dyl.shape)
    dy2d = dyl.reshape(-1, o)
    acc = xp.zeros(wnd.padded_shape(in_last, g), dtype=dy.dtype)
    for t in g.taps():
        wnd.tap(acc, g, t)[...] += (dy2d @ w[t].T).reshape(dyl.shape[0], *g.out, c)
    return wnd.from_last_array(xp, wnd.crop(acc, in_last, g), data_format)


def _bp_input_grad(op: Operation, g: Tensor) -> list[Any]:
    w, dy = op.inputs[:2]
    attrs = conv3d_attrs(op)
    f_sizes, f_like = sizes_arg(w, False)
    return [CONV3D_BACKPROP_FILTER(g, dy, *f_like, filter_sizes=f_sizes, **attrs), CONV3D(g, w, **attrs)] + \
        [None] * (len(op.inputs) - 2)


# --- Conv3DBackpropFilterV2: d conv / d filter ---
def _bp_filter_infer(x: Tensor, dy: Tensor, *like: Tensor, filter_sizes: Any, **attrs: Any) -> Any:
    geo.check_dtype(x, "input", FLOATS)
    _check("Conv3DBackpropFilterV2", attrs)
    fmt = attrs["data_format"]
    kd, kh, kw, fc, fo = merged_sizes5(filter_sizes, like, "filter_sizes", "Conv3DBackpropFilterV2")
    xd = wnd.to_last(rank5(x), fmt)
    dyd = wnd.to_last(rank5(dy), fmt)
    check_depth(xd[-1], fc)
    check_equal(fo, dyd[-1])
    check_equal(xd[0], dyd[0])
    _check_out("Conv3DBackpropFilterV2", _out(xd, (kd, kh, kw), attrs), dyd)
    return (kd, kh, kw, fc if fc is not None else xd[-1], fo if fo is not None else dyd[-1]), x.dtype.base_dtype


def _bp_filter_impl(xp: Any, x: Any, dy: Any, *like: Any, filter_sizes: Any, strides: Any, padding: str,
                    data_format: str, dilations: Any) -> Any:
    xl = wnd.last_array(xp, x, data_format)
    dyl = wnd.last_array(xp, dy, data_format)
    sizes = geo.resolve_sizes(filter_sizes, like, 0, None)
    *kernel, c, o = sizes
    g = _geometry(xl.shape, kernel, strides, dilations, padding, data_format)
    _check_out("Conv3DBackpropFilterV2", g.out, dyl.shape)
    cols = wnd.windows(xp, xl, g).reshape(-1, math.prod(sizes) // o)
    return (cols.T @ dyl.reshape(-1, o)).reshape(sizes)


def _bp_filter_grad(op: Operation, g: Tensor) -> list[Any]:
    x, dy = op.inputs[:2]
    attrs = conv3d_attrs(op)
    in_sizes, in_like = sizes_arg(x, True)
    return [CONV3D_BACKPROP_INPUT(g, dy, *in_like, input_sizes=in_sizes, **attrs), CONV3D(x, g, **attrs)] + \
        [None] * (len(op.inputs) - 2)


# --- samples ---
def conv3d_cases() -> list[tuple[tuple[int, ...], tuple[int, ...], dict[str, Any]]]:
    """(input shape, filter shape (KD, KH, KW, C, O), attrs)."""
    def attrs(strides: Any = (1,) * 5, padding: str = "SAME", fmt: str = "NDHWC",
              dilations: Any = (1,) * 5) -> dict[str, Any]:
        return {"strides": strides, "padding": padding, "data_format": fmt, "dilations": dilations}
    return [((2, 3, 4, 3, 2), (2, 3, 2, 2, 3), attrs()),
            ((1, 5, 4, 5, 1), (2, 2, 3, 1, 2), attrs((1, 2, 1, 2, 1), "VALID")),
            ((1, 2, 4, 3, 5), (2, 2, 2, 2, 2), attrs((1, 1, 2, 1, 2), "SAME", "NCDHW")),
            ((1, 5, 3, 4, 1), (2, 1, 2, 1, 2), attrs(padding="VALID", dilations=(1, 2, 1, 2, 1)))]


def _out_shape(xs: tuple[int, ...], ws: tuple[int, ...], a: dict[str, Any]) -> tuple[int, ...]:
    xl = wnd.to_last(xs, a["data_format"])
    return wnd.from_last((xl[0], *_out(xl, ws[:3], a), ws[4]), a["data_format"])


def _conv3d_sample(rng: np.random.Generator) -> list[Any]:
    return [([rng.standard_normal(xs), rng.standard_normal(ws)], a) for xs, ws, a in conv3d_cases()]


def _bp_input_sample(rng: np.random.Generator) -> list[Any]:
    out = []
    for k, (xs, ws, a) in enumerate(conv3d_cases()):
        like = [rng.standard_normal(xs)] if k == 1 else []
        sizes = (None,) + xs[1:] if k == 0 else xs
        out.append(([rng.standard_normal(ws), rng.standard_normal(_out_shape(xs, ws, a))] + like,
                    {"input_sizes": sizes, **a}))
    return out


def _bp_filter_sample(rng: np.random.Generator) -> list[Any]:
    out = []
    for k, (xs, ws, a) in enumerate(conv3d_cases()):
        like = [rng.standard_normal(ws)] if k == 2 else []
        out.append(([rng.standard_normal(xs), rng.standard_normal(_out_shape(xs, ws, a))] + like,
                    {"filter_sizes": ws, **a}))
    return out


CONV3D = register_op(OpDef(
    "Conv3D", infer=_conv3d_infer, impl=_conv3d_impl, grad=_conv3d_grad, input_names=("input", "filter"),
    sample=_conv3d_sample,
))
CONV3D_BACKPROP_INPUT = register_op(OpDef(
    "Conv3DBackpropInputV2", infer=_bp_input_infer, impl=_bp_input_impl, grad=_bp_input_grad,
    input_names=("filter", "out_backprop", "input"), sample=_bp_input_sample,
))
CONV3D_BACKPROP_FILTER = register_op(OpDef(
    "Conv3DBackpropFilterV2", infer=_bp_filter_infer, impl=_bp_filter_impl, grad=_bp_filter_grad,
    input_names=("input", "out_backprop", "filter"), sample=_bp_filter_sample,
))
