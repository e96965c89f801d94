"""Window geometry shared by the convolution and pooling ops: attribute checks, output sizes,
and the two array primitives every lowering is built from.

``windows`` is im2col without a gather: a strided view (N, OH, OW, KH, KW, C) of the padded NHWC
input, so one reshape copies it into a (N*OH*OW, KH*KW*C) matrix with C innermost and one matmul
does the convolution. Its adjoint (col2im) is a loop over the KH*KW taps, each a strided
slice-add (``tap``) of a whole (N, OH, OW, C) block, never a loop over pixels.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from gpugraph.framework import dtypes
from gpugraph.framework.tensor import Tensor

PADDINGS = ("SAME", "VALID", "EXPLICIT")
FORMATS = ("NHWC", "NCHW")
Dims = tuple[Any, ...]


def check_choice(op: str, attr: str, value: Any, allowed: Sequence[str]) -> None:
    if value not in allowed:
        listed = ", ".join(f'"{a}"' for a in allowed)
        raise ValueError(f"Attr '{attr}' of '{op}' Op passed string '{value}' not in: {listed}.")


def check_dtype(t: Tensor, what: str, allowed: Sequence[dtypes.DType]) -> None:
    if t.dtype.base_dtype not in allowed:
        names = ", ".join(d.name for d in allowed)
        raise TypeError(f"Value passed to parameter '{what}' has DataType {t.dtype.base_dtype.name} not in list "
                        f"of allowed values: {names}")


def rank4(t: Tensor) -> Dims | None:
    dims = t.shape.as_tuple()
    if dims is not None and len(dims) != 4:
        raise ValueError(f"Shape must be rank 4 but is rank {len(dims)}")
    return dims


def to_nhwc(dims: Dims | None, data_format: str) -> Dims:
    if dims is None:
        return (None,) * 4
    return tuple(dims) if data_format == "NHWC" else (dims[0], dims[2], dims[3], dims[1])


def from_nhwc(dims: Dims, data_format: str) -> Dims:
    return tuple(dims) if data_format == "NHWC" else (dims[0], dims[3], dims[1], dims[2])


def explicit_pairs(explicit_paddings: Sequence[int], data_format: str) -> tuple[tuple[int, int], ...]:
    """((top, bottom), (left, right)) from TF's flat 8-list in data_format order."""
    pairs = [tuple(explicit_paddings[i:i + 2]) for i in range(0, 8, 2)]
    n, h, w, c = to_nhwc(pairs, data_format)
    return h, w


def check_window_attrs(op: str, padding: str, explicit_paddings: Sequence[int], data_format: str,
                       strides: Sequence[int], dilations: Sequence[int] = (1, 1, 1, 1),
                       what: str = "strides") -> None:
    """TF1's attribute rules; stride/dilation on batch or depth (a run-time error in TF1) fails here."""
    check_choice(op, "padding", padding, PADDINGS)
    check_choice(op, "data_format", data_format, FORMATS)
    for name, values in ((what, strides), ("dilations", dilations)):
        if len(values) != 4:
            raise ValueError(f"Conv2D requires the {name} attribute to contain 4 values, but got: {len(values)}")
        n, h, w, c = to_nhwc(tuple(values), data_format)
        if n != 1 or c != 1:
            raise ValueError(f"Current implementation does not yet support {name} in the batch and depth "
                             f"dimensions.")
        if h < 1 or w < 1:
            raise ValueError(f"{name} must be positive, got {list(values)}")
    if padding == "EXPLICIT":
        if len(explicit_paddings) != 8:
            raise ValueError(f"explicit_paddings attribute must contain 8 values, but got: {len(explicit_paddings)}")
        if any(p < 0 for p in explicit_paddings):
            raise ValueError("All elements of explicit_paddings must be nonnegative")
        n, h, w, c = to_nhwc([tuple(explicit_paddings[i:i + 2]) for i in range(0, 8, 2)], data_format)
        if any(n) or any(c):
            raise ValueError("Nonzero explicit padding in the batch or depth dimensions is not supported")
    elif explicit_paddings:
        raise ValueError(f"explicit_paddings must be empty when padding is {padding}")


def out_size(size: int | None, k: int | None, stride: int, dilation: int, padding: str,
             pads: tuple[int, int] = (0, 0)) -> tuple[int | None, int, int]:
    """(output size, pad before, pad after) of one spatial axis; None where not known at build time."""
    if size is None or k is None:
        if padding == "SAME" and size is not None:
            return -(-size // stride), 0, 0
        return None, 0, 0
    dk = (k - 1) * dilation + 1
    if padding == "SAME":
        out = -(-size // stride)
        total = max((out - 1) * stride + dk - size, 0)
        return out, total // 2, total - total // 2
    before, after = pads if padding == "EXPLICIT" else (0, 0)
    span = size + before + after - dk
    if span < 0:
        raise ValueError(f"Negative dimension size caused by subtracting {dk} from {size + before + after}")
    return span // stride + 1, before, after


@dataclass(frozen=True)
class Window:
    """The geometry of one 2-D window op on an NHWC array of known shape."""

    kh: int
    kw: int
    sh: int
    sw: int
    dh: int
    dw: int
    oh: int
    ow: int
    pads: tuple[tuple[int, int], tuple[int, int]]


def window(in_nhwc: Sequence[int], kh: int, kw: int, strides: Sequence[int], dilations: Sequence[int],
           padding: str, explicit_paddings: Sequence[int], data_format: str) -> Window:
    _, sh, sw, _ = to_nhwc(tuple(strides), data_format)
    _, dh, dw, _ = to_nhwc(tuple(dilations), data_format)
    ph, pw = explicit_pairs(explicit_paddings, data_format) if padding == "EXPLICIT" else ((0, 0), (0, 0))
    oh, t, b = out_size(in_nhwc[1], kh, sh, dh, padding, ph)
    ow, left, right = out_size(in_nhwc[2], kw, sw, dw, padding, pw)
    return Window(kh, kw, sh, sw, dh, dw, oh, ow, ((t, b), (left, right)))


def nhwc(xp: Any, x: Any, data_format: str) -> Any:
    return x if data_format == "NHWC" else xp.transpose(x, (0, 2, 3, 1))


def from_nhwc_array(xp: Any, x: Any, data_format: str) -> Any:
    """Back to data_format, C-contiguous (NCHW results are copied once out of the NHWC work layout)."""
    return x if data_format == "NHWC" else xp.ascontiguousarray(xp.transpose(x, (0, 3, 1, 2)))


def pad_spatial(xp: Any, x: Any, g: Window, value: Any = 0) -> Any:
    (t, b), (left, right) = g.pads
    if not (t or b or left or right):
        return x
    return xp.pad(x, ((0, 0), (t, b), (left, right), (0, 0)), constant_values=value)


def windows(xp: Any, x: Any, g: Window, value: Any = 0) -> Any:
    """A strided view (N, OH, OW, KH, KW, C) of the padded NHWC ``x``: the im2col patches (never written)."""
    xpad = pad_spatial(xp, x, g, value)
    n, _, _, c = xpad.shape
    s0, s1, s2, s3 = xpad.strides
    shape = (n, g.oh, g.ow, g.kh, g.kw, c)
    strides = (s0, s1 * g.sh, s2 * g.sw, s1 * g.dh, s2 * g.dw, s3)
    return xp.lib.stride_tricks.as_strided(xpad, shape=shape, strides=strides)


def tap(xpad: Any, g: Window, i: int, j: int) -> Any:
    """The (N, OH, OW, C) slice of a padded NHWC array that kernel tap (i, j) reads."""
    r, c = i * g.dh, j * g.dw
    return xpad[:, r:r + g.sh * (g.oh - 1) + 1:g.sh, c:c + g.sw * (g.ow - 1) + 1:g.sw, :]


def padded_shape(in_nhwc: Sequence[int], g: Window) -> tuple[int, int, int, int]:
    (t, b), (left, right) = g.pads
    n, h, w, c = in_nhwc
    return n, h + t + b, w + left + right, c


def crop(xpad: Any, in_nhwc: Sequence[int], g: Window) -> Any:
    (t, _), (left, _) = g.pads
    return xpad[:, t:t + in_nhwc[1], left:left + in_nhwc[2], :]


def resolve_sizes(sizes: Sequence[int | None], like: Sequence[Any], batch: int, data_format: str | None) -> tuple:
    """Run-time sizes: a ``like`` input's shape if given, else ``sizes`` with the batch from ``batch``."""
    if like:
        return tuple(like[0].shape)
    if data_format is None:  # filter sizes: no batch dimension
        return tuple(sizes)
    return tuple(batch if (i == 0 and s is None) else s for i, s in enumerate(sizes))
