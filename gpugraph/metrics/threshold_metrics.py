"""Metrics over a list of thresholds (auc, precision/recall_at_thresholds) and mean_iou.

A prediction p counts as positive at threshold t when p > t; the counts per threshold are local
variables of shape [num_thresholds], updated from a [num_thresholds, batch] comparison."""

from __future__ import annotations

from typing import Any

import numpy as np

from gpugraph.framework import dtypes
from gpugraph.framework.tensor import Tensor
from gpugraph.losses.util import broadcast_weights
from gpugraph.metrics.metric_util import add_to, metric_variable, remove_squeezable_dimensions
from gpugraph.ops.array_ops import ones_like, reshape
from gpugraph.ops.constant_ops import constant
from gpugraph.ops.index_ops import one_hot
from gpugraph.ops.linalg_ops import matmul
from gpugraph.ops.math_ops import (
    cast, divide, greater, log, logical_and, logical_not, maximum, minimum, multiply, not_equal, where,
)
from gpugraph.ops.metric_ops import div_no_nan
from gpugraph.ops.reduction_ops import reduce_sum
from gpugraph.ops.state_ops import assign_add
from gpugraph.variable_scope import variable_scope

__all__ = ["auc", "mean_iou", "precision_at_thresholds", "recall_at_thresholds"]

_COUNT_NAMES = {"tp": "true_positives", "fn": "false_negatives", "tn": "true_negatives", "fp": "false_positives"}


def _values_of(*values: Any) -> list[Any]:
    return [v for v in values if v is not None]


def _confusion_matrix_at_thresholds(labels: Any, predictions: Any, thresholds: list[float], weights: Any,
                                    includes: tuple[str, ...] = ("tp", "fn", "tn", "fp")
                                    ) -> tuple[dict[str, Any], dict[str, Tensor]]:
    predictions, labels, weights = remove_squeezable_dimensions(
        cast(predictions, dtypes.float32), cast(labels, dtypes.bool_), weights)
    thresh = constant(np.asarray(thresholds, np.float32).reshape(-1, 1))  # [T, 1] against [1, N]
    pred_is_pos = greater(reshape(predictions, [1, -1]), thresh)
    label_is_pos = reshape(labels, [1, -1])
    weights_row = None
    if weights is not None:
        weights = broadcast_weights(cast(weights, dtypes.float32), predictions)
        weights_row = reshape(weights, [1, -1])
    conditions = {
        "tp": lambda: logical_and(label_is_pos, pred_is_pos),
        "fn": lambda: logical_and(label_is_pos, logical_not(pred_is_pos)),
        "tn": lambda: logical_and(logical_not(label_is_pos), logical_not(pred_is_pos)),
        "fp": lambda: logical_and(logical_not(label_is_pos), pred_is_pos),
    }
    values: dict[str, Any] = {}
    update_ops: dict[str, Tensor] = {}
    for key in ("tp", "fn", "tn", "fp"):
        if key not in includes:
            continue
        var = metric_variable([len(thresholds)], dtypes.float32, name=_COUNT_NAMES[key])
        hits = cast(conditions[key](), dtypes.float32)
        if weights_row is not None:
            hits = hits * weights_row
        update_ops[key] = assign_add(var, reduce_sum(hits, 1))
        values[key] = var
    return values, update_ops


def _interpolate_pr_auc(tp: Tensor, fp: Tensor, fn: Tensor, n: int) -> Tensor:
    """Davis & Goadrich's PR-AUC: precision interpolated along the true positives between thresholds."""
    dtp = tp[:n - 1] - tp[1:]
    p = tp + fp
    prec_slope = div_no_nan(dtp, maximum(p[:n - 1] - p[1:], 0), name="prec_slope")
    intercept = tp[1:] - multiply(prec_slope, p[1:])
    safe_p_ratio = where(logical_and(p[:n - 1] > 0, p[1:] > 0),
                         div_no_nan(p[:n - 1], maximum(p[1:], 0), name="recall_relative_ratio"), ones_like(p[1:]))
    return reduce_sum(div_no_nan(prec_slope * (dtp + intercept * log(safe_p_ratio)), maximum(tp[1:] + fn[1:], 0),
                                 name="pr_auc_increment"), name="interpolate_pr_auc")


def _compute_auc(tp: Tensor, fn: Tensor, tn: Tensor, fp: Tensor, n: int, curve: str, summation_method: str,
                 name: str) -> Tensor:
    if curve == "PR" and summation_method == "careful_interpolation":
        return _interpolate_pr_auc(tp, fp, fn, n)
    epsilon = 1.0e-6
    rec = divide(tp + epsilon, tp + fn + epsilon)
    if curve == "ROC":
        x, y = divide(fp, fp + tn + epsilon), rec
    else:
        x, y = rec, divide(tp + epsilon, tp + fp + epsilon)
    if summation_method == "minoring":
        heights = minimum(y[:n - 1], y[1:])
    elif summation_method == "majoring":
        heights = maximum(y[:n - 1], y[1:])
    else:  # trapezoidal (and careful_interpolation on ROC curves)
        heights = (y[:n - 1] + y[1:]) / 2.0
    return reduce_sum(multiply(x[:n - 1] - x[1:], heights), name=name)


def auc(labels: Any, predictions: Any, weights: Any = None, num_thresholds: int = 200,
        metrics_collections: Any = None, updates_collections: Any = None, curve: str = "ROC",
        name: str | None = None, summation_method: str = "trapezoidal",
        thresholds: Any = None) -> tuple[Tensor, Tensor]:
    """Area under the ROC or PR curve, from confusion counts at ``num_thresholds`` thresholds in [0, 1]."""
    with variable_scope(name, "auc", _values_of(labels, predictions, weights)):
        if curve not in ("ROC", "PR"):
            raise ValueError(f"Curve must be either ROC or PR. Curve {curve} is unknown.")
        if summation_method not in ("trapezoidal", "careful_interpolation", "minoring", "majoring"):
            raise ValueError(f"Invalid summation_method: {summation_method} summation_method should be "
                             "'trapezoidal', 'careful_interpolation', 'minoring', or 'majoring'.")
        kepsilon = 1e-7  # the end thresholds lie just outside [0, 1]
        if thresholds is not None:
            inner = sorted(thresholds)
            num_thresholds = len(inner) + 2
        else:
            inner = [(i + 1) * 1.0 / (num_thresholds - 1) for i in range(num_thresholds - 2)]
        values, update_ops = _confusion_matrix_at_thresholds(labels, predictions, [-kepsilon] + inner +
                                                             [1.0 + kepsilon], weights)
        value = _compute_auc(values["tp"], values["fn"], values["tn"], values["fp"], num_thresholds, curve,
                             summation_method, "value")
        add_to(metrics_collections, value)
        update_op = _compute_auc(update_ops["tp"], update_ops["fn"], update_ops["tn"], update_ops["fp"],
                                 num_thresholds, curve, summation_method, "update_op")
        add_to(updates_collections, update_op)
        return value, update_op


def _at_thresholds(default_name: str, other: str, labels: Any, predictions: Any, thresholds: Any, weights: Any,
                   metrics_collections: Any, updates_collections: Any, name: str | None) -> tuple[Tensor, Tensor]:
    with variable_scope(name, f"{default_name}_at_thresholds", _values_of(predictions, labels, weights)):
        values, update_ops = _confusion_matrix_at_thresholds(labels, predictions, list(thresholds), weights,
                                                             includes=("tp", other))
        epsilon = 1e-7

        def ratio(tp: Tensor, o: Tensor, suffix: str) -> Tensor:
            return divide(tp, epsilon + tp + o, name=f"{default_name}_{suffix}")
        value = ratio(values["tp"], values[other], "value")
        add_to(metrics_collections, value)
        update_op = ratio(update_ops["tp"], update_ops[other], "update_op")
        add_to(updates_collections, update_op)
        return value, update_op


def precision_at_thresholds(labels: Any, predictions: Any, thresholds: Any, weights: Any = None,
                            metrics_collections: Any = None, updates_collections: Any = None,
                            name: str | None = None) -> tuple[Tensor, Tensor]:
    """Precision at each threshold (prediction > threshold counts as positive)."""
    return _at_thresholds("precision", "fp", labels, predictions, thresholds, weights, metrics_collections,
                          updates_collections, name)


def recall_at_thresholds(labels: Any, predictions: Any, thresholds: Any, weights: Any = None,
                         metrics_collections: Any = None, updates_collections: Any = None,
                         name: str | None = None) -> tuple[Tensor, Tensor]:
    """Recall at each threshold (prediction > threshold counts as positive)."""
    return _at_thresholds("recall", "fn", labels, predictions, thresholds, weights, metrics_collections,
                          updates_collections, name)


def mean_iou(labels: Any, predictions: Any, num_classes: int, weights: Any = None, metrics_collections: Any = None,
             updates_collections: Any = None, name: str | None = None) -> tuple[Tensor, Tensor]:
    """Mean over classes of intersection / union, from a streaming [num_classes, num_classes] confusion matrix
    (rows: labels, columns: predictions). The update op returns the updated matrix, as TF1's does."""
    with variable_scope(name, "mean_iou", _values_of(predictions, labels, weights)):
        predictions, labels, weights = remove_squeezable_dimensions(predictions, labels, weights)
        total_cm = metric_variable([num_classes, num_classes], dtypes.float64, name="total_confusion_matrix")
        label_rows = one_hot(reshape(cast(labels, dtypes.int64), [-1]), num_classes, dtype=dtypes.float64)
        pred_rows = one_hot(reshape(cast(predictions, dtypes.int64), [-1]), num_classes, dtype=dtypes.float64)
        if weights is not None:
            flat = reshape(broadcast_weights(cast(weights, dtypes.float64), cast(labels, dtypes.float64)), [-1, 1])
            label_rows = label_rows * flat
        update_op = assign_add(total_cm, matmul(label_rows, pred_rows, transpose_a=True))
        sum_over_row = cast(reduce_sum(total_cm, 0), dtypes.float32)
        sum_over_col = cast(reduce_sum(total_cm, 1), dtypes.float32)
        cm_diag = cast(reduce_sum(total_cm * np.eye(num_classes), 1), dtypes.float32)
        denominator = sum_over_row + sum_over_col - cm_diag
        num_valid_entries = reduce_sum(cast(not_equal(denominator, 0), dtypes.float32))
        denominator = where(greater(denominator, 0), denominator, ones_like(denominator))
        iou = divide(cm_diag, denominator)
        mean = div_no_nan(reduce_sum(iou, name="mean_iou"), num_valid_entries)
        value = where(greater(num_valid_entries, 0), mean, 0.0)
        add_to(metrics_collections, value)
        add_to(updates_collections, update_op)
        return value, update_op
