"""tf.nn: moments and normalisation (moments, weighted_moments, batch_normalization, fused_batch_norm,
l2_normalize, lrn), built as TF1 builds them: compositions of existing ops under TF1's name scopes."""

from __future__ import annotations

from typing import Any

from gpugraph.framework import dtypes
from gpugraph.framework.tensor import Tensor
from gpugraph.ops.array_ops import squeeze, stop_gradient, zeros_like
from gpugraph.ops.constant_ops import constant, convert_to_tensor
from gpugraph.ops.math_ops import cast, maximum, multiply, squared_difference
from gpugraph.ops.nn_ops import tensor_like
from gpugraph.ops.norm_ops import FUSED_BATCH_NORM, LRN
from gpugraph.ops.reduction_ops import reduce_mean, reduce_sum
from gpugraph.ops.registry import graph_of
from gpugraph.ops.unary_ops import reciprocal, rsqrt, square

__all__ = ["moments", "weighted_moments", "batch_normalization", "fused_batch_norm", "l2_normalize", "lrn",
           "local_response_normalization"]


def _keep_dims(keep_dims: Any, keepdims: Any) -> bool:
    if keep_dims is not None and keepdims is not None:
        raise ValueError("Cannot specify both 'keepdims' and 'keep_dims'.")
    keep = keepdims if keepdims is not None else keep_dims
    return bool(keep) if keep is not None else False


def _axes_list(axes: Any) -> list[int]:
    if isinstance(axes, Tensor) or hasattr(axes, "_as_tensor"):
        raise TypeError("tf.nn.moments: axes given as a Tensor are not supported; pass a list of ints.")
    if hasattr(axes, "__index__"):
        return [int(axes)]
    return [int(a) for a in axes]


def moments(x: Any, axes: Any, shift: Any = None, name: str | None = None, keep_dims: Any = None,
            keepdims: Any = None) -> tuple[Tensor, Tensor]:
    """Mean and (biased) variance of ``x`` over ``axes``; float16 is accumulated in float32, as in TF1."""
    del shift  # unused by TF1 too
    keep = _keep_dims(keep_dims, keepdims)
    axes = _axes_list(axes)
    graph = graph_of([x])
    with graph.as_default(), graph.name_scope(name or "moments"):
        x = convert_to_tensor(x, name="x")
        half = x.dtype.base_dtype == dtypes.float16
        y = cast(x, dtypes.float32) if half else x
        mean = reduce_mean(y, axes, keepdims=True, name="mean")
        variance = reduce_mean(squared_difference(y, stop_gradient(mean)), axes, keepdims=True, name="variance")
        if not keep:
            mean = squeeze(mean, axes)
            variance = squeeze(variance, axes)
        if half:
            return cast(mean, dtypes.float16), cast(variance, dtypes.float16)
        return mean, variance


def weighted_moments(x: Any, axes: Any, frequency_weights: Any, name: str | None = None, keep_dims: Any = None,
                     keepdims: Any = None) -> tuple[Tensor, Tensor]:
    """Frequency-weighted mean and variance of ``x`` over ``axes`` (weights broadcast against ``x``)."""
    keep = _keep_dims(keep_dims, keepdims)
    axes = _axes_list(axes)
    graph = graph_of([x, frequency_weights])
    with graph.as_default(), graph.name_scope(name or "weighted_moments"):
        x = convert_to_tensor(x, name="x")
        frequency_weights = convert_to_tensor(frequency_weights, name="frequency_weights")
        half = x.dtype.base_dtype == dtypes.float16
        if half:
            x = cast(x, dtypes.float32)
        if frequency_weights.dtype.base_dtype != x.dtype.base_dtype:
            frequency_weights = cast(frequency_weights, x.dtype.base_dtype)
        weighted_input_sum = reduce_sum(frequency_weights * x, axes, name="weighted_input_sum", keepdims=True)
        broadcasted_weights = frequency_weights + zeros_like(x)
        sum_of_weights = reduce_sum(broadcasted_weights, axes, name="sum_of_weights", keepdims=True)
        divisor = reciprocal(sum_of_weights, name="inv_weight_sum")
        weighted_mean = multiply(weighted_input_sum, divisor)
        weighted_distsq = reduce_sum(frequency_weights * squared_difference(x, weighted_mean), axes,
                                     name="weighted_distsq", keepdims=True)
        weighted_variance = multiply(weighted_distsq, divisor)
        if not keep:
            weighted_mean = squeeze(weighted_mean, axes)
            weighted_variance = squeeze(weighted_variance, axes)
        if half:
            return cast(weighted_mean, dtypes.float16), cast(weighted_variance, dtypes.float16)
        return weighted_mean, weighted_variance


def batch_normalization(x: Any, mean: Any, variance: Any, offset: Any, scale: Any, variance_epsilon: Any,
                        name: str | None = None) -> Tensor:
    """(x - mean) * scale / sqrt(variance + epsilon) + offset, arranged as TF1 arranges it."""
    graph = graph_of([x, mean, variance, offset, scale])
    with graph.as_default(), graph.name_scope(name or "batchnorm"):
        x = convert_to_tensor(x, name="x")
        variance = convert_to_tensor(variance, name="variance")
        inv = rsqrt(variance + variance_epsilon)
        if scale is not None:
            inv = inv * scale
        scaled = x * cast(inv, x.dtype.base_dtype)  # built before the shift, as TF1 orders (and names) them
        shift = offset - mean * inv if offset is not None else -mean * inv
        return scaled + cast(shift, x.dtype.base_dtype)


_MIN_EPSILON = 1.001e-5  # cuDNN's floor, which TF1 applies on every device


def fused_batch_norm(x: Any, scale: Any, offset: Any, mean: Any = None, variance: Any = None,
                     epsilon: float = 0.001, data_format: str = "NHWC", is_training: bool = True,
                     name: str | None = None, exponential_avg_factor: float = 1.0) -> tuple[Tensor, Tensor, Tensor]:
    """Batch normalisation of a 4-D ``x`` as one op; returns (y, batch_mean, batch_variance)."""
    if (not is_training or exponential_avg_factor != 1.0) and (mean is None or variance is None):
        raise ValueError("Both 'mean' and 'variance' must be a 1D tensor when is_training is False or "
                         "exponential_avg_factor != 1.0.")
    if data_format not in ("NHWC", "NCHW"):
        raise ValueError(f"tf.nn.fused_batch_norm: data_format must be 'NHWC' or 'NCHW', got {data_format!r}")
    graph = graph_of([x, scale, offset, mean, variance])
    with graph.as_default():
        x = convert_to_tensor(x, name="input")
        param_dtype = dtypes.float32 if x.dtype.base_dtype == dtypes.float16 else None
        scale = convert_to_tensor(scale, dtype=None if tensor_like(scale) else param_dtype, name="scale")
        offset = convert_to_tensor(offset, dtype=None if tensor_like(offset) else scale.dtype, name="offset")
        if mean is None:
            mean = constant([], dtype=scale.dtype.base_dtype)
        if variance is None:
            variance = constant([], dtype=scale.dtype.base_dtype)
        eps = max(float(epsilon), _MIN_EPSILON)
        y, batch_mean, batch_var, _, _, _ = FUSED_BATCH_NORM(
            x, scale, offset, mean, variance, name=name, epsilon=eps, data_format=data_format,
            is_training=bool(is_training), exponential_avg_factor=float(exponential_avg_factor))
        return y, batch_mean, batch_var


def l2_normalize(x: Any, axis: Any = None, epsilon: float = 1e-12, name: str | None = None,
                 dim: Any = None) -> Tensor:
    """x / sqrt(max(sum(x**2, axis), epsilon))."""
    if axis is not None and dim is not None:
        raise ValueError("Cannot specify both 'axis' and 'dim'")
    axis = dim if axis is None else axis
    graph = graph_of([x])
    with graph.as_default(), graph.name_scope(name or "l2_normalize") as scope:
        x = convert_to_tensor(x, name="x")
        square_sum = reduce_sum(square(x), axis, keepdims=True)
        x_inv_norm = rsqrt(maximum(square_sum, epsilon))
        return multiply(x, x_inv_norm, name=scope)


def local_response_normalization(input: Any, depth_radius: int = 5, bias: float = 1, alpha: float = 1,
                                 beta: float = 0.5, name: str | None = None) -> Tensor:
    """input / (bias + alpha * sum of squares over a depth window) ** beta, along the last axis."""
    return LRN(input, name=name, depth_radius=int(depth_radius), bias=float(bias), alpha=float(alpha),
               beta=float(beta))


lrn = local_response_normalization
