"""Streaming counts of a binary confusion matrix, and precision and recall built on them.

Labels and predictions are read as bools; each count is a local ``count`` variable (weighted sums)."""

from __future__ import annotations

from typing import Any

from gpugraph.framework import dtypes
from gpugraph.framework.tensor import Tensor
from gpugraph.metrics.metric_util import add_to, metric_variable, remove_squeezable_dimensions
from gpugraph.ops.array_ops import identity
from gpugraph.ops.math_ops import cast, divide, equal, greater, logical_and, multiply, where
from gpugraph.ops.reduction_ops import reduce_sum
from gpugraph.ops.state_ops import assign_add
from gpugraph.variable_scope import variable_scope

__all__ = ["false_negatives", "false_positives", "precision", "recall", "true_negatives", "true_positives"]


def _as_bools(labels: Any, predictions: Any, weights: Any) -> tuple[Tensor, Tensor, Tensor | None]:
    predictions, labels, weights = remove_squeezable_dimensions(
        cast(predictions, dtypes.bool_), cast(labels, dtypes.bool_), weights)
    return labels, predictions, weights


def _count_condition(values: Tensor, weights: Tensor | None, metrics_collections: Any,
                     updates_collections: Any) -> tuple[Tensor, Tensor]:
    count = metric_variable([], dtypes.float32, name="count")
    values = cast(values, dtypes.float32)
    if weights is not None:
        w_rank, v_rank = weights.shape.ndims, values.shape.ndims
        if w_rank is not None and v_rank is not None and w_rank not in (0, v_rank):
            raise ValueError(f"weights ({weights.name}) must be a scalar or of the rank of the values "
                             f"({v_rank}), got rank {w_rank}")
        values = multiply(values, cast(weights, dtypes.float32))
    value_tensor = identity(count)
    add_to(metrics_collections, value_tensor)
    update_op = assign_add(count, reduce_sum(values))
    add_to(updates_collections, update_op)
    return value_tensor, update_op


def _counter(default_name: str, label_value: bool, prediction_value: bool) -> Any:
    def metric(labels: Any, predictions: Any, weights: Any = None, metrics_collections: Any = None,
               updates_collections: Any = None, name: str | None = None) -> tuple[Tensor, Tensor]:
        with variable_scope(name, default_name, [v for v in (predictions, labels, weights) if v is not None]):
            labels, predictions, weights = _as_bools(labels, predictions, weights)
            hit = logical_and(equal(labels, label_value), equal(predictions, prediction_value))
            return _count_condition(hit, weights, metrics_collections, updates_collections)
    metric.__name__ = metric.__qualname__ = default_name
    metric.__doc__ = f"The weighted count of {default_name.replace('_', ' ')} so far: (count, update_op)."
    return metric


true_positives = _counter("true_positives", True, True)
false_positives = _counter("false_positives", False, True)
true_negatives = _counter("true_negatives", False, False)
false_negatives = _counter("false_negatives", True, False)


def _ratio(tp: Tensor, other: Tensor, name: str) -> Tensor:
    """tp / (tp + other), 0 when the sum is 0."""
    return where(greater(tp + other, 0), divide(tp, tp + other), 0, name=name)


def _precision_or_recall(default_name: str, other_count: Any, labels: Any, predictions: Any, weights: Any,
                         metrics_collections: Any, updates_collections: Any, name: str | None
                         ) -> tuple[Tensor, Tensor]:
    with variable_scope(name, default_name, [v for v in (predictions, labels, weights) if v is not None]):
        labels, predictions, weights = _as_bools(labels, predictions, weights)
        tp, tp_update = true_positives(labels, predictions, weights)
        other, other_update = other_count(labels, predictions, weights)
        value = _ratio(tp, other, "value")
        add_to(metrics_collections, value)
        update_op = _ratio(tp_update, other_update, "update_op")
        add_to(updates_collections, update_op)
        return value, update_op


def precision(labels: Any, predictions: Any, weights: Any = None, metrics_collections: Any = None,
              updates_collections: Any = None, name: str | None = None) -> tuple[Tensor, Tensor]:
    """true_positives / (true_positives + false_positives) over all batches so far."""
    return _precision_or_recall("precision", false_positives, labels, predictions, weights, metrics_collections,
                                updates_collections, name)


def recall(labels: Any, predictions: Any, weights: Any = None, metrics_collections: Any = None,
           updates_collections: Any = None, name: str | None = None) -> tuple[Tensor, Tensor]:
    """true_positives / (true_positives + false_negatives) over all batches so far."""
    return _precision_or_recall("recall", false_negatives, labels, predictions, weights, metrics_collections,
                                updates_collections, name)
