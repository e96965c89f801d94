"""tf.sparse: SparseTensor and its dense value."""

from __future__ import annotations

from typing import Any

from gpugraph.framework.sparse_tensor import SparseTensor, SparseTensorValue
from gpugraph.ops.sparse_ops import sparse_tensor_to_dense

__all__ = ["SparseTensor", "SparseTensorValue", "to_dense"]


def to_dense(sp_input: Any, default_value: Any = None, validate_indices: bool = True, name: str | None = None) -> Any:
    """tf.sparse.to_dense: see tf.sparse_tensor_to_dense."""
    return sparse_tensor_to_dense(sp_input, default_value, validate_indices, name)
