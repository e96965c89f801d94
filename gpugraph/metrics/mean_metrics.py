"""Streaming means: mean, accuracy, mean_squared_error, root_mean_squared_error, mean_absolute_error.

Each keeps ``<name>/total`` and ``<name>/count`` (local variables); ``update_op`` adds a batch and
returns the new mean, the value tensor reads the current mean (0 before any weight was seen)."""

from __future__ import annotations

from typing import Any

from gpugraph.framework import dtypes
from gpugraph.framework.tensor import Tensor
from gpugraph.losses.util import broadcast_weights
from gpugraph.metrics.metric_util import add_to, metric_variable, remove_squeezable_dimensions
from gpugraph.ops.array_ops import size
from gpugraph.ops.math_ops import abs, cast, equal, maximum, multiply, squared_difference
from gpugraph.ops.metric_ops import div_no_nan
from gpugraph.ops.reduction_ops import reduce_sum
from gpugraph.ops.state_ops import assign_add
from gpugraph.ops.unary_ops import sqrt
from gpugraph.variable_scope import variable_scope

__all__ = ["accuracy", "mean", "mean_absolute_error", "mean_squared_error", "root_mean_squared_error"]


def mean(values: Any, weights: Any = None, metrics_collections: Any = None, updates_collections: Any = None,
         name: str | None = None) -> tuple[Tensor, Tensor]:
    """The (weighted) mean of all ``values`` seen so far: (mean, update_op)."""
    with variable_scope(name, "mean", [v for v in (values, weights) if v is not None]):
        values = cast(values, dtypes.float32)
        total = metric_variable([], dtypes.float32, name="total")
        count = metric_variable([], dtypes.float32, name="count")
        if weights is None:
            num_values = cast(size(values), dtypes.float32)
        else:
            values, _, weights = remove_squeezable_dimensions(values, None, weights)
            weights = broadcast_weights(cast(weights, dtypes.float32), values)
            values = multiply(values, weights)
            num_values = reduce_sum(weights)
        update_total_op = assign_add(total, reduce_sum(values))
        update_count_op = assign_add(count, num_values)
        mean_t = div_no_nan(total, maximum(count, 0), name="value")
        add_to(metrics_collections, mean_t)
        update_op = div_no_nan(update_total_op, maximum(update_count_op, 0), name="update_op")
        add_to(updates_collections, update_op)
        return mean_t, update_op


def accuracy(labels: Any, predictions: Any, weights: Any = None, metrics_collections: Any = None,
             updates_collections: Any = None, name: str | None = None) -> tuple[Tensor, Tensor]:
    """How often ``predictions`` equals ``labels`` (weighted): (accuracy, update_op)."""
    predictions, labels, weights = remove_squeezable_dimensions(predictions, labels, weights)
    if labels.dtype.base_dtype != predictions.dtype.base_dtype:
        predictions = cast(predictions, labels.dtype.base_dtype)
    is_correct = cast(equal(predictions, labels), dtypes.float32)
    return mean(is_correct, weights, metrics_collections, updates_collections, name or "accuracy")


def mean_squared_error(labels: Any, predictions: Any, weights: Any = None, metrics_collections: Any = None,
                       updates_collections: Any = None, name: str | None = None) -> tuple[Tensor, Tensor]:
    predictions, labels, weights = remove_squeezable_dimensions(predictions, labels, weights)
    squared_error = squared_difference(labels, predictions)
    return mean(squared_error, weights, metrics_collections, updates_collections, name or "mean_squared_error")


def mean_absolute_error(labels: Any, predictions: Any, weights: Any = None, metrics_collections: Any = None,
                        updates_collections: Any = None, name: str | None = None) -> tuple[Tensor, Tensor]:
    predictions, labels, weights = remove_squeezable_dimensions(predictions, labels, weights)
    absolute_errors = abs(predictions - labels)
    return mean(absolute_errors, weights, metrics_collections, updates_collections, name or "mean_absolute_error")


def root_mean_squared_error(labels: Any, predictions: Any, weights: Any = None, metrics_collections: Any = None,
                            updates_collections: Any = None, name: str | None = None) -> tuple[Tensor, Tensor]:
    predictions, labels, weights = remove_squeezable_dimensions(predictions, labels, weights)
    mse, update_mse_op = mean_squared_error(labels, predictions, weights, None, None,
                                            name or "root_mean_squared_error")
    rmse = sqrt(mse)  # TF1 builds these outside the metric's scope ("Sqrt:0")
    add_to(metrics_collections, rmse)
    update_rmse_op = sqrt(update_mse_op)
    add_to(updates_collections, update_rmse_op)
    return rmse, update_rmse_op
