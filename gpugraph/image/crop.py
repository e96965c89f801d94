"""tf.image crops, pads, flips and rotations, composed from slice/pad/reverse/transpose as TF1 composes them."""

from __future__ import annotations

from typing import Any

import numpy as np

from gpugraph.framework import dtypes
from gpugraph.framework.tensor import Tensor
from gpugraph.image._util import image_rank, require_3d_or_4d, static_int
from gpugraph.ops.array_ops import expand_dims, reshape, shape, squeeze, transpose
from gpugraph.ops.constant_ops import convert_to_tensor
from gpugraph.ops.index_ops import reverse
from gpugraph.ops.manip_ops import slice as slice_
from gpugraph.ops.math_ops import add, cast, less, mod, multiply, subtract, where
from gpugraph.ops.random_ops import random_uniform
from gpugraph.ops.registry import graph_of
from gpugraph.ops.shape_fns import constant_value


def crop_to_bounding_box(image: Any, offset_height: Any, offset_width: Any, target_height: Any,
                         target_width: Any) -> Tensor:
    """image[offset_height:offset_height+target_height, offset_width:offset_width+target_width]."""
    graph = graph_of([image])
    with graph.as_default(), graph.name_scope("crop_to_bounding_box"):
        image = convert_to_tensor(image, name="image")
        is_batch = require_3d_or_4d(image) == 4
        if not is_batch:
            image = expand_dims(image, 0)
        oh, ow = static_int(offset_height, "offset_height"), static_int(offset_width, "offset_width")
        th, tw = static_int(target_height, "target_height"), static_int(target_width, "target_width")
        height, width = image.shape.as_tuple()[1:3]
        for ok, msg in ((ow >= 0, "offset_width must be >= 0."), (oh >= 0, "offset_height must be >= 0."),
                        (tw > 0, "target_width must be > 0."), (th > 0, "target_height must be > 0."),
                        (width is None or width >= tw + ow, "width must be >= target + offset."),
                        (height is None or height >= th + oh, "height must be >= target + offset.")):
            if not ok:
                raise ValueError(msg)
        cropped = slice_(image, [0, oh, ow, 0], [-1, th, tw, -1])
        return cropped if is_batch else squeeze(cropped, axis=[0])


def pad_to_bounding_box(image: Any, offset_height: Any, offset_width: Any, target_height: Any,
                        target_width: Any) -> Tensor:
    """Zero-pad an image to target_height x target_width with the image at (offset_height, offset_width)."""
    from gpugraph.ops.index_ops import pad

    graph = graph_of([image])
    with graph.as_default(), graph.name_scope("pad_to_bounding_box"):
        image = convert_to_tensor(image, name="image")
        is_batch = require_3d_or_4d(image) == 4
        if not is_batch:
            image = expand_dims(image, 0)
        oh, ow = static_int(offset_height, "offset_height"), static_int(offset_width, "offset_width")
        th, tw = static_int(target_height, "target_height"), static_int(target_width, "target_width")
        height, width = image.shape.as_tuple()[1:3]
        if height is None or width is None:
            raise ValueError("pad_to_bounding_box needs the image height and width known statically")
        after_w, after_h = tw - ow - width, th - oh - height
        for ok, msg in ((oh >= 0, "offset_height must be >= 0"), (ow >= 0, "offset_width must be >= 0"),
                        (after_w >= 0, "width must be <= target - offset"),
                        (after_h >= 0, "height must be <= target - offset")):
            if not ok:
                raise ValueError(msg)
        padded = pad(image, [[0, 0], [oh, after_h], [ow, after_w], [0, 0]])
        return padded if is_batch else squeeze(padded, axis=[0])


def central_crop(image: Any, central_fraction: float) -> Tensor:
    """The central region keeping ``central_fraction`` of each side."""
    graph = graph_of([image])
    with graph.as_default(), graph.name_scope("central_crop"):
        image = convert_to_tensor(image, name="image")
        if central_fraction <= 0.0 or central_fraction > 1.0:
            raise ValueError("central_fraction must be within (0, 1]")
        if central_fraction == 1.0:
            return image
        rank = require_3d_or_4d(image)
        dims = image.shape.as_tuple()
        height, width = dims[rank - 3], dims[rank - 2]
        if height is None or width is None:
            raise ValueError("central_crop needs the image height and width known statically")
        start_h = int((float(height) - float(height) * central_fraction) / 2)
        start_w = int((float(width) - float(width) * central_fraction) / 2)
        size_h, size_w = height - 2 * start_h, width - 2 * start_w
        if rank == 3:
            return slice_(image, [start_h, start_w, 0], [size_h, size_w, -1])
        return slice_(image, [0, start_h, start_w, 0], [-1, size_h, size_w, -1])


def random_crop(value: Any, size: Any, seed: Any = None, name: str | None = None) -> Tensor:
    """A slice of ``size`` at a uniformly random offset (TF1: int32 draw modulo the valid range)."""
    graph = graph_of([value])
    with graph.as_default(), graph.name_scope(name or "random_crop") as scope:
        value = convert_to_tensor(value, name="value")
        size_t = convert_to_tensor(size, dtype=dtypes.int32, name="size")
        dims = value.shape.as_tuple()
        known = constant_value(size_t)
        if known is None:
            raise ValueError("random_crop: 'size' must be known when the graph is built")
        sizes = [int(v) for v in np.asarray(known).reshape(-1)]
        if dims is not None:
            if len(dims) != len(sizes):
                raise ValueError(f"Dimensions must be equal, but are {len(dims)} and {len(sizes)} "
                                 f"(value rank and size length)")
            if any(d is not None and d < s for d, s in zip(dims, sizes)):
                raise ValueError(f"Need value.shape >= size, got {value.shape} and {sizes}")
        limit = add(subtract(shape(value), size_t), 1)
        draw = random_uniform([len(sizes)], maxval=dtypes.int32.max, dtype=dtypes.int32, seed=seed)
        offset = mod(draw, limit)
        return slice_(value, offset, sizes, name=scope)


def _flip(image: Any, axis: int, scope: str) -> Tensor:
    graph = graph_of([image])
    with graph.as_default(), graph.name_scope(scope):
        image = convert_to_tensor(image, name="image")
        rank = image_rank(image)
        if rank is not None and rank not in (3, 4):
            raise ValueError(f"'image' (shape {image.shape}) must have either 3 or 4 dimensions.")
        return reverse(image, [axis if rank is None else axis % rank])


def flip_left_right(image: Any) -> Tensor:
    """Reverse the width axis."""
    return _flip(image, -2, "flip_left_right")


def flip_up_down(image: Any) -> Tensor:
    """Reverse the height axis."""
    return _flip(image, -3, "flip_up_down")


def _random_flip(image: Any, axis: int, seed: Any, scope: str) -> Tensor:
    from gpugraph.ops.array_ops import identity

    graph = graph_of([image])
    with graph.as_default(), graph.name_scope(scope):
        image = convert_to_tensor(image, name="image")
        rank = image_rank(image)
        if rank is None:
            raise ValueError(f"{scope}: the rank of 'image' must be known")
        if rank == 3:
            mirror = less(random_uniform([], minval=0, maxval=1.0, seed=seed), 0.5)
            return identity(where(mirror, reverse(image, [axis % 3]), image), name="Identity")
        if rank != 4:
            raise ValueError(f"'image' (shape {image.shape}) must have either 3 or 4 dimensions.")
        batch = image.shape.as_tuple()[0]
        draw = random_uniform([batch] if batch is not None else shape(image)[:1], minval=0, maxval=1.0, seed=seed)
        from gpugraph.ops.unary_ops import round as round_

        flips = cast(round_(reshape(draw, [-1, 1, 1, 1])), image.dtype.base_dtype)
        flipped = reverse(image, [axis % 4])
        return add(multiply(flips, flipped), multiply(subtract(1, flips), image))


def random_flip_left_right(image: Any, seed: Any = None) -> Tensor:
    """flip_left_right with probability 1/2 (per image of a batch)."""
    return _random_flip(image, -2, seed, "random_flip_left_right")


def random_flip_up_down(image: Any, seed: Any = None) -> Tensor:
    """flip_up_down with probability 1/2 (per image of a batch)."""
    return _random_flip(image, -3, seed, "random_flip_up_down")


def transpose_image(image: Any, name: str | None = None) -> Tensor:
    """Swap height and width."""
    graph = graph_of([image])
    with graph.as_default(), graph.name_scope(name or "transpose"):
        image = convert_to_tensor(image, name="image")
        rank = require_3d_or_4d(image)
        return transpose(image, [1, 0, 2] if rank == 3 else [0, 2, 1, 3], name="transpose")


def rot90(image: Any, k: Any = 1, name: str | None = None) -> Tensor:
    """Rotate counter-clockwise by k * 90 degrees (k known when the graph is built)."""
    graph = graph_of([image])
    with graph.as_default(), graph.name_scope(name or "rot90"):
        image = convert_to_tensor(image, name="image")
        rank = require_3d_or_4d(image)
        k = static_int(k, "k") % 4
        h, w = rank - 3, rank - 2
        perm = [1, 0, 2] if rank == 3 else [0, 2, 1, 3]
        if k == 0:
            return image
        if k == 1:
            return transpose(reverse(image, [w]), perm)
        if k == 2:
            return reverse(image, [h, w])
        return reverse(transpose(image, perm), [w])
