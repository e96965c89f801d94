"""``tf.nn``: activations, softmax, cross-entropies, l2_loss and bias_add, and (in submodules)
convolutions and pooling, dropout and normalisation, embeddings and sampled losses.

The ops live in gpugraph/ops/; this module adds TF1's cross-entropy wrappers (labels and
logits by keyword only, TF1's name scopes) and compositions such as xw_plus_b.
"""

from __future__ import annotations

from typing import Any

from gpugraph.framework.tensor import Tensor
from gpugraph.ops.array_ops import stop_gradient, zeros_like
from gpugraph.ops.constant_ops import convert_to_tensor
from gpugraph.ops.math_ops import add, exp, greater_equal, log1p, where
from gpugraph.ops.nn_ops import (
    SOFTMAX_XENT, SPARSE_SOFTMAX_XENT, axis_arg, bias_add, elu, l2_loss, leaky_relu, log_softmax, relu, relu6,
    sigmoid, softmax, softplus, tanh, tensor_like,
)
from gpugraph.ops.registry import graph_of

__all__ = [
    "bias_add", "elu", "l2_loss", "leaky_relu", "log_softmax", "relu", "relu6", "sigmoid",
    "sigmoid_cross_entropy_with_logits", "softmax", "softmax_cross_entropy_with_logits",
    "softmax_cross_entropy_with_logits_v2", "softplus", "sparse_softmax_cross_entropy_with_logits", "tanh",
    "xw_plus_b",
]


def _ensure_xent_args(fn: str, sentinel: Any, labels: Any, logits: Any) -> None:
    if sentinel is not None:
        raise ValueError(f"Only call `{fn}` with named arguments (labels=..., logits=..., ...)")
    if labels is None or logits is None:
        raise ValueError("Both labels and logits must be provided.")


def _float_pair(logits: Any, labels: Any, what: str) -> tuple[Tensor, Tensor]:
    """logits and labels as Tensors of one floating dtype (Python labels take the logits' dtype)."""
    logits = convert_to_tensor(logits, name="logits")
    if not logits.dtype.base_dtype.is_floating:
        raise TypeError(f"{what}: logits must be a floating point tensor, got {logits.dtype.name} ({logits.name})")
    labels = convert_to_tensor(labels, dtype=None if tensor_like(labels) else logits.dtype, name="labels")
    if labels.dtype.base_dtype != logits.dtype.base_dtype:
        raise TypeError(f"{what}: labels ({labels.name}) has dtype {labels.dtype.name} that does not match "
                        f"dtype {logits.dtype.name} of logits ({logits.name})")
    return logits, labels


def sparse_softmax_cross_entropy_with_logits(_sentinel: Any = None, labels: Any = None, logits: Any = None,
                                             name: str | None = None) -> Tensor:
    """Per-example -log softmax(logits)[label]; labels are int32/int64 class ids of rank rank(logits) - 1."""
    _ensure_xent_args("sparse_softmax_cross_entropy_with_logits", _sentinel, labels, logits)
    graph = graph_of([labels, logits])
    with graph.as_default(), graph.name_scope(name or "SparseSoftmaxCrossEntropyWithLogits"):
        loss, _ = SPARSE_SOFTMAX_XENT(logits, labels, name=name or "SparseSoftmaxCrossEntropyWithLogits")
    return loss


def softmax_cross_entropy_with_logits_v2(_sentinel: Any = None, labels: Any = None, logits: Any = None,
                                         dim: int = -1, name: str | None = None, axis: Any = None) -> Tensor:
    """Per-example -sum(labels * log_softmax(logits)); differentiable in both logits and labels."""
    _ensure_xent_args("softmax_cross_entropy_with_logits_v2", _sentinel, labels, logits)
    graph = graph_of([labels, logits])
    with graph.as_default(), graph.name_scope(name or "softmax_cross_entropy_with_logits") as scope:
        logits, labels = _float_pair(logits, labels, scope[:-1])
        loss, _ = SOFTMAX_XENT(logits, labels, name=scope, axis=axis_arg(dim if axis is None else axis, None))
    return loss


def softmax_cross_entropy_with_logits(_sentinel: Any = None, labels: Any = None, logits: Any = None,
                                      dim: int = -1, name: str | None = None, axis: Any = None) -> Tensor:
    """TF1's deprecated form: like _v2, but no gradient flows into labels."""
    _ensure_xent_args("softmax_cross_entropy_with_logits", _sentinel, labels, logits)
    graph = graph_of([labels, logits])
    with graph.as_default(), graph.name_scope(name or "softmax_cross_entropy_with_logits_sg") as scope:
        logits, labels = _float_pair(logits, labels, scope[:-1])
        labels = stop_gradient(labels, name="labels_stop_gradient")
        return softmax_cross_entropy_with_logits_v2(labels=labels, logits=logits, dim=dim, name=scope, axis=axis)


def sigmoid_cross_entropy_with_logits(_sentinel: Any = None, labels: Any = None, logits: Any = None,
                                      name: str | None = None) -> Tensor:
    """max(x, 0) - x * z + log(1 + exp(-|x|)), TF1's overflow-free logistic loss."""
    _ensure_xent_args("sigmoid_cross_entropy_with_logits", _sentinel, labels, logits)
    graph = graph_of([labels, logits])
    with graph.as_default(), graph.name_scope(name or "logistic_loss") as scope:
        logits, labels = _float_pair(logits, labels, scope[:-1])
        if not logits.shape.is_compatible_with(labels.shape):
            raise ValueError(f"{scope[:-1]}: logits and labels must have the same shape "
                             f"({logits.shape} vs {labels.shape})")
        zeros = zeros_like(logits)
        cond = greater_equal(logits, zeros)
        relu_logits = where(cond, logits, zeros)
        neg_abs_logits = where(cond, -logits, logits)
        return add(relu_logits - logits * labels, log1p(exp(neg_abs_logits)), name=scope)


def xw_plus_b(x: Any, weights: Any, biases: Any, name: str | None = None) -> Tensor:
    """matmul(x, weights) + biases."""
    from gpugraph.ops.linalg_ops import matmul

    graph = graph_of([x, weights, biases])
    with graph.as_default(), graph.name_scope(name or "xw_plus_b") as scope:
        return bias_add(matmul(x, weights), biases, name=scope)


# The rest of tf.nn, one family per submodule (each defines __all__).
from gpugraph.nn.conv import *  # noqa: E402,F401,F403
from gpugraph.nn.conv import __all__ as _conv_all  # noqa: E402
from gpugraph.nn.regularize import *  # noqa: E402,F401,F403
from gpugraph.nn.regularize import __all__ as _regularize_all  # noqa: E402
from gpugraph.nn.embedding import *  # noqa: E402,F401,F403
from gpugraph.nn.embedding import __all__ as _embedding_all  # noqa: E402
from gpugraph.nn.normalization import *  # noqa: E402,F401,F403
from gpugraph.nn.normalization import __all__ as _normalization_all  # noqa: E402

from gpugraph.nn.rnn import *  # noqa: E402,F401,F403
from gpugraph.nn.rnn import __all__ as _rnn_all  # noqa: E402
from gpugraph.nn import rnn_cell  # noqa: E402,F401 - tf.nn.rnn_cell, a namespace of cell classes

from gpugraph.nn.activations_extra import *  # noqa: E402,F401,F403
from gpugraph.nn.activations_extra import __all__ as _activations_extra_all  # noqa: E402
from gpugraph.nn.statistics import *  # noqa: E402,F401,F403
from gpugraph.nn.statistics import __all__ as _statistics_all  # noqa: E402
from gpugraph.nn.conv_extra import *  # noqa: E402,F401,F403
from gpugraph.nn.conv_extra import __all__ as _conv_extra_all  # noqa: E402
from gpugraph.nn.conv3d import *  # noqa: E402,F401,F403
from gpugraph.nn.conv3d import __all__ as _conv3d_all  # noqa: E402
from gpugraph.nn.space import *  # noqa: E402,F401,F403
from gpugraph.nn.space import __all__ as _space_all  # noqa: E402

__all__ += _conv_all + _regularize_all + _embedding_all + _normalization_all + _rnn_all
__all__ += _activations_extra_all + _statistics_all + _conv_extra_all + _conv3d_all + _space_all
