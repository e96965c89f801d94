"""Rearranging ops: SpaceToDepth / DepthToSpace and SpaceToBatchND / BatchToSpaceND.

Each pair is a reshape-transpose-reshape and its inverse, so each op's gradient is the other op.
block_shape, paddings and crops are static attributes here (TF1 takes int tensors; the tf.*
wrappers read constant tensors), which lets shapes be inferred and lowerings stay copy-only.
NCHW SpaceToDepth/DepthToSpace are the NHWC mapping on the channels-last view, as in TF.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from gpugraph.framework.tensor import Operation, Tensor
from gpugraph.ops import conv_geometry as geo
from gpugraph.ops.registry import OpDef, register_op


def _block_infer(op: str, to_depth: bool) -> Any:
    def infer(x: Tensor, *, block_size: int, data_format: str) -> Any:
        geo.check_choice(op, "data_format", data_format, ("NHWC", "NCHW"))
        if block_size < 2:
            raise ValueError(f"Attr 'block_size' of '{op}' Op has value {block_size} that is less than 2")
        n, h, w, c = geo.to_nhwc(geo.rank4(x), data_format)
        if to_depth:
            for d in (h, w):
                if d is not None and d % block_size:
                    raise ValueError(f"Dimension size must be evenly divisible by {block_size} but is {d}")
            out = (n, _div(h, block_size), _div(w, block_size), _mul(c, block_size * block_size))
        else:
            if c is not None and c % (block_size * block_size):
                raise ValueError(f"Dimension size must be evenly divisible by {block_size * block_size} but is {c}")
            out = (n, _mul(h, block_size), _mul(w, block_size), _div(c, block_size * block_size))
        return geo.from_nhwc(out, data_format), x.dtype.base_dtype
    return infer


def _div(d: Any, b: int) -> Any:
    return None if d is None else d // b


def _mul(d: Any, b: int) -> Any:
    return None if d is None else d * b


def _space_to_depth_impl(xp: Any, x: Any, *, block_size: int, data_format: str) -> Any:
    xn = geo.nhwc(xp, x, data_format)
    n, h, w, c = xn.shape
    b = block_size
    y = xn.reshape(n, h // b, b, w // b, b, c).transpose(0, 1, 3, 2, 4, 5).reshape(n, h // b, w // b, b * b * c)
    return geo.from_nhwc_array(xp, y, data_format)


def _depth_to_space_impl(xp: Any, x: Any, *, block_size: int, data_format: str) -> Any:
    xn = geo.nhwc(xp, x, data_format)
    n, h, w, c = xn.shape
    b = block_size
    y = xn.reshape(n, h, w, b, b, c // (b * b)).transpose(0, 1, 3, 2, 4, 5).reshape(n, h * b, w * b, c // (b * b))
    return geo.from_nhwc_array(xp, y, data_format)


def _block_attrs(op: Operation) -> dict[str, Any]:
    return {"block_size": op.get_attr("block_size"), "data_format": op.get_attr("data_format")}


def _block_sample(to_depth: bool) -> Any:
    def sample(rng: np.random.Generator) -> list[Any]:
        if to_depth:
            return [([rng.standard_normal((2, 4, 6, 3))], {"block_size": 2, "data_format": "NHWC"}),
                    ([rng.standard_normal((1, 2, 3, 6))], {"block_size": 3, "data_format": "NCHW"})]
        return [([rng.standard_normal((2, 2, 3, 8))], {"block_size": 2, "data_format": "NHWC"}),
                ([rng.standard_normal((1, 18, 2, 1))], {"block_size": 3, "data_format": "NCHW"})]
    return sample


SPACE_TO_DEPTH = register_op(OpDef(
    "SpaceToDepth", infer=_block_infer("SpaceToDepth", True), impl=_space_to_depth_impl, input_names=("input",),
    grad=lambda op, dy: [DEPTH_TO_SPACE(dy, **_block_attrs(op))], sample=_block_sample(True),
))
DEPTH_TO_SPACE = register_op(OpDef(
    "DepthToSpace", infer=_block_infer("DepthToSpace", False), impl=_depth_to_space_impl, input_names=("input",),
    grad=lambda op, dy: [SPACE_TO_DEPTH(dy, **_block_attrs(op))], sample=_block_sample(False),
))


# --- SpaceToBatchND / BatchToSpaceND ---
def _check_block(op: str, x: Tensor, block_shape: Any, pairs: Any, what: str) -> tuple[Any, ...] | None:
    m = len(block_shape)
    if m < 1:
        raise ValueError(f"{op}: block_shape must have at least one element")
    if any(b < 1 for b in block_shape):
        raise ValueError(f"{op}: block_shape must be positive, got {list(block_shape)}")
    if len(pairs) != m or any(len(p) != 2 for p in pairs):
        raise ValueError(f"{op}: {what} must have shape [{m}, 2], got {[list(p) for p in pairs]}")
    if any(v < 0 for p in pairs for v in p):
        raise ValueError(f"{op}: {what} must be non-negative, got {[list(p) for p in pairs]}")
    dims = x.shape.as_tuple()
    if dims is not None and len(dims) < m + 1:
        raise ValueError(f"{op}: input rank should be > block rank ({m}), got {len(dims)}")
    return dims


def _s2b_infer(x: Tensor, *, block_shape: Any, paddings: Any) -> Any:
    dims = _check_block("SpaceToBatchND", x, block_shape, paddings, "paddings")
    if dims is None:
        return x.shape, x.dtype.base_dtype
    spatial = []
    for d, b, (lo, hi) in zip(dims[1:], block_shape, paddings):
        if d is not None and (d + lo + hi) % b:
            raise ValueError(f"padded_shape[{len(spatial)}]={d + lo + hi} is not divisible by block_shape"
                             f"[{len(spatial)}]={b}")
        spatial.append(None if d is None else (d + lo + hi) // b)
    batch = None if dims[0] is None else dims[0] * math.prod(block_shape)
    return (batch, *spatial, *dims[len(block_shape) + 1:]), x.dtype.base_dtype


def _b2s_infer(x: Tensor, *, block_shape: Any, crops: Any) -> Any:
    dims = _check_block("BatchToSpaceND", x, block_shape, crops, "crops")
    if dims is None:
        return x.shape, x.dtype.base_dtype
    total = math.prod(block_shape)
    if dims[0] is not None and dims[0] % total:
        raise ValueError(f"Input batch dimension ({dims[0]}) is not divisible by product of block sizes ({total})")
    spatial = []
    for d, b, (lo, hi) in zip(dims[1:], block_shape, crops):
        size = None if d is None else d * b - lo - hi
        if size is not None and size < 0:
            raise ValueError(f"Negative output dimension size caused by crops {lo}, {hi} of {d * b}")
        spatial.append(size)
    batch = None if dims[0] is None else dims[0] // total
    return (batch, *spatial, *dims[len(block_shape) + 1:]), x.dtype.base_dtype


def _s2b_impl(xp: Any, x: Any, *, block_shape: Any, paddings: Any) -> Any:
    m = len(block_shape)
    rest = x.shape[m + 1:]
    xpad = xp.pad(x, ((0, 0), *[tuple(p) for p in paddings], *[(0, 0)] * len(rest)))
    n = x.shape[0]
    split: list[int] = [n]
    for d, b in zip(xpad.shape[1:m + 1], block_shape):
        split += [d // b, b]
    y = xpad.reshape(*split, *rest)
    # (n, d1, b1, d2, b2, ..., rest) -> (b1, b2, ..., n, d1, d2, ..., rest)
    perm = [2 + 2 * i for i in range(m)] + [0] + [1 + 2 * i for i in range(m)] + list(range(2 * m + 1, y.ndim))
    out = y.transpose(perm)
    return xp.ascontiguousarray(out).reshape(n * math.prod(block_shape), *split[1::2], *rest)


def _b2s_impl(xp: Any, x: Any, *, block_shape: Any, crops: Any) -> Any:
    m = len(block_shape)
    rest = x.shape[m + 1:]
    n = x.shape[0] // math.prod(block_shape)
    spatial = x.shape[1:m + 1]
    y = x.reshape(*block_shape, n, *spatial, *rest)
    # (b1, ..., bm, n, d1, ..., dm, rest) -> (n, d1, b1, d2, b2, ..., rest)
    perm = [m]
    for i in range(m):
        perm += [m + 1 + i, i]
    perm += list(range(2 * m + 1, y.ndim))
    full = xp.ascontiguousarray(y.transpose(perm)).reshape(n, *(d * b for d, b in zip(spatial, block_shape)), *rest)
    index = tuple(slice(lo, full.shape[1 + i] - hi) for i, (lo, hi) in enumerate(crops))
    return full[(slice(None), *index)]


SPACE_TO_BATCH_ND = register_op(OpDef(
    "SpaceToBatchND", infer=_s2b_infer, impl=_s2b_impl, input_names=("input",),
    grad=lambda op, dy: [BATCH_TO_SPACE_ND(dy, block_shape=op.get_attr("block_shape"),
                                           crops=op.get_attr("paddings"))],
    sample=lambda rng: [([rng.standard_normal((2, 4, 3, 2))], {"block_shape": (2, 3), "paddings": ((0, 0), (1, 2))}),
                        ([rng.standard_normal((1, 5, 2))], {"block_shape": (3,), "paddings": ((1, 0),)})],
))
BATCH_TO_SPACE_ND = register_op(OpDef(
    "BatchToSpaceND", infer=_b2s_infer, impl=_b2s_impl, input_names=("input",),
    grad=lambda op, dy: [SPACE_TO_BATCH_ND(dy, block_shape=op.get_attr("block_shape"),
                                           paddings=op.get_attr("crops"))],
    sample=lambda rng: [([rng.standard_normal((12, 2, 2, 2))], {"block_shape": (2, 3), "crops": ((0, 1), (2, 1))}),
                        ([rng.standard_normal((3, 2, 2))], {"block_shape": (3,), "crops": ((1, 0),)})],
))
