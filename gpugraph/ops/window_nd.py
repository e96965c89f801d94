"""Window geometry over any number of spatial dimensions (used by the 3-D convolution and pooling ops).

The same two primitives as conv_geometry.py, for channels-last arrays (N, *spatial, C): ``windows``
is a strided view (N, *out, *kernel, C) of the padded input (im2col without a gather), and ``tap``
is the (N, *out, C) slice that one kernel offset reads, so adjoints are one strided slice-add per
tap. Output sizes and padding come from conv_geometry.out_size, one axis at a time.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any, Iterator, Sequence

from gpugraph.ops import conv_geometry as geo

FORMATS_3D = ("NDHWC", "NCDHW")


def to_last(dims: Sequence[Any] | None, data_format: str, rank: int = 5) -> tuple[Any, ...]:
    """Dims (or per-dim attrs) from data_format order to channels-last order."""
    if dims is None:
        return (None,) * rank
    dims = tuple(dims)
    return dims if not data_format.startswith("NC") else (dims[0], *dims[2:], dims[1])


def from_last(dims: Sequence[Any], data_format: str) -> tuple[Any, ...]:
    dims = tuple(dims)
    return dims if not data_format.startswith("NC") else (dims[0], dims[-1], *dims[1:-1])


def last_array(xp: Any, x: Any, data_format: str) -> Any:
    if not data_format.startswith("NC"):
        return x
    return xp.transpose(x, (0, *range(2, x.ndim), 1))


def from_last_array(xp: Any, x: Any, data_format: str) -> Any:
    if not data_format.startswith("NC"):
        return x
    return xp.ascontiguousarray(xp.transpose(x, (0, x.ndim - 1, *range(1, x.ndim - 1))))


def check_attrs(op: str, padding: str, data_format: str, named: dict[str, Sequence[int]],
                formats: Sequence[str] = FORMATS_3D) -> None:
    """TF1's rules: SAME/VALID, a known format, full-length lists with 1 on batch and channels."""
    geo.check_choice(op, "padding", padding, ("SAME", "VALID"))
    geo.check_choice(op, "data_format", data_format, formats)
    rank = len(formats[0])
    for name, values in named.items():
        if len(values) != rank:
            raise ValueError(f"{op} requires the {name} attribute to contain {rank} values, but got: {len(values)}")
        last = to_last(values, data_format, rank)
        if last[0] != 1 or last[-1] != 1:
            raise ValueError(f"{op}: {name} in the batch and depth dimensions must be 1 (got {list(values)})")
        if any(v < 1 for v in last[1:-1]):
            raise ValueError(f"{op}: {name} must be positive, got {list(values)}")


@dataclass(frozen=True)
class WindowND:
    """The geometry of one window op on a channels-last array of known shape."""

    kernel: tuple[int, ...]
    strides: tuple[int, ...]
    dilations: tuple[int, ...]
    out: tuple[int, ...]
    pads: tuple[tuple[int, int], ...]

    def taps(self) -> Iterator[tuple[int, ...]]:
        return itertools.product(*(range(k) for k in self.kernel))


def out_spatial(spatial: Sequence[Any], kernel: Sequence[Any], strides: Sequence[int], dilations: Sequence[int],
                padding: str) -> tuple[Any, ...]:
    return tuple(geo.out_size(n, k, s, d, padding)[0] for n, k, s, d in zip(spatial, kernel, strides, dilations))


def window(in_last: Sequence[int], kernel: Sequence[int], strides: Sequence[int], dilations: Sequence[int],
           padding: str) -> WindowND:
    """Geometry from channels-last input dims and spatial kernel/strides/dilations."""
    sizes = [geo.out_size(n, k, s, d, padding) for n, k, s, d in zip(in_last[1:-1], kernel, strides, dilations)]
    return WindowND(tuple(kernel), tuple(strides), tuple(dilations), tuple(o for o, _, _ in sizes),
                    tuple((b, a) for _, b, a in sizes))


def pad(xp: Any, x: Any, g: WindowND, value: Any = 0) -> Any:
    if not any(b or a for b, a in g.pads):
        return x
    return xp.pad(x, ((0, 0), *g.pads, (0, 0)), constant_values=value)


def padded_shape(in_last: Sequence[int], g: WindowND) -> tuple[int, ...]:
    return (in_last[0], *(n + b + a for n, (b, a) in zip(in_last[1:-1], g.pads)), in_last[-1])


def crop(xpad: Any, in_last: Sequence[int], g: WindowND) -> Any:
    index = tuple(slice(b, b + n) for n, (b, _) in zip(in_last[1:-1], g.pads))
    return xpad[(slice(None), *index, slice(None))]


def windows(xp: Any, x: Any, g: WindowND, value: Any = 0) -> Any:
    """A strided view (N, *out, *kernel, C) of the padded ``x``: the im2col patches (never written)."""
    xpad = pad(xp, x, g, value)
    st = xpad.strides
    spatial = st[1:-1]
    shape = (xpad.shape[0], *g.out, *g.kernel, xpad.shape[-1])
    strides = (st[0], *(s * k for s, k in zip(spatial, g.strides)), *(s * d for s, d in zip(spatial, g.dilations)),
               st[-1])
    return xp.lib.stride_tricks.as_strided(xpad, shape=shape, strides=strides)


def tap(xpad: Any, g: WindowND, offset: Sequence[int]) -> Any:
    """The (N, *out, C) slice of a padded channels-last array that kernel tap ``offset`` reads."""
    index = tuple(slice(i * d, i * d + s * (o - 1) + 1, s)
                  for i, d, s, o in zip(offset, g.dilations, g.strides, g.out))
    return xpad[(slice(None), *index, slice(None))]
