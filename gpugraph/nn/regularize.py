"""tf.nn: dropout, and the top-k helpers of classification (top_k, in_top_k)."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from gpugraph.framework.tensor import Tensor
from gpugraph.framework.tensor_shape import TensorShape
from gpugraph.ops.array_ops import shape
from gpugraph.ops.constant_ops import convert_to_tensor
from gpugraph.ops.math_ops import cast, greater_equal
from gpugraph.ops.nn_ops import tensor_like
from gpugraph.ops.random_ops import random_uniform
from gpugraph.ops.registry import graph_of
from gpugraph.ops.topk_ops import IN_TOP_K, TOP_K, static_int

__all__ = ["dropout", "top_k", "in_top_k"]


def top_k(input: Any, k: Any = 1, sorted: bool = True, name: str | None = None) -> tuple[Tensor, Tensor]:
    """(values, indices) of the k largest entries of each last-axis row; equal values by lower index first."""
    static = k if isinstance(k, (int, np.integer)) and not isinstance(k, (bool, np.bool_)) else None
    if isinstance(k, Tensor):
        static = static_int(k)
    if static is None:  # k known only at run time: the step reads it back
        return TOP_K(input, k, name=name, sorted=bool(sorted))
    return TOP_K(input, k, name=name, sorted=bool(sorted), static_k=int(static))


def in_top_k(predictions: Any, targets: Any, k: Any, name: str | None = None) -> Tensor:
    """Whether each target is among the k largest predictions of its row (ties with it count as in)."""
    graph = graph_of([predictions, targets, k])
    with graph.as_default(), graph.name_scope(name or "in_top_k"):
        targets = convert_to_tensor(targets, name="targets")
        k = convert_to_tensor(k, dtype=None if tensor_like(k) else targets.dtype.base_dtype, name="k")
        return IN_TOP_K(predictions, targets, k, name="InTopKV2")


def _noise_shape(x: Tensor, noise_shape: Any) -> Any:
    """TF1's rule: x's shape when none is given; unknown dims of a given shape filled from x's."""
    if noise_shape is None:
        return x.shape.as_list() if x.shape.is_fully_defined() else shape(x)
    if tensor_like(noise_shape):
        return noise_shape
    try:
        given = TensorShape(noise_shape)
    except (TypeError, ValueError):
        return noise_shape
    dims, x_dims = given.as_tuple(), x.shape.as_tuple()
    if dims is not None and x_dims is not None and len(dims) == len(x_dims):
        given = TensorShape(tuple(xd if d is None else d for d, xd in zip(dims, x_dims)))
    return given.as_list() if given.is_fully_defined() else noise_shape


def _known_zero(rate: Tensor) -> bool:
    """A constant rate of 0: TF1 drops nothing and returns x."""
    return rate.op.type == "Const" and bool(np.all(np.asarray(rate.op.get_attr("value")) == 0))


def dropout(x: Any, keep_prob: Any = None, noise_shape: Any = None, seed: Any = None, name: str | None = None,
            rate: Any = None) -> Tensor:
    """Zero each element with probability ``rate`` (= 1 - keep_prob) and scale the rest by 1 / keep_prob.

    ``noise_shape`` draws one keep/drop decision per entry of that shape, broadcast against x.
    """
    if keep_prob is not None and rate is not None:
        raise ValueError("Cannot specify both 'keep_prob' and 'rate'.")
    if keep_prob is not None:
        try:
            rate = 1.0 - keep_prob
        except TypeError:
            raise ValueError(f"keep_prob must be a floating point number or Tensor (got {keep_prob!r})") from None
    if rate is None:
        raise ValueError("You must provide a rate to dropout.")
    graph = graph_of([x, rate])
    with graph.as_default(), graph.name_scope(name or "dropout"):
        x = convert_to_tensor(x, name="x")
        if not x.dtype.base_dtype.is_floating:
            raise ValueError(f"x has to be a floating point tensor since it's going to be scaled. Got a "
                             f"{x.dtype.base_dtype.name} tensor instead.")
        if isinstance(rate, numbers.Real) and not isinstance(rate, bool):
            if not 0 <= rate < 1:
                raise ValueError(f"rate must be a scalar tensor or a float in the range [0, 1), got {rate:g}")
            if rate == 0:
                return x  # nothing to drop: TF1 returns x itself
        else:
            rate = convert_to_tensor(rate, dtype=None if tensor_like(rate) else x.dtype.base_dtype, name="rate")
            if rate.dtype.base_dtype != x.dtype.base_dtype:
                raise ValueError(f"rate ({rate.name}) has dtype {rate.dtype.base_dtype.name}, which does not "
                                 f"match x's {x.dtype.base_dtype.name}")
            if not rate.shape.is_compatible_with(TensorShape(())):
                raise ValueError(f"rate ({rate.name}) must be a scalar, got shape {rate.shape}")
            if _known_zero(rate):
                return x
        random_tensor = random_uniform(_noise_shape(x, noise_shape), seed=seed, dtype=x.dtype.base_dtype)
        keep = 1 - rate
        scale = 1 / keep
        # >= so that a draw equal to rate (rate itself is representable) is kept, as TF1 does
        keep_mask = greater_equal(random_tensor, rate)
        ret = x * scale * cast(keep_mask, x.dtype.base_dtype)
        ret.set_shape(x.shape)
        return ret
