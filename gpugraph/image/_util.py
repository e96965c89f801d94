"""Shared checks of tf.image: image ranks, static sizes, and the 3-D -> 4-D batching TF1 applies."""

from __future__ import annotations

from typing import Any

import numpy as np

from gpugraph.framework.tensor import Tensor
from gpugraph.ops import shape_fns
from gpugraph.ops.dynamic_shape_ops import is_graph_value


def static_int(value: Any, what: str) -> int:
    """A Python int from an int or a Tensor whose value the graph alone fixes."""
    if is_graph_value(value):
        known = shape_fns.constant_value(value)
        if known is None:
            raise ValueError(f"{what} must be known when the graph is built (a Python int or a constant Tensor)")
        value = np.asarray(known)
    return int(value)


def static_size(size: Any, what: str = "size") -> tuple[int, int]:
    """[new_height, new_width] as Python ints (a list, array, or constant Tensor)."""
    if is_graph_value(size):
        known = shape_fns.constant_value(size)
        if known is None:
            raise ValueError(f"'{what}' must be known when the graph is built (two ints or a constant Tensor)")
        size = known
    try:
        values = np.asarray(size)
    except (TypeError, ValueError):
        raise ValueError(f"'{what}' must be a 1-D int32 Tensor") from None
    if values.dtype.kind not in "iu" and values.dtype != object:
        raise ValueError(f"'{what}' must be a 1-D int32 Tensor")
    if values.shape != (2,):
        raise ValueError(f"'{what}' must be a 1-D Tensor of 2 elements: new_height, new_width")
    return int(values[0]), int(values[1])


def image_rank(image: Tensor, what: str = "image") -> int | None:
    """The rank of an image (3 or 4, None if unknown); TF1's 'must be at least three-dimensional' error."""
    ndims = image.shape.ndims
    if ndims is not None and ndims < 3:
        raise ValueError(f"'{what}' (shape {image.shape}) must be at least three-dimensional.")
    return ndims


def require_3d_or_4d(image: Tensor, what: str = "image") -> int:
    ndims = image.shape.ndims
    if ndims is None:
        raise ValueError(f"'{what}' contains no shape.")
    if ndims not in (3, 4):
        raise ValueError(f"'{what}' (shape {image.shape}) must have either 3 or 4 dimensions.")
    return ndims
