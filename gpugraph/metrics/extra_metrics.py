"""More streaming means: mean_tensor, mean_per_class_accuracy, mean_relative_error, mean_cosine_distance,
percentage_below. Each is built as TF1 builds it, so variables and value names match."""

from __future__ import annotations

from typing import Any

from gpugraph.framework import dtypes
from gpugraph.framework.tensor import Tensor
from gpugraph.losses.util import broadcast_weights
from gpugraph.metrics.mean_metrics import mean
from gpugraph.metrics.metric_util import add_to, metric_variable, remove_squeezable_dimensions
from gpugraph.ops.array_ops import ones, ones_like, reshape, size, zeros_like
from gpugraph.ops.constant_ops import convert_to_tensor
from gpugraph.ops.index_ops import one_hot
from gpugraph.ops.math_ops import cast, divide, equal, less, maximum, multiply, subtract, where
from gpugraph.ops.metric_ops import div_no_nan
from gpugraph.ops.reduction_ops import reduce_mean, reduce_sum
from gpugraph.ops.state_ops import assign_add
from gpugraph.ops.unary_ops import abs
from gpugraph.variable_scope import variable_scope

__all__ = ["mean_cosine_distance", "mean_per_class_accuracy", "mean_relative_error", "mean_tensor",
           "percentage_below"]


def _values_of(*values: Any) -> list[Any]:
    return [v for v in values if v is not None]


def mean_tensor(values: Any, weights: Any = None, metrics_collections: Any = None, updates_collections: Any = None,
                name: str | None = None) -> tuple[Tensor, Tensor]:
    """The elementwise (weighted) mean of every ``values`` tensor seen so far; needs a fully known shape."""
    with variable_scope(name, "mean", _values_of(values, weights)):
        values = cast(values, dtypes.float32)
        if not values.shape.is_fully_defined():
            raise ValueError(f"Cannot convert a partially known TensorShape {values.shape} to a Tensor: "
                             f"mean_tensor needs the full shape of {values.name} when the graph is built")
        dims = values.shape.as_list()
        total = metric_variable(dims, dtypes.float32, name="total_tensor")
        count = metric_variable(dims, dtypes.float32, name="count_tensor")
        num_values = ones_like(values)
        if weights is not None:
            values, _, weights = remove_squeezable_dimensions(values, None, weights)
            weights = broadcast_weights(cast(weights, dtypes.float32), values)
            values = multiply(values, weights)
            num_values = multiply(num_values, weights)
        update_total_op = assign_add(total, values)
        update_count_op = assign_add(count, num_values)
        mean_t = div_no_nan(total, maximum(count, 0), name="value")
        add_to(metrics_collections, mean_t)
        update_op = div_no_nan(update_total_op, maximum(update_count_op, 0), name="update_op")
        add_to(updates_collections, update_op)
        return mean_t, update_op


def _flat(t: Tensor) -> Tensor:
    return reshape(t, [-1]) if t.shape.ndims is not None and t.shape.ndims > 1 else t


def mean_per_class_accuracy(labels: Any, predictions: Any, num_classes: int, weights: Any = None,
                            metrics_collections: Any = None, updates_collections: Any = None,
                            name: str | None = None) -> tuple[Tensor, Tensor]:
    """The mean over classes of each class's accuracy; update_op returns the [num_classes] accuracies."""
    with variable_scope(name, "mean_accuracy", _values_of(predictions, labels, weights)):
        labels = _flat(cast(labels, dtypes.int64))
        predictions = _flat(convert_to_tensor(predictions))
        if not predictions.shape.is_compatible_with(labels.shape):
            raise ValueError(f"Shapes {predictions.shape} and {labels.shape} are incompatible "
                             f"(predictions {predictions.name}, labels {labels.name})")
        # "total" counts the examples of each class, "count" the correct ones (TF1's names)
        total = metric_variable([num_classes], dtypes.float32, name="total")
        count = metric_variable([num_classes], dtypes.float32, name="count")
        examples = ones([size(labels)], dtypes.float32)
        if labels.dtype.base_dtype != predictions.dtype.base_dtype:
            predictions = cast(predictions, labels.dtype.base_dtype)
        is_correct = cast(equal(predictions, labels), dtypes.float32)
        if weights is not None:
            weights = cast(_flat(convert_to_tensor(weights)), dtypes.float32)
            is_correct = is_correct * weights
            examples = examples * weights
        # scatter_add by class: a one-hot [batch, num_classes] table summed over the batch
        per_class = one_hot(labels, num_classes, dtype=dtypes.float32)
        update_total_op = assign_add(total, reduce_sum(per_class * reshape(examples, [-1, 1]), 0))
        update_count_op = assign_add(count, reduce_sum(per_class * reshape(is_correct, [-1, 1]), 0))
        per_class_accuracy = div_no_nan(count, maximum(total, 0))
        value = reduce_mean(per_class_accuracy, name="mean_accuracy")
        add_to(metrics_collections, value)
        update_op = div_no_nan(update_count_op, maximum(update_total_op, 0), name="update_op")
        add_to(updates_collections, update_op)
        return value, update_op


def mean_relative_error(labels: Any, predictions: Any, normalizer: Any, weights: Any = None,
                        metrics_collections: Any = None, updates_collections: Any = None,
                        name: str | None = None) -> tuple[Tensor, Tensor]:
    """The mean of |labels - predictions| / normalizer (0 where the normalizer is 0)."""
    predictions, labels, weights = remove_squeezable_dimensions(predictions, labels, weights)
    predictions, normalizer, _ = remove_squeezable_dimensions(predictions, normalizer, None)
    relative_errors = where(equal(normalizer, 0.0), zeros_like(labels),
                            divide(abs(labels - predictions), normalizer))
    return mean(relative_errors, weights, metrics_collections, updates_collections, name or "mean_relative_error")


def mean_cosine_distance(labels: Any, predictions: Any, dim: int, weights: Any = None,
                         metrics_collections: Any = None, updates_collections: Any = None,
                         name: str | None = None) -> tuple[Tensor, Tensor]:
    """1 - the mean of sum(labels * predictions) along ``dim`` (inputs are expected unit-normalized)."""
    predictions, labels, weights = remove_squeezable_dimensions(predictions, labels, weights)
    radial_diffs = reduce_sum(multiply(predictions, labels), axis=[dim], keepdims=True)
    mean_distance, update_op = mean(radial_diffs, weights, None, None, name or "mean_cosine_distance")
    mean_distance = subtract(1.0, mean_distance)  # TF1 builds these outside the metric's scope ("Sub")
    update_op = subtract(1.0, update_op)
    add_to(metrics_collections, mean_distance)
    add_to(updates_collections, update_op)
    return mean_distance, update_op


def percentage_below(values: Any, threshold: float, weights: Any = None, metrics_collections: Any = None,
                     updates_collections: Any = None, name: str | None = None) -> tuple[Tensor, Tensor]:
    """The (weighted) fraction of values below ``threshold``."""
    is_below_threshold = cast(less(values, threshold), dtypes.float32)
    return mean(is_below_threshold, weights, metrics_collections, updates_collections,
                name or "percentage_below_threshold")
