"""tf.nn: sufficient_statistics, normalize_moments, zero_fraction and
batch_norm_with_global_normalization, composed as TF1 composes them, under TF1's name scopes."""

from __future__ import annotations

from typing import Any

from gpugraph.framework import dtypes
from gpugraph.framework.tensor import Tensor
from gpugraph.nn.normalization import _keep_dims, batch_normalization
from gpugraph.ops.array_ops import identity, shape, size
from gpugraph.ops.constant_ops import constant, convert_to_tensor
from gpugraph.ops.index_ops import gather
from gpugraph.ops.math_ops import add, cast, multiply, squared_difference, subtract
from gpugraph.ops.reduction_extra_ops import count_nonzero
from gpugraph.ops.reduction_ops import reduce_prod, reduce_sum
from gpugraph.ops.registry import graph_of
from gpugraph.ops.unary_ops import reciprocal, square

__all__ = ["sufficient_statistics", "normalize_moments", "zero_fraction", "batch_norm_with_global_normalization"]


def sufficient_statistics(x: Any, axes: Any, shift: Any = None, keep_dims: Any = None, name: str | None = None,
                          keepdims: Any = None) -> tuple[Tensor, Tensor, Tensor, Any]:
    """(count, sum(x - shift), sum((x - shift)**2), shift) over ``axes``."""
    keep = _keep_dims(keep_dims, keepdims)
    axes = sorted(set(int(a) for a in ([axes] if hasattr(axes, "__index__") else axes)))
    graph = graph_of([x, shift])
    with graph.as_default(), graph.name_scope(name or "sufficient_statistics"):
        x = convert_to_tensor(x, name="x")
        dims = x.shape.as_tuple()
        if dims is not None and all(dims[d] is not None for d in axes):
            count = 1
            for d in axes:
                count *= dims[d]
            counts = constant(count, dtype=x.dtype.base_dtype)
        else:  # sizes known only when the step runs
            counts = reduce_prod(cast(gather(shape(x), axes), x.dtype.base_dtype), name="count")
        if shift is not None:
            shift = convert_to_tensor(shift, name="shift")
            m_ss = subtract(x, shift)
            v_ss = squared_difference(x, shift)
        else:
            m_ss = x
            v_ss = square(x)
        m_ss = reduce_sum(m_ss, axes, keepdims=keep, name="mean_ss")
        v_ss = reduce_sum(v_ss, axes, keepdims=keep, name="var_ss")
    return counts, m_ss, v_ss, shift


def normalize_moments(counts: Any, mean_ss: Any, variance_ss: Any, shift: Any,
                      name: str | None = None) -> tuple[Tensor, Tensor]:
    """Mean and variance from sufficient statistics (shifted by ``shift`` when it is not None)."""
    graph = graph_of([counts, mean_ss, variance_ss, shift])
    with graph.as_default(), graph.name_scope(name or "normalize"):
        divisor = reciprocal(counts, name="divisor")
        if shift is not None:
            shifted_mean = multiply(mean_ss, divisor, name="shifted_mean")
            mean = add(shifted_mean, shift, name="mean")
        else:
            shifted_mean = multiply(mean_ss, divisor, name="mean")
            mean = shifted_mean
        variance = subtract(multiply(variance_ss, divisor), square(shifted_mean), name="variance")
    return mean, variance


def zero_fraction(value: Any, name: str | None = None) -> Tensor:
    """The fraction of zeros in ``value``, as a float32 scalar."""
    graph = graph_of([value])
    with graph.as_default(), graph.name_scope(name or "zero_fraction"):
        value = convert_to_tensor(value, name="value")
        nonzero = cast(count_nonzero(value, dtype=dtypes.int64), dtypes.float32)
        total = cast(size(value, out_type=dtypes.int64), dtypes.float32)
        return identity((total - nonzero) / total, name="fraction")


def batch_norm_with_global_normalization(t: Any = None, m: Any = None, v: Any = None, beta: Any = None,
                                         gamma: Any = None, variance_epsilon: Any = None,
                                         scale_after_normalization: Any = None, name: str | None = None,
                                         input: Any = None, mean: Any = None, variance: Any = None) -> Tensor:
    """batch_normalization(t, m, v, beta, gamma if scale_after_normalization else None, variance_epsilon)."""
    for new, old, label in ((input, t, "t"), (mean, m, "m"), (variance, v, "v")):
        if new is not None and old is not None:
            raise ValueError(f"Cannot specify both '{label}' and its new name.")
    t = t if input is None else input
    m = m if mean is None else mean
    v = v if variance is None else variance
    return batch_normalization(t, m, v, beta, gamma if scale_after_normalization else None, variance_epsilon, name)
