"""Logical reductions (All, Any), running sums and products (Cumsum, Cumprod), and reductions TF1 composes:
reduce_logsumexp, count_nonzero, reduce_variance, reduce_std, reduce_euclidean_norm."""

from __future__ import annotations

from typing import Any

import numpy as np

from gpugraph.framework import dtypes
from gpugraph.framework.tensor import Tensor
from gpugraph.framework.tensor_shape import TensorShape
from gpugraph.ops import shape_fns
from gpugraph.ops.constant_ops import convert_to_tensor
from gpugraph.ops.registry import NO_GRADIENT, OpDef, graph_of, register_op
from gpugraph.ops.reduction_ops import _axes, _reduce, reduce_max, reduce_mean, reduce_sum
from gpugraph.ops.xp_compat import flip

__all__ = ["reduce_all", "reduce_any", "reduce_logsumexp", "count_nonzero", "cumsum", "cumprod",
           "reduce_variance", "reduce_std", "reduce_euclidean_norm"]


def _bool_reduce_infer(x: Tensor, *, axes: Any, keepdims: bool) -> Any:
    shape_fns.require(x, "input", x.dtype.base_dtype.is_bool)
    dims = x.shape.as_tuple()
    if dims is None:
        return (() if axes is None and not keepdims else TensorShape(None)), dtypes.bool_
    norm = None if axes is None else tuple(shape_fns.normalize_axis(a, len(dims)) for a in axes)
    return shape_fns.reduced_dims(dims, norm, keepdims), dtypes.bool_


def _bool_sample(rng: np.random.Generator) -> list[Any]:
    x = rng.random((3, 4)) > 0.3
    return [([x], {"axes": (1,), "keepdims": False}), ([x], {"axes": None, "keepdims": True})]


ALL = register_op(OpDef(
    "All", infer=_bool_reduce_infer, impl=lambda xp, x, *, axes, keepdims: xp.all(x, axis=axes, keepdims=keepdims),
    grad=NO_GRADIENT, input_names=("input",), sample=_bool_sample,
))
ANY = register_op(OpDef(
    "Any", infer=_bool_reduce_infer, impl=lambda xp, x, *, axes, keepdims: xp.any(x, axis=axes, keepdims=keepdims),
    grad=NO_GRADIENT, input_names=("input",), sample=_bool_sample,
))


# --- Cumsum, Cumprod (axis is a static attr here; TF takes a scalar tensor) ---
def _scan_infer(x: Tensor, *, axis: int, exclusive: bool, reverse: bool) -> Any:
    shape_fns.numeric(x)
    rank = x.shape.ndims
    if rank is not None:
        if rank == 0:
            raise ValueError("Shape must be at least rank 1 but is rank 0")
        shape_fns.normalize_axis(axis, rank)
    return x.shape, x.dtype.base_dtype


def _scan_impl(fn: str, identity: int) -> Any:
    def impl(xp: Any, x: Any, *, axis: int, exclusive: bool, reverse: bool) -> Any:
        a = axis % x.ndim
        v = flip(x, (a,)) if reverse else x
        out = getattr(xp, fn)(v, axis=a, dtype=x.dtype)
        if exclusive:
            lead = xp.full(x.shape[:a] + (1,) + x.shape[a + 1:], identity, dtype=x.dtype)
            out = xp.concatenate([lead, out.take(xp.arange(x.shape[a] - 1), axis=a)], axis=a)
        return flip(out, (a,)) if reverse else out
    return impl


def _scan_sample(rng: np.random.Generator) -> list[Any]:
    x = rng.uniform(0.5, 1.5, (3, 4))
    return [([x], {"axis": 1, "exclusive": False, "reverse": False}),
            ([x], {"axis": 0, "exclusive": True, "reverse": False}),
            ([x], {"axis": -1, "exclusive": True, "reverse": True}),
            ([rng.uniform(0.5, 1.5, (2, 3, 2))], {"axis": 1, "exclusive": False, "reverse": True})]


def _cumsum_grad(op: Any, dy: Tensor) -> list[Any]:
    return [CUMSUM(dy, axis=op.get_attr("axis"), exclusive=op.get_attr("exclusive"),
                   reverse=not op.get_attr("reverse"))]


def _cumprod_grad(op: Any, dy: Tensor) -> list[Any]:
    # TF1's rule: exact for non-zero inputs
    x, prod = op.inputs[0], op.outputs[0]
    out = CUMSUM(prod * dy, axis=op.get_attr("axis"), exclusive=op.get_attr("exclusive"),
                 reverse=not op.get_attr("reverse"))
    return [out / x]


CUMSUM = register_op(OpDef("Cumsum", infer=_scan_infer, impl=_scan_impl("cumsum", 0), grad=_cumsum_grad,
                           sample=_scan_sample))
CUMPROD = register_op(OpDef("Cumprod", infer=_scan_infer, impl=_scan_impl("cumprod", 1), grad=_cumprod_grad,
                            sample=_scan_sample))


def _static_axis(axis: Any) -> int:
    from gpugraph.ops.manip_ops import _int

    return _int(axis, "axis")


def cumsum(x: Any, axis: Any = 0, exclusive: bool = False, reverse: bool = False, name: str | None = None) -> Tensor:
    return CUMSUM(x, name=name, axis=_static_axis(axis), exclusive=bool(exclusive), reverse=bool(reverse))


def cumprod(x: Any, axis: Any = 0, exclusive: bool = False, reverse: bool = False, name: str | None = None) -> Tensor:
    return CUMPROD(x, name=name, axis=_static_axis(axis), exclusive=bool(exclusive), reverse=bool(reverse))


def reduce_all(input_tensor: Any, axis: Any = None, keepdims: Any = None, name: str | None = None,
               reduction_indices: Any = None, keep_dims: Any = None) -> Tensor:
    return _reduce(ALL, "All", input_tensor, axis, keepdims, name, reduction_indices, keep_dims)


def reduce_any(input_tensor: Any, axis: Any = None, keepdims: Any = None, name: str | None = None,
               reduction_indices: Any = None, keep_dims: Any = None) -> Tensor:
    return _reduce(ANY, "Any", input_tensor, axis, keepdims, name, reduction_indices, keep_dims)


def _keep(keepdims: Any, keep_dims: Any) -> bool:
    if keepdims is not None and keep_dims is not None:
        raise ValueError("Cannot specify both 'keepdims' and 'keep_dims'.")
    return bool(keep_dims if keepdims is None else keepdims)


def _axis_list(axis: Any, reduction_indices: Any) -> list[int] | None:
    axes = _axes(axis, reduction_indices)
    return None if axes is None else list(axes)


def reduce_logsumexp(input_tensor: Any, axis: Any = None, keepdims: Any = None, name: str | None = None,
                     reduction_indices: Any = None, keep_dims: Any = None) -> Tensor:
    """log(sum(exp(x))) computed as TF1 does: the max is subtracted first (and taken as 0 where not finite)."""
    from gpugraph.ops.array_ops import reshape_like, stop_gradient, zeros_like
    from gpugraph.ops.math_extra_ops import is_finite
    from gpugraph.ops.math_ops import add, where
    from gpugraph.ops.unary_ops import exp, log

    keep = _keep(keepdims, keep_dims)
    axes = _axis_list(axis, reduction_indices)
    graph = graph_of([input_tensor])
    with graph.as_default(), graph.name_scope(name or "ReduceLogSumExp") as scope:
        x = convert_to_tensor(input_tensor, name="input_tensor")
        raw_max = reduce_max(x, axis=axes, keepdims=True)
        my_max = stop_gradient(where(is_finite(raw_max), raw_max, zeros_like(raw_max)))
        result = log(reduce_sum(exp(x - my_max), axis=axes, keepdims=keep))
        return add(result, my_max if keep else reshape_like(my_max, result), name=scope)


def count_nonzero(input_tensor: Any = None, axis: Any = None, keepdims: Any = None, dtype: Any = dtypes.int64,
                  name: str | None = None, reduction_indices: Any = None, keep_dims: Any = None,
                  input: Any = None) -> Tensor:  # noqa: A002 - TF1 name
    from gpugraph.ops.math_ops import cast, not_equal

    if input is not None:
        if input_tensor is not None:
            raise ValueError("Cannot specify both 'input' and 'input_tensor'.")
        input_tensor = input
    keep = _keep(keepdims, keep_dims)
    axes = _axis_list(axis, reduction_indices)
    graph = graph_of([input_tensor])
    with graph.as_default(), graph.name_scope(name or "count_nonzero") as scope:
        x = convert_to_tensor(input_tensor, name="input_tensor")
        zero = np.zeros((), x.dtype.base_dtype.np_dtype) if x.dtype.base_dtype != dtypes.string else b""
        nonzero = cast(not_equal(x, zero), dtypes.int64)
        return cast(reduce_sum(nonzero, axis=axes, keepdims=keep), dtype, name=scope)


def reduce_variance(input_tensor: Any, axis: Any = None, keepdims: bool = False, name: str | None = None) -> Tensor:
    from gpugraph.ops.unary_ops import square

    axes = _axis_list(axis, None)
    graph = graph_of([input_tensor])
    with graph.as_default(), graph.name_scope(name or "reduce_variance") as scope:
        x = convert_to_tensor(input_tensor, name="input_tensor")
        if not x.dtype.base_dtype.is_floating:
            raise TypeError(f"Input must be either real or complex. Received integer input {x.dtype.name}.")
        means = reduce_mean(x, axis=axes, keepdims=True)
        return reduce_mean(square(x - means), axis=axes, keepdims=bool(keepdims), name=scope)


def reduce_std(input_tensor: Any, axis: Any = None, keepdims: bool = False, name: str | None = None) -> Tensor:
    from gpugraph.ops.unary_ops import sqrt

    graph = graph_of([input_tensor])
    with graph.as_default(), graph.name_scope(name or "reduce_std") as scope:
        return sqrt(reduce_variance(input_tensor, axis=axis, keepdims=keepdims), name=scope)


def reduce_euclidean_norm(input_tensor: Any, axis: Any = None, keepdims: bool = False,
                          name: str | None = None) -> Tensor:
    from gpugraph.ops.unary_ops import sqrt

    graph = graph_of([input_tensor])
    with graph.as_default(), graph.name_scope(name or "EuclideanNorm") as scope:
        x = convert_to_tensor(input_tensor, name="input_tensor")
        return sqrt(reduce_sum(x * x, axis=_axis_list(axis, None), keepdims=bool(keepdims)), name=scope)

