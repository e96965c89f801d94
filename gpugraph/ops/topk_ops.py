"""Top-k ops: TopKV2 (values and indices of the k largest entries of each last-axis row), its gradient
scatter, and InTopKV2 (is the target among the k largest predictions)."""

from __future__ import annotations

from typing import Any

import numpy as np

from gpugraph.framework import dtypes
from gpugraph.framework.tensor import Operation, Tensor
from gpugraph.ops.registry import NO_GRADIENT, OpDef, register_op

__all__: list[str] = []

_INDEX = (dtypes.int32, dtypes.int64)


def _scalar_int(t: Tensor, what: str) -> None:
    if t.dtype.base_dtype not in _INDEX:
        raise TypeError(f"Value passed to parameter '{what}' has DataType {t.dtype.base_dtype.name} not in the "
                        f"list of allowed values: int32, int64")
    dims = t.shape.as_tuple()
    if dims is not None and dims:
        raise ValueError(f"Shape must be rank 0 but is rank {len(dims)} for {what}")


def static_int(t: Tensor) -> int | None:
    """The value of a scalar Const tensor, else None."""
    if t.op.type != "Const":
        return None
    return int(np.asarray(t.op.get_attr("value")))


def _top_k_infer(x: Tensor, k: Tensor, *, sorted: bool, static_k: int | None = None) -> Any:
    if not (x.dtype.base_dtype.is_floating or x.dtype.base_dtype.is_integer):
        raise TypeError(f"Value passed to parameter 'input' has DataType {x.dtype.base_dtype.name} not in the "
                        f"list of allowed values")
    _scalar_int(k, "k")
    kk = static_int(k)
    if kk is not None and kk < 0:
        raise ValueError(f"Need k >= 0, got {kk}")
    dims = x.shape.as_tuple()
    if dims is None:
        return [(None, x.dtype.base_dtype), (None, dtypes.int32)]
    if not dims:
        raise ValueError("Shape must be at least rank 1 but is rank 0 for input")
    if kk is not None and dims[-1] is not None and dims[-1] < kk:
        raise ValueError(f"input must have last dimension >= k = {kk} but is {dims[-1]}")
    out = dims[:-1] + (kk,)
    return [(out, x.dtype.base_dtype), (out, dtypes.int32)]


def _descending_order(xp: Any, x: Any) -> Any:
    """Indices sorting each row from largest to smallest, equal values by lower index first."""
    if x.dtype.kind in "iub":
        key = -x.astype(xp.int64)  # negating in int64 neither wraps int32 minima nor unsigned values
    else:
        key = -x
    return xp.argsort(key, axis=-1, kind="stable")


def _top_k_impl(xp: Any, x: Any, k: Any, *, sorted: bool, static_k: int | None = None) -> Any:
    # k sets the output shape: known when the graph was built it is an attribute; a run-time k is read
    # back here, as TF1 keeps k in host memory for its kernel.
    count = int(k) if static_k is None else static_k
    n = x.shape[-1]
    if count < 0:
        raise ValueError(f"Need k >= 0, got {count}")
    if count > n:
        raise ValueError(f"input must have at least k columns. Had {n}, needed {count}")
    idx = _descending_order(xp, x)[..., :count]
    return xp.take_along_axis(x, idx, axis=-1), idx.astype(xp.int32)


def _top_k_grad_infer(dy: Tensor, indices: Tensor, x: Tensor) -> Any:
    return x.shape, dy.dtype.base_dtype


def _top_k_grad_impl(xp: Any, dy: Any, indices: Any, x: Any) -> Any:
    """dy scattered into zeros shaped like x at each row's indices (distinct within a row)."""
    n, k = x.shape[-1], indices.shape[-1]
    out = xp.zeros(x.shape, dtype=dy.dtype)
    rows = xp.arange(indices.size // max(k, 1), dtype=xp.int64).reshape(-1, 1) * n
    flat = (rows + indices.reshape(-1, k).astype(xp.int64)).reshape(-1)
    out.reshape(-1)[flat] = dy.reshape(-1)
    return out


TOP_K_GRAD = register_op(OpDef(
    "TopKGrad", infer=_top_k_grad_infer, impl=_top_k_grad_impl, same_dtype=False,
    input_names=("grad", "indices", "input"),
    sample=lambda rng: [([rng.standard_normal((2, 2)), np.array([[3, 0], [1, 2]], np.int32),
                          rng.standard_normal((2, 4))], {})],
))


def _top_k_grad(op: Operation, dvalues: Tensor, dindices: Tensor | None) -> list[Any]:
    return [TOP_K_GRAD(dvalues, op.outputs[1], op.inputs[0]), None]


def _top_k_sample(rng: np.random.Generator) -> list[Any]:
    distinct = rng.permutation(12).reshape(3, 4) + rng.uniform(0.0, 0.5, (3, 4))
    ties = np.array([[1, 3, 3, 0, 3], [2, 2, 2, 2, 2]], np.int64)  # integers: ties have no derivative
    return [([distinct, np.int32(2)], {"sorted": True}), ([ties, np.int32(3)], {"sorted": True}),
            ([rng.integers(-5, 5, (2, 3, 4)).astype(np.int32), np.int32(4)], {"sorted": True})]


TOP_K = register_op(OpDef(
    "TopKV2", infer=_top_k_infer, impl=_top_k_impl, grad=_top_k_grad, same_dtype=False,
    input_names=("input", "k"), sample=_top_k_sample,
))


# --- InTopKV2 ---
def _in_top_k_infer(predictions: Tensor, targets: Tensor, k: Tensor) -> Any:
    if predictions.dtype.base_dtype != dtypes.float32:
        raise TypeError(f"Input 'predictions' of 'InTopKV2' Op has type {predictions.dtype.base_dtype.name} that "
                        f"does not match expected type of float32.")
    if targets.dtype.base_dtype not in _INDEX:
        raise TypeError(f"Value passed to parameter 'targets' has DataType {targets.dtype.base_dtype.name} not in "
                        f"the list of allowed values: int32, int64")
    if k.dtype.base_dtype != targets.dtype.base_dtype:
        raise TypeError(f"Input 'k' of 'InTopKV2' Op has type {k.dtype.base_dtype.name} that does not match "
                        f"type {targets.dtype.base_dtype.name} of argument 'targets'.")
    _scalar_int(k, "k")
    pdims, tdims = predictions.shape.as_tuple(), targets.shape.as_tuple()
    if pdims is not None and len(pdims) != 2:
        raise ValueError(f"Shape must be rank 2 but is rank {len(pdims)} for predictions")
    if tdims is not None and len(tdims) != 1:
        raise ValueError(f"Shape must be rank 1 but is rank {len(tdims)} for targets")
    batch = None if pdims is None else pdims[0]
    if tdims is not None and tdims[0] is not None:
        if batch is not None and batch != tdims[0]:
            raise ValueError(f"Dimensions must be equal, but are {batch} and {tdims[0]}")
        batch = tdims[0]
    return (batch,), dtypes.bool_


def _in_top_k_impl(xp: Any, predictions: Any, targets: Any, k: Any) -> Any:
    # TF1: ties with the target's value count as in; a non-finite row or a target out of range is False.
    n = predictions.shape[1]
    valid = (targets >= 0) & (targets < n)
    safe = xp.where(valid, targets, 0).astype(xp.int64)
    target_value = xp.take_along_axis(predictions, safe[:, None], axis=1)
    larger = (predictions > target_value).sum(axis=1)
    finite = xp.isfinite(predictions).all(axis=1)
    return valid & finite & (larger < k)


def _in_top_k_sample(rng: np.random.Generator) -> list[Any]:
    preds = np.array([[0.1, 0.3, 0.3, 0.2], [0.5, np.nan, 0.1, 0.2], [0.4, 0.4, 0.4, 0.4],
                      [0.0, 1.0, 2.0, 3.0], [1.0, np.inf, 0.0, 2.0]], np.float32)
    targets = np.array([2, 0, 3, -1, 3], np.int32)
    return [([preds, targets, np.int32(1)], {}), ([preds, targets, np.int32(2)], {}),
            ([rng.standard_normal((3, 5)).astype(np.float32), np.array([0, 4, 2], np.int64), np.int64(3)], {})]


IN_TOP_K = register_op(OpDef(
    "InTopKV2", infer=_in_top_k_infer, impl=_in_top_k_impl, grad=NO_GRADIENT, same_dtype=False,
    input_names=("predictions", "targets", "k"), sample=_in_top_k_sample,
))
