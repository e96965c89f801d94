"""SparseToDense (tf.sparse_tensor_to_dense, tf.sparse.to_dense): a SparseTensor's dense value."""

from __future__ import annotations

from typing import Any

import numpy as np

from gpugraph.framework import dtypes
from gpugraph.framework.sparse_tensor import SparseTensor
from gpugraph.framework.tensor import Tensor
from gpugraph.ops import shape_fns
from gpugraph.ops.constant_ops import convert_to_tensor
from gpugraph.ops.gather_nd_ops import GATHER_ND
from gpugraph.ops.reduction_ops import reduce_sum
from gpugraph.ops.registry import OpDef, register_op

__all__ = ["sparse_tensor_to_dense"]


def _to_dense_infer(indices: Tensor, output_shape: Tensor, values: Tensor, default_value: Tensor, *,
                    validate_indices: bool) -> Any:
    if values.dtype.base_dtype != default_value.dtype.base_dtype:
        raise TypeError(f"sparse_values ({values.dtype.base_dtype.name}) and default_value "
                        f"({default_value.dtype.base_dtype.name}) must have one dtype")
    if not default_value.shape.is_compatible_with(()):
        raise ValueError(f"default_value must be a scalar, got shape {default_value.shape}")
    return shape_fns.constant_value_as_shape(output_shape), values.dtype.base_dtype


def _to_dense_impl(xp: Any, indices: Any, output_shape: Any, values: Any, default_value: Any, *,
                   validate_indices: bool) -> Any:
    # The output's shape is a host value, as in TF1 (the kernel reads output_shape from host memory).
    shape = tuple(np.asarray(output_shape).reshape(-1).tolist())
    out = xp.full(shape, default_value, dtype=values.dtype)
    idx = xp.asarray(indices).reshape(-1, len(shape))
    out[tuple(idx[:, k] for k in range(len(shape)))] = values
    return out


def _to_dense_grad(op: Any, dy: Tensor) -> list[Any]:
    values_grad = GATHER_ND(dy, op.inputs[0])
    return [None, None, values_grad, reduce_sum(dy) - reduce_sum(values_grad)]


def _to_dense_sample(rng: np.random.Generator) -> list[Any]:
    indices = np.array([[0, 1], [1, 0], [2, 2]], np.int64)
    return [([indices, np.array([3, 4], np.int64), rng.standard_normal(3), np.array(0.5)],
             {"validate_indices": True})]


SPARSE_TO_DENSE = register_op(OpDef(
    "SparseToDense", infer=_to_dense_infer, impl=_to_dense_impl, grad=_to_dense_grad, gpu=False, same_dtype=False,
    input_names=("sparse_indices", "output_shape", "sparse_values", "default_value"), sample=_to_dense_sample))


def sparse_tensor_to_dense(sp_input: Any, default_value: Any = None, validate_indices: bool = True,
                           name: str | None = None) -> Tensor:
    """The dense tensor of ``sp_input``: its values at its indices, ``default_value`` (0 or b"") elsewhere."""
    sp = SparseTensor.from_value(sp_input)
    if default_value is None:
        default_value = b"" if sp.dtype.base_dtype == dtypes.string else 0
    default = convert_to_tensor(default_value, dtype=sp.dtype.base_dtype, name="default_value")
    return SPARSE_TO_DENSE(sp.indices, sp.dense_shape, sp.values, default, validate_indices=bool(validate_indices),
                           name=name or "SparseToDense")
