"""tf.nn.space_to_depth / depth_to_space / space_to_batch and the top-level tf.space_to_batch_nd,
tf.batch_to_space_nd, tf.batch_to_space, with TF1's signatures and op names.

block_shape, paddings and crops must be known when the graph is built (Python values or constant
tensors): they become the ops' attributes.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gpugraph.framework.tensor import Tensor
from gpugraph.ops.space_ops import BATCH_TO_SPACE_ND, DEPTH_TO_SPACE, SPACE_TO_BATCH_ND, SPACE_TO_DEPTH

__all__ = ["space_to_depth", "depth_to_space", "space_to_batch"]


def _static(value: Any, what: str) -> np.ndarray:
    """The value of a Python list, array or constant tensor."""
    if isinstance(value, Tensor) or hasattr(value, "_as_tensor"):
        op = getattr(value, "op", None)
        if op is None or op.type != "Const":
            raise ValueError(f"{what} must be known when the graph is built (a list or a constant tensor), got "
                             f"{getattr(value, 'name', value)}")
        value = op.get_attr("value")
    arr = np.asarray(value)
    if arr.dtype.kind not in "iu":
        raise TypeError(f"{what} must be integers, got {arr.dtype}")
    return arr


def _block_shape(value: Any) -> tuple[int, ...]:
    arr = _static(value, "block_shape")
    if arr.ndim != 1:
        raise ValueError(f"block_shape must have rank 1, got shape {list(arr.shape)}")
    return tuple(int(v) for v in arr)


def _pairs(value: Any, what: str) -> tuple[tuple[int, int], ...]:
    arr = _static(value, what)
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise ValueError(f"{what} must have shape [M, 2], got {list(arr.shape)}")
    return tuple((int(a), int(b)) for a, b in arr)


def _block_size(value: Any) -> int:
    if isinstance(value, bool) or not hasattr(value, "__index__"):
        raise TypeError(f"block_size must be an int, got {value!r}")
    return int(value)


def space_to_depth(input: Any, block_size: int, name: str | None = None, data_format: str = "NHWC") -> Tensor:
    """Moves each block_size x block_size spatial block into the channels."""
    return SPACE_TO_DEPTH(input, name=name, block_size=_block_size(block_size), data_format=data_format)


def depth_to_space(input: Any, block_size: int, name: str | None = None, data_format: str = "NHWC") -> Tensor:
    """The inverse of space_to_depth: channels into block_size x block_size spatial blocks."""
    return DEPTH_TO_SPACE(input, name=name, block_size=_block_size(block_size), data_format=data_format)


def space_to_batch_nd(input: Any, block_shape: Any, paddings: Any, name: str | None = None) -> Tensor:
    """Pads the M spatial dims, then moves each block of block_shape into the batch dimension."""
    return SPACE_TO_BATCH_ND(input, name=name, block_shape=_block_shape(block_shape),
                             paddings=_pairs(paddings, "paddings"))


def batch_to_space_nd(input: Any, block_shape: Any, crops: Any, name: str | None = None) -> Tensor:
    """The inverse of space_to_batch_nd: batch blocks back into space, then cropped."""
    return BATCH_TO_SPACE_ND(input, name=name, block_shape=_block_shape(block_shape), crops=_pairs(crops, "crops"))


def _square_block(block_size: Any, block_shape: Any) -> tuple[int, int]:
    if block_shape is not None:
        if block_size is not None:
            raise ValueError("Cannot specify both 'block_size' and 'block_shape'.")
        shape = _block_shape(block_shape)
        if len(shape) != 2:
            raise ValueError(f"block_shape must have 2 elements, got {list(shape)}")
        return shape[0], shape[1]
    if block_size is None:
        raise ValueError("block_size must be given.")
    b = _block_size(block_size)
    return b, b


def space_to_batch(input: Any, paddings: Any, block_size: Any = None, name: str | None = None,
                   block_shape: Any = None) -> Tensor:
    """space_to_batch_nd over the two spatial dims of a 4-D input with a square block."""
    return space_to_batch_nd(input, _square_block(block_size, block_shape), paddings, name=name)


def batch_to_space(input: Any, crops: Any, block_size: Any, name: str | None = None, block_shape: Any = None) -> Tensor:
    """batch_to_space_nd over the two spatial dims of a 4-D input with a square block."""
    return batch_to_space_nd(input, _square_block(block_size, block_shape), crops, name=name)
