"""tf.layers.BatchNormalization and batch_normalization, as TF1 (tf_keras' V1 batch norm) builds them.

4-D inputs normalised over axis 1 or 3 use one FusedBatchNormV3 op, others tf.nn.moments and
tf.nn.batch_normalization; the moving statistics are updated by AssignMovingAvg ops
(``moving -= (moving - batch) * (1 - momentum)``) that go into ``tf.GraphKeys.UPDATE_OPS``.
"""

from __future__ import annotations

from typing import Any

from gpugraph.framework import dtypes
from gpugraph.framework.graph import get_default_graph
from gpugraph.framework.tensor import Tensor
from gpugraph.framework.tensor_shape import TensorShape
from gpugraph.layers.base import ONES, ZEROS, InputSpec, Layer, shape_dims
from gpugraph.layers.core import smart_select
from gpugraph.ops import array_ops, state_ops
from gpugraph.ops.constant_ops import constant, convert_to_tensor
from gpugraph.ops.math_ops import cast, where

__all__ = ["BatchNormalization", "BatchNorm", "batch_normalization", "batch_norm"]

_FUSED_DTYPES = (dtypes.float16, dtypes.float32)


class BatchNormalization(Layer):
    """(x - mean) / sqrt(var + epsilon) * gamma + beta with batch statistics when training, moving ones otherwise."""

    def __init__(self, axis: Any = -1, momentum: float = 0.99, epsilon: float = 1e-3, center: bool = True,
                 scale: bool = True, beta_initializer: Any = ZEROS,
                 gamma_initializer: Any = ONES, moving_mean_initializer: Any = ZEROS,
                 moving_variance_initializer: Any = ONES, beta_regularizer: Any = None,
                 gamma_regularizer: Any = None, beta_constraint: Any = None, gamma_constraint: Any = None,
                 renorm: bool = False, renorm_clipping: Any = None, renorm_momentum: float = 0.99,
                 fused: bool | None = None, trainable: bool = True, virtual_batch_size: int | None = None,
                 adjustment: Any = None, name: str | None = None, **kwargs: Any):
        super().__init__(name=name, trainable=trainable, **kwargs)
        for flag, what in ((renorm, "renorm=True"), (virtual_batch_size is not None, "virtual_batch_size"),
                           (adjustment is not None, "adjustment")):
            if flag:
                raise NotImplementedError(f"BatchNormalization: {what} is not supported")
        self.axis = list(axis) if isinstance(axis, (list, tuple)) else axis
        self.momentum = momentum
        self.epsilon = epsilon
        self.center = center
        self.scale = scale
        self.beta_initializer = beta_initializer
        self.gamma_initializer = gamma_initializer
        self.moving_mean_initializer = moving_mean_initializer
        self.moving_variance_initializer = moving_variance_initializer
        self.beta_regularizer = beta_regularizer
        self.gamma_regularizer = gamma_regularizer
        self.beta_constraint = beta_constraint
        self.gamma_constraint = gamma_constraint
        self.renorm = renorm
        self.virtual_batch_size = virtual_batch_size
        self.adjustment = adjustment
        self.fused = True if fused is None else fused
        self.supports_masking = True
        self.gamma: Any = None
        self.beta: Any = None
        self.moving_mean: Any = None
        self.moving_variance: Any = None

    @property
    def _param_dtype(self) -> dtypes.DType:
        # 16-bit inputs keep float32 parameters, as TF1 does.
        if self.dtype == dtypes.float16:
            return dtypes.float32
        return self.dtype or dtypes.float32

    def _validated_axes(self, rank: int) -> list[int]:
        axes = self.axis if isinstance(self.axis, list) else [self.axis]
        out = []
        for a in axes:
            if not isinstance(a, int) or not -rank <= a < rank:
                raise ValueError(f"Invalid value for `axis` argument. Expected 0 <= axis < inputs.rank (with "
                                 f"inputs.rank={rank}). Received: axis={self.axis}")
            out.append(a % rank)
        if len(set(out)) != len(out):
            raise ValueError(f"Duplicate axis: {self.axis}")
        return out

    def build(self, input_shape: Any) -> None:
        dims = shape_dims(input_shape, "BatchNormalization")
        rank = len(dims)
        self.axis = self._validated_axes(rank)
        # TF1 fuses 4-D inputs with one channel axis (1 or 3) in float16/32; everything else is composed.
        self.fused = bool(self.fused) and rank == 4 and self.axis in ([1], [3]) and \
            dtypes.as_dtype(self.dtype or dtypes.float32) in _FUSED_DTYPES
        self._data_format = "NCHW" if self.axis == [1] else "NHWC"
        axis_to_dim = {a: dims[a] for a in self.axis}
        for d in axis_to_dim.values():
            if d is None:
                raise ValueError(f"Input has undefined `axis` dimension. Received input with shape "
                                 f"{TensorShape(dims)} and axis={tuple(self.axis)}")
        self.input_spec = InputSpec(ndim=rank, axes=axis_to_dim)
        if len(axis_to_dim) == 1:
            param_shape: list[int] = [axis_to_dim[self.axis[0]]]
        else:
            param_shape = [axis_to_dim.get(i, 1) for i in range(rank)]
        self._param_shape = param_shape
        pd = self._param_dtype
        if self.scale:
            self.gamma = self.add_weight("gamma", shape=param_shape, dtype=pd, initializer=self.gamma_initializer,
                                         regularizer=self.gamma_regularizer, constraint=self.gamma_constraint)
        if self.center:
            self.beta = self.add_weight("beta", shape=param_shape, dtype=pd, initializer=self.beta_initializer,
                                        regularizer=self.beta_regularizer, constraint=self.beta_constraint)
        self.moving_mean = self.add_weight("moving_mean", shape=param_shape, dtype=pd,
                                           initializer=self.moving_mean_initializer, trainable=False)
        self.moving_variance = self.add_weight("moving_variance", shape=param_shape, dtype=pd,
                                               initializer=self.moving_variance_initializer, trainable=False)
        self.built = True

    def compute_output_shape(self, input_shape: Any) -> TensorShape:
        return TensorShape(input_shape)

    # --- the moving averages ---
    def _decay(self, training: Any) -> Any:
        """1 - momentum; with a Tensor `training`, 0 in inference steps so the update changes nothing
        (TF1 builds a cond whose false branch skips the update: the variables end with the same values)."""
        if isinstance(training, Tensor):
            return where(training, constant(1.0 - self.momentum, dtype=self._param_dtype),
                         constant(0.0, dtype=self._param_dtype), name="decay")
        return convert_to_tensor(1.0 - self.momentum, dtype=self._param_dtype, name="decay")

    def _assign_moving_average(self, variable: Any, value: Tensor, training: Any) -> Any:
        graph = get_default_graph()
        with graph.name_scope("AssignMovingAvg") as scope:
            decay = self._decay(training)
            delta = (variable - cast(value, variable.dtype.base_dtype)) * decay
            return state_ops.assign_sub(variable, delta, name=scope).op

    def _add_updates(self, mean: Tensor, variance: Tensor, training: Any) -> None:
        mean_update = self._assign_moving_average(self.moving_mean, mean, training)
        variance_update = self._assign_moving_average(self.moving_variance, variance, training)
        self.add_update([mean_update, variance_update])

    # --- the forward pass ---
    def call(self, inputs: Tensor, training: Any = False) -> Tensor:
        if self.dtype is not None and inputs.dtype.base_dtype != self.dtype:
            inputs = cast(inputs, self.dtype)
        if isinstance(training, Tensor) or hasattr(training, "_as_tensor"):
            training = convert_to_tensor(training)
            if training.dtype.base_dtype != dtypes.bool_:
                raise TypeError(f"`training` must be a Python bool or a bool Tensor, got {training.dtype.name} "
                                f"({training.name})")
        else:
            training = bool(training)
        if self.fused:
            return self._fused_call(inputs, training)
        return self._composed_call(inputs, training)

    def _fused_call(self, inputs: Tensor, training: Any) -> Tensor:
        from gpugraph import nn

        pd = self._param_dtype
        gamma = self.gamma if self.scale else constant(1.0, dtype=pd, shape=self._param_shape)
        beta = self.beta if self.center else constant(0.0, dtype=pd, shape=self._param_shape)

        def fused(is_training: bool) -> tuple[Tensor, Tensor, Tensor]:
            return nn.fused_batch_norm(inputs, gamma, beta, mean=self.moving_mean, variance=self.moving_variance,
                                       epsilon=self.epsilon, is_training=is_training,
                                       data_format=self._data_format)

        if training is False:
            return fused(False)[0]
        if training is True:
            output, mean, variance = fused(True)
        else:
            train_out, infer_out = fused(True), fused(False)
            output, mean, variance = (where(training, t, f) for t, f in zip(train_out, infer_out))
        # The fused op's batch variance carries Bessel's correction; TF1's moving variance is fed with it.
        self._add_updates(mean, variance, training)
        return output

    def _composed_call(self, inputs: Tensor, training: Any) -> Tensor:
        from gpugraph import nn

        input_dtype = inputs.dtype.base_dtype
        if input_dtype == dtypes.float16:
            inputs = cast(inputs, dtypes.float32)
        ndims = inputs.shape.ndims
        reduction_axes = [i for i in range(ndims) if i not in self.axis]
        broadcast_shape = [1] * ndims
        broadcast_shape[self.axis[0]] = inputs.shape.as_list()[self.axis[0]]

        def broadcast(v: Any) -> Any:
            # Only a single-axis norm over a non-last axis needs its [C] vectors reshaped to broadcast.
            if v is not None and v.shape.ndims != ndims and reduction_axes != list(range(ndims - 1)):
                return array_ops.reshape(v, broadcast_shape)
            return v

        scale, offset = broadcast(self.gamma), broadcast(self.beta)
        if training is False:
            mean, variance = self.moving_mean, self.moving_variance
        else:
            mean, variance = nn.moments(cast(inputs, self._param_dtype), reduction_axes,
                                        keepdims=len(self.axis) > 1)
            moving_mean, moving_variance = self.moving_mean, self.moving_variance
            mean = smart_select(training, lambda: mean, lambda: convert_to_tensor(moving_mean))
            variance = smart_select(training, lambda: variance, lambda: convert_to_tensor(moving_variance))
            self._add_updates(mean, variance, training)
        dt = inputs.dtype.base_dtype
        mean, variance = cast(convert_to_tensor(mean), dt), cast(convert_to_tensor(variance), dt)
        offset = cast(convert_to_tensor(offset), dt) if offset is not None else None
        scale = cast(convert_to_tensor(scale), dt) if scale is not None else None
        outputs = nn.batch_normalization(inputs, broadcast(mean), broadcast(variance), offset, scale, self.epsilon)
        if input_dtype == dtypes.float16:
            outputs = cast(outputs, input_dtype)
        return outputs


BatchNorm = BatchNormalization


def batch_normalization(inputs: Any, axis: Any = -1, momentum: float = 0.99, epsilon: float = 1e-3,
                        center: bool = True, scale: bool = True, beta_initializer: Any = ZEROS,
                        gamma_initializer: Any = ONES,
                        moving_mean_initializer: Any = ZEROS,
                        moving_variance_initializer: Any = ONES, beta_regularizer: Any = None,
                        gamma_regularizer: Any = None, beta_constraint: Any = None, gamma_constraint: Any = None,
                        training: Any = False, trainable: bool = True, name: str | None = None, reuse: Any = None,
                        renorm: bool = False, renorm_clipping: Any = None, renorm_momentum: float = 0.99,
                        fused: bool | None = None, virtual_batch_size: int | None = None,
                        adjustment: Any = None) -> Tensor:
    """Functional form of BatchNormalization; run ``tf.get_collection(tf.GraphKeys.UPDATE_OPS)`` with the
    train op to update the moving statistics."""
    layer = BatchNormalization(
        axis=axis, momentum=momentum, epsilon=epsilon, center=center, scale=scale,
        beta_initializer=beta_initializer, gamma_initializer=gamma_initializer,
        moving_mean_initializer=moving_mean_initializer, moving_variance_initializer=moving_variance_initializer,
        beta_regularizer=beta_regularizer, gamma_regularizer=gamma_regularizer, beta_constraint=beta_constraint,
        gamma_constraint=gamma_constraint, renorm=renorm, renorm_clipping=renorm_clipping,
        renorm_momentum=renorm_momentum, fused=fused, trainable=trainable, virtual_batch_size=virtual_batch_size,
        adjustment=adjustment, name=name, _reuse=reuse, _scope=name)
    return layer.apply(inputs, training=training)


batch_norm = batch_normalization
