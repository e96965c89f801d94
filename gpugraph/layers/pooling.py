"""tf.layers max and average pooling, 1-D and 2-D, on tf.nn.max_pool / avg_pool with TF1's op names."""

from __future__ import annotations

from typing import Any

from gpugraph.framework.tensor import Tensor
from gpugraph.framework.tensor_shape import TensorShape
from gpugraph.layers.base import InputSpec, Layer, shape_dims
from gpugraph.layers.utils import conv_output_length, normalize_data_format, normalize_padding, normalize_tuple
from gpugraph.ops import array_ops

__all__ = [
    "MaxPooling1D", "AveragePooling1D", "MaxPooling2D", "AveragePooling2D", "MaxPool1D", "AveragePool1D",
    "MaxPool2D", "AveragePool2D", "max_pooling1d", "average_pooling1d", "max_pooling2d", "average_pooling2d",
]


def _pool_fn(kind: str) -> Any:
    from gpugraph import nn

    return nn.max_pool if kind == "max" else nn.avg_pool


class _Pooling2D(Layer):
    _kind = "max"

    def __init__(self, pool_size: Any, strides: Any, padding: str = "valid", data_format: str = "channels_last",
                 name: str | None = None, **kwargs: Any):
        super().__init__(name=name, **kwargs)
        self.pool_size = normalize_tuple(pool_size, 2, "pool_size")
        self.strides = normalize_tuple(self.pool_size if strides is None else strides, 2, "strides")
        self.padding = normalize_padding(padding)
        self.data_format = normalize_data_format(data_format)
        self.input_spec = InputSpec(ndim=4)

    def call(self, inputs: Tensor) -> Tensor:
        if self.data_format == "channels_last":
            ksize, strides, fmt = (1, *self.pool_size, 1), (1, *self.strides, 1), "NHWC"
        else:
            ksize, strides, fmt = (1, 1, *self.pool_size), (1, 1, *self.strides), "NCHW"
        return _pool_fn(self._kind)(inputs, ksize=list(ksize), strides=list(strides),
                                    padding=self.padding.upper(), data_format=fmt)

    def compute_output_shape(self, input_shape: Any) -> TensorShape:
        dims = shape_dims(input_shape, type(self).__name__, rank=4)
        spatial = (1, 2) if self.data_format == "channels_last" else (2, 3)
        for i, axis in enumerate(spatial):
            dims[axis] = conv_output_length(dims[axis], self.pool_size[i], self.padding, self.strides[i])
        return TensorShape(dims)


class MaxPooling2D(_Pooling2D):
    """Max over pool_size windows of a 4-D input."""

    _kind = "max"


class AveragePooling2D(_Pooling2D):
    """Mean over pool_size windows of a 4-D input (padding excluded from the mean, as TF1)."""

    _kind = "avg"


class _Pooling1D(Layer):
    _kind = "max"

    def __init__(self, pool_size: Any, strides: Any, padding: str = "valid", data_format: str = "channels_last",
                 name: str | None = None, **kwargs: Any):
        super().__init__(name=name, **kwargs)
        self.pool_size = normalize_tuple(pool_size, 1, "pool_size")
        self.strides = normalize_tuple(self.pool_size if strides is None else strides, 1, "strides")
        self.padding = normalize_padding(padding)
        self.data_format = normalize_data_format(data_format)
        self.input_spec = InputSpec(ndim=3)

    def call(self, inputs: Tensor) -> Tensor:
        # TF1 pools a [N, L, C] input as [N, L, 1, C] (channels_first: [N, C, L, 1]) and squeezes back.
        pad_axis = 2 if self.data_format == "channels_last" else 3
        expanded = array_ops.expand_dims(inputs, pad_axis)
        if self.data_format == "channels_last":
            ksize, strides, fmt = (1, self.pool_size[0], 1, 1), (1, self.strides[0], 1, 1), "NHWC"
        else:
            ksize, strides, fmt = (1, 1, self.pool_size[0], 1), (1, 1, self.strides[0], 1), "NCHW"
        pooled = _pool_fn(self._kind)(expanded, ksize=list(ksize), strides=list(strides),
                                      padding=self.padding.upper(), data_format=fmt)
        return array_ops.squeeze(pooled, [pad_axis])

    def compute_output_shape(self, input_shape: Any) -> TensorShape:
        dims = shape_dims(input_shape, type(self).__name__, rank=3)
        axis = 1 if self.data_format == "channels_last" else 2
        dims[axis] = conv_output_length(dims[axis], self.pool_size[0], self.padding, self.strides[0])
        return TensorShape(dims)


class MaxPooling1D(_Pooling1D):
    """Max over pool_size windows of a 3-D input."""

    _kind = "max"


class AveragePooling1D(_Pooling1D):
    """Mean over pool_size windows of a 3-D input."""

    _kind = "avg"


MaxPool1D, AveragePool1D, MaxPool2D, AveragePool2D = MaxPooling1D, AveragePooling1D, MaxPooling2D, AveragePooling2D


def max_pooling1d(inputs: Any, pool_size: Any, strides: Any, padding: str = "valid",
                  data_format: str = "channels_last", name: str | None = None) -> Tensor:
    return MaxPooling1D(pool_size, strides, padding=padding, data_format=data_format, name=name).apply(inputs)


def average_pooling1d(inputs: Any, pool_size: Any, strides: Any, padding: str = "valid",
                      data_format: str = "channels_last", name: str | None = None) -> Tensor:
    return AveragePooling1D(pool_size, strides, padding=padding, data_format=data_format, name=name).apply(inputs)


def max_pooling2d(inputs: Any, pool_size: Any, strides: Any, padding: str = "valid",
                  data_format: str = "channels_last", name: str | None = None) -> Tensor:
    return MaxPooling2D(pool_size, strides, padding=padding, data_format=data_format, name=name).apply(inputs)


def average_pooling2d(inputs: Any, pool_size: Any, strides: Any, padding: str = "valid",
                      data_format: str = "channels_last", name: str | None = None) -> Tensor:
    return AveragePooling2D(pool_size, strides, padding=padding, data_format=data_format, name=name).apply(inputs)
