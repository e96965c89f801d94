"""tf.nn 3-D convolution and pooling (NDHWC or NCDHW) with TF1's signatures and op names."""

from __future__ import annotations

from typing import Any

from gpugraph.framework.tensor import Tensor
from gpugraph.nn.conv import _lookup, _sequence, _static_shape
from gpugraph.ops.constant_ops import convert_to_tensor
from gpugraph.ops.conv3d_ops import CONV3D, CONV3D_BACKPROP_INPUT
from gpugraph.ops.pool3d_ops import AVG_POOL3D, MAX_POOL3D
from gpugraph.ops.registry import graph_of

__all__ = ["conv3d", "conv3d_transpose", "max_pool3d", "avg_pool3d"]


def _five(value: Any, data_format: str, name: str) -> tuple[int, ...]:
    """An int or a list of 1, 3 or 5 ints as 5 values with 1 on batch and channels."""
    return tuple(_sequence(value, 3, 1 if data_format.startswith("NC") else -1, name))


def _check_format(data_format: str) -> None:
    if data_format not in ("NDHWC", "NCDHW"):
        raise ValueError(f"data_format must be 'NDHWC' or 'NCDHW', got {data_format!r}")


def conv3d(input: Any, filter: Any = None, strides: Any = None, padding: Any = None, data_format: str = "NDHWC",
           dilations: Any = (1, 1, 1, 1, 1), name: str | None = None, filters: Any = None) -> Tensor:
    """3-D convolution of a 5-D input with a [KD, KH, KW, in, out] filter."""
    filter = _lookup(filters, "filters", filter, "filter")
    _check_format(data_format)
    return CONV3D(input, filter, name=name or "Conv3D", strides=_five(strides, data_format, "strides"),
                  padding=padding, data_format=data_format, dilations=_five(dilations, data_format, "dilations"))


def conv3d_transpose(value: Any = None, filter: Any = None, output_shape: Any = None, strides: Any = None,
                     padding: str = "SAME", data_format: str = "NDHWC", name: str | None = None, input: Any = None,
                     filters: Any = None, dilations: Any = None) -> Tensor:
    """The gradient of conv3d with respect to its input; filter is [KD, KH, KW, out, in]."""
    value = _lookup(input, "input", value, "value")
    filter = _lookup(filters, "filters", filter, "filter")
    _check_format(data_format)
    graph = graph_of([value, filter, output_shape])
    with graph.as_default(), graph.name_scope(name or "conv3d_transpose") as scope:
        value = convert_to_tensor(value, name="value")
        filter = convert_to_tensor(filter, dtype=value.dtype, name="filter")
        sizes = _static_shape(output_shape)
        if len(sizes) != 5:
            raise ValueError(f"output_shape must have shape (5,), got {[len(sizes)]}")
        if any(s is None for s in sizes[1:]):
            raise ValueError(f"{scope[:-1]}: output_shape must be known when the graph is built (apart from the "
                             f"batch size); got {sizes}")
        return CONV3D_BACKPROP_INPUT(filter, value, name=scope, input_sizes=tuple(sizes),
                                     strides=_five(strides, data_format, "strides"), padding=padding,
                                     data_format=data_format, dilations=_five(dilations, data_format, "dilations"))


def _pool3d(op: Any, default: str, input: Any, ksize: Any, strides: Any, padding: str, data_format: str,
            name: str | None) -> Tensor:
    _check_format(data_format)
    return op(input, name=name or default, ksize=_five(ksize, data_format, "ksize"),
              strides=_five(strides, data_format, "strides"), padding=padding, data_format=data_format)


def max_pool3d(input: Any, ksize: Any, strides: Any, padding: str, data_format: str = "NDHWC",
               name: str | None = None) -> Tensor:
    """Max over each 3-D window."""
    return _pool3d(MAX_POOL3D, "MaxPool3D", input, ksize, strides, padding, data_format, name)


def avg_pool3d(input: Any, ksize: Any, strides: Any, padding: str, data_format: str = "NDHWC",
               name: str | None = None) -> Tensor:
    """Mean over each 3-D window (SAME windows average their real elements only)."""
    return _pool3d(AVG_POOL3D, "AvgPool3D", input, ksize, strides, padding, data_format, name)
