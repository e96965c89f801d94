"""tf.nn: separable and atrous convolutions, the convolution gradient functions, 1-D and N-D pooling
and max_pool_with_argmax, with TF1's signatures and name scopes.

Dilated (atrous) forms run the dilation inside the op, where TF1 wraps the op in
SpaceToBatchND/BatchToSpaceND: the same values, fewer ops, other op names.
"""

from __future__ import annotations

from typing import Any

from gpugraph.framework import dtypes
from gpugraph.framework.tensor import Tensor
from gpugraph.nn.conv import (
    _channel_index, _format, _lookup, _padding, _sequence, _static_shape, avg_pool2d, conv2d_transpose,
    convolution, max_pool2d,
)
from gpugraph.ops.array_ops import expand_dims, squeeze
from gpugraph.ops.constant_ops import convert_to_tensor
from gpugraph.ops.conv_ops import CONV2D, CONV2D_BACKPROP_FILTER, CONV2D_BACKPROP_INPUT
from gpugraph.ops.depthwise_ops import DEPTHWISE, DEPTHWISE_BACKPROP_FILTER, DEPTHWISE_BACKPROP_INPUT
from gpugraph.ops.nn_extra_ops import MAX_POOL_WITH_ARGMAX
from gpugraph.ops.pool_ops import AVG_POOL, MAX_POOL
from gpugraph.ops.registry import graph_of

__all__ = ["separable_conv2d", "atrous_conv2d", "atrous_conv2d_transpose", "conv1d_transpose",
           "conv2d_backprop_input", "conv2d_backprop_filter", "depthwise_conv2d_native",
           "depthwise_conv2d_native_backprop_input", "depthwise_conv2d_native_backprop_filter", "max_pool1d",
           "avg_pool1d", "max_pool_v2", "avg_pool_v2", "max_pool_with_argmax"]


def _rate2(rate: Any) -> list[int]:
    if rate is None:
        return [1, 1]
    values = [int(r) for r in (rate if isinstance(rate, (list, tuple)) else [rate])]
    return values * 2 if len(values) == 1 else values


def _attrs(strides: Any, padding: Any, data_format: str, dilations: Any) -> dict[str, Any]:
    ci = _channel_index(data_format)
    pad, explicit = _padding(padding, data_format)
    return {"strides": tuple(_sequence(strides, 2, ci, "strides")), "padding": pad, "explicit_paddings": explicit,
            "data_format": data_format, "dilations": tuple(_sequence(dilations, 2, ci, "dilations"))}


def separable_conv2d(input: Any, depthwise_filter: Any, pointwise_filter: Any, strides: Any, padding: Any,
                     rate: Any = None, name: str | None = None, data_format: str | None = None,
                     dilations: Any = None) -> Tensor:
    """A depthwise convolution, then a 1x1 convolution mixing its channels."""
    rate = _rate2(_lookup(dilations, "dilations", rate, "rate"))
    fmt = _format(data_format)
    graph = graph_of([input, depthwise_filter, pointwise_filter])
    with graph.as_default(), graph.name_scope(name or "separable_conv2d") as scope:
        input = convert_to_tensor(input, name="input")
        depthwise_filter = convert_to_tensor(depthwise_filter, name="depthwise_filter")
        pointwise_filter = convert_to_tensor(pointwise_filter, name="pointwise_filter")
        pdims = pointwise_filter.shape.as_tuple()
        if pdims is not None and (len(pdims) != 4 or any(d not in (None, 1) for d in pdims[:2])):
            raise ValueError(f"{scope[:-1]}: pointwise_filter must have shape [1, 1, in, out], got "
                             f"{pointwise_filter.shape}")
        if max(rate) > 1 and max(int(s) for s in strides) > 1:
            raise ValueError("strides > 1 not supported in conjunction with dilation_rate > 1")
        depthwise = DEPTHWISE(input, depthwise_filter, name="depthwise",
                              **_attrs(strides, padding, fmt, rate))
        return CONV2D(depthwise, pointwise_filter, name=scope, **_attrs(1, "VALID", fmt, None))


def atrous_conv2d(value: Any, filters: Any, rate: int, padding: str, name: str | None = None) -> Tensor:
    """conv2d with holes: the filter taps are ``rate`` pixels apart."""
    if int(rate) < 1:
        raise ValueError(f"rate {rate} cannot be less than one")
    return convolution(value, filters, padding, dilation_rate=[int(rate)] * 2, name=name)


def atrous_conv2d_transpose(value: Any, filters: Any, output_shape: Any, rate: int, padding: str,
                            name: str | None = None) -> Tensor:
    """The transpose (gradient) of atrous_conv2d; filters are [KH, KW, out, in]."""
    graph = graph_of([value, filters, output_shape])
    with graph.as_default(), graph.name_scope(name or "atrous_conv2d_transpose") as scope:
        value = convert_to_tensor(value, name="value")
        filters = convert_to_tensor(filters, name="filters")
        fdims, vdims = filters.shape.as_tuple(), value.shape.as_tuple()
        if fdims is not None and vdims is not None and None not in (fdims[3], vdims[3]) and fdims[3] != vdims[3]:
            raise ValueError(f"value's input channels does not match filters' input channels, {vdims[3]} != "
                             f"{fdims[3]}")
        if int(rate) < 1:
            raise ValueError(f"rate {rate} cannot be less than one")
        if padding not in ("SAME", "VALID"):
            raise ValueError(f'padding must be either VALID or SAME: {padding}')
        sizes = _static_shape(output_shape)
        if fdims is not None and sizes[3] is not None and fdims[2] is not None and sizes[3] != fdims[2]:
            raise ValueError(f"output_shape does not match filter's output channels, {sizes[3]} != {fdims[2]}")
        if rate == 1:
            return conv2d_transpose(value, filters, output_shape, strides=[1, 1, 1, 1], padding=padding, name=scope)
        return CONV2D_BACKPROP_INPUT(filters, value, name=scope, input_sizes=tuple(sizes),
                                     **_attrs(1, padding, "NHWC", [int(rate)] * 2))


def conv1d_transpose(input: Any, filters: Any, output_shape: Any, strides: Any, padding: str = "SAME",
                     data_format: str = "NWC", dilations: Any = None, name: str | None = None) -> Tensor:
    """The transpose of conv1d, as TF1 builds it: expand_dims, Conv2DBackpropInput, squeeze."""
    if data_format not in ("NWC", "NCW", None):
        raise ValueError(f"`data_format` must be 'NWC' or 'NCW'. Received: data_format={data_format}")
    nwc = data_format in (None, "NWC")
    fmt, spatial = ("NHWC", 1) if nwc else ("NCHW", 2)
    ci = 2 if nwc else 1
    graph = graph_of([input, filters, output_shape])
    with graph.as_default(), graph.name_scope(name or "conv1d_transpose") as scope:
        strides = [1] + _sequence(strides, 1, ci, "stride")
        dil = [1] + _sequence(dilations, 1, ci, "dilations")
        sizes = _static_shape(output_shape)
        if len(sizes) != 3:
            raise ValueError(f"output_shape must have shape (3,), got {[len(sizes)]}")
        sizes = sizes[:spatial] + [1] + sizes[spatial:]
        x = expand_dims(input, spatial)
        w = expand_dims(filters, 0)
        if nwc:
            strides, dil = [1, 1] + strides[2:], [1, 1] + dil[2:]
        else:
            strides, dil = strides[:2] + [1] + strides[2:3], dil[:2] + [1] + dil[2:3]
        pad, explicit = _padding(padding, fmt)
        y = CONV2D_BACKPROP_INPUT(w, x, name=scope, input_sizes=tuple(sizes), strides=tuple(strides), padding=pad,
                                  explicit_paddings=explicit, data_format=fmt, dilations=tuple(dil))
        return squeeze(y, [spatial])


def conv2d_backprop_input(input_sizes: Any, filter: Any = None, out_backprop: Any = None, strides: Any = None,
                          padding: Any = None, use_cudnn_on_gpu: bool = True, data_format: str = "NHWC",
                          dilations: Any = (1, 1, 1, 1), name: str | None = None, filters: Any = None) -> Tensor:
    """The gradient of conv2d with respect to its input (input_sizes: a 4-list or constant tensor)."""
    filter = _lookup(filters, "filters", filter, "filter")
    return CONV2D_BACKPROP_INPUT(filter, out_backprop, name=name or "Conv2DBackpropInput",
                                 input_sizes=tuple(_static_shape(input_sizes)),
                                 **_attrs(strides, padding, data_format, dilations))


def conv2d_backprop_filter(input: Any, filter_sizes: Any, out_backprop: Any, strides: Any, padding: Any,
                           use_cudnn_on_gpu: bool = True, data_format: str = "NHWC", dilations: Any = (1, 1, 1, 1),
                           name: str | None = None) -> Tensor:
    """The gradient of conv2d with respect to its filter."""
    return CONV2D_BACKPROP_FILTER(input, out_backprop, name=name or "Conv2DBackpropFilter",
                                  filter_sizes=tuple(_static_shape(filter_sizes)),
                                  **_attrs(strides, padding, data_format, dilations))


def depthwise_conv2d_native(input: Any, filter: Any, strides: Any, padding: Any, data_format: str = "NHWC",
                            dilations: Any = (1, 1, 1, 1), name: str | None = None) -> Tensor:
    """The DepthwiseConv2dNative op: full 4-element strides and dilations."""
    return DEPTHWISE(input, filter, name=name or "DepthwiseConv2dNative",
                     **_attrs(strides, padding, data_format, dilations))


def depthwise_conv2d_native_backprop_input(input_sizes: Any, filter: Any, out_backprop: Any, strides: Any,
                                           padding: Any, data_format: str = "NHWC", dilations: Any = (1, 1, 1, 1),
                                           name: str | None = None) -> Tensor:
    return DEPTHWISE_BACKPROP_INPUT(filter, out_backprop, name=name or "DepthwiseConv2dNativeBackpropInput",
                                    input_sizes=tuple(_static_shape(input_sizes)),
                                    **_attrs(strides, padding, data_format, dilations))


def depthwise_conv2d_native_backprop_filter(input: Any, filter_sizes: Any, out_backprop: Any, strides: Any,
                                            padding: Any, data_format: str = "NHWC", dilations: Any = (1, 1, 1, 1),
                                            name: str | None = None) -> Tensor:
    return DEPTHWISE_BACKPROP_FILTER(input, out_backprop, name=name or "DepthwiseConv2dNativeBackpropFilter",
                                     filter_sizes=tuple(_static_shape(filter_sizes)),
                                     **_attrs(strides, padding, data_format, dilations))


def _pool1d(op: Any, default: str, input: Any, ksize: Any, strides: Any, padding: Any, data_format: str,
            name: str | None) -> Tensor:
    """TF1's 1-D pooling: [N, W, C] pooled as [N, 1, W, C] (NCW: [N, C, 1, W]) and squeezed back."""
    if data_format not in ("NWC", "NCW", None):
        raise ValueError(f"`data_format` must be 'NWC' or 'NCW'. Received: data_format={data_format}")
    nwc = data_format in (None, "NWC")
    spatial, ci, fmt = (1, 2, "NHWC") if nwc else (2, 1, "NCHW")
    ksize = [1] + _sequence(ksize, 1, ci, "ksize")
    strides = [1] + _sequence(strides, 1, ci, "strides")
    if nwc:
        ksize, strides = [1, 1] + ksize[2:], [1, 1] + strides[2:]
    else:
        ksize, strides = ksize[:2] + [1] + ksize[2:3], strides[:2] + [1] + strides[2:3]
    graph = graph_of([input])
    with graph.as_default(), graph.name_scope(name or default) as scope:
        x = expand_dims(input, spatial)
        y = op(x, name=scope, ksize=tuple(ksize), strides=tuple(strides), padding=padding, data_format=fmt)
        return squeeze(y, [spatial])


def max_pool1d(input: Any, ksize: Any, strides: Any, padding: Any, data_format: str = "NWC",
               name: str | None = None) -> Tensor:
    return _pool1d(MAX_POOL, "MaxPool1d", input, ksize, strides, padding, data_format, name)


def avg_pool1d(input: Any, ksize: Any, strides: Any, padding: Any, data_format: str = "NWC",
               name: str | None = None) -> Tensor:
    return _pool1d(AVG_POOL, "AvgPool1D", input, ksize, strides, padding, data_format, name)


def _spatial_rank(input: Any, data_format: str | None) -> int:
    rank = convert_to_tensor(input).shape.ndims
    if rank is not None:
        return rank - 2
    if data_format is not None:
        return len(data_format) - 2
    raise ValueError("The input must have a rank or a data format must be given.")


def _pool_v2(kind: str, input: Any, ksize: Any, strides: Any, padding: Any, data_format: str | None,
             name: str | None) -> Tensor:
    from gpugraph.nn.conv3d import avg_pool3d, max_pool3d

    n = _spatial_rank(input, data_format)
    if n == 1:
        fn1 = max_pool1d if kind == "max" else avg_pool1d
        return fn1(input, ksize, strides, padding, data_format="NWC" if data_format is None else data_format,
                   name=name)
    if n == 2:
        fn2 = max_pool2d if kind == "max" else avg_pool2d
        return fn2(input, ksize, strides, padding, data_format="NHWC" if data_format is None else data_format,
                   name=name)
    if n == 3:
        fn3 = max_pool3d if kind == "max" else avg_pool3d
        return fn3(input, ksize, strides, padding, data_format="NDHWC" if data_format is None else data_format,
                   name=name)
    raise ValueError(f"Input tensor must be of rank 3, 4 or 5 but was {n + 2}.")


def max_pool_v2(input: Any, ksize: Any, strides: Any, padding: Any, data_format: str | None = None,
                name: str | None = None) -> Tensor:
    """Max pooling over 1, 2 or 3 spatial dimensions, chosen by the input's rank."""
    return _pool_v2("max", input, ksize, strides, padding, data_format, name)


def avg_pool_v2(input: Any, ksize: Any, strides: Any, padding: Any, data_format: str | None = None,
                name: str | None = None) -> Tensor:
    """Average pooling over 1, 2 or 3 spatial dimensions, chosen by the input's rank."""
    return _pool_v2("avg", input, ksize, strides, padding, data_format, name)


def _four_list(value: Any, what: str) -> tuple[int, ...]:
    if not isinstance(value, (list, tuple)):
        raise TypeError(f"Expected list for '{what}' argument to 'max_pool_with_argmax' Op, not {value}.")
    if len(value) != 4:
        raise ValueError(f"MaxPoolWithArgmax requires the {what} attribute to contain 4 values, but got: "
                         f"{len(value)}")
    return tuple(int(v) for v in value)


def max_pool_with_argmax(input: Any, ksize: Any, strides: Any, padding: str, data_format: str = "NHWC",
                         Targmax: Any = None, name: str | None = None, output_dtype: Any = None,
                         include_batch_in_index: bool = False) -> tuple[Tensor, Tensor]:
    """(max_pool output, argmax): the flat index ((b * H + y) * W + x) * C + c of each maximum."""
    if data_format != "NHWC":
        raise ValueError("Data formats other than 'NHWC' are not yet supported")
    if Targmax is not None and output_dtype is not None and dtypes.as_dtype(Targmax) != dtypes.as_dtype(output_dtype):
        raise ValueError("Cannot specify both 'Targmax' and 'output_dtype'.")
    index_dtype = dtypes.as_dtype(Targmax or output_dtype or dtypes.int64)
    output, argmax = MAX_POOL_WITH_ARGMAX(input, name=name or "MaxPoolWithArgmax", ksize=_four_list(ksize, "ksize"),
                                          strides=_four_list(strides, "strides"), padding=padding,
                                          Targmax=index_dtype, include_batch_in_index=bool(include_batch_in_index))
    return output, argmax

