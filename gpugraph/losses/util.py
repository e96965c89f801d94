"""Loss reductions, weighting (compute_weighted_loss) and the loss collections, as TF1 has them."""

from __future__ import annotations

from typing import Any

from gpugraph.framework import dtypes
from gpugraph.framework.graph import GraphKeys, get_default_graph
from gpugraph.framework.tensor import Tensor
from gpugraph.ops.array_ops import ones_like, size, zeros_like
from gpugraph.ops.constant_ops import constant, convert_to_tensor
from gpugraph.ops.math_ops import add_n, cast, equal, multiply, where
from gpugraph.ops.metric_ops import div_no_nan
from gpugraph.ops.reduction_ops import reduce_sum
from gpugraph.ops.registry import graph_of

__all__ = [
    "Reduction", "add_loss", "compute_weighted_loss", "get_losses", "get_regularization_loss",
    "get_regularization_losses", "get_total_loss",
]

_NOT_BROADCASTABLE = "weights can not be broadcast to values."


class Reduction:
    """Types of loss reduction (TF1's ``tf.losses.Reduction``)."""

    NONE = "none"
    SUM = "weighted_sum"
    SUM_OVER_BATCH_SIZE = "weighted_sum_over_batch_size"
    MEAN = "weighted_mean"
    SUM_BY_NONZERO_WEIGHTS = "weighted_sum_by_nonzero_weights"
    SUM_OVER_NONZERO_WEIGHTS = SUM_BY_NONZERO_WEIGHTS

    @classmethod
    def all(cls) -> tuple[str, ...]:
        return (cls.NONE, cls.SUM, cls.MEAN, cls.SUM_OVER_BATCH_SIZE, cls.SUM_OVER_NONZERO_WEIGHTS,
                cls.SUM_BY_NONZERO_WEIGHTS)

    @classmethod
    def validate(cls, key: Any) -> None:
        if key not in cls.all():
            raise ValueError(f"Invalid Reduction Key {key}. Key should be one of {cls.all()}.")


def scope_name(scope: str | None, default: str) -> str:
    """TF1's ``name_scope(scope, default)``: a given scope is used as is, else ``default`` made unique."""
    return scope if scope else default


def assert_broadcastable(weights: Tensor, values: Tensor) -> None:
    """TF1's static check: weights are a scalar, or of the values' rank with each dim 1 or equal."""
    w_dims, v_dims = weights.shape.as_tuple(), values.shape.as_tuple()
    if w_dims is None or v_dims is None or len(w_dims) == 0:
        return  # unknown ranks: NumPy broadcasting decides when the step runs
    if len(w_dims) != len(v_dims):
        raise ValueError(f"{_NOT_BROADCASTABLE} values.rank={len(v_dims)}. weights.rank={len(w_dims)}. "
                         f"values.shape={values.shape}. weights.shape={weights.shape}. "
                         f"Received weights={weights.name}, values={values.name}")
    for i, (w, v) in enumerate(zip(w_dims, v_dims)):
        if w is not None and v is not None and w not in (1, v):
            raise ValueError(f"{_NOT_BROADCASTABLE} Mismatch at dim {i}. values.shape={values.shape}, "
                             f"weights.shape={weights.shape}. Received weights={weights.name}, values={values.name}")


def broadcast_weights(weights: Any, values: Tensor) -> Tensor:
    """``weights`` broadcast to the shape of ``values`` (the tensor itself when the shapes already agree)."""
    graph = graph_of([weights, values])
    with graph.as_default(), graph.name_scope("broadcast_weights") as scope:
        weights = convert_to_tensor(weights, dtype=values.dtype.base_dtype, name="weights")
        w_shape, v_shape = weights.shape, values.shape
        if w_shape.is_fully_defined() and v_shape.is_fully_defined() and w_shape.is_compatible_with(v_shape):
            return weights
        assert_broadcastable(weights, values)
        return multiply(weights, ones_like(values), name=scope)


def _num_elements(losses: Tensor) -> Tensor:
    graph = losses.graph
    with graph.name_scope("num_elements") as scope:
        return cast(size(losses, name=scope), losses.dtype.base_dtype)


def num_present(losses: Tensor, weights: Any, per_batch: bool = False) -> Tensor:
    """How many elements of ``losses`` have a non-zero weight (weights broadcast to the losses)."""
    if isinstance(weights, float) and weights != 0.0:
        return _num_elements(losses)
    graph = losses.graph
    with graph.name_scope("num_present") as scope:
        weights = cast(weights, dtypes.float32)
        present = where(equal(weights, 0.0), zeros_like(weights), ones_like(weights))
        present = broadcast_weights(present, losses)
        if per_batch:
            rank = present.shape.ndims
            if rank is None:
                raise ValueError(f"{scope[:-1]}: the rank of the losses ({losses.name}) must be known")
            return reduce_sum(present, axis=tuple(range(1, rank)) or None, keepdims=True, name=scope)
        return reduce_sum(present, name=scope)


def safe_mean(total: Tensor, count: Tensor) -> Tensor:
    """sum(total) / count, 0 when count is 0."""
    return div_no_nan(reduce_sum(total), count, name="value")


def compute_weighted_loss(losses: Any, weights: Any = 1.0, scope: str | None = None,
                          loss_collection: Any = GraphKeys.LOSSES,
                          reduction: str = Reduction.SUM_BY_NONZERO_WEIGHTS) -> Tensor:
    """``losses * weights``, reduced as ``reduction`` says, cast back to the losses' dtype and added to
    ``loss_collection``."""
    Reduction.validate(reduction)
    graph = graph_of([losses, weights])
    with graph.as_default(), graph.name_scope(scope_name(scope, "weighted_loss")):
        losses = convert_to_tensor(losses)
        input_dtype = losses.dtype.base_dtype
        losses = cast(losses, dtypes.float32)
        weights_f = cast(weights, dtypes.float32)
        assert_broadcastable(weights_f, losses)
        weighted_losses = multiply(losses, weights_f)
        if reduction == Reduction.NONE:
            loss = weighted_losses
        else:
            loss = reduce_sum(weighted_losses)
            if reduction == Reduction.MEAN:
                loss = safe_mean(loss, reduce_sum(ones_like(losses) * weights_f))
            elif reduction == Reduction.SUM_BY_NONZERO_WEIGHTS:
                # the Python-float test in num_present needs the weights as given
                loss = safe_mean(loss, num_present(losses, weights if isinstance(weights, float) else weights_f))
            elif reduction == Reduction.SUM_OVER_BATCH_SIZE:
                loss = safe_mean(loss, _num_elements(losses))
        loss = cast(loss, input_dtype)
        add_loss(loss, loss_collection)
        return loss


# --- the loss collections ---
def add_loss(loss: Any, loss_collection: Any = GraphKeys.LOSSES) -> None:
    """Add ``loss`` to ``loss_collection`` (nothing when the collection is None or empty)."""
    if loss_collection:
        get_default_graph().add_to_collection(loss_collection, loss)


def get_losses(scope: str | None = None, loss_collection: str = GraphKeys.LOSSES) -> list[Any]:
    return get_default_graph().get_collection(loss_collection, scope)


def get_regularization_losses(scope: str | None = None) -> list[Any]:
    return get_default_graph().get_collection(GraphKeys.REGULARIZATION_LOSSES, scope)


def get_regularization_loss(scope: str | None = None, name: str = "total_regularization_loss") -> Tensor:
    """The sum of the regularization losses (a constant 0.0 when there are none)."""
    losses = get_regularization_losses(scope)
    if losses:
        return add_n(losses, name=name)
    return constant(0.0)


def get_total_loss(add_regularization_losses: bool = True, name: str = "total_loss",
                   scope: str | None = None) -> Tensor:
    """The sum of the losses (and, by default, the regularization losses) in the collections."""
    losses = get_losses(scope=scope)
    if add_regularization_losses:
        losses = losses + get_regularization_losses(scope=scope)
    return add_n(losses, name=name)
