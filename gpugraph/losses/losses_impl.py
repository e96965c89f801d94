"""TF1's loss functions: each builds per-element losses in its own name scope, then weights and reduces
them with compute_weighted_loss (the result is ``<scope>/value:0`` for the default reduction)."""

from __future__ import annotations

from typing import Any

from gpugraph.framework import dtypes
from gpugraph.framework.graph import GraphKeys
from gpugraph.framework.tensor import Tensor
from gpugraph.nn import (
    relu, sigmoid_cross_entropy_with_logits, softmax_cross_entropy_with_logits_v2,
    sparse_softmax_cross_entropy_with_logits,
)
from gpugraph.ops.array_ops import ones_like, shape, squeeze, stop_gradient, zeros_like
from gpugraph.ops.constant_ops import convert_to_tensor
from gpugraph.ops.math_ops import abs, add, cast, log, maximum, minimum, multiply, squared_difference, subtract, where
from gpugraph.ops.metric_ops import div_no_nan
from gpugraph.ops.reduction_ops import reduce_sum
from gpugraph.ops.registry import graph_of
from gpugraph.ops.unary_ops import square
from gpugraph.losses.util import Reduction, add_loss, assert_broadcastable, compute_weighted_loss, num_present

__all__ = [
    "absolute_difference", "cosine_distance", "hinge_loss", "huber_loss", "log_loss", "mean_pairwise_squared_error",
    "mean_squared_error", "sigmoid_cross_entropy", "softmax_cross_entropy", "sparse_softmax_cross_entropy",
]

_LOSSES = GraphKeys.LOSSES
_DEFAULT = Reduction.SUM_BY_NONZERO_WEIGHTS


def _require(value: Any, arg: str) -> None:
    if value is None:
        raise ValueError(f"Argument `{arg}` must not be None.")


def _compatible(a: Tensor, b: Tensor, scope: str) -> None:
    if not a.shape.is_compatible_with(b.shape):
        raise ValueError(f"Shapes {a.shape} and {b.shape} are incompatible ({a.name} and {b.name} in "
                         f"'{scope[:-1]}')")


def _float_pair(predictions: Any, labels: Any, scope: str) -> tuple[Tensor, Tensor]:
    predictions = cast(predictions, dtypes.float32)
    labels = cast(labels, dtypes.float32)
    _compatible(predictions, labels, scope)
    return predictions, labels


def _elementwise_loss(default_name: str, labels: Any, predictions: Any, weights: Any, scope: str | None,
                      loss_collection: Any, reduction: str, build: Any, pred_arg: str = "predictions") -> Tensor:
    """The pattern shared by the regression losses: cast both to float32, check shapes, weight, reduce."""
    _require(labels, "labels")
    _require(predictions, pred_arg)
    graph = graph_of([predictions, labels, weights])
    with graph.as_default(), graph.name_scope(scope or default_name) as scope:
        predictions, labels = _float_pair(predictions, labels, scope)
        losses = build(predictions, labels)
        return compute_weighted_loss(losses, weights, scope, loss_collection, reduction=reduction)


def absolute_difference(labels: Any, predictions: Any, weights: Any = 1.0, scope: str | None = None,
                        loss_collection: Any = _LOSSES, reduction: str = _DEFAULT) -> Tensor:
    """Weighted |predictions - labels|."""
    return _elementwise_loss("absolute_difference", labels, predictions, weights, scope, loss_collection, reduction,
                             lambda p, t: abs(subtract(p, t)))


def mean_squared_error(labels: Any, predictions: Any, weights: Any = 1.0, scope: str | None = None,
                       loss_collection: Any = _LOSSES, reduction: str = _DEFAULT) -> Tensor:
    """Weighted (predictions - labels)**2."""
    return _elementwise_loss("mean_squared_error", labels, predictions, weights, scope, loss_collection, reduction,
                             squared_difference)


def huber_loss(labels: Any, predictions: Any, weights: Any = 1.0, delta: float = 1.0, scope: str | None = None,
               loss_collection: Any = _LOSSES, reduction: str = _DEFAULT) -> Tensor:
    """0.5 * x**2 for |x| <= delta, else 0.5 * delta**2 + delta * (|x| - delta), x = predictions - labels."""
    def build(p: Tensor, t: Tensor) -> Tensor:
        abs_error = abs(subtract(p, t))
        quadratic = minimum(abs_error, delta)
        linear = subtract(abs_error, quadratic)
        half = convert_to_tensor(0.5, dtype=quadratic.dtype)
        return add(multiply(half, multiply(quadratic, quadratic)), multiply(delta, linear))
    return _elementwise_loss("huber_loss", labels, predictions, weights, scope, loss_collection, reduction, build)


def log_loss(labels: Any, predictions: Any, weights: Any = 1.0, epsilon: float = 1e-7, scope: str | None = None,
             loss_collection: Any = _LOSSES, reduction: str = _DEFAULT) -> Tensor:
    """-labels * log(predictions + eps) - (1 - labels) * log(1 - predictions + eps)."""
    def build(p: Tensor, t: Tensor) -> Tensor:
        return -multiply(t, log(p + epsilon)) - multiply(1 - t, log(1 - p + epsilon))
    return _elementwise_loss("log_loss", labels, predictions, weights, scope, loss_collection, reduction, build)


def hinge_loss(labels: Any, logits: Any, weights: Any = 1.0, scope: str | None = None,
               loss_collection: Any = _LOSSES, reduction: str = _DEFAULT) -> Tensor:
    """relu(1 - (2 * labels - 1) * logits), labels in {0, 1}."""
    def build(z: Tensor, t: Tensor) -> Tensor:
        all_ones = ones_like(t)
        signs = subtract(2 * t, all_ones)
        return relu(subtract(all_ones, multiply(signs, z)))
    return _elementwise_loss("hinge_loss", labels, logits, weights, scope, loss_collection, reduction, build,
                             pred_arg="logits")


def cosine_distance(labels: Any, predictions: Any, axis: int | None = None, weights: Any = 1.0,
                    scope: str | None = None, loss_collection: Any = _LOSSES, reduction: str = _DEFAULT,
                    dim: int | None = None) -> Tensor:
    """1 - sum(predictions * labels, axis) (inputs assumed unit-normalized); ``dim`` is the old name of axis."""
    if dim is not None:
        if axis is not None:
            raise ValueError("Cannot specify both 'axis' and 'dim'")
        axis = dim
    if axis is None:
        raise ValueError("You must specify argument `axis`.")
    return _elementwise_loss("cosine_distance_loss", labels, predictions, weights, scope, loss_collection,
                             reduction, lambda p, t: 1 - reduce_sum(multiply(p, t), axis=(axis,), keepdims=True))


def _smooth(labels: Tensor, label_smoothing: float, num_classes: Tensor | float) -> Tensor:
    return labels * (1.0 - label_smoothing) + label_smoothing / num_classes


def softmax_cross_entropy(onehot_labels: Any, logits: Any, weights: Any = 1.0, label_smoothing: float = 0,
                          scope: str | None = None, loss_collection: Any = _LOSSES,
                          reduction: str = _DEFAULT) -> Tensor:
    """Weighted softmax cross-entropy over the last axis; labels smoothed towards 1/num_classes."""
    _require(onehot_labels, "onehot_labels")
    _require(logits, "logits")
    graph = graph_of([logits, onehot_labels, weights])
    with graph.as_default(), graph.name_scope(scope or "softmax_cross_entropy_loss") as scope:
        logits = convert_to_tensor(logits)
        onehot_labels = cast(onehot_labels, logits.dtype.base_dtype)
        _compatible(logits, onehot_labels, scope)
        if label_smoothing > 0:
            num_classes = cast(shape(onehot_labels)[-1], logits.dtype.base_dtype)
            onehot_labels = _smooth(onehot_labels, label_smoothing, num_classes)
        onehot_labels = stop_gradient(onehot_labels, name="labels_stop_gradient")
        losses = softmax_cross_entropy_with_logits_v2(labels=onehot_labels, logits=logits, name="xentropy")
        return compute_weighted_loss(losses, weights, scope, loss_collection, reduction=reduction)


def sigmoid_cross_entropy(multi_class_labels: Any, logits: Any, weights: Any = 1.0, label_smoothing: float = 0,
                          scope: str | None = None, loss_collection: Any = _LOSSES,
                          reduction: str = _DEFAULT) -> Tensor:
    """Weighted logistic loss per element; labels smoothed towards 1/2."""
    _require(multi_class_labels, "multi_class_labels")
    _require(logits, "logits")
    graph = graph_of([logits, multi_class_labels, weights])
    with graph.as_default(), graph.name_scope(scope or "sigmoid_cross_entropy_loss") as scope:
        logits = convert_to_tensor(logits)
        labels = cast(multi_class_labels, logits.dtype.base_dtype)
        _compatible(logits, labels, scope)
        if label_smoothing > 0:
            labels = labels * (1 - label_smoothing) + 0.5 * label_smoothing
        losses = sigmoid_cross_entropy_with_logits(labels=labels, logits=logits, name="xentropy")
        return compute_weighted_loss(losses, weights, scope, loss_collection, reduction=reduction)


def _squeeze_labels_and_weights(labels: Tensor, logits: Tensor, weights: Any) -> tuple[Tensor, Tensor, Any]:
    """TF1 drops a trailing size-1 dim of labels ([N, 1] -> [N]), then one of weights if it is one rank above."""
    l_dims, p_dims = labels.shape.as_tuple(), logits.shape.as_tuple()
    if l_dims is not None and p_dims is not None:
        rank_diff = len(p_dims) - len(l_dims)
        if rank_diff == 2 and p_dims[-1] in (None, 1):
            logits = squeeze(logits, [-1])
        elif rank_diff == 0 and l_dims and l_dims[-1] in (None, 1):
            labels = squeeze(labels, [-1])
    weights = convert_to_tensor(weights)
    l_rank, w_rank = labels.shape.ndims, weights.shape.ndims
    if l_rank is not None and w_rank is not None and w_rank - l_rank == 1:
        weights = squeeze(weights, [-1])
    return labels, logits, weights


def sparse_softmax_cross_entropy(labels: Any, logits: Any, weights: Any = 1.0, scope: str | None = None,
                                 loss_collection: Any = _LOSSES, reduction: str = _DEFAULT) -> Tensor:
    """Weighted -log softmax(logits)[label]; labels are class ids (int32/int64), one rank below logits."""
    _require(labels, "labels")
    _require(logits, "logits")
    graph = graph_of([logits, labels, weights])
    with graph.as_default(), graph.name_scope(scope or "sparse_softmax_cross_entropy_loss") as scope:
        labels, logits = convert_to_tensor(labels), convert_to_tensor(logits)
        labels, logits, weights = _squeeze_labels_and_weights(labels, logits, weights)
        losses = sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits, name="xentropy")
        return compute_weighted_loss(losses, weights, scope, loss_collection, reduction=reduction)


def mean_pairwise_squared_error(labels: Any, predictions: Any, weights: Any = 1.0, scope: str | None = None,
                                loss_collection: Any = _LOSSES) -> Tensor:
    """Weighted mean over each example of ((a_i - a_j) - (b_i - b_j))**2 across all its pairs of elements."""
    _require(labels, "labels")
    _require(predictions, "predictions")
    graph = graph_of([predictions, labels, weights])
    with graph.as_default(), graph.name_scope(scope or "mean_pairwise_squared_error") as scope:
        weights = cast(weights, dtypes.float32)
        labels = cast(labels, dtypes.float32)
        assert_broadcastable(weights, labels)
        predictions = cast(predictions, dtypes.float32)
        _compatible(predictions, labels, scope)
        diffs = subtract(predictions, labels)
        rank = diffs.shape.ndims
        if rank is None:
            raise ValueError(f"'{scope[:-1]}': the rank of predictions ({predictions.name}) must be known")
        axis = tuple(range(1, rank)) or None
        sum_squares_diff_per_batch = reduce_sum(square(diffs), axis=axis, keepdims=True)
        num_present_per_batch = num_present(diffs, weights, per_batch=True)
        term1 = 2.0 * div_no_nan(sum_squares_diff_per_batch, maximum(num_present_per_batch - 1, 0), name="value")
        sum_diff = reduce_sum(diffs, axis=axis, keepdims=True)
        term2 = 2.0 * div_no_nan(square(sum_diff),
                                 maximum(multiply(num_present_per_batch, num_present_per_batch - 1), 0), name="value")
        loss = reduce_sum(multiply(term1 - term2, weights))
        mean_loss = where(reduce_sum(num_present_per_batch) > 0, loss, zeros_like(loss), name="value")
        add_loss(mean_loss, loss_collection)
        return mean_loss
