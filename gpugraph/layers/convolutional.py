"""tf.layers Conv1D, Conv2D, Conv2DTranspose and their functions, on tf.nn's convolutions, with TF1's names."""

from __future__ import annotations

from typing import Any

from gpugraph.framework import dtypes
from gpugraph.framework.tensor import Tensor
from gpugraph.framework.tensor_shape import TensorShape
from gpugraph.layers.base import ZEROS, InputSpec, Layer, shape_dims
from gpugraph.layers.core import get_activation
from gpugraph.layers.utils import (
    conv_output_length, deconv_output_length, normalize_data_format, normalize_padding, normalize_tuple,
)
from gpugraph.ops import array_ops, nn_ops
from gpugraph.ops.index_ops import pad

__all__ = ["Conv1D", "Conv2D", "Conv2DTranspose", "Convolution1D", "Convolution2D", "Convolution2DTranspose",
           "Deconvolution2D", "Deconv2D", "conv1d", "conv2d", "conv2d_transpose", "convolution1d",
           "convolution2d", "convolution2d_transpose", "deconvolution2d", "deconv2d"]


class _Conv(Layer):
    """N-D convolution (rank 1 or 2): kernel [*kernel_size, in_channels, filters], bias [filters]."""

    rank = 2
    _op_name = "Conv2D"

    def __init__(self, filters: int, kernel_size: Any, strides: Any = 1, padding: str = "valid",
                 data_format: str = "channels_last", dilation_rate: Any = 1, activation: Any = None,
                 use_bias: bool = True, kernel_initializer: Any = None, bias_initializer: Any = ZEROS,
                 kernel_regularizer: Any = None, bias_regularizer: Any = None, activity_regularizer: Any = None,
                 kernel_constraint: Any = None, bias_constraint: Any = None, trainable: bool = True,
                 name: str | None = None, **kwargs: Any):
        super().__init__(trainable=trainable, name=name, activity_regularizer=activity_regularizer, **kwargs)
        n = self.rank
        if isinstance(filters, float):
            filters = int(filters)
        if filters is not None and filters <= 0:
            raise ValueError(f"Invalid value for argument `filters`. Expected a strictly positive value. "
                             f"Received filters={filters}.")
        self.filters = filters
        self.kernel_size = normalize_tuple(kernel_size, n, "kernel_size")
        self.strides = normalize_tuple(strides, n, "strides")
        self.padding = normalize_padding(padding, allow_causal=n == 1)
        self.data_format = normalize_data_format(data_format)
        self.dilation_rate = normalize_tuple(dilation_rate, n, "dilation_rate")
        if any(s > 1 for s in self.strides) and any(d > 1 for d in self.dilation_rate):
            raise ValueError(f"`strides > 1` not supported in conjunction with `dilation_rate > 1`. "
                             f"Received: strides={self.strides} and dilation_rate={self.dilation_rate}")
        self.activation = get_activation(activation)
        self.use_bias = use_bias
        self.kernel_initializer = kernel_initializer
        self.bias_initializer = bias_initializer
        self.kernel_regularizer = kernel_regularizer
        self.bias_regularizer = bias_regularizer
        self.kernel_constraint = kernel_constraint
        self.bias_constraint = bias_constraint
        self.input_spec = InputSpec(min_ndim=n + 2)
        self.kernel: Any = None
        self.bias: Any = None

    @property
    def _channel_axis(self) -> int:
        return -1 if self.data_format == "channels_last" else 1

    def _input_channels(self, input_shape: Any) -> int:
        dims = shape_dims(input_shape, type(self).__name__, rank=self.rank + 2)
        channels = dims[self._channel_axis]
        if channels is None:
            raise ValueError("The channel dimension of the inputs should be defined. The input_shape received is "
                             f"{TensorShape(dims)}, where axis {self._channel_axis} (0-based) is the channel "
                             "dimension, which found to be `None`.")
        return channels

    def _kernel_shape(self, channels: int) -> list[int]:
        return [*self.kernel_size, channels, self.filters]

    def build(self, input_shape: Any) -> None:
        channels = self._input_channels(input_shape)
        dtype = dtypes.as_dtype(self.dtype or dtypes.float32)
        self.kernel = self.add_weight("kernel", shape=self._kernel_shape(channels), dtype=dtype,
                                      initializer=self.kernel_initializer, regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint, trainable=True)
        if self.use_bias:
            self.bias = self.add_weight("bias", shape=[self.filters], dtype=dtype, initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer, constraint=self.bias_constraint,
                                        trainable=True)
        self.input_spec = InputSpec(min_ndim=self.rank + 2, axes={self._channel_axis: channels})
        self.built = True

    def _convolve(self, inputs: Tensor) -> Tensor:
        from gpugraph import nn

        if self.rank == 1:
            if self.padding == "causal":  # pad the start of the sequence so no output sees the future
                left = self.dilation_rate[0] * (self.kernel_size[0] - 1)
                pads = [[0, 0], [left, 0], [0, 0]] if self.data_format == "channels_last" else \
                    [[0, 0], [0, 0], [left, 0]]
                inputs = pad(inputs, pads)
            padding = "VALID" if self.padding == "causal" else self.padding.upper()
            last = self.data_format == "channels_last"
            # stride and dilation as full [batch, width, channels] lists, the form every conv1d reads alike
            stride = [1, self.strides[0], 1] if last else [1, 1, self.strides[0]]
            dilations = [1, self.dilation_rate[0], 1] if last else [1, 1, self.dilation_rate[0]]
            return nn.conv1d(inputs, self.kernel, stride=stride, padding=padding,
                             data_format="NWC" if last else "NCW", dilations=dilations, name=self._op_name)
        last = self.data_format == "channels_last"
        strides = [1, *self.strides, 1] if last else [1, 1, *self.strides]
        dilations = [1, *self.dilation_rate, 1] if last else [1, 1, *self.dilation_rate]
        return nn.conv2d(inputs, self.kernel, strides=strides, padding=self.padding.upper(),
                         data_format="NHWC" if last else "NCHW", dilations=dilations, name=self._op_name)

    def _add_bias_and_activation(self, outputs: Tensor) -> Tensor:
        if self.use_bias:
            if self.data_format == "channels_last":
                outputs = nn_ops.bias_add(outputs, self.bias, data_format="NHWC")
            elif self.rank == 1:  # bias_add takes no 3-D NCW input: broadcast a [1, filters, 1] bias
                outputs = outputs + array_ops.reshape(self.bias, [1, self.filters, 1])
            else:
                outputs = nn_ops.bias_add(outputs, self.bias, data_format="NCHW")
        if self.activation is not None:
            outputs = self.activation(outputs)
        return outputs

    def call(self, inputs: Tensor) -> Tensor:
        return self._add_bias_and_activation(self._convolve(inputs))

    def compute_output_shape(self, input_shape: Any) -> TensorShape:
        dims = shape_dims(input_shape, type(self).__name__, rank=self.rank + 2)
        spatial = list(range(1, self.rank + 1)) if self.data_format == "channels_last" else \
            list(range(2, self.rank + 2))
        out = list(dims)
        for i, axis in enumerate(spatial):
            out[axis] = conv_output_length(dims[axis], self.kernel_size[i], self.padding, self.strides[i],
                                           self.dilation_rate[i])
        out[-1 if self.data_format == "channels_last" else 1] = self.filters
        return TensorShape(out)


class Conv1D(_Conv):
    """1-D convolution over [batch, length, channels] (channels_first: [batch, channels, length])."""

    rank = 1
    _op_name = "Conv1D"


class Conv2D(_Conv):
    """2-D convolution over [batch, height, width, channels] (channels_first: [batch, channels, h, w])."""

    rank = 2
    _op_name = "Conv2D"

    def __init__(self, filters: int, kernel_size: Any, strides: Any = (1, 1), padding: str = "valid",
                 data_format: str = "channels_last", dilation_rate: Any = (1, 1), **kwargs: Any):
        super().__init__(filters, kernel_size, strides=strides, padding=padding, data_format=data_format,
                         dilation_rate=dilation_rate, **kwargs)


class Conv2DTranspose(Conv2D):
    """The gradient of Conv2D with respect to its input, as a layer: kernel [kh, kw, filters, in_channels]."""

    def __init__(self, filters: int, kernel_size: Any, strides: Any = (1, 1), padding: str = "valid",
                 data_format: str = "channels_last", **kwargs: Any):
        super().__init__(filters, kernel_size, strides=strides, padding=padding, data_format=data_format, **kwargs)
        self.input_spec = InputSpec(ndim=4)

    def _kernel_shape(self, channels: int) -> list[int]:
        return [*self.kernel_size, self.filters, channels]

    def build(self, input_shape: Any) -> None:
        super().build(input_shape)
        self.input_spec = InputSpec(ndim=4, axes={self._channel_axis: self._input_channels(input_shape)})

    def _output_dims(self, dims: list[Any]) -> list[Any]:
        h_axis, w_axis = (1, 2) if self.data_format == "channels_last" else (2, 3)
        out_h = deconv_output_length(dims[h_axis], self.kernel_size[0], self.padding, self.strides[0])
        out_w = deconv_output_length(dims[w_axis], self.kernel_size[1], self.padding, self.strides[1])
        if self.data_format == "channels_last":
            return [dims[0], out_h, out_w, self.filters]
        return [dims[0], self.filters, out_h, out_w]

    def call(self, inputs: Tensor) -> Tensor:
        from gpugraph import nn

        dims = inputs.shape.as_list()
        out_dims = self._output_dims(dims)
        if all(d is not None for d in out_dims):
            output_shape: Any = out_dims
        else:  # unknown batch (or spatial) size: the shape is read from the input when the step runs
            in_shape = array_ops.shape(inputs)
            spatial = (1, 2) if self.data_format == "channels_last" else (2, 3)
            parts: list[Any] = [in_shape[0] if out_dims[0] is None else out_dims[0]]
            for axis in range(1, 4):
                if out_dims[axis] is not None:
                    parts.append(out_dims[axis])
                else:
                    i = spatial.index(axis)
                    parts.append(_deconv_length_tensor(in_shape[axis], self.kernel_size[i], self.padding,
                                                       self.strides[i]))
            output_shape = array_ops.stack(parts)
        last = self.data_format == "channels_last"
        strides = [1, *self.strides, 1] if last else [1, 1, *self.strides]
        outputs = nn.conv2d_transpose(inputs, self.kernel, output_shape, strides, padding=self.padding.upper(),
                                      data_format="NHWC" if last else "NCHW")
        outputs.set_shape(out_dims)
        return self._add_bias_and_activation(outputs)

    def compute_output_shape(self, input_shape: Any) -> TensorShape:
        return TensorShape(self._output_dims(shape_dims(input_shape, "Conv2DTranspose", rank=4)))


def _deconv_length_tensor(length: Tensor, kernel: int, padding: str, stride: int) -> Tensor:
    if padding == "valid":
        return length * stride + max(kernel - stride, 0)
    return length * stride


Convolution1D, Convolution2D, Convolution2DTranspose = Conv1D, Conv2D, Conv2DTranspose
Deconvolution2D = Deconv2D = Conv2DTranspose


def _layer_kwargs(**kwargs: Any) -> dict[str, Any]:
    name = kwargs.pop("name")
    kwargs["_reuse"] = kwargs.pop("reuse")
    return dict(kwargs, name=name, _scope=name)


def conv1d(inputs: Any, filters: int, kernel_size: Any, strides: Any = 1, padding: str = "valid",
           data_format: str = "channels_last", dilation_rate: Any = 1, activation: Any = None, use_bias: bool = True,
           kernel_initializer: Any = None, bias_initializer: Any = ZEROS, kernel_regularizer: Any = None,
           bias_regularizer: Any = None, activity_regularizer: Any = None, kernel_constraint: Any = None,
           bias_constraint: Any = None, trainable: bool = True, name: str | None = None, reuse: Any = None) -> Tensor:
    """Functional form of Conv1D: variables ``conv1d/kernel`` [k, in, filters] and ``conv1d/bias``."""
    layer = Conv1D(filters, kernel_size, **_layer_kwargs(
        strides=strides, padding=padding, data_format=data_format, dilation_rate=dilation_rate,
        activation=activation, use_bias=use_bias, kernel_initializer=kernel_initializer,
        bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer, bias_regularizer=bias_regularizer,
        activity_regularizer=activity_regularizer, kernel_constraint=kernel_constraint,
        bias_constraint=bias_constraint, trainable=trainable, name=name, reuse=reuse))
    return layer.apply(inputs)


def conv2d(inputs: Any, filters: int, kernel_size: Any, strides: Any = (1, 1), padding: str = "valid",
           data_format: str = "channels_last", dilation_rate: Any = (1, 1), activation: Any = None,
           use_bias: bool = True, kernel_initializer: Any = None, bias_initializer: Any = ZEROS,
           kernel_regularizer: Any = None, bias_regularizer: Any = None, activity_regularizer: Any = None,
           kernel_constraint: Any = None, bias_constraint: Any = None, trainable: bool = True,
           name: str | None = None, reuse: Any = None) -> Tensor:
    """Functional form of Conv2D: variables ``conv2d/kernel`` [kh, kw, in, filters] and ``conv2d/bias``."""
    layer = Conv2D(filters, kernel_size, **_layer_kwargs(
        strides=strides, padding=padding, data_format=data_format, dilation_rate=dilation_rate,
        activation=activation, use_bias=use_bias, kernel_initializer=kernel_initializer,
        bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer, bias_regularizer=bias_regularizer,
        activity_regularizer=activity_regularizer, kernel_constraint=kernel_constraint,
        bias_constraint=bias_constraint, trainable=trainable, name=name, reuse=reuse))
    return layer.apply(inputs)


def conv2d_transpose(inputs: Any, filters: int, kernel_size: Any, strides: Any = (1, 1), padding: str = "valid",
                     data_format: str = "channels_last", activation: Any = None, use_bias: bool = True,
                     kernel_initializer: Any = None, bias_initializer: Any = ZEROS,
                     kernel_regularizer: Any = None, bias_regularizer: Any = None, activity_regularizer: Any = None,
                     kernel_constraint: Any = None, bias_constraint: Any = None, trainable: bool = True,
                     name: str | None = None, reuse: Any = None) -> Tensor:
    """Functional form of Conv2DTranspose: ``conv2d_transpose/kernel`` is [kh, kw, filters, in_channels]."""
    layer = Conv2DTranspose(filters, kernel_size, **_layer_kwargs(
        strides=strides, padding=padding, data_format=data_format, activation=activation, use_bias=use_bias,
        kernel_initializer=kernel_initializer, bias_initializer=bias_initializer,
        kernel_regularizer=kernel_regularizer, bias_regularizer=bias_regularizer,
        activity_regularizer=activity_regularizer, kernel_constraint=kernel_constraint,
        bias_constraint=bias_constraint, trainable=trainable, name=name, reuse=reuse))
    return layer.apply(inputs)


convolution1d, convolution2d, convolution2d_transpose = conv1d, conv2d, conv2d_transpose
deconvolution2d = deconv2d = conv2d_transpose
