"""tf.image resizing: resize_images (TF1's v1 form), the four resize kernels, and the crop/pad resizes."""

from __future__ import annotations

from typing import Any

import numpy as np

from gpugraph.framework.tensor import Tensor
from gpugraph.image._util import require_3d_or_4d, static_int, static_size
from gpugraph.ops.array_ops import expand_dims, squeeze
from gpugraph.ops.constant_ops import convert_to_tensor
from gpugraph.ops.image_resize_ops import RESIZE_OPS
from gpugraph.ops.registry import graph_of


class ResizeMethod:
    """TF1's resize methods (the integers of tf.compat.v1.image.ResizeMethod)."""

    BILINEAR = 0
    NEAREST_NEIGHBOR = 1
    BICUBIC = 2
    AREA = 3


_KINDS = {ResizeMethod.BILINEAR: "bilinear", ResizeMethod.NEAREST_NEIGHBOR: "nearest",
          ResizeMethod.BICUBIC: "bicubic", ResizeMethod.AREA: "area", "bilinear": "bilinear",
          "nearest": "nearest", "bicubic": "bicubic", "area": "area"}
_OP_NAMES = {"bilinear": "ResizeBilinear", "nearest": "ResizeNearestNeighbor", "bicubic": "ResizeBicubic",
             "area": "ResizeArea"}


def _resize(kind: str, images: Any, size: Any, align_corners: bool, half_pixel_centers: bool,
            name: str | None) -> Tensor:
    graph = graph_of([images])
    with graph.as_default():
        images = convert_to_tensor(images, name="images")
        new_size = static_size(size)
        return RESIZE_OPS[kind](images, name=name or _OP_NAMES[kind], size=new_size,
                                align_corners=bool(align_corners), half_pixel_centers=bool(half_pixel_centers),
                                kind=kind)


def resize_bilinear(images: Any, size: Any, align_corners: bool = False, name: str | None = None,
                    half_pixel_centers: bool = False) -> Tensor:
    """Bilinear resize of a 4-D batch to ``size``; float32 output."""
    return _resize("bilinear", images, size, align_corners, half_pixel_centers, name)


def resize_nearest_neighbor(images: Any, size: Any, align_corners: bool = False, name: str | None = None,
                            half_pixel_centers: bool = False) -> Tensor:
    """Nearest-neighbour resize of a 4-D batch; keeps the input dtype."""
    return _resize("nearest", images, size, align_corners, half_pixel_centers, name)


def resize_bicubic(images: Any, size: Any, align_corners: bool = False, name: str | None = None,
                   half_pixel_centers: bool = False) -> Tensor:
    """Bicubic resize of a 4-D batch (Keys cubic, TF's coefficient table); float32 output."""
    return _resize("bicubic", images, size, align_corners, half_pixel_centers, name)


def resize_area(images: Any, size: Any, align_corners: bool = False, name: str | None = None) -> Tensor:
    """Area-averaging resize of a 4-D batch; float32 output."""
    return _resize("area", images, size, align_corners, False, name)


def _aspect_size(height: int | None, width: int | None, size: tuple[int, int]) -> tuple[int, int]:
    if height is None or width is None:
        raise ValueError("preserve_aspect_ratio needs the image height and width known statically")
    f32 = np.float32
    scale = min(f32(size[0]) / f32(height), f32(size[1]) / f32(width))
    return int(np.round(scale * f32(height))), int(np.round(scale * f32(width)))


def resize_images(images: Any, size: Any, method: Any = ResizeMethod.BILINEAR, align_corners: bool = False,
                  preserve_aspect_ratio: bool = False, name: str | None = None) -> Tensor:
    """Resize 3-D or 4-D images; returns the input itself when the size is unchanged (TF1's v1 form)."""
    if method not in _KINDS:
        raise ValueError(f"Resize method is not implemented: [{method}]")
    graph = graph_of([images])
    with graph.as_default(), graph.name_scope(name or "resize"):
        images = convert_to_tensor(images, name="images")
        if images.shape.ndims is None:
            raise ValueError("'images' contains no shape.")
        is_batch = images.shape.ndims == 4
        if images.shape.ndims == 3:
            images = expand_dims(images, 0)
        elif not is_batch:
            raise ValueError("'images' must have either 3 or 4 dimensions.")
        _, height, width, _ = images.shape.as_tuple()
        new_size = static_size(size)
        if preserve_aspect_ratio:
            new_size = _aspect_size(height, width, new_size)
        if (height, width) != new_size:
            kind = _KINDS[method]
            images = RESIZE_OPS[kind](images, name=_OP_NAMES[kind], size=new_size, align_corners=bool(align_corners),
                                      half_pixel_centers=False, kind=kind)
        return images if is_batch else squeeze(images, axis=[0])


def resize_image_with_crop_or_pad(image: Any, target_height: Any, target_width: Any) -> Tensor:
    """Centrally crop or zero-pad an image to target_height x target_width."""
    from gpugraph.image.crop import crop_to_bounding_box, pad_to_bounding_box

    graph = graph_of([image])
    with graph.as_default(), graph.name_scope("resize_image_with_crop_or_pad"):
        image = convert_to_tensor(image, name="image")
        is_batch = require_3d_or_4d(image) == 4
        th, tw = static_int(target_height, "target_height"), static_int(target_width, "target_width")
        if th <= 0:
            raise ValueError("target_height must be > 0.")
        if tw <= 0:
            raise ValueError("target_width must be > 0.")
        if not is_batch:
            image = expand_dims(image, 0)
        height, width = image.shape.as_tuple()[1:3]
        if height is None or width is None:
            raise ValueError("resize_image_with_crop_or_pad needs the image height and width known statically")
        dh, dw = th - height, tw - width
        cropped = crop_to_bounding_box(image, max(-dh // 2, 0), max(-dw // 2, 0), min(th, height), min(tw, width))
        resized = pad_to_bounding_box(cropped, max(dh // 2, 0), max(dw // 2, 0), th, tw)
        return resized if is_batch else squeeze(resized, axis=[0])


def resize_image_with_pad(image: Any, target_height: Any, target_width: Any, method: Any = ResizeMethod.BILINEAR,
                          align_corners: bool = False) -> Tensor:
    """Resize keeping the aspect ratio, then zero-pad to target_height x target_width."""
    from gpugraph.image.crop import pad_to_bounding_box

    graph = graph_of([image])
    with graph.as_default(), graph.name_scope("resize_image_with_pad"):
        image = convert_to_tensor(image, name="image")
        is_batch = require_3d_or_4d(image) == 4
        th, tw = static_int(target_height, "target_height"), static_int(target_width, "target_width")
        if tw <= 0:
            raise ValueError("target_width must be > 0.")
        if th <= 0:
            raise ValueError("target_height must be > 0.")
        if not is_batch:
            image = expand_dims(image, 0)
        height, width = image.shape.as_tuple()[1:3]
        if height is None or width is None:
            raise ValueError("resize_image_with_pad needs the image height and width known statically")
        f32 = np.float32
        ratio = max(f32(width) / f32(tw), f32(height) / f32(th))
        rh, rw = f32(height) / ratio, f32(width) / ratio
        pad_h = max(0, int(np.floor((f32(th) - rh) / f32(2))))
        pad_w = max(0, int(np.floor((f32(tw) - rw) / f32(2))))
        resized = resize_images(image, [int(np.floor(rh)), int(np.floor(rw))], method, align_corners=align_corners)
        padded = pad_to_bounding_box(resized, pad_h, pad_w, th, tw)
        return padded if is_batch else squeeze(padded, axis=[0])

