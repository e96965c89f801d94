"""tf.nn: selu, softsign, swish/silu, crelu, relu_layer and the losses log_poisson_loss,
weighted_cross_entropy_with_logits, compute_average_loss, scale_regularization_loss.

Selu and Softsign are ops (gpugraph/ops/nn_extra_ops.py); the rest are TF1's compositions under
TF1's name scopes.
"""

from __future__ import annotations

import math
from typing import Any

from gpugraph.framework import dtypes
from gpugraph.framework.tensor import Tensor
from gpugraph.ops.array_ops import ones_like, shape, zeros_like
from gpugraph.ops.constant_ops import constant, convert_to_tensor
from gpugraph.ops.linalg_ops import matmul
from gpugraph.ops.manip_ops import concat
from gpugraph.ops.math_ops import add, cast, greater_equal, less_equal, logical_and, multiply, where
from gpugraph.ops.metric_ops import div_no_nan
from gpugraph.ops.nn_extra_ops import SELU, SOFTSIGN
from gpugraph.ops.nn_ops import bias_add, relu, sigmoid, tensor_like
from gpugraph.ops.reduction_ops import reduce_sum
from gpugraph.ops.registry import graph_of
from gpugraph.ops.unary_ops import abs as abs_
from gpugraph.ops.unary_ops import exp, log, log1p, negative

__all__ = ["selu", "softsign", "swish", "silu", "crelu", "relu_layer", "log_poisson_loss",
           "weighted_cross_entropy_with_logits", "compute_average_loss", "scale_regularization_loss"]


def selu(features: Any, name: str | None = None) -> Tensor:
    """scale * (features if > 0 else alpha * (exp(features) - 1)), scale ~1.0507, alpha ~1.6733."""
    return SELU(features, name=name)


def softsign(features: Any, name: str | None = None) -> Tensor:
    """features / (1 + |features|)."""
    return SOFTSIGN(features, name=name)


def swish(features: Any, beta: float = 1.0) -> Tensor:
    """features * sigmoid(beta * features)."""
    features = convert_to_tensor(features, name="features")
    return features * sigmoid(beta * features)


silu = swish


def crelu(features: Any, name: str | None = None, axis: int = -1) -> Tensor:
    """relu(concat([features, -features], axis)): the channel count doubles."""
    graph = graph_of([features])
    with graph.as_default(), graph.name_scope(name or "CRelu") as scope:
        features = convert_to_tensor(features, name="features")
        c = concat([features, negative(features)], axis, name=scope)
        return relu(c)


def relu_layer(x: Any, weights: Any, biases: Any, name: str | None = None) -> Tensor:
    """relu(matmul(x, weights) + biases)."""
    graph = graph_of([x, weights, biases])
    with graph.as_default(), graph.name_scope(name or "relu_layer") as scope:
        x = convert_to_tensor(x, name="x")
        weights = convert_to_tensor(weights, name="weights")
        biases = convert_to_tensor(biases, name="biases")
        return relu(bias_add(matmul(x, weights), biases), name=scope)


def _same_shape(a: Tensor, b: Tensor, scope: str, what: str) -> None:
    if not a.shape.is_compatible_with(b.shape):
        raise ValueError(f"{scope}: {what} must have the same shape ({a.shape} vs {b.shape})")


def log_poisson_loss(targets: Any, log_input: Any, compute_full_loss: bool = False,
                     name: str | None = None) -> Tensor:
    """exp(log_input) - log_input * targets, plus Stirling's term for targets > 1 if compute_full_loss."""
    graph = graph_of([targets, log_input])
    with graph.as_default(), graph.name_scope(name or "log_poisson_loss") as scope:
        log_input = convert_to_tensor(log_input, name="log_input")
        targets = convert_to_tensor(targets, dtype=None if tensor_like(targets) else log_input.dtype, name="targets")
        _same_shape(log_input, targets, scope[:-1], "log_input and targets")
        result = exp(log_input) - log_input * targets
        if compute_full_loss:
            point_five = constant(0.5, dtype=targets.dtype.base_dtype)
            two_pi = constant(2 * math.pi, dtype=targets.dtype.base_dtype)
            stirling_approx = (targets * log(targets)) - targets + (point_five * log(two_pi * targets))
            zeros = zeros_like(targets)
            ones = ones_like(targets)
            cond = logical_and(greater_equal(targets, zeros), less_equal(targets, ones))
            result = result + where(cond, zeros, stirling_approx)
        return result


def weighted_cross_entropy_with_logits(labels: Any = None, logits: Any = None, pos_weight: Any = None,
                                       name: str | None = None, targets: Any = None) -> Tensor:
    """Sigmoid cross-entropy whose positive term is scaled by pos_weight (TF1's overflow-free form)."""
    if targets is not None:
        if labels is not None:
            raise ValueError("Cannot specify both 'labels' and 'targets'.")
        labels = targets
    if labels is None or logits is None or pos_weight is None:
        raise ValueError("labels, logits and pos_weight must all be provided.")
    graph = graph_of([labels, logits, pos_weight])
    with graph.as_default(), graph.name_scope(name or "logistic_loss") as scope:
        logits = convert_to_tensor(logits, name="logits")
        labels = convert_to_tensor(labels, dtype=None if tensor_like(labels) else logits.dtype, name="labels")
        _same_shape(logits, labels, scope[:-1], "logits and labels")
        log_weight = 1 + (pos_weight - 1) * labels
        return add((1 - labels) * logits,
                   log_weight * (log1p(exp(negative(abs_(logits)))) + relu(negative(logits))), name=scope)


def compute_average_loss(per_example_loss: Any, sample_weight: Any = None, global_batch_size: Any = None) -> Tensor:
    """sum(per_example_loss * sample_weight) / global_batch_size (default: the batch size, one replica)."""
    per_example_loss = convert_to_tensor(per_example_loss)
    if per_example_loss.shape.ndims == 0:
        raise ValueError(f"Invalid value passed for `per_example_loss`. Expected a tensor with at least rank 1. "
                         f"Received: {per_example_loss}")
    input_dtype = per_example_loss.dtype.base_dtype
    if sample_weight is not None:
        sample_weight = convert_to_tensor(sample_weight, dtype=None if tensor_like(sample_weight) else input_dtype)
        per_example_loss = multiply(per_example_loss, cast(sample_weight, input_dtype))
    if global_batch_size is None:
        global_batch_size = shape(per_example_loss)[0]
    elif not tensor_like(global_batch_size):
        if isinstance(global_batch_size, bool) or not isinstance(global_batch_size, int):
            raise TypeError(f"global_batch_size must be an integer, got {global_batch_size!r}")
        if global_batch_size < 0:
            raise ValueError(f"global_batch_size must be non-negative, got {global_batch_size}")
        global_batch_size = constant(global_batch_size, dtype=dtypes.int32)
    elif not convert_to_tensor(global_batch_size).dtype.base_dtype.is_integer:
        raise TypeError(f"global_batch_size must be an integer tensor, got {global_batch_size}")
    return div_no_nan(reduce_sum(per_example_loss), cast(global_batch_size, input_dtype))


def scale_regularization_loss(regularization_loss: Any) -> Tensor:
    """The summed regularization loss divided by the number of replicas (one here)."""
    return reduce_sum(regularization_loss) / 1
