"""Gradient clipping as TF1 builds it: clip_by_norm, global_norm, clip_by_global_norm.

All three are compositions of existing ops, so tf.gradients differentiates through them. clip_by_value
lives in index_ops.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from gpugraph.framework.tensor import Tensor
from gpugraph.ops.array_ops import identity, ones_like, stack
from gpugraph.ops.constant_ops import constant, convert_to_tensor
from gpugraph.ops.math_ops import cast, maximum, minimum, where
from gpugraph.ops.nn_ops import l2_loss
from gpugraph.ops.reduction_ops import reduce_sum
from gpugraph.ops.registry import graph_of
from gpugraph.ops.unary_ops import sqrt

__all__ = ["clip_by_norm", "clip_by_global_norm", "global_norm"]


def _require_float(t: Tensor, what: str) -> None:
    if not t.dtype.base_dtype.is_floating:
        raise TypeError(f"{what}: t must be a floating point tensor, got {t.name} of dtype "
                        f"{t.dtype.base_dtype.name}.")


def clip_by_norm(t: Any, clip_norm: Any, axes: Any = None, name: str | None = None) -> Tensor:
    """``t * clip_norm / max(l2norm(t, axes), clip_norm)``; t is unchanged where its norm is within bound.

    The norm is taken with the two-``where`` trick, so an all-zero ``t`` has a finite gradient (1).
    """
    graph = graph_of([t, clip_norm])
    with graph.as_default(), graph.name_scope(name or "clip_by_norm") as scope:
        values = convert_to_tensor(t, name="t")
        _require_float(values, "clip_by_norm")
        l2sum = reduce_sum(values * values, axes, keepdims=True)
        pred = l2sum > 0
        l2sum_safe = where(pred, l2sum, ones_like(l2sum))
        l2norm = where(pred, sqrt(l2sum_safe), l2sum)
        intermediate = values * clip_norm
        # a clip_norm that would broadcast t to a bigger shape is a mistake, not a request
        if not values.shape.is_compatible_with(intermediate.shape):
            raise ValueError(f"clip_by_norm: Shapes {values.shape} and {intermediate.shape} are incompatible "
                             f"(clip_norm must not broadcast t '{values.name}').")
        return identity(intermediate / maximum(l2norm, clip_norm), name=scope)


def _check_list(t_list: Any) -> list[Any]:
    if not isinstance(t_list, Sequence) or isinstance(t_list, str):
        raise TypeError(f"`t_list` should be a sequence of tensors. Received {type(t_list)}.")
    return list(t_list)


def _convert_all(t_list: list[Any]) -> list[Tensor | None]:
    return [None if t is None else convert_to_tensor(t, name=f"t_{i}") for i, t in enumerate(t_list)]


def global_norm(t_list: Any, name: str | None = None) -> Tensor:
    """``sqrt(sum(l2norm(t)**2 for t in t_list))``; None entries are ignored (none at all gives 0.0)."""
    t_list = _check_list(t_list)
    graph = graph_of(t_list)
    with graph.as_default(), graph.name_scope(name or "global_norm"):
        values = _convert_all(t_list)
        half_squared_norms = []
        for v in values:
            if v is not None:
                with graph.colocate_with(v):
                    half_squared_norms.append(l2_loss(v))
        if half_squared_norms:
            half_squared_norm = reduce_sum(stack(half_squared_norms))
        else:  # TF1 stacks an empty float32 list: the norm of nothing is 0.0
            half_squared_norm = reduce_sum(constant(np.zeros(0, np.float32), name="stack"))
        two = constant(2.0, dtype=half_squared_norm.dtype)
        return sqrt(half_squared_norm * two, name="global_norm")


def clip_by_global_norm(t_list: Any, clip_norm: Any, use_norm: Any = None,
                        name: str | None = None) -> tuple[list[Tensor | None], Tensor]:
    """Scale every tensor by ``clip_norm / max(global_norm, clip_norm)``; returns (clipped list, norm).

    None entries stay None. An infinite norm makes every output NaN, to signal the error, as TF1 does.
    """
    t_list = _check_list(t_list)
    if use_norm is None:
        use_norm = global_norm(t_list, name)
    else:
        use_norm = convert_to_tensor(use_norm, name="use_norm")
    graph = graph_of(t_list + [clip_norm, use_norm])
    with graph.as_default(), graph.name_scope(name or "clip_by_global_norm") as scope:
        one = constant(1.0, dtype=use_norm.dtype)
        scale_for_finite = clip_norm * minimum(1.0 / use_norm, one / clip_norm)
        # (norm - norm) is NaN exactly when the norm is infinite, and 0 otherwise
        scale = scale_for_finite + (use_norm - use_norm)
        values = _convert_all(t_list)
        clipped: list[Tensor | None] = []
        for i, v in enumerate(values):
            if v is None:
                clipped.append(None)
                continue
            with graph.colocate_with(v):
                clipped.append(identity(v * cast(scale, v.dtype), name=f"{scope}_{i}"))
    return clipped, use_norm

