"""2-D convolution ops: Conv2D and its two gradient ops (which also make conv2d_transpose).

Lowerings are im2col + one matmul (see conv_geometry.py): the patches view is copied once into a
(N*OH*OW, KH*KW*C) matrix and multiplied by the filter as (KH*KW*C, O), so BLAS (or cuBLAS) does
the work in the input's own dtype. The filter gradient is patches^T @ dy; the input gradient is
dy @ filter[i, j]^T for each tap, added into its strided slice (col2im without the big buffer).

The backprop ops take their static sizes as an attribute (``input_sizes``/``filter_sizes``, in
data_format order; a None batch is taken from out_backprop at run time) rather than TF1's int32
tensor input, and an optional third input whose shape gives the sizes when they are not known
when the graph is built.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gpugraph.framework import dtypes
from gpugraph.framework.tensor import Operation, Tensor
from gpugraph.ops import conv_geometry as geo
from gpugraph.ops.host_blas import sized_product
from gpugraph.ops.registry import OpDef, register_op

CONV_TYPES = (dtypes.float16, dtypes.float32, dtypes.float64, dtypes.int32)
ATTRS = ("strides", "padding", "explicit_paddings", "data_format", "dilations")


def conv_attrs(op: Operation) -> dict[str, Any]:
    return {k: op.get_attr(k) for k in ATTRS}


def check_conv_attrs(op: str, attrs: dict[str, Any]) -> None:
    geo.check_window_attrs(op, attrs["padding"], attrs["explicit_paddings"], attrs["data_format"],
                           attrs["strides"], attrs["dilations"])


def check_depth(c: int | None, fc: int | None) -> None:
    if c is None or fc is None:
        return
    if c % fc:
        raise ValueError(f"Depth of input ({c}) is not a multiple of input depth of filter ({fc})")
    if c != fc:
        raise ValueError(f"Grouped convolution (depth of input {c}, input depth of filter {fc}) is not supported")


def check_equal(a: int | None, b: int | None) -> None:
    if a is not None and b is not None and a != b:
        raise ValueError(f"Dimensions must be equal, but are {a} and {b}")


def spatial_out(in_nhwc: geo.Dims, kh: Any, kw: Any, attrs: dict[str, Any]) -> tuple[Any, Any]:
    fmt = attrs["data_format"]
    _, sh, sw, _ = geo.to_nhwc(tuple(attrs["strides"]), fmt)
    _, dh, dw, _ = geo.to_nhwc(tuple(attrs["dilations"]), fmt)
    pads = geo.explicit_pairs(attrs["explicit_paddings"], fmt) if attrs["padding"] == "EXPLICIT" else ((0, 0),) * 2
    oh = geo.out_size(in_nhwc[1], kh, sh, dh, attrs["padding"], pads[0])[0]
    ow = geo.out_size(in_nhwc[2], kw, sw, dw, attrs["padding"], pads[1])[0]
    return oh, ow


def check_out_backprop(op: str, computed: tuple[Any, Any], dy_nhwc: geo.Dims) -> None:
    for got, want in zip(dy_nhwc[1:3], computed):
        if got is not None and want is not None and got != want:
            raise ValueError(f"{op}: Size of out_backprop doesn't match computed: actual = {got}, "
                             f"computed = {want}")


def merged_sizes(sizes: Any, like: tuple[Tensor, ...], what: str, op: str) -> list[Any]:
    if len(sizes) != 4:
        raise ValueError(f"{op} requires {what} to contain 4 values, but got: {len(sizes)}")
    out = [None if s is None or s < 0 else int(s) for s in sizes]
    if like:
        dims = geo.rank4(like[0])
        for i, d in enumerate(dims or ()):
            check_equal(out[i], d)
            out[i] = d if out[i] is None else out[i]
    return out


# --- Conv2D ---
def _conv2d_infer(x: Tensor, w: Tensor, **attrs: Any) -> Any:
    geo.check_dtype(x, "input", CONV_TYPES)
    check_conv_attrs("Conv2D", attrs)
    fmt = attrs["data_format"]
    n, h, wd, c = geo.to_nhwc(geo.rank4(x), fmt)
    kh, kw, fc, fo = geo.rank4(w) or (None,) * 4
    check_depth(c, fc)
    oh, ow = spatial_out((n, h, wd, c), kh, kw, attrs)
    return geo.from_nhwc((n, oh, ow, fo), fmt), x.dtype.base_dtype


def _conv2d_impl(xp: Any, x: Any, w: Any, *, strides: Any, padding: str, explicit_paddings: Any,
                 data_format: str, dilations: Any) -> Any:
    xn = geo.nhwc(xp, x, data_format)
    kh, kw, c, o = w.shape
    g = geo.window(xn.shape, kh, kw, strides, dilations, padding, explicit_paddings, data_format)
    cols = geo.windows(xp, xn, g).reshape(-1, kh * kw * c)  # the one im2col copy
    out = sized_product(xp, cols.size * o, lambda: cols @ w.reshape(-1, o))
    return geo.from_nhwc_array(xp, out.reshape(xn.shape[0], g.oh, g.ow, o), data_format)


def sizes_arg(t: Tensor, keep_batch_unknown: bool) -> tuple[tuple[Any, ...], list[Tensor]]:
    """Static sizes of ``t`` for a backprop op, plus ``[t]`` as a shape source when they are not known."""
    dims = t.shape.as_tuple()
    rest = dims[1:] if (dims is not None and keep_batch_unknown) else dims
    if dims is not None and all(d is not None for d in rest):
        return tuple(dims), []
    return tuple(dims) if dims is not None else (None,) * 4, [t]


def _conv2d_grad(op: Operation, dy: Tensor) -> list[Any]:
    x, w = op.inputs
    attrs = conv_attrs(op)
    in_sizes, in_like = sizes_arg(x, True)
    f_sizes, f_like = sizes_arg(w, False)
    return [CONV2D_BACKPROP_INPUT(w, dy, *in_like, input_sizes=in_sizes, **attrs),
            CONV2D_BACKPROP_FILTER(x, dy, *f_like, filter_sizes=f_sizes, **attrs)]


# --- Conv2DBackpropInput: d conv / d input, and conv2d_transpose ---
def _bp_input_infer(w: Tensor, dy: Tensor, *like: Tensor, input_sizes: Any, **attrs: Any) -> Any:
    geo.check_dtype(dy, "out_backprop", CONV_TYPES)
    check_conv_attrs("Conv2DBackpropInput", attrs)
    fmt = attrs["data_format"]
    sizes = geo.to_nhwc(merged_sizes(input_sizes, like, "input_sizes", "Conv2DBackpropInput"), fmt)
    kh, kw, fc, fo = geo.rank4(w) or (None,) * 4
    dyd = geo.to_nhwc(geo.rank4(dy), fmt)
    check_equal(fo, dyd[3])
    n = dyd[0]  # TF's shape function takes the batch from out_backprop, not from input_sizes
    check_equal(sizes[0], dyd[0])
    check_depth(sizes[3], fc)
    check_out_backprop("Conv2DBackpropInput", spatial_out(sizes, kh, kw, attrs), dyd)
    c = sizes[3] if sizes[3] is not None else fc
    return geo.from_nhwc((n, sizes[1], sizes[2], c), fmt), dy.dtype.base_dtype


def _bp_input_impl(xp: Any, w: Any, dy: Any, *like: Any, input_sizes: Any, strides: Any, padding: str,
                   explicit_paddings: Any, data_format: str, dilations: Any) -> Any:
    dyn = geo.nhwc(xp, dy, data_format)
    in_nhwc = geo.to_nhwc(geo.resolve_sizes(input_sizes, like, dy.shape[0], data_format), data_format)
    kh, kw, c, o = w.shape
    g = geo.window(in_nhwc, kh, kw, strides, dilations, padding, explicit_paddings, data_format)
    check_out_backprop("Conv2DBackpropInput", (g.oh, g.ow), dyn.shape)
    # one (M, O) @ (O, C) product per tap, added straight into its strided slice: no (M, KH*KW*C) buffer
    dy2d = dyn.reshape(-1, o)
    acc = xp.zeros(geo.padded_shape(in_nhwc, g), dtype=dy.dtype)

    def add_taps() -> None:
        for i in range(kh):
            for j in range(kw):
                geo.tap(acc, g, i, j)[...] += (dy2d @ w[i, j].T).reshape(dyn.shape[0], g.oh, g.ow, c)
    sized_product(xp, dy2d.size * c, add_taps)  # sized by one tap's product: they run one after another
    return geo.from_nhwc_array(xp, geo.crop(acc, in_nhwc, g), data_format)


def _bp_input_grad(op: Operation, g: Tensor) -> list[Any]:
    w, dy = op.inputs[:2]
    attrs = conv_attrs(op)
    f_sizes, f_like = sizes_arg(w, False)
    return [CONV2D_BACKPROP_FILTER(g, dy, *f_like, filter_sizes=f_sizes, **attrs), CONV2D(g, w, **attrs)] + \
        [None] * (len(op.inputs) - 2)


# --- Conv2DBackpropFilter: d conv / d filter ---
def _bp_filter_infer(x: Tensor, dy: Tensor, *like: Tensor, filter_sizes: Any, **attrs: Any) -> Any:
    geo.check_dtype(x, "input", CONV_TYPES)
    check_conv_attrs("Conv2DBackpropFilter", attrs)
    fmt = attrs["data_format"]
    kh, kw, fc, fo = merged_sizes(filter_sizes, like, "filter_sizes", "Conv2DBackpropFilter")
    xd = geo.to_nhwc(geo.rank4(x), fmt)
    dyd = geo.to_nhwc(geo.rank4(dy), fmt)
    check_depth(xd[3], fc)
    check_equal(fo, dyd[3])
    check_equal(xd[0], dyd[0])
    check_out_backprop("Conv2DBackpropFilter", spatial_out(xd, kh, kw, attrs), dyd)
    return (kh, kw, fc if fc is not None else xd[3], fo if fo is not None else dyd[3]), x.dtype.base_dtype


def _bp_filter_impl(xp: Any, x: Any, dy: Any, *like: Any, filter_sizes: Any, strides: Any, padding: str,
                    explicit_paddings: Any, data_format: str, dilations: Any) -> Any:
    xn = geo.nhwc(xp, x, data_format)
    dyn = geo.nhwc(xp, dy, data_format)
    kh, kw, c, o = geo.resolve_sizes(filter_sizes, like, 0, None)
    g = geo.window(xn.shape, kh, kw, strides, dilations, padding, explicit_paddings, data_format)
    check_out_backprop("Conv2DBackpropFilter", (g.oh, g.ow), dyn.shape)
    cols = geo.windows(xp, xn, g).reshape(-1, kh * kw * c)
    return sized_product(xp, cols.size * o, lambda: cols.T @ dyn.reshape(-1, o)).reshape(kh, kw, c, o)


def _bp_filter_grad(op: Operation, g: Tensor) -> list[Any]:
    x, dy = op.inputs[:2]
    attrs = conv_attrs(op)
    in_sizes, in_like = sizes_arg(x, True)
    return [CONV2D_BACKPROP_INPUT(g, dy, *in_like, input_sizes=in_sizes, **attrs), CONV2D(x, g, **attrs)] + \
        [None] * (len(op.inputs) - 2)


# --- samples: small cases over formats, strides, paddings and dilations ---
def conv_cases(rng: np.random.Generator) -> list[tuple[tuple[int, ...], tuple[int, ...], dict[str, Any]]]:
    """(input shape, filter shape (KH, KW, C, O), attrs) for the convolution samples."""
    def attrs(strides: Any = (1, 1, 1, 1), padding: str = "SAME", pads: Any = (), fmt: str = "NHWC",
              dilations: Any = (1, 1, 1, 1)) -> dict[str, Any]:
        return {"strides": strides, "padding": padding, "explicit_paddings": pads, "data_format": fmt,
                "dilations": dilations}
    return [((2, 5, 4, 3), (3, 2, 3, 2), attrs()),
            ((1, 7, 6, 2), (2, 3, 2, 3), attrs((1, 2, 1, 1), "VALID", dilations=(1, 1, 2, 1))),
            ((1, 2, 5, 6), (2, 2, 2, 2), attrs((1, 1, 2, 2), "EXPLICIT", (0, 0, 0, 0, 1, 0, 2, 1), "NCHW")),
            ((2, 5, 6, 1), (3, 3, 1, 2), attrs((1, 2, 2, 1), "SAME", dilations=(1, 2, 1, 1)))]


def out_shape(in_shape: tuple[int, ...], kh: int, kw: int, out_c: int, attrs: dict[str, Any]) -> tuple[int, ...]:
    fmt = attrs["data_format"]
    n, h, w, c = geo.to_nhwc(in_shape, fmt)
    oh, ow = spatial_out((n, h, w, c), kh, kw, attrs)
    return geo.from_nhwc((n, oh, ow, out_c), fmt)


def _conv2d_sample(rng: np.random.Generator) -> list[Any]:
    return [([rng.standard_normal(xs), rng.standard_normal(ws)], a) for xs, ws, a in conv_cases(rng)]


def _bp_input_sample(rng: np.random.Generator) -> list[Any]:
    out = []
    for k, (xs, ws, a) in enumerate(conv_cases(rng)):
        dy = rng.standard_normal(out_shape(xs, ws[0], ws[1], ws[3], a))
        like = [rng.standard_normal(xs)] if k == 1 else []
        sizes = (None,) + xs[1:] if k == 0 else xs
        out.append(([rng.standard_normal(ws), dy] + like, {"input_sizes": sizes, **a}))
    return out


def _bp_filter_sample(rng: np.random.Generator) -> list[Any]:
    out = []
    for k, (xs, ws, a) in enumerate(conv_cases(rng)):
        dy = rng.standard_normal(out_shape(xs, ws[0], ws[1], ws[3], a))
        like = [rng.standard_normal(ws)] if k == 2 else []
        out.append(([rng.standard_normal(xs), dy] + like, {"filter_sizes": ws, **a}))
    return out


CONV2D = register_op(OpDef(
    "Conv2D", infer=_conv2d_infer, impl=_conv2d_impl, grad=_conv2d_grad, input_names=("input", "filter"),
    sample=_conv2d_sample,
))
CONV2D_BACKPROP_INPUT = register_op(OpDef(
    "Conv2DBackpropInput", infer=_bp_input_infer, impl=_bp_input_impl, grad=_bp_input_grad,
    input_names=("filter", "out_backprop", "input"), sample=_bp_input_sample,
))
CONV2D_BACKPROP_FILTER = register_op(OpDef(
    "Conv2DBackpropFilter", infer=_bp_filter_infer, impl=_bp_filter_impl, grad=_bp_filter_grad,
    input_names=("input", "out_backprop", "filter"), sample=_bp_filter_sample,
))
