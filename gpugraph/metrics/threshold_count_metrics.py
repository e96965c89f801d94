"""Confusion counts at given thresholds, and sensitivity/specificity read off a threshold sweep.

Built on threshold_metrics' [num_thresholds] count variables (prediction > threshold is positive)."""

from __future__ import annotations

from typing import Any

import numpy as np

from gpugraph.framework import dtypes
from gpugraph.framework.tensor import Tensor
from gpugraph.metrics.metric_util import add_to
from gpugraph.metrics.threshold_metrics import _confusion_matrix_at_thresholds
from gpugraph.ops.array_ops import identity
from gpugraph.ops.constant_ops import constant
from gpugraph.ops.index_ops import argmax, argmin, gather
from gpugraph.ops.math_ops import cast, divide, equal
from gpugraph.ops.reduction_ops import reduce_min
from gpugraph.ops.unary_ops import abs
from gpugraph.variable_scope import variable_scope

__all__ = ["false_negatives_at_thresholds", "false_positives_at_thresholds", "sensitivity_at_specificity",
           "specificity_at_sensitivity", "true_negatives_at_thresholds", "true_positives_at_thresholds"]

_KEPSILON = 1e-7


def _values_of(*values: Any) -> list[Any]:
    return [v for v in values if v is not None]


def _count_at_thresholds(default_name: str, key: str) -> Any:
    def metric(labels: Any, predictions: Any, thresholds: Any, weights: Any = None, metrics_collections: Any = None,
               updates_collections: Any = None, name: str | None = None) -> tuple[Tensor, Tensor]:
        with variable_scope(name, default_name, _values_of(predictions, labels, weights)):
            values, update_ops = _confusion_matrix_at_thresholds(labels, predictions, list(thresholds), weights,
                                                                 includes=(key,))
            value = identity(values[key])
            add_to(metrics_collections, value)
            add_to(updates_collections, update_ops[key])
            return value, update_ops[key]
    metric.__name__ = metric.__qualname__ = f"{default_name}_at_thresholds"
    metric.__doc__ = (f"The weighted count of {default_name.replace('_', ' ')} at each threshold: "
                      "([num_thresholds] counts, update_op).")
    return metric


true_positives_at_thresholds = _count_at_thresholds("true_positives", "tp")
false_positives_at_thresholds = _count_at_thresholds("false_positives", "fp")
true_negatives_at_thresholds = _count_at_thresholds("true_negatives", "tn")
false_negatives_at_thresholds = _count_at_thresholds("false_negatives", "fn")


def _sweep(num_thresholds: int, last: float) -> list[float]:
    inner = [(i + 1) * 1.0 / (num_thresholds - 1) for i in range(num_thresholds - 2)]
    return [0.0 - _KEPSILON] + inner + [last]


def sensitivity_at_specificity(labels: Any, predictions: Any, specificity: float, weights: Any = None,
                               num_thresholds: int = 200, metrics_collections: Any = None,
                               updates_collections: Any = None, name: str | None = None) -> tuple[Tensor, Tensor]:
    """The sensitivity at the threshold whose specificity is nearest ``specificity`` (the first such)."""
    if specificity < 0 or specificity > 1:
        raise ValueError(f"`specificity` must be in the range [0, 1]. Currently, `specificity` got {specificity}.")
    with variable_scope(name, "sensitivity_at_specificity", _values_of(predictions, labels, weights)):
        values, update_ops = _confusion_matrix_at_thresholds(
            labels, predictions, _sweep(num_thresholds, 1.0 + _KEPSILON), weights)

        def compute(c: dict[str, Any], out_name: str) -> Tensor:
            specificities = divide(c["tn"], c["tn"] + c["fp"] + _KEPSILON)
            index = cast(argmin(abs(specificities - specificity), 0), dtypes.int32)
            tp, fn = gather(c["tp"], index), gather(c["fn"], index)
            return divide(tp, tp + fn + _KEPSILON, name=out_name)

        value = compute(values, "value")
        add_to(metrics_collections, value)
        update_op = compute(update_ops, "update_op")
        add_to(updates_collections, update_op)
        return value, update_op


def specificity_at_sensitivity(labels: Any, predictions: Any, sensitivity: float, weights: Any = None,
                               num_thresholds: int = 200, metrics_collections: Any = None,
                               updates_collections: Any = None, name: str | None = None) -> tuple[Tensor, Tensor]:
    """The specificity at the threshold whose sensitivity is nearest ``sensitivity`` (the last such)."""
    if sensitivity < 0 or sensitivity > 1:
        raise ValueError(f"`sensitivity` must be in the range [0, 1]. Currently, `sensitivity` is {sensitivity}.")
    with variable_scope(name, "specificity_at_sensitivity", _values_of(predictions, labels, weights)):
        values, update_ops = _confusion_matrix_at_thresholds(
            labels, predictions, _sweep(num_thresholds, 1.0 - _KEPSILON), weights)
        positions = constant(np.arange(num_thresholds, dtype=np.int64))

        def compute(c: dict[str, Any], out_name: str) -> Tensor:
            distance = abs(divide(c["tp"], c["tp"] + c["fn"] + _KEPSILON) - sensitivity)
            at_min = cast(equal(distance, reduce_min(distance)), dtypes.int64)
            # TF1 takes argmax of the running count of minima: the last threshold at the minimum
            index = cast(argmax(at_min * positions, 0), dtypes.int32)
            tn, fp = gather(c["tn"], index), gather(c["fp"], index)
            return divide(tn, tn + fp + _KEPSILON, name=out_name)

        value = compute(values, "value")
        add_to(metrics_collections, value)
        update_op = compute(update_ops, "update_op")
        add_to(updates_collections, update_op)
        return value, update_op
