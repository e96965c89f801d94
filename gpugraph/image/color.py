"""tf.image colour and value ops: dtype conversion, brightness/contrast/saturation/hue/gamma, their random
forms, greyscale and HSV, standardization, image gradients and total variation (TF1's compositions)."""

from __future__ import annotations

from typing import Any

import numpy as np

from gpugraph.framework import dtypes
from gpugraph.framework.tensor import Tensor
from gpugraph.image._util import image_rank
from gpugraph.ops.array_ops import expand_dims, identity, zeros_like
from gpugraph.ops.constant_ops import constant, convert_to_tensor
from gpugraph.ops.dynamic_shape_ops import is_graph_value
from gpugraph.ops.image_color_ops import ADJUST_CONTRAST, ADJUST_HUE, ADJUST_SATURATION, HSV_TO_RGB, RGB_TO_HSV
from gpugraph.ops.manip_ops import concat
from gpugraph.ops.math_extra_ops import saturate_cast
from gpugraph.ops.math_ops import add, cast, floordiv, maximum, multiply, pow, subtract, truediv
from gpugraph.ops.random_ops import random_uniform
from gpugraph.ops.reduction_ops import reduce_mean, reduce_sum
from gpugraph.ops.registry import graph_of
from gpugraph.ops.unary_ops import abs as abs_
from gpugraph.ops.unary_ops import sqrt, square


def convert_image_dtype(image: Any, dtype: Any, saturate: bool = False, name: str | None = None) -> Tensor:
    """Convert between image dtypes, rescaling: floats are in [0, 1], integers in [0, MAX]."""
    graph = graph_of([image])
    with graph.as_default():
        image = convert_to_tensor(image, name="image")
        dtype = dtypes.as_dtype(dtype).base_dtype
        src = image.dtype.base_dtype
        if not dtype.is_floating and not dtype.is_integer:
            raise AttributeError("dtype must be either floating point or integer")
        if not src.is_floating and not src.is_integer:
            raise AttributeError("image dtype must be either floating point or integer")
        if dtype == src:
            return identity(image, name=name)
        with graph.name_scope(name or "convert_image") as scope:
            if src.is_integer and dtype.is_integer:
                scale_in, scale_out = int(src.max), int(dtype.max)
                if scale_in > scale_out:
                    scaled = floordiv(image, (scale_in + 1) // (scale_out + 1))
                    return (saturate_cast if saturate else cast)(scaled, dtype, name=scope)
                casted = saturate_cast(image, dtype) if saturate else cast(image, dtype)
                return multiply(casted, (scale_out + 1) // (scale_in + 1), name=scope)
            if src.is_floating and dtype.is_floating:
                return cast(image, dtype, name=scope)
            if src.is_integer:
                return multiply(cast(image, dtype), 1.0 / float(src.max), name=scope)
            scaled = multiply(image, float(dtype.max) + 0.5)
            return (saturate_cast if saturate else cast)(scaled, dtype, name=scope)


def _as_float(image: Tensor) -> Tensor:
    if image.dtype.base_dtype in (dtypes.float16, dtypes.float32):
        return image
    return convert_image_dtype(image, dtypes.float32)


def adjust_brightness(image: Any, delta: Any) -> Tensor:
    """image + delta (in the [0, 1] float scale), saturated back to the image dtype."""
    graph = graph_of([image, delta])
    with graph.as_default(), graph.name_scope("adjust_brightness") as scope:
        image = convert_to_tensor(image, name="image")
        flt = _as_float(image)
        adjusted = add(flt, cast(delta, flt.dtype.base_dtype), name=scope)
        return convert_image_dtype(adjusted, image.dtype.base_dtype, saturate=True)


def _factor(value: Any, name: str) -> Tensor:
    return cast(value, dtypes.float32) if is_graph_value(value) else constant(value, dtypes.float32, name=name)


def adjust_contrast(images: Any, contrast_factor: Any) -> Tensor:
    """(x - mean) * contrast_factor + mean, per channel of each image."""
    graph = graph_of([images, contrast_factor])
    with graph.as_default(), graph.name_scope("adjust_contrast") as scope:
        images = convert_to_tensor(images, name="images")
        flt = _as_float(images)
        adjusted = ADJUST_CONTRAST(flt, _factor(contrast_factor, "contrast_factor"), name=scope)
        return convert_image_dtype(adjusted, images.dtype.base_dtype, saturate=True)


def adjust_saturation(image: Any, saturation_factor: Any, name: str | None = None) -> Tensor:
    """Scale the HSV saturation by saturation_factor (clipped to [0, 1])."""
    graph = graph_of([image, saturation_factor])
    with graph.as_default(), graph.name_scope(name or "adjust_saturation"):
        image = convert_to_tensor(image, name="image")
        flt = _as_float(image)
        adjusted = ADJUST_SATURATION(flt, _factor(saturation_factor, "scale"))
        return convert_image_dtype(adjusted, image.dtype.base_dtype)


def adjust_hue(image: Any, delta: Any, name: str | None = None) -> Tensor:
    """Rotate the HSV hue by delta (in turns, [-1, 1])."""
    graph = graph_of([image, delta])
    with graph.as_default(), graph.name_scope(name or "adjust_hue"):
        image = convert_to_tensor(image, name="image")
        flt = _as_float(image)
        adjusted = ADJUST_HUE(flt, _factor(delta, "delta"))
        return convert_image_dtype(adjusted, image.dtype.base_dtype)


def adjust_gamma(image: Any, gamma: Any = 1, gain: Any = 1) -> Tensor:
    """gain * image ** gamma (in the [0, 1] float scale)."""
    graph = graph_of([image, gamma, gain])
    with graph.as_default(), graph.name_scope("adjust_gamma"):
        image = convert_to_tensor(image, name="image")
        flt = _as_float(image)
        if not is_graph_value(gamma) and gamma < 0:
            raise ValueError("Gamma should be a non-negative real number.")
        dt = flt.dtype.base_dtype
        gamma_t = cast(gamma, dt) if is_graph_value(gamma) else constant(gamma, dt, name="gamma")
        gain_t = cast(gain, dt) if is_graph_value(gain) else constant(gain, dt, name="gain")
        adjusted = multiply(gain_t, pow(flt, gamma_t))
        return convert_image_dtype(adjusted, image.dtype.base_dtype, saturate=True)


def random_brightness(image: Any, max_delta: float, seed: Any = None) -> Tensor:
    """adjust_brightness by a delta drawn from [-max_delta, max_delta)."""
    if max_delta < 0:
        raise ValueError("max_delta must be non-negative.")
    return adjust_brightness(image, random_uniform([], -max_delta, max_delta, seed=seed))


def _check_range(lower: float, upper: float) -> None:
    if upper <= lower:
        raise ValueError("upper must be > lower.")
    if lower < 0:
        raise ValueError("lower must be non-negative.")


def random_contrast(image: Any, lower: float, upper: float, seed: Any = None) -> Tensor:
    """adjust_contrast by a factor drawn from [lower, upper)."""
    _check_range(lower, upper)
    return adjust_contrast(image, random_uniform([], lower, upper, seed=seed))


def random_saturation(image: Any, lower: float, upper: float, seed: Any = None) -> Tensor:
    """adjust_saturation by a factor drawn from [lower, upper)."""
    _check_range(lower, upper)
    return adjust_saturation(image, random_uniform([], lower, upper, seed=seed))


def random_hue(image: Any, max_delta: float, seed: Any = None) -> Tensor:
    """adjust_hue by a delta drawn from [-max_delta, max_delta); max_delta in [0, 0.5]."""
    if max_delta > 0.5:
        raise ValueError("max_delta must be <= 0.5.")
    if max_delta < 0:
        raise ValueError("max_delta must be non-negative.")
    return adjust_hue(image, random_uniform([], -max_delta, max_delta, seed=seed))


def per_image_standardization(image: Any) -> Tensor:
    """(x - mean) / max(stddev, 1/sqrt(num_pixels)) over each image's height, width and channels."""
    graph = graph_of([image])
    with graph.as_default(), graph.name_scope("per_image_standardization") as scope:
        image = convert_to_tensor(image, name="image")
        image_rank(image)
        image = cast(image, dtypes.float32)
        dims = image.shape.as_tuple()
        if dims is None or None in dims[-3:]:
            raise ValueError("per_image_standardization needs the image height, width and channels known statically")
        num_pixels = int(np.prod(dims[-3:]))
        mean = reduce_mean(image, axis=[-1, -2, -3], keepdims=True)
        stddev = sqrt(reduce_mean(square(abs_(subtract(image, mean))), axis=[-1, -2, -3], keepdims=True))
        min_stddev = constant(np.float32(1.0) / np.sqrt(np.float32(num_pixels)), dtypes.float32)
        return truediv(subtract(image, mean), maximum(stddev, min_stddev), name=scope)


_GREY_WEIGHTS = (0.2989, 0.5870, 0.1140)


def rgb_to_grayscale(images: Any, name: str | None = None) -> Tensor:
    """Luma (0.2989 R + 0.5870 G + 0.1140 B) as a 1-channel image of the same dtype."""
    graph = graph_of([images])
    with graph.as_default(), graph.name_scope(name or "rgb_to_grayscale") as scope:
        images = convert_to_tensor(images, name="images")
        flt = convert_image_dtype(images, dtypes.float32)
        weights = constant(np.asarray(_GREY_WEIGHTS, np.float32))
        grey = expand_dims(reduce_sum(multiply(flt, weights), axis=-1), -1)
        return convert_image_dtype(grey, images.dtype.base_dtype, name=scope)


def grayscale_to_rgb(images: Any, name: str | None = None) -> Tensor:
    """Repeat the single channel three times."""
    from gpugraph.ops.manip_ops import concat as concat_

    graph = graph_of([images])
    with graph.as_default(), graph.name_scope(name or "grayscale_to_rgb") as scope:
        images = convert_to_tensor(images, name="images")
        dims = images.shape.as_tuple()
        if dims is not None and len(dims) < 2:
            raise ValueError(f"A grayscale image (shape {images.shape}) must be at least two-dimensional.")
        if dims is not None and dims[-1] is not None and dims[-1] != 1:
            raise ValueError("Last dimension of a grayscale image should be size 1.")
        return concat_([images, images, images], -1, name=scope)


def rgb_to_hsv(images: Any, name: str | None = None) -> Tensor:
    """RGB (floats in [0, 1]) to HSV, hue in [0, 1)."""
    return RGB_TO_HSV(convert_to_tensor(images, name="images"), name=name)


def hsv_to_rgb(images: Any, name: str | None = None) -> Tensor:
    """HSV (floats in [0, 1]) to RGB."""
    return HSV_TO_RGB(convert_to_tensor(images, name="images"), name=name)


def image_gradients(image: Any) -> tuple[Tensor, Tensor]:
    """(dy, dx): forward differences along height and width, zero in the last row/column."""
    image = convert_to_tensor(image, name="image")
    if image.shape.ndims != 4:
        raise ValueError(f"image_gradients expects a 4D tensor [batch_size, h, w, d], not {image.shape}.")
    dy = subtract(image[:, 1:, :, :], image[:, :-1, :, :])
    dx = subtract(image[:, :, 1:, :], image[:, :, :-1, :])
    dy = concat([dy, zeros_like(image[:, :1, :, :])], 1)
    dx = concat([dx, zeros_like(image[:, :, :1, :])], 2)
    return dy, dx


def total_variation(images: Any, name: str | None = None) -> Tensor:
    """Sum of absolute differences of neighbouring pixels (per image for a 4-D batch)."""
    graph = graph_of([images])
    with graph.as_default(), graph.name_scope(name or "total_variation"):
        images = convert_to_tensor(images, name="images")
        ndims = images.shape.ndims
        if ndims == 3:
            dif1 = images[1:, :, :] - images[:-1, :, :]
            dif2 = images[:, 1:, :] - images[:, :-1, :]
            axis = None
        elif ndims == 4:
            dif1 = images[:, 1:, :, :] - images[:, :-1, :, :]
            dif2 = images[:, :, 1:, :] - images[:, :, :-1, :]
            axis = [1, 2, 3]
        else:
            raise ValueError("'images' must be either 3 or 4-dimensional.")
        return add(reduce_sum(abs_(dif1), axis=axis), reduce_sum(abs_(dif2), axis=axis))
