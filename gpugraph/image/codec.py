"""tf.image codecs: PNG/JPEG decoding and encoding of string tensors (host ops)."""

from __future__ import annotations

from typing import Any

from gpugraph.framework import dtypes
from gpugraph.framework.tensor import Tensor
from gpugraph.ops.constant_ops import convert_to_tensor
from gpugraph.ops.image_codec_ops import DECODE_IMAGE, DECODE_JPEG, DECODE_PNG, ENCODE_JPEG, ENCODE_PNG
from gpugraph.ops.registry import graph_of


_PNG_TYPES = tuple(d for d in (dtypes.uint8, getattr(dtypes, "uint16", None)) if d is not None)


def _contents(contents: Any) -> Tensor:
    return convert_to_tensor(contents, dtype=dtypes.string, name="contents")


def decode_png(contents: Any, channels: int = 0, dtype: Any = dtypes.uint8, name: str | None = None) -> Tensor:
    """Decode a PNG string to a [height, width, channels] uint8 (or uint16) image."""
    dtype = dtypes.as_dtype(dtype).base_dtype
    if dtype not in _PNG_TYPES:
        raise TypeError(f"Value for attr 'dtype' of {dtype.name} is not in the list of allowed values: uint8, uint16")
    with graph_of([contents]).as_default():
        return DECODE_PNG(_contents(contents), name=name, channels=int(channels), dtype=dtype)


def decode_jpeg(contents: Any, channels: int = 0, ratio: int = 1, fancy_upscaling: bool = True,
                try_recover_truncated: bool = False, acceptable_fraction: float = 1, dct_method: str = "",
                name: str | None = None) -> Tensor:
    """Decode a JPEG string to a [height, width, channels] uint8 image."""
    if ratio not in (1, 2, 4, 8):
        raise ValueError(f"ratio must be 1, 2, 4, or 8, got {ratio}")
    with graph_of([contents]).as_default():
        return DECODE_JPEG(_contents(contents), name=name, channels=int(channels), ratio=int(ratio),
                           fancy_upscaling=bool(fancy_upscaling), try_recover_truncated=bool(try_recover_truncated),
                           acceptable_fraction=float(acceptable_fraction), dct_method=str(dct_method))


def decode_image(contents: Any, channels: Any = None, dtype: Any = dtypes.uint8, name: str | None = None,
                 expand_animations: bool = True) -> Tensor:
    """Decode PNG, JPEG, GIF or BMP; GIFs are [frames, h, w, 3] unless expand_animations=False."""
    dtype = dtypes.as_dtype(dtype).base_dtype
    graph = graph_of([contents])
    with graph.as_default(), graph.name_scope(name or "decode_image"):
        return DECODE_IMAGE(_contents(contents), name="DecodeImage", channels=int(channels or 0), dtype=dtype,
                            expand_animations=bool(expand_animations))


def encode_png(image: Any, compression: int = -1, name: str | None = None) -> Tensor:
    """PNG bytes of a [height, width, channels] uint8/uint16 image."""
    with graph_of([image]).as_default():
        return ENCODE_PNG(convert_to_tensor(image, name="image"), name=name, compression=int(compression))


def encode_jpeg(image: Any, format: str = "", quality: int = 95, progressive: bool = False,  # noqa: A002
                optimize_size: bool = False, chroma_downsampling: bool = True, density_unit: str = "in",
                x_density: int = 300, y_density: int = 300, xmp_metadata: str = "", name: str | None = None) -> Tensor:
    """JPEG bytes of a [height, width, 1 or 3] uint8 image."""
    if format not in ("", "grayscale", "rgb"):
        raise ValueError(f"format must be '', 'grayscale' or 'rgb', got {format!r}")
    with graph_of([image]).as_default():
        image = convert_to_tensor(image, name="image")
        if image.dtype.base_dtype != dtypes.uint8:
            raise TypeError(f"Value passed to parameter 'image' has DataType {image.dtype.base_dtype.name} not in "
                            f"list of allowed values: uint8")
        return ENCODE_JPEG(image, name=name, format=format, quality=int(quality), progressive=bool(progressive),
                           optimize_size=bool(optimize_size), chroma_downsampling=bool(chroma_downsampling))
