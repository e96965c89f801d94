"""tf.layers SeparableConv1D / SeparableConv2D and their functions: a depthwise convolution, then a 1x1
pointwise one, with TF1's variables ``depthwise_kernel``, ``pointwise_kernel`` and ``bias``."""

from __future__ import annotations

from typing import Any

from gpugraph.framework import dtypes
from gpugraph.framework.tensor import Tensor
from gpugraph.layers.base import ZEROS, InputSpec
from gpugraph.layers.convolutional import _Conv, _layer_kwargs
from gpugraph.ops import array_ops
from gpugraph.ops.index_ops import pad

__all__ = ["SeparableConv1D", "SeparableConv2D", "SeparableConvolution1D", "SeparableConvolution2D",
           "separable_conv1d", "separable_conv2d", "separable_convolution1d", "separable_convolution2d"]


class _SeparableConv(_Conv):
    """depthwise_kernel [*kernel_size, in, depth_multiplier], pointwise_kernel [1.., in * depth_multiplier, filters]."""

    def __init__(self, filters: int, kernel_size: Any, strides: Any = 1, padding: str = "valid",
                 data_format: str = "channels_last", dilation_rate: Any = 1, depth_multiplier: int = 1,
                 activation: Any = None, use_bias: bool = True, depthwise_initializer: Any = None,
                 pointwise_initializer: Any = None, bias_initializer: Any = ZEROS, depthwise_regularizer: Any = None,
                 pointwise_regularizer: Any = None, bias_regularizer: Any = None, activity_regularizer: Any = None,
                 depthwise_constraint: Any = None, pointwise_constraint: Any = None, bias_constraint: Any = None,
                 trainable: bool = True, name: str | None = None, **kwargs: Any):
        super().__init__(filters, kernel_size, strides=strides, padding=padding, data_format=data_format,
                         dilation_rate=dilation_rate, activation=activation, use_bias=use_bias,
                         bias_initializer=bias_initializer, bias_regularizer=bias_regularizer,
                         activity_regularizer=activity_regularizer, bias_constraint=bias_constraint,
                         trainable=trainable, name=name, **kwargs)
        self.depth_multiplier = int(depth_multiplier)
        self.depthwise_initializer = depthwise_initializer
        self.pointwise_initializer = pointwise_initializer
        self.depthwise_regularizer = depthwise_regularizer
        self.pointwise_regularizer = pointwise_regularizer
        self.depthwise_constraint = depthwise_constraint
        self.pointwise_constraint = pointwise_constraint
        self.depthwise_kernel: Any = None
        self.pointwise_kernel: Any = None

    def build(self, input_shape: Any) -> None:
        channels = self._input_channels(input_shape)
        dtype = dtypes.as_dtype(self.dtype or dtypes.float32)
        self.depthwise_kernel = self.add_weight(
            "depthwise_kernel", shape=[*self.kernel_size, channels, self.depth_multiplier], dtype=dtype,
            initializer=self.depthwise_initializer, regularizer=self.depthwise_regularizer,
            constraint=self.depthwise_constraint, trainable=True)
        self.pointwise_kernel = self.add_weight(
            "pointwise_kernel", shape=[1] * self.rank + [channels * self.depth_multiplier, self.filters], dtype=dtype,
            initializer=self.pointwise_initializer, regularizer=self.pointwise_regularizer,
            constraint=self.pointwise_constraint, trainable=True)
        if self.use_bias:
            self.bias = self.add_weight("bias", shape=[self.filters], dtype=dtype, initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer, constraint=self.bias_constraint,
                                        trainable=True)
        self.input_spec = InputSpec(ndim=self.rank + 2, axes={self._channel_axis: channels})
        self.built = True


class SeparableConv2D(_SeparableConv):
    """Depthwise separable 2-D convolution."""

    rank = 2

    def __init__(self, filters: int, kernel_size: Any, strides: Any = (1, 1), padding: str = "valid",
                 data_format: str = "channels_last", dilation_rate: Any = (1, 1), **kwargs: Any):
        super().__init__(filters, kernel_size, strides=strides, padding=padding, data_format=data_format,
                         dilation_rate=dilation_rate, **kwargs)

    def _convolve(self, inputs: Tensor) -> Tensor:
        from gpugraph import nn

        last = self.data_format == "channels_last"
        strides = [1, *self.strides, 1] if last else [1, 1, *self.strides]
        return nn.separable_conv2d(inputs, self.depthwise_kernel, self.pointwise_kernel, strides=strides,
                                   padding=self.padding.upper(), rate=list(self.dilation_rate),
                                   data_format="NHWC" if last else "NCHW")


class SeparableConv1D(_SeparableConv):
    """Depthwise separable 1-D convolution, computed as TF1 does: a 2-D one over a size-1 axis."""

    rank = 1

    def call(self, inputs: Tensor) -> Tensor:
        """TF1's order: the bias is added to the 4-D result, which is then squeezed and activated."""
        from gpugraph import nn

        last = self.data_format == "channels_last"
        if self.padding == "causal":  # pad the start of the sequence so no output sees the future
            left = self.dilation_rate[0] * (self.kernel_size[0] - 1)
            inputs = pad(inputs, [[0, 0], [left, 0], [0, 0]] if last else [[0, 0], [0, 0], [left, 0]])
        padding = "VALID" if self.padding == "causal" else self.padding.upper()
        spatial = 1 if last else 2
        strides = [1, 1, self.strides[0], 1] if last else [1, 1, 1, self.strides[0]]
        outputs = nn.separable_conv2d(array_ops.expand_dims(inputs, spatial),
                                      array_ops.expand_dims(self.depthwise_kernel, 0),
                                      array_ops.expand_dims(self.pointwise_kernel, 0), strides=strides,
                                      padding=padding, rate=[1, self.dilation_rate[0]],
                                      data_format="NHWC" if last else "NCHW")
        if self.use_bias:
            outputs = nn.bias_add(outputs, self.bias, data_format="NHWC" if last else "NCHW")
        outputs = array_ops.squeeze(outputs, [spatial])
        return outputs if self.activation is None else self.activation(outputs)


SeparableConvolution1D, SeparableConvolution2D = SeparableConv1D, SeparableConv2D


def _separable(cls: Any, inputs: Any, filters: int, kernel_size: Any, **kwargs: Any) -> Tensor:
    return cls(filters, kernel_size, **_layer_kwargs(**kwargs)).apply(inputs)


def separable_conv1d(inputs: Any, filters: int, kernel_size: Any, strides: Any = 1, padding: str = "valid",
                     data_format: str = "channels_last", dilation_rate: Any = 1, depth_multiplier: int = 1,
                     activation: Any = None, use_bias: bool = True, depthwise_initializer: Any = None,
                     pointwise_initializer: Any = None, bias_initializer: Any = ZEROS,
                     depthwise_regularizer: Any = None, pointwise_regularizer: Any = None,
                     bias_regularizer: Any = None, activity_regularizer: Any = None, depthwise_constraint: Any = None,
                     pointwise_constraint: Any = None, bias_constraint: Any = None, trainable: bool = True,
                     name: str | None = None, reuse: Any = None) -> Tensor:
    """Functional form of SeparableConv1D (variables under ``separable_conv1d/``)."""
    return _separable(SeparableConv1D, inputs, filters, kernel_size, **{
        k: v for k, v in locals().items() if k not in ("inputs", "filters", "kernel_size")})


def separable_conv2d(inputs: Any, filters: int, kernel_size: Any, strides: Any = (1, 1), padding: str = "valid",
                     data_format: str = "channels_last", dilation_rate: Any = (1, 1), depth_multiplier: int = 1,
                     activation: Any = None, use_bias: bool = True, depthwise_initializer: Any = None,
                     pointwise_initializer: Any = None, bias_initializer: Any = ZEROS,
                     depthwise_regularizer: Any = None, pointwise_regularizer: Any = None,
                     bias_regularizer: Any = None, activity_regularizer: Any = None, depthwise_constraint: Any = None,
                     pointwise_constraint: Any = None, bias_constraint: Any = None, trainable: bool = True,
                     name: str | None = None, reuse: Any = None) -> Tensor:
    """Functional form of SeparableConv2D (variables under ``separable_conv2d/``)."""
    return _separable(SeparableConv2D, inputs, filters, kernel_size, **{
        k: v for k, v in locals().items() if k not in ("inputs", "filters", "kernel_size")})


separable_convolution1d, separable_convolution2d = separable_conv1d, separable_conv2d
