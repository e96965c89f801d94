"""Image codecs on string tensors (host ops, through Pillow): DecodePng, DecodeJpeg, DecodeImage,
EncodePng, EncodeJpeg. Channel conversions follow TF's libraries (libpng's RGB-to-grey weights,
libjpeg's own greyscale output), so decoded pixels equal TensorFlow's."""

from __future__ import annotations

import io
from typing import Any

import numpy as np

from gpugraph import errors
from gpugraph.framework import dtypes
from gpugraph.framework.tensor import Operation, Tensor
from gpugraph.ops.registry import NO_GRADIENT, OpDef, register_op

__all__: list[str] = []


class _CodecError(Exception):
    pass


def _pil() -> Any:
    from PIL import Image  # imported on first use: building graphs needs no Pillow

    return Image


def _contents(value: Any) -> bytes:
    v = np.asarray(value, dtype=object).reshape(())[()] if not isinstance(value, bytes) else value
    return v if isinstance(v, bytes) else str(v).encode()


def _to_channels(pixels: np.ndarray, channels: int) -> np.ndarray:
    """Add or drop channels as libpng does for TF: grey -> RGB repeats, RGB -> grey by fixed-point luma."""
    have = pixels.shape[-1]
    if channels == 0 or channels == have:
        return pixels
    color = pixels[..., :3] if have >= 3 else np.repeat(pixels[..., :1], 3, axis=-1)
    alpha = pixels[..., have - 1:] if have in (2, 4) else np.full(pixels.shape[:-1] + (1,), np.iinfo(pixels.dtype).max,
                                                                   pixels.dtype)
    if channels in (1, 2):
        if have >= 3:
            wide = color.astype(np.int64)  # libpng's fixed-point 0.299/0.587/0.114, truncated
            grey = (9798 * wide[..., 0] + 19235 * wide[..., 1] + 3735 * wide[..., 2]) >> 15
            grey = grey.astype(pixels.dtype)[..., None]
        else:
            grey = pixels[..., :1]
        return grey if channels == 1 else np.concatenate([grey, alpha], axis=-1)
    return color if channels == 3 else np.concatenate([color, alpha], axis=-1)


def _decode_png(data: bytes, channels: int, dtype: dtypes.DType) -> np.ndarray:
    image = _pil().open(io.BytesIO(data))
    if image.format != "PNG":
        raise _CodecError("Invalid PNG data, size " + str(len(data)))
    if image.mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    elif image.mode in ("1",):
        image = image.convert("L")
    pixels = np.asarray(image)
    if pixels.ndim == 2:
        pixels = pixels[..., None]
    if pixels.dtype != np.uint8:  # 16-bit grey: Pillow gives int32 or uint16
        pixels = pixels.astype(np.uint16)
    pixels = _to_channels(pixels, channels)
    want = dtype.np_dtype
    if pixels.dtype == want:
        return np.ascontiguousarray(pixels)
    if want == np.uint16:  # 8 -> 16 bits: v * 257, as libpng's expansion
        return pixels.astype(np.uint16) * 257
    return (pixels.astype(np.uint32) >> 8).astype(np.uint8)


def _decode_jpeg(data: bytes, channels: int, ratio: int = 1, fancy_upscaling: bool = True) -> np.ndarray:
    image = _pil().open(io.BytesIO(data))
    if image.format != "JPEG":
        raise _CodecError("Invalid JPEG data or crop window.")
    if channels == 1 and image.mode != "L":
        image.draft("L", image.size)  # libjpeg's own greyscale output (the Y plane), as TF asks for
    if ratio != 1:
        image.draft(image.mode if channels != 1 else "L", (image.size[0] // ratio, image.size[1] // ratio))
    if image.mode not in ("L", "RGB"):
        image = image.convert("RGB")
    pixels = np.asarray(image)
    if pixels.ndim == 2:
        pixels = pixels[..., None]
    if channels == 3 and pixels.shape[-1] == 1:
        pixels = np.repeat(pixels, 3, axis=-1)
    return np.ascontiguousarray(pixels)


def _decode_any(data: bytes, channels: int, dtype: dtypes.DType, expand_animations: bool) -> np.ndarray:
    head = data[:8]
    if head.startswith(b"\x89PNG"):
        pixels = _decode_png(data, channels, dtype if dtype.is_integer else dtypes.uint8)
    elif head.startswith(b"\xff\xd8\xff"):
        pixels = _decode_jpeg(data, channels)
    elif head.startswith((b"GIF87a", b"GIF89a")) or head.startswith(b"BM"):
        pixels = _decode_frames(data, channels, gif=head.startswith(b"GIF"))
        if pixels.ndim == 4 and not expand_animations:
            pixels = pixels[0]
    else:
        raise _CodecError("Unknown image file format. One of JPEG, PNG, GIF, BMP required.")
    if dtype.is_floating:
        return (pixels.astype(dtype.np_dtype) * dtype.np_dtype.type(1.0 / np.iinfo(pixels.dtype).max))
    return pixels


def _decode_frames(data: bytes, channels: int, gif: bool) -> np.ndarray:
    image = _pil().open(io.BytesIO(data))
    frames = []
    for k in range(getattr(image, "n_frames", 1)):
        image.seek(k)
        frames.append(np.asarray(image.convert("RGB")))
    pixels = np.stack(frames) if gif else frames[0]
    return _to_channels(pixels, channels) if channels in (1, 3, 4) else pixels


def _encode_png(image: np.ndarray, compression: int) -> bytes:
    mode = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}[image.shape[-1]]
    if image.dtype == np.uint16:
        if mode != "L":
            raise _CodecError("16-bit PNG encoding supports one channel only here")
        pil = _pil().fromarray(image[..., 0].astype(np.uint16), mode="I;16")
    else:
        pil = _pil().fromarray(image[..., 0] if mode == "L" else image, mode=mode)
    out = io.BytesIO()
    pil.save(out, format="PNG", compress_level=6 if compression < 0 else min(compression, 9))
    return out.getvalue()


def _encode_jpeg(image: np.ndarray, *, format: str, quality: int, progressive: bool, optimize_size: bool,
                 chroma_downsampling: bool) -> bytes:
    channels = image.shape[-1]
    mode = format or {1: "grayscale", 3: "rgb"}.get(channels, "")
    if mode == "grayscale":
        pil = _pil().fromarray(image[..., 0], mode="L")
    elif mode == "rgb" and channels == 3:
        pil = _pil().fromarray(image, mode="RGB")
    else:
        raise _CodecError(f"image must have 1 or 3 channels, got {image.shape}")
    out = io.BytesIO()
    pil.save(out, format="JPEG", quality=quality, progressive=progressive, optimize=optimize_size,
             subsampling=2 if chroma_downsampling else 0, dpi=(300, 300))
    return out.getvalue()


def _host_bind(run: Any) -> Any:
    """A step on host arrays that reports decode/encode failures as TF1's InvalidArgumentError."""
    def bind(op: Operation, ctx: Any) -> Any:
        to_host = ctx.backend.to_host
        attrs = op.attrs

        def step(*arrays: Any) -> Any:
            try:
                return run(*[to_host(a) for a in arrays], **attrs)
            except (_CodecError, OSError, ValueError, KeyError) as e:
                raise errors.InvalidArgumentError(None, op, f"{e}\n\t [[{op.name}]]") from None
        return step
    return bind


def _string_scalar(value: bytes) -> np.ndarray:
    out = np.empty((), dtype=object)
    out[()] = value
    return out


def _scalar_string(contents: Tensor) -> None:
    if contents.dtype.base_dtype != dtypes.string:
        raise TypeError(f"Input 'contents' must be a string tensor, got {contents.dtype.base_dtype.name}")
    if contents.shape.ndims not in (None, 0):
        raise ValueError(f"Shape must be rank 0 but is rank {contents.shape.ndims}")


def _channels_attr(channels: int, allowed: tuple[int, ...]) -> int | None:
    if channels not in allowed:
        raise ValueError(f"channels must be one of {allowed}, got {channels}")
    return channels or None


def _decode_png_infer(contents: Tensor, *, channels: int, dtype: dtypes.DType) -> Any:
    _scalar_string(contents)
    return (None, None, _channels_attr(channels, (0, 1, 2, 3, 4))), dtype


def _decode_jpeg_infer(contents: Tensor, *, channels: int, **_: Any) -> Any:
    _scalar_string(contents)
    return (None, None, _channels_attr(channels, (0, 1, 3))), dtypes.uint8


def _decode_image_infer(contents: Tensor, *, channels: int, dtype: dtypes.DType, expand_animations: bool) -> Any:
    _scalar_string(contents)
    if expand_animations:
        return None, dtype
    return (None, None, _channels_attr(channels, (0, 1, 3, 4))), dtype


def _encode_infer(image: Tensor, **_: Any) -> Any:
    if image.dtype.base_dtype.name not in ("uint8", "uint16"):
        raise TypeError(f"Value passed to parameter 'image' has DataType {image.dtype.base_dtype.name} not in "
                        f"list of allowed values: uint8, uint16")
    if image.shape.ndims not in (None, 3):
        raise ValueError(f"Shape must be rank 3 but is rank {image.shape.ndims}")
    return (), dtypes.string


def _decoder(name: str, infer: Any, run: Any) -> OpDef:
    return register_op(OpDef(name, infer=infer, bind=_host_bind(run), stateful=True, grad=NO_GRADIENT, gpu=False,
                             input_names=("contents",)))


DECODE_PNG = _decoder("DecodePng", _decode_png_infer,
                      lambda c, *, channels, dtype: _decode_png(_contents(c), channels, dtype))
DECODE_JPEG = _decoder("DecodeJpeg", _decode_jpeg_infer,
                       lambda c, *, channels, ratio, fancy_upscaling, **_: _decode_jpeg(_contents(c), channels, ratio,
                                                                                         fancy_upscaling))
DECODE_IMAGE = _decoder("DecodeImage", _decode_image_infer,
                        lambda c, *, channels, dtype, expand_animations: _decode_any(_contents(c), channels, dtype,
                                                                                     expand_animations))
ENCODE_PNG = register_op(OpDef(
    "EncodePng", infer=_encode_infer, stateful=True, grad=NO_GRADIENT, gpu=False, input_names=("image",),
    bind=_host_bind(lambda image, *, compression: _string_scalar(_encode_png(np.asarray(image), compression)))))
ENCODE_JPEG = register_op(OpDef(
    "EncodeJpeg", infer=_encode_infer, stateful=True, grad=NO_GRADIENT, gpu=False, input_names=("image",),
    bind=_host_bind(lambda image, **attrs: _string_scalar(_encode_jpeg(np.asarray(image), **attrs)))))
