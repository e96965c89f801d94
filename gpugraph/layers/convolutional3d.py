"""tf.layers Conv3D, Conv3DTranspose, MaxPooling3D, AveragePooling3D and their functions, with TF1's names."""

from __future__ import annotations

from typing import Any

from gpugraph.framework.tensor import Tensor
from gpugraph.framework.tensor_shape import TensorShape
from gpugraph.layers.base import ZEROS, InputSpec, Layer, shape_dims
from gpugraph.layers.convolutional import _Conv, _deconv_length_tensor, _layer_kwargs
from gpugraph.layers.utils import (
    conv_output_length, deconv_output_length, normalize_data_format, normalize_padding, normalize_tuple,
)
from gpugraph.ops import array_ops

__all__ = ["Conv3D", "Conv3DTranspose", "Convolution3D", "Convolution3DTranspose", "MaxPooling3D",
           "AveragePooling3D", "MaxPool3D", "AveragePool3D", "conv3d", "conv3d_transpose", "convolution3d",
           "convolution3d_transpose", "max_pooling3d", "average_pooling3d"]


def _format5(data_format: str) -> str:
    return "NDHWC" if data_format == "channels_last" else "NCDHW"


def _full(values: tuple[int, ...], data_format: str) -> list[int]:
    return [1, *values, 1] if data_format == "channels_last" else [1, 1, *values]


class Conv3D(_Conv):
    """3-D convolution over [batch, depth, height, width, channels] (channels_first: channels at axis 1)."""

    rank = 3
    _op_name = "Conv3D"

    def __init__(self, filters: int, kernel_size: Any, strides: Any = (1, 1, 1), padding: str = "valid",
                 data_format: str = "channels_last", dilation_rate: Any = (1, 1, 1), **kwargs: Any):
        super().__init__(filters, kernel_size, strides=strides, padding=padding, data_format=data_format,
                         dilation_rate=dilation_rate, **kwargs)

    def _convolve(self, inputs: Tensor) -> Tensor:
        from gpugraph import nn

        return nn.conv3d(inputs, self.kernel, strides=_full(self.strides, self.data_format),
                         padding=self.padding.upper(), data_format=_format5(self.data_format),
                         dilations=_full(self.dilation_rate, self.data_format), name=self._op_name)


class Conv3DTranspose(Conv3D):
    """The gradient of Conv3D with respect to its input, as a layer: kernel [kd, kh, kw, filters, in_channels]."""

    def __init__(self, filters: int, kernel_size: Any, strides: Any = (1, 1, 1), padding: str = "valid",
                 data_format: str = "channels_last", **kwargs: Any):
        super().__init__(filters, kernel_size, strides=strides, padding=padding, data_format=data_format, **kwargs)
        self.input_spec = InputSpec(ndim=5)

    def _kernel_shape(self, channels: int) -> list[int]:
        return [*self.kernel_size, self.filters, channels]

    def build(self, input_shape: Any) -> None:
        super().build(input_shape)
        self.input_spec = InputSpec(ndim=5, axes={self._channel_axis: self._input_channels(input_shape)})

    def _spatial_axes(self) -> tuple[int, int, int]:
        return (1, 2, 3) if self.data_format == "channels_last" else (2, 3, 4)

    def _output_dims(self, dims: list[Any]) -> list[Any]:
        out = list(dims)
        for i, axis in enumerate(self._spatial_axes()):
            out[axis] = deconv_output_length(dims[axis], self.kernel_size[i], self.padding, self.strides[i])
        out[-1 if self.data_format == "channels_last" else 1] = self.filters
        return out

    def call(self, inputs: Tensor) -> Tensor:
        from gpugraph import nn

        out_dims = self._output_dims(inputs.shape.as_list())
        if all(d is not None for d in out_dims):
            output_shape: Any = out_dims
        else:  # unknown sizes are read from the input when the step runs
            in_shape = array_ops.shape(inputs)
            spatial = self._spatial_axes()
            parts: list[Any] = []
            for axis, d in enumerate(out_dims):
                if d is not None:
                    parts.append(d)
                elif axis in spatial:
                    i = spatial.index(axis)
                    parts.append(_deconv_length_tensor(in_shape[axis], self.kernel_size[i], self.padding,
                                                       self.strides[i]))
                else:
                    parts.append(in_shape[axis])
            output_shape = array_ops.stack(parts)
        outputs = nn.conv3d_transpose(inputs, self.kernel, output_shape, _full(self.strides, self.data_format),
                                      padding=self.padding.upper(), data_format=_format5(self.data_format))
        outputs.set_shape(out_dims)
        return self._add_bias_and_activation(outputs)

    def compute_output_shape(self, input_shape: Any) -> TensorShape:
        return TensorShape(self._output_dims(shape_dims(input_shape, "Conv3DTranspose", rank=5)))


Convolution3D, Convolution3DTranspose = Conv3D, Conv3DTranspose


class _Pooling3D(Layer):
    _kind = "max"

    def __init__(self, pool_size: Any, strides: Any, padding: str = "valid", data_format: str = "channels_last",
                 name: str | None = None, **kwargs: Any):
        super().__init__(name=name, **kwargs)
        self.pool_size = normalize_tuple(pool_size, 3, "pool_size")
        self.strides = normalize_tuple(self.pool_size if strides is None else strides, 3, "strides")
        self.padding = normalize_padding(padding)
        self.data_format = normalize_data_format(data_format)
        self.input_spec = InputSpec(ndim=5)

    def call(self, inputs: Tensor) -> Tensor:
        from gpugraph import nn

        pool = nn.max_pool3d if self._kind == "max" else nn.avg_pool3d
        return pool(inputs, ksize=_full(self.pool_size, self.data_format),
                    strides=_full(self.strides, self.data_format), padding=self.padding.upper(),
                    data_format=_format5(self.data_format))

    def compute_output_shape(self, input_shape: Any) -> TensorShape:
        dims = shape_dims(input_shape, type(self).__name__, rank=5)
        spatial = (1, 2, 3) if self.data_format == "channels_last" else (2, 3, 4)
        for i, axis in enumerate(spatial):
            dims[axis] = conv_output_length(dims[axis], self.pool_size[i], self.padding, self.strides[i])
        return TensorShape(dims)


class MaxPooling3D(_Pooling3D):
    """Max over pool_size windows of a 5-D input."""

    _kind = "max"


class AveragePooling3D(_Pooling3D):
    """Mean over pool_size windows of a 5-D input (padding excluded from the mean, as TF1)."""

    _kind = "avg"


MaxPool3D, AveragePool3D = MaxPooling3D, AveragePooling3D


def conv3d(inputs: Any, filters: int, kernel_size: Any, strides: Any = (1, 1, 1), padding: str = "valid",
           data_format: str = "channels_last", dilation_rate: Any = (1, 1, 1), activation: Any = None,
           use_bias: bool = True, kernel_initializer: Any = None, bias_initializer: Any = ZEROS,
           kernel_regularizer: Any = None, bias_regularizer: Any = None, activity_regularizer: Any = None,
           kernel_constraint: Any = None, bias_constraint: Any = None, trainable: bool = True,
           name: str | None = None, reuse: Any = None) -> Tensor:
    """Functional form of Conv3D: variables ``conv3d/kernel`` [kd, kh, kw, in, filters] and ``conv3d/bias``."""
    layer = Conv3D(filters, kernel_size, **_layer_kwargs(
        strides=strides, padding=padding, data_format=data_format, dilation_rate=dilation_rate,
        activation=activation, use_bias=use_bias, kernel_initializer=kernel_initializer,
        bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer, bias_regularizer=bias_regularizer,
        activity_regularizer=activity_regularizer, kernel_constraint=kernel_constraint,
        bias_constraint=bias_constraint, trainable=trainable, name=name, reuse=reuse))
    return layer.apply(inputs)


def conv3d_transpose(inputs: Any, filters: int, kernel_size: Any, strides: Any = (1, 1, 1), padding: str = "valid",
                     data_format: str = "channels_last", activation: Any = None, use_bias: bool = True,
                     kernel_initializer: Any = None, bias_initializer: Any = ZEROS,
                     kernel_regularizer: Any = None, bias_regularizer: Any = None, activity_regularizer: Any = None,
                     kernel_constraint: Any = None, bias_constraint: Any = None, trainable: bool = True,
                     name: str | None = None, reuse: Any = None) -> Tensor:
    """Functional form of Conv3DTranspose: ``conv3d_transpose/kernel`` is [kd, kh, kw, filters, in_channels]."""
    layer = Conv3DTranspose(filters, kernel_size, **_layer_kwargs(
        strides=strides, padding=padding, data_format=data_format, activation=activation, use_bias=use_bias,
        kernel_initializer=kernel_initializer, bias_initializer=bias_initializer,
        kernel_regularizer=kernel_regularizer, bias_regularizer=bias_regularizer,
        activity_regularizer=activity_regularizer, kernel_constraint=kernel_constraint,
        bias_constraint=bias_constraint, trainable=trainable, name=name, reuse=reuse))
    return layer.apply(inputs)


convolution3d, convolution3d_transpose = conv3d, conv3d_transpose


def max_pooling3d(inputs: Any, pool_size: Any, strides: Any, padding: str = "valid",
                  data_format: str = "channels_last", name: str | None = None) -> Tensor:
    return MaxPooling3D(pool_size, strides, padding=padding, data_format=data_format, name=name).apply(inputs)


def average_pooling3d(inputs: Any, pool_size: Any, strides: Any, padding: str = "valid",
                      data_format: str = "channels_last", name: str | None = None) -> Tensor:
    return AveragePooling3D(pool_size, strides, padding=padding, data_format=data_format, name=name).apply(inputs)
