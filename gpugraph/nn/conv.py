"""tf.nn convolutions and pooling with TF1's signatures, defaults and name scopes.

The ops are in gpugraph/ops/conv_ops.py, depthwise_ops.py and pool_ops.py. Dilated
depthwise_conv2d and convolution run the dilation in the op itself, where TF1 wraps the op in
SpaceToBatchND/BatchToSpaceND: same values, fewer ops.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from gpugraph.framework.tensor import Tensor
from gpugraph.framework.tensor_shape import TensorShape
from gpugraph.ops.array_ops import expand_dims, squeeze
from gpugraph.ops.constant_ops import convert_to_tensor
from gpugraph.ops.conv_ops import CONV2D, CONV2D_BACKPROP_INPUT
from gpugraph.ops.depthwise_ops import DEPTHWISE
from gpugraph.ops.pool_ops import AVG_POOL, MAX_POOL
from gpugraph.ops.registry import graph_of

__all__ = ["conv2d", "conv2d_transpose", "conv1d", "depthwise_conv2d", "convolution", "max_pool", "avg_pool",
           "max_pool2d", "avg_pool2d", "pool"]


def _channel_index(data_format: str) -> int:
    return 1 if data_format.startswith("NC") else -1


def _sequence(value: Any, n: int, channel_index: int, name: str) -> list[int]:
    """TF1's _get_sequence: an int or a list of 1, n or n+2 ints as an (n+2)-list with 1 on batch/channel."""
    if value is None:
        return [1] * (n + 2)
    if isinstance(value, (int, np.integer)):
        values = [int(value)]
    elif isinstance(value, Tensor):
        raise TypeError(f"{name} must be a Python int or a list of ints, not a Tensor")
    else:
        values = [int(v) for v in value]
    if len(values) == n + 2:
        return values
    if len(values) == 1:
        values = values * n
    elif len(values) != n:
        raise ValueError(f"{name} should be of length 1, {n} or {n + 2}. Received: {name}={list(value)} of "
                         f"length {len(values)}")
    return [1, 1] + values if channel_index == 1 else [1] + values + [1]


def _padding(padding: Any, data_format: str) -> tuple[str, tuple[int, ...]]:
    """(padding string, explicit_paddings): a list of 4 [before, after] pairs means EXPLICIT."""
    if isinstance(padding, (list, tuple)):
        if len(padding) != 4:
            raise ValueError(f"When padding is a list, it must be of size 4. Received: padding={list(padding)} of "
                             f"size {len(padding)}")
        flat = []
        for pair in padding:
            if len(pair) != 2:
                raise ValueError(f"When padding is a list, each element must be a list of 2 ints: {padding}")
            flat += [int(p) for p in pair]
        return "EXPLICIT", tuple(flat)
    return padding, ()


def _format(data_format: str | None) -> str:
    return "NHWC" if data_format is None else data_format


def _lookup(new: Any, new_name: str, old: Any, old_name: str) -> Any:
    if new is not None and old is not None:
        raise ValueError(f"Cannot specify both '{old_name}' and '{new_name}'.")
    return old if new is None else new


def _conv2d_op(input: Any, filter: Any, strides: Any, padding: Any, data_format: str, dilations: Any,
               name: str | None) -> Tensor:
    if filter is None:
        raise ValueError("Tried to convert 'filter' to a tensor and failed. Error: None values not supported.")
    ci = _channel_index(data_format)
    pad, explicit = _padding(padding, data_format)
    return CONV2D(input, filter, name=name or "Conv2D", strides=tuple(_sequence(strides, 2, ci, "strides")),
                  padding=pad, explicit_paddings=explicit, data_format=data_format,
                  dilations=tuple(_sequence(dilations, 2, ci, "dilations")))


def conv2d(input: Any, filter: Any = None, strides: Any = None, padding: Any = None, use_cudnn_on_gpu: bool = True,
           data_format: str = "NHWC", dilations: Any = (1, 1, 1, 1), name: str | None = None,
           filters: Any = None) -> Tensor:
    """2-D convolution of a 4-D input with a [KH, KW, in, out] filter (cross-correlation, as TF)."""
    filter = _lookup(filters, "filters", filter, "filter")
    return _conv2d_op(input, filter, strides, padding, data_format, dilations, name)


def _static_shape(output_shape: Any) -> list[int | None]:
    """The ints of output_shape: a list, an array, or a Tensor made of constants (Const, or Pack of
    scalars where non-constant entries, such as a dynamic batch size, become None)."""
    if isinstance(output_shape, TensorShape):
        return output_shape.as_list()
    if not isinstance(output_shape, Tensor):
        return [int(v) for v in np.asarray(output_shape).reshape(-1)]
    op = output_shape.op
    if op.type == "Const":
        return [int(v) for v in np.asarray(op.get_attr("value")).reshape(-1)]
    if op.type == "Pack":
        return [int(np.asarray(t.op.get_attr("value"))) if t.op.type == "Const" else None for t in op.inputs]
    return [None] * (output_shape.shape.num_elements() or 4)


def conv2d_transpose(value: Any = None, filter: Any = None, output_shape: Any = None, strides: Any = None,
                     padding: Any = "SAME", data_format: str = "NHWC", name: str | None = None, input: Any = None,
                     filters: Any = None, dilations: Any = None) -> Tensor:
    """The gradient of conv2d with respect to its input; filter is [KH, KW, out, in]."""
    value = _lookup(input, "input", value, "value")
    filter = _lookup(filters, "filters", filter, "filter")
    graph = graph_of([value, filter, output_shape])
    with graph.as_default(), graph.name_scope(name or "conv2d_transpose") as scope:
        value = convert_to_tensor(value, name="value")
        filter = convert_to_tensor(filter, dtype=value.dtype, name="filter")
        sizes = _static_shape(output_shape)
        if len(sizes) != 4:
            raise ValueError(f"output_shape must have shape (4,), got {[len(sizes)]}")
        if any(s is None for s in sizes[1:]):
            raise ValueError(f"{scope[:-1]}: output_shape must be known when the graph is built (apart from the "
                             f"batch size); got {sizes}")
        ci = _channel_index(data_format)
        pad, explicit = _padding(padding, data_format)
        return CONV2D_BACKPROP_INPUT(filter, value, name=scope, input_sizes=tuple(sizes),
                                     strides=tuple(_sequence(strides, 2, ci, "strides")), padding=pad,
                                     explicit_paddings=explicit, data_format=data_format,
                                     dilations=tuple(_sequence(dilations, 2, ci, "dilations")))


def conv1d(value: Any = None, filters: Any = None, stride: Any = None, padding: Any = None,
           use_cudnn_on_gpu: Any = None, data_format: str | None = None, name: str | None = None, input: Any = None,
           dilations: Any = None) -> Tensor:
    """1-D convolution as TF1 builds it: expand_dims, conv2d, squeeze (all under "conv1d")."""
    value = _lookup(input, "input", value, "value")
    if data_format in (None, "NHWC", "NWC"):
        fmt, spatial, ci = "NHWC", -3, 2
    elif data_format in ("NCHW", "NCW"):
        fmt, spatial, ci = "NCHW", -2, 1
    else:
        raise ValueError(f"`data_format` must be 'NWC' or 'NCW'. Received: data_format={data_format}")
    graph = graph_of([value, filters])
    with graph.as_default(), graph.name_scope(name or "conv1d") as scope:
        strides = [1] + _sequence(stride, 1, ci, "stride")
        dil = [1] + _sequence(dilations, 1, ci, "dilations")
        x = expand_dims(value, spatial)
        w = expand_dims(filters, 0)
        y = _conv2d_op(x, w, strides, padding, fmt, dil, scope)
        return squeeze(y, [spatial])


def depthwise_conv2d(input: Any, filter: Any, strides: Any, padding: Any, rate: Any = None, name: str | None = None,
                     data_format: str | None = None, dilations: Any = None) -> Tensor:
    """Each input channel convolved with its own [KH, KW] filters; out channels = in * multiplier."""
    rate = _lookup(dilations, "dilations", rate, "rate")
    fmt = _format(data_format)
    rate = [1, 1] if rate is None else [int(r) for r in np.asarray(rate).reshape(-1)]
    if len(rate) == 1:
        rate = rate * 2
    strides = [int(s) for s in strides]
    if len(strides) != 4:
        raise ValueError(f"DepthwiseConv2D requires the stride attribute to contain 4 values, but got: "
                         f"{len(strides)}")
    if max(rate) > 1 and max(strides) > 1:
        raise ValueError("strides > 1 not supported in conjunction with dilation_rate > 1")
    pad, explicit = _padding(padding, fmt)
    graph = graph_of([input, filter])
    with graph.as_default(), graph.name_scope(name or "depthwise") as scope:
        return DEPTHWISE(input, filter, name=scope, strides=tuple(strides), padding=pad, explicit_paddings=explicit,
                         data_format=fmt, dilations=tuple(_sequence(rate, 2, _channel_index(fmt), "dilations")))


def convolution(input: Any, filter: Any = None, padding: Any = None, strides: Any = None,
                dilation_rate: Any = None, name: str | None = None, data_format: str | None = None,
                filters: Any = None, dilations: Any = None) -> Tensor:
    """N-D convolution for N = 1 or 2 (one Conv2D op named "convolution")."""
    filter = _lookup(filters, "filters", filter, "filter")
    dilation_rate = _lookup(dilations, "dilations", dilation_rate, "dilation_rate")
    rank = convert_to_tensor(input).shape.ndims
    if rank == 3:
        fmt = {None: "NWC", "NWC": "NWC", "NCW": "NCW"}.get(data_format, data_format)
        return conv1d(input, filter, strides if strides is not None else 1, padding, data_format=fmt,
                      name=name or "convolution", dilations=dilation_rate)
    if rank not in (4, None):
        raise ValueError(f"tf.nn.convolution supports 1-D and 2-D convolutions here; input has rank {rank}")
    fmt = _format(data_format)
    graph = graph_of([input, filter])
    with graph.as_default(), graph.name_scope(name or "convolution") as scope:
        return _conv2d_op(input, filter, _spatial(strides), padding, fmt, _spatial(dilation_rate), scope)


def _spatial(values: Any) -> Sequence[int] | None:
    return None if values is None else [int(v) for v in np.asarray(values).reshape(-1)]


def _pool(op: Any, default: str, value: Any, ksize: Any, strides: Any, padding: Any, data_format: str,
          name: str | None) -> Tensor:
    data_format = _format(data_format)
    ci = _channel_index(data_format)
    if isinstance(padding, (list, tuple)):
        raise ValueError(f"{default}: explicit (list) padding is not supported for pooling")
    graph = graph_of([value])
    with graph.as_default(), graph.name_scope(name or default) as scope:
        return op(value, name=scope, ksize=tuple(_sequence(ksize, 2, ci, "ksize")),
                  strides=tuple(_sequence(strides, 2, ci, "strides")), padding=padding, data_format=data_format)


def max_pool(value: Any, ksize: Any, strides: Any, padding: Any, data_format: str = "NHWC", name: str | None = None,
             input: Any = None) -> Tensor:
    """Max over each window; ksize and strides are an int or a list of 1, 2 or 4 ints."""
    value = _lookup(input, "input", value, "value")
    return _pool(MAX_POOL, "MaxPool", value, ksize, strides, padding, data_format, name)


def avg_pool(value: Any, ksize: Any, strides: Any, padding: Any, data_format: str = "NHWC", name: str | None = None,
             input: Any = None) -> Tensor:
    """Mean over each window; SAME windows at the border average only their real elements."""
    value = _lookup(input, "input", value, "value")
    return _pool(AVG_POOL, "AvgPool", value, ksize, strides, padding, data_format, name)


def max_pool2d(input: Any, ksize: Any, strides: Any, padding: Any, data_format: str = "NHWC",
               name: str | None = None) -> Tensor:
    return _pool(MAX_POOL, "MaxPool2d", input, ksize, strides, padding, data_format, name)


def avg_pool2d(input: Any, ksize: Any, strides: Any, padding: Any, data_format: str = "NHWC",
               name: str | None = None) -> Tensor:
    return _pool(AVG_POOL, "AvgPool", input, ksize, strides, padding, data_format, name)


def pool(input: Any, window_shape: Any, pooling_type: str, padding: str, dilation_rate: Any = None,
         strides: Any = None, name: str | None = None, data_format: str | None = None,
         dilations: Any = None) -> Tensor:
    """2-D MAX or AVG pooling (named "max_pool"/"avg_pool"); dilated pooling is not supported."""
    dilation_rate = _lookup(dilations, "dilations", dilation_rate, "dilation_rate")
    if dilation_rate is not None and any(int(d) != 1 for d in np.asarray(dilation_rate).reshape(-1)):
        raise ValueError("tf.nn.pool: dilation_rate other than 1 is not supported")
    if pooling_type not in ("MAX", "AVG"):
        raise ValueError(f"Invalid pooling_type: {pooling_type}")
    op, default = (MAX_POOL, "max_pool") if pooling_type == "MAX" else (AVG_POOL, "avg_pool")
    return _pool(op, default, input, _spatial(window_shape), _spatial(strides), padding, data_format, name)
