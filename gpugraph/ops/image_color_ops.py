"""Colour ops of TF1's image kernels: RGBToHSV, HSVToRGB, AdjustContrastv2, AdjustHue, AdjustSaturation.

Elementwise over the last (channel) axis with TF's own formulas (the Eigen RGB/HSV functors, and
the per-pixel HSV round trip of the adjust kernels), so values match TF's to float rounding.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gpugraph.framework import dtypes
from gpugraph.framework.tensor import Tensor
from gpugraph.ops.registry import NO_GRADIENT, OpDef, register_op

__all__: list[str] = []

_FLOATS = (dtypes.float16, dtypes.float32, dtypes.float64)


def _check_rgb(images: Tensor, allowed: tuple[dtypes.DType, ...] = _FLOATS, what: str = "images") -> Any:
    if images.dtype.base_dtype not in allowed:
        names = ", ".join(d.name for d in allowed)
        raise TypeError(f"Value passed to parameter '{what}' has DataType {images.dtype.base_dtype.name} not in "
                        f"list of allowed values: {names}")
    dims = images.shape.as_tuple()
    if dims is not None:
        if not dims:
            raise ValueError("Shape must be at least rank 1 but is rank 0")
        if dims[-1] is not None and dims[-1] != 3:
            raise ValueError(f"Dimension must be 3 but is {dims[-1]}")
    return images.shape, images.dtype.base_dtype


def _channels(x: Any) -> tuple[Any, Any, Any]:
    return x[..., 0], x[..., 1], x[..., 2]


def _rgb_to_hsv(xp: Any, x: Any) -> tuple[Any, Any, Any]:
    """TF's RGBToHSV functor: hue in [0, 1), 0 for grey pixels."""
    r, g, b = _channels(x)
    v = xp.maximum(xp.maximum(r, g), b)
    rng = v - xp.minimum(xp.minimum(r, g), b)
    one = x.dtype.type(1)
    s = xp.where(v > 0, rng / xp.where(v > 0, v, one), 0).astype(x.dtype)
    norm = (one / xp.where(rng > 0, rng, one)) * (one / x.dtype.type(6))
    h = xp.where(r == v, norm * (g - b),
                 xp.where(g == v, norm * (b - r) + x.dtype.type(2) / 6, norm * (r - g) + x.dtype.type(4) / 6))
    h = xp.where(rng > 0, h, 0)
    h = xp.where(h < 0, h + 1, h).astype(x.dtype)
    return h, s, v


def _hsv_to_rgb(xp: Any, h: Any, s: Any, v: Any) -> Any:
    """TF's HSVToRGB functor."""
    dh = h * 6
    dr = xp.clip(xp.abs(dh - 3) - 1, 0, 1)
    dg = xp.clip(2 - xp.abs(dh - 2), 0, 1)
    db = xp.clip(2 - xp.abs(dh - 4), 0, 1)
    one_s = 1 - s
    return xp.stack([(one_s + s * dr) * v, (one_s + s * dg) * v, (one_s + s * db) * v], axis=-1)


def _rgb_to_hsv_impl(xp: Any, images: Any) -> Any:
    return xp.stack(_rgb_to_hsv(xp, images), axis=-1).astype(images.dtype)


def _hsv_to_rgb_impl(xp: Any, images: Any) -> Any:
    return _hsv_to_rgb(xp, *_channels(images)).astype(images.dtype)


def _kernel_hsv(xp: Any, x: Any) -> tuple[Any, Any, Any]:
    """rgb_to_hsv of the adjust kernels (float32, 1 / (6 * range))."""
    r, g, b = _channels(x)
    v = xp.maximum(xp.maximum(r, g), b)
    rng = v - xp.minimum(xp.minimum(r, g), b)
    s = xp.where(v > 0, rng / xp.where(v > 0, v, 1), 0)
    norm = 1 / (6 * xp.where(rng > 0, rng, 1))
    h = xp.where(r == v, norm * (g - b), xp.where(g == v, norm * (b - r) + 2 / 6, norm * (r - g) + 4 / 6))
    h = xp.where(rng > 0, h, 0)
    return xp.where(h < 0, h + 1, h), s, v


def _kernel_rgb(xp: Any, h: Any, s: Any, v: Any) -> Any:
    """hsv_to_rgb of the adjust kernels: six hue sectors, value offset m = v - s*v."""
    c = s * v
    m = v - c
    dh = h * 6
    sector = xp.floor(dh)  # int cast of a non-negative value
    x = c * (1 - xp.abs(xp.mod(dh, 2) - 1))
    zero = xp.zeros_like(c)
    r = xp.select([sector == 0, sector == 1, sector == 2, sector == 3, sector == 4, sector == 5],
                  [c, x, zero, zero, x, c], zero)
    g = xp.select([sector == 0, sector == 1, sector == 2, sector == 3, sector == 4, sector == 5],
                  [x, c, c, x, zero, zero], zero)
    b = xp.select([sector == 0, sector == 1, sector == 2, sector == 3, sector == 4, sector == 5],
                  [zero, zero, x, c, c, x], zero)
    return xp.stack([r + m, g + m, b + m], axis=-1)


def _adjust_hue_impl(xp: Any, images: Any, delta: Any) -> Any:
    x = images.astype(np.float32)
    h, s, v = _kernel_hsv(xp, x)
    h = xp.fmod(h + delta.astype(np.float32), np.float32(1))
    h = xp.where(h < 0, h + 1, h)
    return _kernel_rgb(xp, h, s, v).astype(images.dtype)


def _adjust_saturation_impl(xp: Any, images: Any, scale: Any) -> Any:
    x = images.astype(np.float32)
    h, s, v = _kernel_hsv(xp, x)
    s = xp.clip(s * scale.astype(np.float32), 0, 1)
    return _kernel_rgb(xp, h, s, v).astype(images.dtype)


def _adjust_contrast_impl(xp: Any, images: Any, factor: Any) -> Any:
    x = images.astype(np.float32)
    mean = x.mean(axis=(-3, -2), keepdims=True, dtype=np.float64).astype(np.float32)
    return ((x - mean) * factor.astype(np.float32) + mean).astype(images.dtype)


def _scalar_arg(t: Tensor, what: str) -> None:
    if t.shape.ndims not in (None, 0):
        raise ValueError(f"Shape must be rank 0 but is rank {t.shape.ndims} ({what})")


def _adjust_infer(images: Tensor, amount: Tensor, *, rgb: bool = True, what: str = "delta") -> Any:
    _scalar_arg(amount, what)
    if amount.dtype.base_dtype != dtypes.float32:
        raise TypeError(f"Input '{what}' must be float32, got {amount.dtype.base_dtype.name}")
    allowed = (dtypes.float16, dtypes.float32)
    if rgb:
        _check_rgb(images, allowed)
    elif images.dtype.base_dtype not in allowed:
        _check_rgb(images, allowed)
    dims = images.shape.as_tuple()
    if dims is not None and len(dims) < 3:
        raise ValueError(f"input must be at least 3-D, got shape {images.shape}")
    return images.shape, images.dtype.base_dtype


def _image_sample(rng: np.random.Generator) -> list[Any]:
    return [([rng.uniform(0, 1, (4, 5, 3))], {}), ([rng.uniform(0, 1, (2, 3, 2, 3))], {})]


def _adjust_sample(lo: float, hi: float) -> Any:
    return lambda rng: [([rng.uniform(0, 1, (4, 5, 3)).astype(np.float32), np.float32(rng.uniform(lo, hi))], {}),
                        ([rng.uniform(0, 1, (2, 3, 2, 3)).astype(np.float32), np.float32(rng.uniform(lo, hi))], {})]


RGB_TO_HSV = register_op(OpDef("RGBToHSV", infer=_check_rgb, impl=_rgb_to_hsv_impl, input_names=("images",),
                               sample=_image_sample))
HSV_TO_RGB = register_op(OpDef("HSVToRGB", infer=_check_rgb, impl=_hsv_to_rgb_impl, grad=NO_GRADIENT,
                               input_names=("images",), sample=_image_sample))
ADJUST_HUE = register_op(OpDef(
    "AdjustHue", infer=lambda i, d: _adjust_infer(i, d, what="delta"), impl=_adjust_hue_impl, same_dtype=False,
    input_names=("images", "delta"), sample=_adjust_sample(-1, 1)))
ADJUST_SATURATION = register_op(OpDef(
    "AdjustSaturation", infer=lambda i, s: _adjust_infer(i, s, what="scale"), impl=_adjust_saturation_impl,
    same_dtype=False, input_names=("images", "scale"), sample=_adjust_sample(0, 2)))
ADJUST_CONTRAST = register_op(OpDef(
    "AdjustContrastv2", infer=lambda i, f: _adjust_infer(i, f, rgb=False, what="contrast_factor"),
    impl=_adjust_contrast_impl, same_dtype=False, input_names=("images", "contrast_factor"),
    sample=_adjust_sample(0, 2)))
