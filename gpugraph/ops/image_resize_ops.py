"""Image resizing: ResizeBilinear/NearestNeighbor/Bicubic/Area and the gradient ops TF1 registers.

Every resize is separable: along height and along width it is a [out, in] weight matrix built from
TF's own sampling rules (float32 scale and source positions, TF's index bounds, the legacy bicubic
coefficient table), so the forward pass and its gradient (the transposed matrices) are two
contractions on any array module. Nearest neighbour forwards as a gather, keeping the input dtype.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gpugraph.framework import dtypes
from gpugraph.framework.tensor import Operation, Tensor
from gpugraph.ops.registry import OpDef, register_op

__all__: list[str] = []

_F32 = np.float32
_TABLE_SIZE = 1024
_RESIZABLE = (dtypes.int8, dtypes.uint8, dtypes.int16, dtypes.int32, dtypes.int64, dtypes.float16,
              dtypes.float32, dtypes.float64)
_GRAD_TYPES = (dtypes.float16, dtypes.float32, dtypes.float64)


# --- sampling rules (host scalars from static sizes; arrays through xp) ---
def resize_scale(in_size: int, out_size: int, align_corners: bool) -> Any:
    """TF's CalculateResizeScale, in float32 as TF computes it."""
    if align_corners and out_size > 1:
        return _F32(in_size - 1) / _F32(out_size - 1)
    return _F32(in_size) / _F32(out_size)


def _source(xp: Any, out_size: int, scale: Any, half_pixel: bool, offset: float = 0.5) -> Any:
    o = xp.arange(out_size, dtype=_F32)
    if half_pixel:
        return (o + _F32(0.5)) * scale - _F32(offset)
    return o * scale


def _one_hot(xp: Any, index: Any, size: int) -> Any:
    return (index[:, None] == xp.arange(size)[None, :]).astype(np.float64)


def bilinear_weights(xp: Any, in_size: int, out_size: int, align: bool, half: bool) -> Any:
    src = _source(xp, out_size, resize_scale(in_size, out_size, align), half)
    floor = xp.floor(src)
    lower = xp.maximum(floor, 0).astype(np.int64)
    upper = xp.minimum(xp.ceil(src), in_size - 1).astype(np.int64)
    lerp = (src - floor).astype(np.float64)[:, None]
    return _one_hot(xp, lower, in_size) * (1 - lerp) + _one_hot(xp, upper, in_size) * lerp


def nearest_index(xp: Any, in_size: int, out_size: int, align: bool, half: bool) -> Any:
    src = _source(xp, out_size, resize_scale(in_size, out_size, align), half, offset=0.0)
    picked = xp.floor(src + _F32(0.5)) if align else xp.floor(src)  # roundf: halves away from zero
    index = xp.minimum(picked.astype(np.int64), in_size - 1)
    return xp.maximum(index, 0) if half else index


def _cubic_table(xp: Any, a: float) -> Any:
    """TF's table of Keys cubic coefficients at 1/1024 steps: columns (|x|<1 branch, 1<|x|<2 branch)."""
    x = (xp.arange(_TABLE_SIZE + 1, dtype=np.float64) / _TABLE_SIZE).astype(_F32)
    a = _F32(a)
    near = ((a + 2) * x - (a + 3)) * x * x + 1
    x = x + _F32(1)
    far = ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
    return near, far


def bicubic_weights(xp: Any, in_size: int, out_size: int, align: bool, half: bool) -> Any:
    src = _source(xp, out_size, resize_scale(in_size, out_size, align), half)
    base = xp.floor(src)
    offset = xp.rint((src - base) * _F32(_TABLE_SIZE)).astype(np.int64)
    near, far = _cubic_table(xp, -0.5 if half else -0.75)
    taps = (far[offset], near[offset], near[_TABLE_SIZE - offset], far[_TABLE_SIZE - offset])
    base = base.astype(np.int64)
    total = xp.zeros((out_size, in_size))
    kept = []
    for k, w in enumerate(taps):  # four taps, not a loop over elements
        wanted = base + (k - 1)
        index = xp.clip(wanted, 0, in_size - 1)
        w = w.astype(np.float64)
        if half:  # Keys: taps outside the image get no weight; the rest are renormalised below
            w = xp.where(index == wanted, w, 0.0)
        kept.append(w)
        total = total + _one_hot(xp, index, in_size) * w[:, None]
    if half:
        norm = kept[0] + kept[1] + kept[2] + kept[3]
        total = total / xp.where(xp.abs(norm) > 0, norm, 1.0)[:, None]
    return total


def area_weights(xp: Any, in_size: int, out_size: int, align: bool, half: bool = False) -> Any:
    scale = resize_scale(in_size, out_size, align)
    o = xp.arange(out_size, dtype=_F32)
    start, stop = (o * scale).astype(np.float64), ((o + 1) * scale).astype(np.float64)
    cols = 2 * in_size + 2  # align_corners sources reach at most 2 * (in - 1)
    i = xp.arange(cols, dtype=np.float64)[None, :]
    overlap = xp.clip(xp.minimum(i + 1, stop[:, None]) - xp.maximum(i, start[:, None]), 0.0, None)
    inside = overlap[:, :in_size]
    inside[:, in_size - 1] += overlap[:, in_size:].sum(axis=1)  # TF bounds indices past the edge
    return inside / scale.astype(np.float64)


WEIGHTS = {"bilinear": bilinear_weights, "bicubic": bicubic_weights, "area": area_weights}


def _matrices(xp: Any, kind: str, in_hw: tuple[int, int], out_hw: tuple[int, int], align: bool,
              half: bool) -> tuple[Any, Any]:
    if kind == "nearest":
        return tuple(_one_hot(xp, nearest_index(xp, i, o, align, half), i)  # type: ignore[return-value]
                     for i, o in zip(in_hw, out_hw))
    return tuple(WEIGHTS[kind](xp, i, o, align, half) for i, o in zip(in_hw, out_hw))  # type: ignore[return-value]


def apply_weights(xp: Any, x: Any, wh: Any, ww: Any) -> Any:
    """out[n,h,w,c] = sum over H,W of wh[h,H] x[n,H,W,c] ww[w,W], in float64."""
    t = xp.tensordot(x.astype(np.float64), wh, axes=([1], [1]))  # n, W, c, h
    t = xp.tensordot(t, ww, axes=([1], [1]))  # n, c, h, w
    return xp.transpose(t, (0, 2, 3, 1))


# --- shape inference ---
def _image_dims(images: Tensor, what: str = "images") -> tuple[Any, ...]:
    dims = images.shape.as_tuple()
    if dims is None:
        return (None,) * 4
    if len(dims) != 4:
        raise ValueError(f"Shape must be rank 4 but is rank {len(dims)} ({what})")
    return dims


def _check_type(t: Tensor, allowed: tuple[dtypes.DType, ...], what: str) -> None:
    if t.dtype.base_dtype not in allowed:
        names = ", ".join(d.name for d in allowed)
        raise TypeError(f"Value passed to parameter '{what}' has DataType {t.dtype.base_dtype.name} not in list "
                        f"of allowed values: {names}")


def _check_centers(align_corners: bool, half_pixel_centers: bool) -> None:
    if align_corners and half_pixel_centers:
        raise ValueError("If half_pixel_centers is True, align_corners must be False.")


def _resize_infer(images: Tensor, *, size: tuple[int, int], align_corners: bool, half_pixel_centers: bool,
                  kind: str) -> Any:
    _check_type(images, _RESIZABLE, "images")
    _check_centers(align_corners, half_pixel_centers)
    n, _, _, c = _image_dims(images)
    dtype = images.dtype.base_dtype if kind == "nearest" else dtypes.float32
    return (n, size[0], size[1], c), dtype


def _resize_impl(xp: Any, images: Any, *, size: tuple[int, int], align_corners: bool, half_pixel_centers: bool,
                 kind: str) -> Any:
    in_hw = images.shape[1:3]
    if kind == "nearest":
        rows = nearest_index(xp, in_hw[0], size[0], align_corners, half_pixel_centers)
        cols = nearest_index(xp, in_hw[1], size[1], align_corners, half_pixel_centers)
        return xp.take(xp.take(images, rows, axis=1), cols, axis=2)
    wh, ww = _matrices(xp, kind, in_hw, size, align_corners, half_pixel_centers)
    return apply_weights(xp, images, wh, ww).astype(_F32)


def _grad_infer(grads: Tensor, original: Tensor, *, align_corners: bool, half_pixel_centers: bool,
                kind: str) -> Any:
    _check_type(original, _GRAD_TYPES, "original_image")
    _check_centers(align_corners, half_pixel_centers)
    g, o = _image_dims(grads, "grads"), _image_dims(original, "original_image")
    return (g[0] if g[0] is not None else o[0], o[1], o[2], g[3] if g[3] is not None else o[3]), \
        original.dtype.base_dtype


def _grad_impl(xp: Any, grads: Any, original: Any, *, align_corners: bool, half_pixel_centers: bool,
               kind: str) -> Any:
    wh, ww = _matrices(xp, kind, original.shape[1:3], grads.shape[1:3], align_corners, half_pixel_centers)
    return apply_weights(xp, grads, wh.T, ww.T).astype(original.dtype)


def _nn_grad_infer(grads: Tensor, *, size: tuple[int, int], align_corners: bool, half_pixel_centers: bool) -> Any:
    _check_type(grads, _RESIZABLE, "grads")
    _check_centers(align_corners, half_pixel_centers)
    n, _, _, c = _image_dims(grads, "grads")
    return (n, size[0], size[1], c), grads.dtype.base_dtype


def _nn_grad_impl(xp: Any, grads: Any, *, size: tuple[int, int], align_corners: bool,
                  half_pixel_centers: bool) -> Any:
    wh, ww = _matrices(xp, "nearest", size, grads.shape[1:3], align_corners, half_pixel_centers)
    return apply_weights(xp, grads, wh.T, ww.T).astype(grads.dtype)


def _attrs(op: Operation) -> dict[str, Any]:
    return {"align_corners": op.get_attr("align_corners"), "half_pixel_centers": op.get_attr("half_pixel_centers")}


def _forward_grad(grad_op: OpDef) -> Any:
    def grad(op: Operation, dy: Tensor) -> list[Any]:
        return [grad_op(dy, op.inputs[0], **_attrs(op), kind=op.get_attr("kind"))]
    return grad


def _grad_of_grad(op: Operation, dy: Tensor) -> list[Any]:
    """Resize grads are linear in ``grads``: their gradient is the forward resize (then the grads dtype)."""
    from gpugraph.ops.math_ops import cast

    dims = op.inputs[0].shape.as_tuple()
    forward = RESIZE_OPS[op.get_attr("kind")]
    size = tuple(op.inputs[0].shape.as_tuple()[1:3]) if dims is not None else None
    if size is None or None in size:
        raise ValueError(f"{op.name}: the second derivative needs a statically known grads size")
    out = forward(dy, size=size, **_attrs(op), kind=op.get_attr("kind"))
    return [cast(out, op.inputs[0].dtype.base_dtype), None]


def _sample(kind: str, grad: bool = False) -> Any:
    modes = [(False, False), (True, False)] + ([] if kind == "area" else [(False, True)])

    def sample(rng: np.random.Generator) -> list[Any]:
        out = []
        for (align, half), (in_hw, size) in zip(modes, [((3, 4), (5, 3)), ((4, 5), (2, 7)), ((5, 3), (3, 6))]):
            attrs = {"align_corners": align, "half_pixel_centers": half, "kind": kind}
            image = rng.uniform(-1, 1, (2, *in_hw, 2))
            if grad:
                out.append(([rng.standard_normal((2, *size, 2)), image], attrs))
            else:
                out.append(([image], {"size": size, **attrs}))
        return out
    return sample


def _nn_grad_sample(rng: np.random.Generator) -> list[Any]:
    modes = [((1, 5, 3, 2), (3, 4), False, False), ((2, 2, 7, 1), (4, 5), True, False),
             ((1, 3, 6, 2), (5, 3), False, True)]
    return [([rng.standard_normal(shape)], {"size": size, "align_corners": align, "half_pixel_centers": half})
            for shape, size, align, half in modes]


def _grad_op(name: str, kind: str) -> OpDef:
    return register_op(OpDef(name, infer=_grad_infer, impl=_grad_impl, grad=_grad_of_grad, same_dtype=False,
                             input_names=("grads", "original_image"), sample=_sample(kind, grad=True)))


RESIZE_BILINEAR_GRAD = _grad_op("ResizeBilinearGrad", "bilinear")
RESIZE_BICUBIC_GRAD = _grad_op("ResizeBicubicGrad", "bicubic")


def _nn_grad_of_grad(op: Operation, dy: Tensor) -> list[Any]:
    return [RESIZE_NEAREST_NEIGHBOR(dy, size=tuple(op.inputs[0].shape.as_tuple()[1:3]), **_attrs(op),
                                    kind="nearest")]


RESIZE_NEAREST_NEIGHBOR_GRAD = register_op(OpDef(
    "ResizeNearestNeighborGrad", infer=_nn_grad_infer, impl=_nn_grad_impl, grad=_nn_grad_of_grad,
    input_names=("grads",), sample=_nn_grad_sample,
))


def _nn_grad(op: Operation, dy: Tensor) -> list[Any]:
    size = op.inputs[0].shape.as_tuple()
    if size is None or None in size[1:3]:
        raise ValueError(f"{op.name}: the gradient needs the input's height and width known statically")
    return [RESIZE_NEAREST_NEIGHBOR_GRAD(dy, size=tuple(size[1:3]), **_attrs(op))]


def _resize_op(name: str, kind: str, grad: Any) -> OpDef:
    return register_op(OpDef(name, infer=_resize_infer, impl=_resize_impl, grad=grad, input_names=("images",),
                             sample=_sample(kind)))


RESIZE_BILINEAR = _resize_op("ResizeBilinear", "bilinear", _forward_grad(RESIZE_BILINEAR_GRAD))
RESIZE_BICUBIC = _resize_op("ResizeBicubic", "bicubic", _forward_grad(RESIZE_BICUBIC_GRAD))
RESIZE_NEAREST_NEIGHBOR = _resize_op("ResizeNearestNeighbor", "nearest", _nn_grad)
RESIZE_AREA = _resize_op("ResizeArea", "area", None)  # TF1 registers no gradient for ResizeArea

RESIZE_OPS = {"bilinear": RESIZE_BILINEAR, "bicubic": RESIZE_BICUBIC, "nearest": RESIZE_NEAREST_NEIGHBOR,
              "area": RESIZE_AREA}
