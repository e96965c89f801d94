"""Depthwise 2-D convolution: DepthwiseConv2dNative and its two gradient ops.

Output channel c*M + m is input channel c convolved with filter[:, :, c, m]. Each lowering loops
over the KH*KW taps of the strided patches view (conv_geometry.windows), each step a whole-array
broadcast product. The backprop ops take static sizes as attributes, plus an optional shape
source input, like the Conv2D backprop ops.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gpugraph.framework.tensor import Operation, Tensor
from gpugraph.ops import conv_geometry as geo
from gpugraph.ops.conv_ops import (
    CONV_TYPES, check_conv_attrs, check_equal, check_out_backprop, conv_attrs, conv_cases, merged_sizes, out_shape,
    sizes_arg, spatial_out,
)
from gpugraph.ops.registry import OpDef, register_op


def _mult(fc: Any, fm: Any) -> Any:
    return None if fc is None or fm is None else fc * fm


def _depthwise_infer(x: Tensor, w: Tensor, **attrs: Any) -> Any:
    geo.check_dtype(x, "input", CONV_TYPES)
    check_conv_attrs("DepthwiseConv2dNative", attrs)
    fmt = attrs["data_format"]
    n, h, wd, c = geo.to_nhwc(geo.rank4(x), fmt)
    kh, kw, fc, fm = geo.rank4(w) or (None,) * 4
    check_equal(c, fc)
    oh, ow = spatial_out((n, h, wd, c), kh, kw, attrs)
    return geo.from_nhwc((n, oh, ow, _mult(fc if fc is not None else c, fm)), fmt), x.dtype.base_dtype


def _depthwise_impl(xp: Any, x: Any, w: Any, *, strides: Any, padding: str, explicit_paddings: Any,
                    data_format: str, dilations: Any) -> Any:
    xn = geo.nhwc(xp, x, data_format)
    kh, kw, c, m = w.shape
    g = geo.window(xn.shape, kh, kw, strides, dilations, padding, explicit_paddings, data_format)
    cols = geo.windows(xp, xn, g)
    out = xp.zeros((xn.shape[0], g.oh, g.ow, c, m), dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            out += cols[:, :, :, i, j, :, None] * w[i, j]
    return geo.from_nhwc_array(xp, out.reshape(xn.shape[0], g.oh, g.ow, c * m), data_format)


def _depthwise_grad(op: Operation, dy: Tensor) -> list[Any]:
    x, w = op.inputs
    attrs = conv_attrs(op)
    in_sizes, in_like = sizes_arg(x, True)
    f_sizes, f_like = sizes_arg(w, False)
    return [DEPTHWISE_BACKPROP_INPUT(w, dy, *in_like, input_sizes=in_sizes, **attrs),
            DEPTHWISE_BACKPROP_FILTER(x, dy, *f_like, filter_sizes=f_sizes, **attrs)]


def _bp_input_infer(w: Tensor, dy: Tensor, *like: Tensor, input_sizes: Any, **attrs: Any) -> Any:
    geo.check_dtype(dy, "out_backprop", CONV_TYPES)
    check_conv_attrs("DepthwiseConv2dNativeBackpropInput", attrs)
    fmt = attrs["data_format"]
    sizes = geo.to_nhwc(merged_sizes(input_sizes, like, "input_sizes", "DepthwiseConv2dNativeBackpropInput"), fmt)
    kh, kw, fc, fm = geo.rank4(w) or (None,) * 4
    dyd = geo.to_nhwc(geo.rank4(dy), fmt)
    check_equal(sizes[3], fc)
    check_equal(sizes[0], dyd[0])
    check_equal(_mult(fc, fm), dyd[3])
    check_out_backprop("DepthwiseConv2dNativeBackpropInput", spatial_out(sizes, kh, kw, attrs), dyd)
    n = sizes[0] if sizes[0] is not None else dyd[0]
    c = sizes[3] if sizes[3] is not None else fc
    return geo.from_nhwc((n, sizes[1], sizes[2], c), fmt), dy.dtype.base_dtype


def _bp_input_impl(xp: Any, w: Any, dy: Any, *like: Any, input_sizes: Any, strides: Any, padding: str,
                   explicit_paddings: Any, data_format: str, dilations: Any) -> Any:
    dyn = geo.nhwc(xp, dy, data_format)
    in_nhwc = geo.to_nhwc(geo.resolve_sizes(input_sizes, like, dy.shape[0], data_format), data_format)
    kh, kw, c, m = w.shape
    g = geo.window(in_nhwc, kh, kw, strides, dilations, padding, explicit_paddings, data_format)
    check_out_backprop("DepthwiseConv2dNativeBackpropInput", (g.oh, g.ow), dyn.shape)
    dy5 = dyn.reshape(dyn.shape[0], g.oh, g.ow, c, m)
    acc = xp.zeros(geo.padded_shape(in_nhwc, g), dtype=dy.dtype)
    for i in range(kh):
        for j in range(kw):
            geo.tap(acc, g, i, j)[...] += (dy5 * w[i, j]).sum(axis=-1)
    return geo.from_nhwc_array(xp, geo.crop(acc, in_nhwc, g), data_format)


def _bp_input_grad(op: Operation, g: Tensor) -> list[Any]:
    w, dy = op.inputs[:2]
    attrs = conv_attrs(op)
    f_sizes, f_like = sizes_arg(w, False)
    return [DEPTHWISE_BACKPROP_FILTER(g, dy, *f_like, filter_sizes=f_sizes, **attrs), DEPTHWISE(g, w, **attrs)] + \
        [None] * (len(op.inputs) - 2)


def _bp_filter_infer(x: Tensor, dy: Tensor, *like: Tensor, filter_sizes: Any, **attrs: Any) -> Any:
    geo.check_dtype(x, "input", CONV_TYPES)
    check_conv_attrs("DepthwiseConv2dNativeBackpropFilter", attrs)
    fmt = attrs["data_format"]
    kh, kw, fc, fm = merged_sizes(filter_sizes, like, "filter_sizes", "DepthwiseConv2dNativeBackpropFilter")
    xd = geo.to_nhwc(geo.rank4(x), fmt)
    dyd = geo.to_nhwc(geo.rank4(dy), fmt)
    check_equal(xd[3], fc)
    check_equal(xd[0], dyd[0])
    check_equal(_mult(fc, fm), dyd[3])
    check_out_backprop("DepthwiseConv2dNativeBackpropFilter", spatial_out(xd, kh, kw, attrs), dyd)
    return (kh, kw, fc if fc is not None else xd[3], fm), x.dtype.base_dtype


def _bp_filter_impl(xp: Any, x: Any, dy: Any, *like: Any, filter_sizes: Any, strides: Any, padding: str,
                    explicit_paddings: Any, data_format: str, dilations: Any) -> Any:
    xn = geo.nhwc(xp, x, data_format)
    dyn = geo.nhwc(xp, dy, data_format)
    kh, kw, c, m = geo.resolve_sizes(filter_sizes, like, 0, None)
    g = geo.window(xn.shape, kh, kw, strides, dilations, padding, explicit_paddings, data_format)
    check_out_backprop("DepthwiseConv2dNativeBackpropFilter", (g.oh, g.ow), dyn.shape)
    cols = geo.windows(xp, xn, g)
    dy5 = dyn.reshape(dyn.shape[0], g.oh, g.ow, c, m)
    return xp.stack([xp.einsum("nhwc,nhwcm->cm", cols[:, :, :, i, j, :], dy5)
                     for i in range(kh) for j in range(kw)]).reshape(kh, kw, c, m)


def _bp_filter_grad(op: Operation, g: Tensor) -> list[Any]:
    x, dy = op.inputs[:2]
    attrs = conv_attrs(op)
    in_sizes, in_like = sizes_arg(x, True)
    return [DEPTHWISE_BACKPROP_INPUT(g, dy, *in_like, input_sizes=in_sizes, **attrs), DEPTHWISE(x, g, **attrs)] + \
        [None] * (len(op.inputs) - 2)


def _cases(rng: np.random.Generator) -> list[Any]:
    """The convolution cases with a channel multiplier of 2 (filter (KH, KW, C, 2))."""
    return [(xs, ws[:3] + (2,), a) for xs, ws, a in conv_cases(rng)[:3]]


def _depthwise_sample(rng: np.random.Generator) -> list[Any]:
    return [([rng.standard_normal(xs), rng.standard_normal(ws)], a) for xs, ws, a in _cases(rng)]


def _bp_input_sample(rng: np.random.Generator) -> list[Any]:
    out = []
    for k, (xs, ws, a) in enumerate(_cases(rng)):
        dy = rng.standard_normal(out_shape(xs, ws[0], ws[1], ws[2] * ws[3], a))
        like = [rng.standard_normal(xs)] if k == 1 else []
        out.append(([rng.standard_normal(ws), dy] + like, {"input_sizes": (None,) + xs[1:] if k == 0 else xs, **a}))
    return out


def _bp_filter_sample(rng: np.random.Generator) -> list[Any]:
    out = []
    for k, (xs, ws, a) in enumerate(_cases(rng)):
        dy = rng.standard_normal(out_shape(xs, ws[0], ws[1], ws[2] * ws[3], a))
        like = [rng.standard_normal(ws)] if k == 2 else []
        out.append(([rng.standard_normal(xs), dy] + like, {"filter_sizes": ws, **a}))
    return out


DEPTHWISE = register_op(OpDef(
    "DepthwiseConv2dNative", infer=_depthwise_infer, impl=_depthwise_impl, grad=_depthwise_grad,
    input_names=("input", "filter"), sample=_depthwise_sample,
))
DEPTHWISE_BACKPROP_INPUT = register_op(OpDef(
    "DepthwiseConv2dNativeBackpropInput", infer=_bp_input_infer, impl=_bp_input_impl, grad=_bp_input_grad,
    input_names=("filter", "out_backprop", "input"), sample=_bp_input_sample,
))
DEPTHWISE_BACKPROP_FILTER = register_op(OpDef(
    "DepthwiseConv2dNativeBackpropFilter", infer=_bp_filter_infer, impl=_bp_filter_impl, grad=_bp_filter_grad,
    input_names=("input", "out_backprop", "filter"), sample=_bp_filter_sample,
))
