"""tf.nn: embedding lookups, candidate samplers and the sampled losses (nce_loss, sampled_softmax_loss)."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from gpugraph.framework import dtypes
from gpugraph.framework.tensor import Tensor
from gpugraph.ops.array_ops import expand_dims, identity, ones_like, reshape, stop_gradient, zeros_like
from gpugraph.ops.candidate_sampling_ops import (
    compute_accidental_hits, learned_unigram_candidate_sampler, log_uniform_candidate_sampler,
    uniform_candidate_sampler,
)
from gpugraph.ops.clip_ops import clip_by_norm
from gpugraph.ops.constant_ops import convert_to_tensor
from gpugraph.ops.index_ops import GATHER
from gpugraph.ops.linalg_ops import matmul
from gpugraph.ops.manip_ops import concat
from gpugraph.ops.math_ops import (
    cast, equal, floordiv, less, logical_and, maximum, mod, not_equal, where,
)
from gpugraph.ops.reduction_ops import reduce_max, reduce_sum
from gpugraph.ops.registry import graph_of
from gpugraph.ops.unary_ops import log

__all__ = ["embedding_lookup", "log_uniform_candidate_sampler", "uniform_candidate_sampler",
           "learned_unigram_candidate_sampler", "compute_accidental_hits", "nce_loss", "sampled_softmax_loss"]


def _as_param_list(params: Any) -> list[Any]:
    if params is None or (isinstance(params, (list, tuple)) and not params):
        raise ValueError("Length of params is currently 0. Need at least one param.")
    return list(params) if isinstance(params, (list, tuple)) else [params]


def _clip(values: Tensor, ids: Tensor, max_norm: Any) -> Tensor:
    """Rows (the params dims of each looked-up value) scaled down to an L2 norm of at most max_norm."""
    if max_norm is None:
        return values
    ids_rank, rank = ids.shape.ndims, values.shape.ndims
    if ids_rank is None or rank is None:
        raise ValueError("embedding_lookup: max_norm needs ids and params of known rank")
    return clip_by_norm(values, max_norm, axes=list(range(ids_rank, rank)))


def _total_rows(params: Sequence[Tensor]) -> int:
    rows = [p.shape.as_tuple()[0] if p.shape.ndims else None for p in params]
    if any(r is None for r in rows):
        raise ValueError("embedding_lookup: partition_strategy 'div' needs params whose first dimension is known, "
                         f"got shapes {[str(p.shape) for p in params]}")
    return int(sum(rows))  # type: ignore[arg-type]


def _assign(ids: Tensor, params: Sequence[Tensor], strategy: str) -> tuple[Tensor, Tensor]:
    """(partition of each id, its row in that partition), as TF1 splits ids among partitions."""
    n = len(params)

    def const(v: int) -> Tensor:
        return convert_to_tensor(np.asarray(v), dtype=ids.dtype.base_dtype)
    if strategy == "mod":
        return mod(ids, const(n)), floordiv(ids, const(n))
    total = _total_rows(params)
    per, extras = divmod(total, n)
    if per == 0:
        raise ValueError(f"embedding_lookup: {n} partitions hold only {total} rows in all ('div' needs one a "
                         "partition)")
    # the first `extras` partitions hold per + 1 rows, the rest per rows
    assignment = maximum(floordiv(ids, const(per + 1)), floordiv(ids - const(extras), const(per)))
    rows = where(less(assignment, const(extras)), mod(ids, const(per + 1)), mod(ids - const(extras), const(per)))
    return assignment, rows


def embedding_lookup(params: Any, ids: Any, partition_strategy: str = "mod", name: str | None = None,
                     validate_indices: bool = True, max_norm: Any = None) -> Tensor:
    """Rows of ``params`` (one tensor, or a list of partitions) for ``ids``: shape ids.shape + params.shape[1:].

    Partitioned params split ids as TF1 does: "mod" puts id i in partition i % n at row i // n,
    "div" gives each partition a contiguous range. ``validate_indices`` is ignored, as in TF1.
    """
    params = _as_param_list(params)
    if len(params) > 1 and partition_strategy not in ("mod", "div"):
        raise ValueError(f"Unrecognized partition strategy: {partition_strategy}.Must be one of either `mod` or "
                         "`div`.")
    graph = graph_of(params + [ids])
    with graph.as_default(), graph.name_scope(name or "embedding_lookup") as scope:
        params = [convert_to_tensor(p, name="params") for p in params]
        ids = convert_to_tensor(ids, name="ids")
        if len(params) == 1:
            return identity(_clip(GATHER(params[0], ids, name=scope, axis=0), ids, max_norm))
        assignment, rows = _assign(ids, params, partition_strategy)
        zero = zeros_like(rows)
        result = None
        for p, part in enumerate(params):
            # every partition looks up all ids (fixed shapes, no host sync); ids of other partitions read row 0
            mine = equal(assignment, convert_to_tensor(np.asarray(p), dtype=assignment.dtype.base_dtype))
            looked_up = GATHER(part, where(mine, rows, zero), axis=0)
            if result is None:
                result = looked_up
                continue
            for _ in range(part.shape.ndims - 1 if part.shape.ndims else 0):
                mine = expand_dims(mine, -1)
            result = where(mine, looked_up, result)
        return identity(_clip(result, ids, max_norm), name="Reshape_1")  # type: ignore[arg-type]


# --- sampled losses ---
def _accidental_hit_mask(labels: Tensor, sampled: Tensor, num_sampled: int) -> Tensor:
    """[batch, num_sampled] bools: sampled position j holds one of the row's true classes (the last such
    position when a class was sampled more than once, as TF1's ComputeAccidentalHits reports it)."""
    later = convert_to_tensor(np.triu(np.ones((num_sampled, num_sampled), dtype=bool), k=1))
    repeated_later = reduce_max(cast(logical_and(equal(expand_dims(sampled, 1), expand_dims(sampled, 0)), later),
                                     dtypes.int32), axis=1)
    is_last = equal(repeated_later, convert_to_tensor(np.int32(0)))
    true_hit = reduce_max(cast(equal(expand_dims(labels, 2), reshape(sampled, [1, 1, num_sampled])),
                               dtypes.int32), axis=1)
    return logical_and(not_equal(true_hit, convert_to_tensor(np.int32(0))), is_last)


def _compute_sampled_logits(weights: Any, biases: Any, labels: Any, inputs: Any, num_sampled: int,
                            num_classes: int, num_true: int, sampled_values: Any, remove_accidental_hits: bool,
                            partition_strategy: str, name: str, seed: Any = None) -> tuple[Tensor, Tensor]:
    weights = _as_param_list(weights)
    graph = graph_of(weights + [biases, labels, inputs])
    with graph.as_default(), graph.name_scope(name):
        labels = convert_to_tensor(labels, name="labels")
        inputs = convert_to_tensor(inputs, name="inputs")
        labels = cast(labels, dtypes.int64)
        if sampled_values is None:
            sampled_values = log_uniform_candidate_sampler(labels, num_true, num_sampled, True, num_classes, seed=seed)
        sampled, true_count, sampled_count = (stop_gradient(s) for s in sampled_values)
        sampled = cast(sampled, dtypes.int64)
        dim = inputs.shape.as_tuple()[-1] if inputs.shape.ndims else None
        if dim is None:
            raise ValueError(f"{name}: inputs must be [batch_size, dim] with dim known, got {inputs.shape}")
        true_w = cast(embedding_lookup(weights, reshape(labels, [-1]), partition_strategy), inputs.dtype)
        sampled_w = cast(embedding_lookup(weights, sampled, partition_strategy), inputs.dtype)
        sampled_logits = matmul(inputs, sampled_w, transpose_b=True)
        true_b = cast(embedding_lookup(biases, reshape(labels, [-1]), partition_strategy), inputs.dtype)
        sampled_b = cast(embedding_lookup(biases, sampled, partition_strategy), inputs.dtype)
        row_wise_dots = expand_dims(inputs, 1) * reshape(true_w, [-1, num_true, dim])
        true_logits = reduce_sum(row_wise_dots, axis=2) + reshape(true_b, [-1, num_true])
        sampled_logits = sampled_logits + sampled_b
        if remove_accidental_hits:
            hits = _accidental_hit_mask(labels, sampled, num_sampled)
            lowest = convert_to_tensor(np.asarray(-np.finfo(np.float32).max), dtype=inputs.dtype.base_dtype)
            sampled_logits = sampled_logits + where(hits, lowest * ones_like(sampled_logits),
                                                    zeros_like(sampled_logits))
        true_logits = true_logits - log(cast(true_count, inputs.dtype))
        sampled_logits = sampled_logits - log(cast(sampled_count, inputs.dtype))
        out_logits = concat([true_logits, sampled_logits], 1)
        out_labels = concat([ones_like(true_logits) / float(num_true), zeros_like(sampled_logits)], 1)
        return out_logits, out_labels


def nce_loss(weights: Any, biases: Any, labels: Any, inputs: Any, num_sampled: int, num_classes: int,
             num_true: int = 1, sampled_values: Any = None, remove_accidental_hits: bool = False,
             partition_strategy: str = "mod", name: str = "nce_loss") -> Tensor:
    """Per-example noise-contrastive estimation loss, [batch_size]: logistic loss of the true classes against
    ``num_sampled`` classes drawn (by default) from the log-uniform sampler."""
    from gpugraph.nn import sigmoid_cross_entropy_with_logits

    logits, labels = _compute_sampled_logits(weights, biases, labels, inputs, num_sampled, num_classes, num_true,
                                             sampled_values, remove_accidental_hits, partition_strategy, name)
    losses = sigmoid_cross_entropy_with_logits(labels=labels, logits=logits, name="sampled_losses")
    return _sum_rows(losses)


def _sum_rows(x: Tensor) -> Tensor:
    """Row sums as TF1's nce_loss takes them (a matmul with a ones column), with its op names."""
    from gpugraph.ops.array_ops import ones, shape

    cols = ones([shape(x)[1], 1], x.dtype)
    return reshape(matmul(x, cols), [-1])


def sampled_softmax_loss(weights: Any, biases: Any, labels: Any, inputs: Any, num_sampled: int, num_classes: int,
                         num_true: int = 1, sampled_values: Any = None, remove_accidental_hits: bool = True,
                         partition_strategy: str = "mod", name: str = "sampled_softmax_loss",
                         seed: Any = None) -> Tensor:
    """Per-example softmax cross-entropy over the true classes and ``num_sampled`` sampled ones, [batch_size]."""
    from gpugraph.nn import softmax_cross_entropy_with_logits_v2

    logits, labels = _compute_sampled_logits(weights, biases, labels, inputs, num_sampled, num_classes, num_true,
                                             sampled_values, remove_accidental_hits, partition_strategy, name,
                                             seed=seed)
    labels = stop_gradient(labels, name="labels_stop_gradient")
    return softmax_cross_entropy_with_logits_v2(labels=labels, logits=logits)
