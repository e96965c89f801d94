"""Top-k retrieval metrics: precision/recall at k (and at given top-k indices), average precision at k.

Labels are dense int64 class ids, [batch] or [batch, num_labels]; each row is a set, as TF1's set ops
read a dense tensor (duplicates count once, every value is an element, -1 included). The per-row set
sizes are built from [.., n, m] equality tables, so no op outside the registry is needed.
Counts are float64 local variables named as TF1 names them ("precision_at_2/true_positive_at_2")."""

from __future__ import annotations

import contextlib
from typing import Any, Iterator

import numpy as np

from gpugraph.framework import dtypes
from gpugraph.framework.graph import get_default_graph
from gpugraph.framework.tensor import Tensor
from gpugraph.losses.util import broadcast_weights
from gpugraph.metrics.metric_util import add_to, metric_variable
from gpugraph.nn.regularize import top_k
from gpugraph.ops.array_ops import expand_dims, ones_like, shape, size
from gpugraph.ops.constant_ops import constant, convert_to_tensor
from gpugraph.ops.math_ops import add, cast, divide, equal, greater_equal, minimum, multiply, where
from gpugraph.ops.metric_ops import div_no_nan
from gpugraph.ops.reduction_ops import reduce_max, reduce_sum
from gpugraph.ops.state_ops import assign_add
from gpugraph.ops.registry import graph_of

__all__ = ["average_precision_at_k", "precision_at_k", "precision_at_top_k", "recall_at_k", "recall_at_top_k",
           "sparse_average_precision_at_k", "sparse_precision_at_k"]


def _values_of(*values: Any) -> list[Any]:
    return [v for v in values if v is not None]


@contextlib.contextmanager
def name_scope(name: str | None, default_name: str, values: list[Any]) -> Iterator[str]:
    """TF1's ``ops.name_scope(name, default_name, values)``: in the graph of ``values``."""
    graph = graph_of(values) if values else get_default_graph()
    with graph.as_default(), graph.name_scope(name if name is not None else default_name) as scope:
        yield scope


def _at_k_name(name: str, k: int | None = None, class_id: int | None = None) -> str:
    name = f"{name}_at_{k}" if k is not None else f"{name}_at_k"
    return name if class_id is None else f"{name}_class{class_id}"


def _dense_labels(labels: Any) -> Tensor:
    if hasattr(labels, "indices") and hasattr(labels, "dense_shape"):
        raise TypeError("SparseTensor labels are not supported by gpugraph's tf.metrics; pass dense int64 "
                        "class ids of shape [batch] or [batch, num_labels]")
    return cast(convert_to_tensor(labels), dtypes.int64)


def _maybe_expand_labels(labels: Tensor, predictions: Tensor) -> Tensor:
    """Labels [D1..DN] become [D1..DN, 1] when predictions have one dimension more (TF1's rule, static ranks)."""
    l_rank, p_rank = labels.shape.ndims, predictions.shape.ndims
    if l_rank is None or p_rank is None:
        raise ValueError(f"The ranks of labels ({labels.name}) and predictions ({predictions.name}) must be known "
                         "when the graph is built")
    if p_rank == l_rank:
        return labels
    if p_rank == l_rank + 1:
        with name_scope(None, "expand_labels", [labels, predictions]) as scope:
            return expand_dims(labels, -1, name=scope)
    raise ValueError(f"Unexpected labels shape {labels.shape} for predictions shape {predictions.shape}. "
                     "Predictions rank should be the same rank as labels rank or labels rank plus one .")


def _last_dim(t: Tensor, what: str) -> int:
    dims = t.shape.as_tuple()
    if dims is None or not dims or dims[-1] is None:
        raise ValueError(f"The last dimension of {what} ({t.name}) must be known when the graph is built, "
                         f"got shape {t.shape}")
    return int(dims[-1])


def _is_member(a: Tensor, b: Tensor) -> Tensor:
    """float64 [..., n]: 1 where a[..., i] occurs in the row b[..., :]."""
    return reduce_max(cast(equal(expand_dims(a, -1), expand_dims(b, -2)), dtypes.float64), -1)


def _first_occurrence(ids: Tensor, n: int) -> Tensor:
    """float64 [..., n]: 1 where ids[..., i] does not occur earlier in its row (the row read as a set)."""
    earlier = constant(np.tril(np.ones((n, n)), -1))  # [i, j] = 1 when j < i
    repeated = reduce_max(cast(equal(expand_dims(ids, -1), expand_dims(ids, -2)), dtypes.float64) * earlier, -1)
    return 1.0 - repeated


def _row_counts(kind: str, labels: Tensor, predictions_idx: Tensor, class_id: int | None) -> Tensor:
    """Per row: |P & L| (tp), |P - L| (fp) or |L - P| (fn), restricted to {class_id} when it is given."""
    if class_id is not None:
        in_p = reduce_max(cast(equal(predictions_idx, class_id), dtypes.float64), -1)
        in_l = reduce_max(cast(equal(labels, class_id), dtypes.float64), -1)
        return {"tp": in_p * in_l, "fp": in_p * (1.0 - in_l), "fn": in_l * (1.0 - in_p)}[kind]
    if kind == "fn":
        first = _first_occurrence(labels, _last_dim(labels, "labels"))
        return reduce_sum(first * (1.0 - _is_member(labels, predictions_idx)), -1)
    first = _first_occurrence(predictions_idx, _last_dim(predictions_idx, "predictions_idx"))
    hit = _is_member(predictions_idx, labels)
    return reduce_sum(first * (hit if kind == "tp" else 1.0 - hit), -1)


def _weighted(counts: Tensor, weights: Any) -> Tensor:
    if weights is None:
        return counts
    weights = cast(convert_to_tensor(weights), dtypes.float64)
    w_rank, c_rank = weights.shape.ndims, counts.shape.ndims
    if w_rank is not None and c_rank is not None and w_rank not in (0, c_rank):
        raise ValueError(f"weights ({weights.name}) can not be broadcast to values: weights must be a scalar or "
                         f"of rank {c_rank} (the labels' batch dimensions), got shape {weights.shape}")
    return multiply(counts, weights)


_KIND_NAMES = {"tp": "true_positive", "fp": "false_positive", "fn": "false_negative"}


def _streaming_count(kind: str, labels: Tensor, predictions_idx: Tensor, k: int | None, class_id: int | None,
                     weights: Any) -> tuple[Any, Tensor]:
    with name_scope(None, _at_k_name(_KIND_NAMES[kind], k, class_id), _values_of(predictions_idx, labels)) as scope:
        counts = _weighted(_row_counts(kind, labels, predictions_idx, class_id), weights)
        var = metric_variable([], dtypes.float64, name=scope)
        return var, assign_add(var, reduce_sum(counts), name="update")


def _ratio_at_top_k(metric: str, other: str, labels: Any, predictions_idx: Any, k: int | None,
                    class_id: int | None, weights: Any, metrics_collections: Any, updates_collections: Any,
                    name: str | None) -> tuple[Tensor, Tensor]:
    with name_scope(name, _at_k_name(metric, k, class_id), _values_of(predictions_idx, labels, weights)) as scope:
        top_k_idx = cast(convert_to_tensor(predictions_idx), dtypes.int64)
        labels = _maybe_expand_labels(_dense_labels(labels), top_k_idx)
        tp, tp_update = _streaming_count("tp", labels, top_k_idx, k, class_id, weights)
        rest, rest_update = _streaming_count(other, labels, top_k_idx, k, class_id, weights)
        value = divide(tp, add(tp, rest), name=scope)  # 0/0 is NaN, as in TF1
        add_to(metrics_collections, value)
        update = divide(tp_update, add(tp_update, rest_update), name="update")
        add_to(updates_collections, update)
        return value, update


def precision_at_top_k(labels: Any, predictions_idx: Any, k: int | None = None, class_id: int | None = None,
                       weights: Any = None, metrics_collections: Any = None, updates_collections: Any = None,
                       name: str | None = None) -> tuple[Tensor, Tensor]:
    """Precision of the given top-k class indices [batch, k] against the label sets (float64)."""
    return _ratio_at_top_k("precision", "fp", labels, predictions_idx, k, class_id, weights, metrics_collections,
                           updates_collections, name)


def recall_at_top_k(labels: Any, predictions_idx: Any, k: int | None = None, class_id: int | None = None,
                    weights: Any = None, metrics_collections: Any = None, updates_collections: Any = None,
                    name: str | None = None) -> tuple[Tensor, Tensor]:
    """Recall of the given top-k class indices [batch, k] against the label sets (float64)."""
    return _ratio_at_top_k("recall", "fn", labels, predictions_idx, k, class_id, weights, metrics_collections,
                           updates_collections, name)


def precision_at_k(labels: Any, predictions: Any, k: int, class_id: int | None = None, weights: Any = None,
                   metrics_collections: Any = None, updates_collections: Any = None,
                   name: str | None = None) -> tuple[Tensor, Tensor]:
    """Precision of the k highest-scoring classes of ``predictions`` [batch, num_classes]."""
    with name_scope(name, _at_k_name("precision", k, class_id), _values_of(predictions, labels, weights)) as scope:
        _, top_k_idx = top_k(predictions, k)
        return precision_at_top_k(labels, top_k_idx, k, class_id, weights, metrics_collections,
                                  updates_collections, name=scope)


def recall_at_k(labels: Any, predictions: Any, k: int, class_id: int | None = None, weights: Any = None,
                metrics_collections: Any = None, updates_collections: Any = None,
                name: str | None = None) -> tuple[Tensor, Tensor]:
    """Recall of the k highest-scoring classes of ``predictions`` [batch, num_classes]."""
    with name_scope(name, _at_k_name("recall", k, class_id), _values_of(predictions, labels, weights)) as scope:
        _, top_k_idx = top_k(predictions, k)
        return recall_at_top_k(labels, top_k_idx, k, class_id, weights, metrics_collections, updates_collections,
                               name=scope)


def sparse_precision_at_k(labels: Any, predictions: Any, k: int, class_id: int | None = None, weights: Any = None,
                          metrics_collections: Any = None, updates_collections: Any = None,
                          name: str | None = None) -> tuple[Tensor, Tensor]:
    """The old name of ``precision_at_k``."""
    return precision_at_k(labels, predictions, k, class_id, weights, metrics_collections, updates_collections, name)


def _average_precision(labels: Tensor, predictions_idx: Tensor) -> Tensor:
    """Per row: sum over ranks j of precision@j where rank j is relevant, over min(#labels >= 0, k)."""
    with name_scope(None, "average_precision", [predictions_idx, labels]) as scope:
        k = _last_dim(predictions_idx, "predictions_idx")
        labels = _maybe_expand_labels(labels, predictions_idx)
        relevant = _is_member(predictions_idx, labels)  # [..., k]
        up_to = constant(np.tril(np.ones((k, k))))  # [j, i] = 1 when i <= j: a cumulative sum
        tp_per_k = reduce_sum(expand_dims(relevant, -2) * up_to, -1)
        precision_per_k = tp_per_k / constant(np.arange(1, k + 1, dtype=np.float64))
        precision_sum = reduce_sum(precision_per_k * relevant, -1)
        num_labels = reduce_sum(cast(greater_equal(labels, 0), dtypes.float64), -1)
        return divide(precision_sum, minimum(num_labels, float(k)), name=scope)


def average_precision_at_k(labels: Any, predictions: Any, k: int, weights: Any = None,
                           metrics_collections: Any = None, updates_collections: Any = None,
                           name: str | None = None) -> tuple[Tensor, Tensor]:
    """Mean over rows of the average precision of the top ``k`` classes; labels >= num_classes are ignored."""
    if k < 1:
        raise ValueError(f"Invalid k={k}. `k` should be >= 1.")
    with name_scope(name, _at_k_name("average_precision", k), _values_of(predictions, labels, weights)) as scope:
        predictions = convert_to_tensor(predictions)
        _, top_k_idx = top_k(predictions, k)
        labels = _dense_labels(labels)
        num_classes = cast(shape(predictions)[-1], dtypes.int64)
        labels = where(greater_equal(labels, num_classes), ones_like(labels) * -1, labels)
        ap = _average_precision(labels, cast(top_k_idx, dtypes.int64))
        if weights is not None:
            weights = broadcast_weights(cast(weights, dtypes.float64), ap)
            ap = multiply(ap, weights)
        # TF1's own reduce_max ("Max") takes the name "max" first: its variable is "max_1"
        with name_scope(None, "max_1", [ap]) as max_scope:
            max_var = metric_variable([], dtypes.float64, name=max_scope)
            batch_max = (cast(size(ap), dtypes.float64) if weights is None else reduce_sum(weights))
            max_update = assign_add(max_var, batch_max, name="update")
        with name_scope(None, "total", [ap]) as total_scope:
            total_var = metric_variable([], dtypes.float64, name=total_scope)
            total_update = assign_add(total_var, reduce_sum(ap), name="update")
        value = div_no_nan(total_var, max_var, name="mean")
        add_to(metrics_collections, value)
        update = div_no_nan(total_update, max_update, name=scope)
        add_to(updates_collections, update)
        return value, update


def sparse_average_precision_at_k(labels: Any, predictions: Any, k: int, weights: Any = None,
                                  metrics_collections: Any = None, updates_collections: Any = None,
                                  name: str | None = None) -> tuple[Tensor, Tensor]:
    """The old name of ``average_precision_at_k``."""
    return average_precision_at_k(labels, predictions, k, weights, metrics_collections, updates_collections, name)
