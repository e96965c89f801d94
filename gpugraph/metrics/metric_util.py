"""What every streaming metric shares: its local accumulator variables and TF1's input squeezing."""

from __future__ import annotations

from typing import Any

from gpugraph.framework import dtypes
from gpugraph.framework.graph import GraphKeys, get_default_graph
from gpugraph.framework.tensor import Tensor
from gpugraph.ops.array_ops import expand_dims, squeeze, zeros
from gpugraph.ops.constant_ops import convert_to_tensor
from gpugraph.variables import Variable

METRIC_COLLECTIONS = (GraphKeys.LOCAL_VARIABLES, GraphKeys.METRIC_VARIABLES)


def metric_variable(shape: Any, dtype: dtypes.DType, name: str) -> Variable:
    """A zero-initialized, non-trainable accumulator in LOCAL_VARIABLES and METRIC_VARIABLES, so
    ``tf.local_variables_initializer()`` resets it."""
    return Variable(lambda: zeros(shape, dtype), trainable=False, collections=list(METRIC_COLLECTIONS), name=name)


def add_to(collections: Any, value: Any) -> None:
    if collections:
        get_default_graph().add_to_collections(collections, value)


def _last_is_one(dims: tuple[Any, ...]) -> bool:
    return bool(dims) and dims[-1] in (None, 1)


def remove_squeezable_dimensions(predictions: Any, labels: Any, weights: Any
                                 ) -> tuple[Tensor, Tensor | None, Tensor | None]:
    """TF1's shape matching by static rank: drop a trailing size-1 dim of labels or predictions when
    their ranks differ by one, then squeeze or expand weights to the rank of the predictions."""
    predictions = convert_to_tensor(predictions)
    if labels is not None:
        labels = convert_to_tensor(labels)
        p_dims, l_dims = predictions.shape.as_tuple(), labels.shape.as_tuple()
        if p_dims is not None and l_dims is not None:
            if len(p_dims) - len(l_dims) == 1 and _last_is_one(p_dims):
                predictions = squeeze(predictions, [-1])
            elif len(l_dims) - len(p_dims) == 1 and _last_is_one(l_dims):
                labels = squeeze(labels, [-1])
        if not predictions.shape.is_compatible_with(labels.shape):
            raise ValueError(f"Shapes {predictions.shape} and {labels.shape} are incompatible "
                             f"(predictions {predictions.name}, labels {labels.name})")
    if weights is None:
        return predictions, labels, None
    weights = convert_to_tensor(weights)
    w_rank, p_rank = weights.shape.ndims, predictions.shape.ndims
    if w_rank is None or p_rank is None or w_rank == 0:
        return predictions, labels, weights
    if w_rank - p_rank == 1:
        weights = squeeze(weights, [-1])
    elif p_rank - w_rank == 1:
        weights = expand_dims(weights, -1)
    return predictions, labels, weights
