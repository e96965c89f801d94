"""tf.layers.Dense, Flatten, Dropout and their functions, with TF1's names and shapes."""

from __future__ import annotations

import functools
import operator
from typing import Any, Callable

from gpugraph.framework import dtypes
from gpugraph.framework.tensor import Tensor
from gpugraph.framework.tensor_shape import TensorShape
from gpugraph.layers.base import ZEROS, InputSpec, Layer, shape_dims
from gpugraph.ops import array_ops, nn_ops
from gpugraph.ops.constant_ops import convert_to_tensor
from gpugraph.ops.linalg_ops import matmul
from gpugraph.ops.math_ops import cast, where

__all__ = ["Dense", "Flatten", "Dropout", "dense", "flatten", "dropout"]

_ACTIVATIONS: dict[str, Callable[..., Tensor] | None] = {
    "linear": None, "relu": nn_ops.relu, "relu6": nn_ops.relu6, "elu": nn_ops.elu, "sigmoid": nn_ops.sigmoid,
    "tanh": nn_ops.tanh, "softplus": nn_ops.softplus, "softmax": nn_ops.softmax,
}


def get_activation(activation: Any) -> Callable[..., Tensor] | None:
    """A callable, None, or one of Keras' activation names ('relu', 'tanh', ...)."""
    if activation is None or callable(activation):
        return activation
    if isinstance(activation, str) and activation in _ACTIVATIONS:
        return _ACTIVATIONS[activation]
    raise ValueError(f"Unknown activation function: {activation!r}")


class Dense(Layer):
    """outputs = activation(inputs @ kernel + bias); kernel is [input_dim, units]."""

    def __init__(self, units: int, activation: Any = None, use_bias: bool = True, kernel_initializer: Any = None,
                 bias_initializer: Any = ZEROS, kernel_regularizer: Any = None,
                 bias_regularizer: Any = None, activity_regularizer: Any = None, kernel_constraint: Any = None,
                 bias_constraint: Any = None, trainable: bool = True, name: str | None = None, **kwargs: Any):
        super().__init__(trainable=trainable, name=name, activity_regularizer=activity_regularizer, **kwargs)
        self.units = int(units)
        if self.units <= 0:
            raise ValueError(f"Received an invalid value for `units`, expected a positive integer. "
                             f"Received: units={units}")
        self.activation = get_activation(activation)
        self.use_bias = use_bias
        self.kernel_initializer = kernel_initializer
        self.bias_initializer = bias_initializer
        self.kernel_regularizer = kernel_regularizer
        self.bias_regularizer = bias_regularizer
        self.kernel_constraint = kernel_constraint
        self.bias_constraint = bias_constraint
        self.input_spec = InputSpec(min_ndim=2)
        self.kernel: Any = None
        self.bias: Any = None

    def build(self, input_shape: Any) -> None:
        input_shape = TensorShape(input_shape)
        dtype = dtypes.as_dtype(self.dtype or dtypes.float32)
        if not (dtype.is_floating or dtype.is_complex):
            raise TypeError(f"A Dense layer can only be built with a floating-point dtype. Received: dtype={dtype}")
        last = input_shape.as_list()[-1] if input_shape.ndims else None
        if last is None:
            raise ValueError("The last dimension of the inputs to a Dense layer should be defined. Found None. "
                             f"Full input shape received: {input_shape}")
        self.input_spec = InputSpec(min_ndim=2, axes={-1: last})
        self.kernel = self.add_weight("kernel", shape=[last, self.units], initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer, constraint=self.kernel_constraint,
                                      dtype=dtype, trainable=True)
        if self.use_bias:
            self.bias = self.add_weight("bias", shape=[self.units], initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer, constraint=self.bias_constraint,
                                        dtype=dtype, trainable=True)
        self.built = True

    def call(self, inputs: Tensor) -> Tensor:
        if inputs.dtype.base_dtype != self.dtype:
            inputs = cast(inputs, self.dtype)
        rank = inputs.shape.ndims
        if rank is None or rank == 2:
            outputs = matmul(inputs, self.kernel)
        else:
            outputs = _tensordot_last(inputs, self.kernel, self.units)
        if self.use_bias:
            outputs = nn_ops.bias_add(outputs, self.bias)
        if self.activation is not None:
            outputs = self.activation(outputs)
        return outputs

    def compute_output_shape(self, input_shape: Any) -> TensorShape:
        dims = shape_dims(input_shape, "Dense.compute_output_shape", min_rank=2)
        if dims[-1] is None:
            raise ValueError(f"The innermost dimension of input_shape must be defined, but saw: {input_shape}")
        return TensorShape(dims[:-1] + [self.units])


def _tensordot_last(x: Tensor, kernel: Any, units: int) -> Tensor:
    """x's last axis contracted with kernel's first (TF1's Tensordot), as reshape -> MatMul -> reshape."""
    dims = x.shape.as_list()
    if dims[-1] is None:
        raise ValueError(f"Dense on input {x.name} of shape {x.shape}: the last dimension must be known")
    from gpugraph.framework.graph import get_default_graph
    from gpugraph.ops.manip_ops import concat

    graph = get_default_graph()
    with graph.name_scope("Tensordot") as scope:
        flat = array_ops.reshape(x, [-1, dims[-1]])
        product = matmul(flat, kernel)
        if all(d is not None for d in dims[1:-1]):
            return array_ops.reshape(product, [-1] + dims[1:-1] + [units], name=scope)
        # unknown inner dimensions (a padded time axis): the output shape is read at run time
        out_shape = concat([array_ops.shape(x)[:-1], [units]], 0)
        outputs = array_ops.reshape(product, out_shape, name=scope)
        outputs.set_shape(dims[:-1] + [units])
        return outputs


def dense(inputs: Any, units: int, activation: Any = None, use_bias: bool = True, kernel_initializer: Any = None,
          bias_initializer: Any = ZEROS, kernel_regularizer: Any = None, bias_regularizer: Any = None,
          activity_regularizer: Any = None, kernel_constraint: Any = None, bias_constraint: Any = None,
          trainable: bool = True, name: str | None = None, reuse: Any = None) -> Tensor:
    """Functional form of Dense: variables ``<scope>/dense/kernel`` and ``bias`` (``dense_1`` etc. when unnamed)."""
    layer = Dense(units, activation=activation, use_bias=use_bias, kernel_initializer=kernel_initializer,
                  bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer,
                  bias_regularizer=bias_regularizer, activity_regularizer=activity_regularizer,
                  kernel_constraint=kernel_constraint, bias_constraint=bias_constraint, trainable=trainable,
                  name=name, _scope=name, _reuse=reuse)
    return layer.apply(inputs)


class Flatten(Layer):
    """[batch, d1, d2, ...] -> [batch, d1 * d2 * ...] (channels_first inputs are made channels_last first)."""

    def __init__(self, data_format: str = "channels_last", **kwargs: Any):
        super().__init__(**kwargs)
        self.data_format = _data_format(data_format)
        self.input_spec = InputSpec(min_ndim=1)

    def call(self, inputs: Tensor) -> Tensor:
        rank = inputs.shape.ndims
        if rank is None:
            raise ValueError(f"Flatten: the rank of input {inputs.name} must be known")
        if self.data_format == "channels_first" and rank > 1:
            inputs = array_ops.transpose(inputs, perm=[0] + list(range(2, rank)) + [1])
        if rank == 1:
            return array_ops.expand_dims(inputs, 1)
        dims = inputs.shape.as_list()
        if all(d is not None for d in dims[1:]):
            return array_ops.reshape(inputs, [-1, functools.reduce(operator.mul, dims[1:], 1)])
        if dims[0] is not None:
            return array_ops.reshape(inputs, [dims[0], -1])
        return array_ops.reshape(inputs, array_ops.stack([array_ops.shape(inputs)[0], -1]))

    def compute_output_shape(self, input_shape: Any) -> TensorShape:
        dims = shape_dims(input_shape, "Flatten.compute_output_shape", min_rank=1)
        if len(dims) == 1:
            return TensorShape([dims[0], 1])
        inner = dims[1:]
        flat = None if any(d is None for d in inner) else functools.reduce(operator.mul, inner, 1)
        return TensorShape([dims[0], flat])


def flatten(inputs: Any, name: str | None = None, data_format: str = "channels_last") -> Tensor:
    """Functional form of Flatten; the batch dimension is kept."""
    return Flatten(name=name, data_format=data_format).apply(inputs)


class Dropout(Layer):
    """In training, zero each element with probability ``rate`` and scale the rest by 1 / (1 - rate)."""

    def __init__(self, rate: float = 0.5, noise_shape: Any = None, seed: int | None = None,
                 name: str | None = None, **kwargs: Any):
        super().__init__(name=name, **kwargs)
        self.rate = rate
        self.noise_shape = noise_shape
        self.seed = seed

    def call(self, inputs: Tensor, training: Any = False) -> Tensor:
        from gpugraph import nn

        def dropped() -> Tensor:
            return nn.dropout(inputs, noise_shape=self._noise_shape(inputs), seed=self.seed, rate=self.rate)

        return smart_select(training, dropped, lambda: array_ops.identity(inputs))

    def _noise_shape(self, inputs: Tensor) -> Any:
        if self.noise_shape is None:
            return None
        if isinstance(self.noise_shape, Tensor):
            return self.noise_shape
        if all(d is not None for d in self.noise_shape):
            return self.noise_shape
        # TF1: a None entry takes the input's dimension, read when the step runs if it is not static
        dims = inputs.shape.as_list()
        filled = [dims[i] if d is None else d for i, d in enumerate(self.noise_shape)]
        if all(d is not None for d in filled):
            return filled
        dynamic = array_ops.shape(inputs)
        return array_ops.stack([dynamic[i] if d is None else d for i, d in enumerate(filled)])

    def compute_output_shape(self, input_shape: Any) -> TensorShape:
        return TensorShape(input_shape)


def smart_select(training: Any, when_training: Callable[[], Tensor], otherwise: Callable[[], Tensor]) -> Tensor:
    """TF1's smart_cond: a Python bool (or a constant) picks one branch when the graph is built.

    A bool Tensor has no graph-level cond to lower to here, so both branches are built and an
    elementwise Select picks one per run: the same values as TF1's cond, with the training branch's
    ops also run (and discarded) in inference steps.
    """
    if isinstance(training, Tensor) or hasattr(training, "_as_tensor"):
        training = convert_to_tensor(training)
        if training.dtype.base_dtype != dtypes.bool_:
            raise TypeError(f"`training` must be a Python bool or a bool Tensor, got {training.dtype.name} "
                            f"({training.name})")
        return where(training, when_training(), otherwise())
    return when_training() if training else otherwise()


def dropout(inputs: Any, rate: float = 0.5, noise_shape: Any = None, seed: int | None = None,
            training: Any = False, name: str | None = None) -> Tensor:
    """Functional form of Dropout; ``training`` is a Python bool or a bool Tensor."""
    return Dropout(rate=rate, noise_shape=noise_shape, seed=seed, name=name).apply(inputs, training=training)


def _data_format(value: str) -> str:
    fmt = (value or "channels_last").lower()
    if fmt not in ("channels_last", "channels_first"):
        raise ValueError('The `data_format` argument must be one of "channels_first", "channels_last". '
                         f"Received: {value}")
    return fmt
