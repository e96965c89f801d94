"""Host values -> ``Summary`` protocol buffers, with TF1's kernels' semantics.

The messages are tensorboardX's generated protobuf classes (and its summary helpers); PNG comes from
Pillow. What is ours is only TF1's arithmetic: histogram buckets, float image normalization, tags.
tensorboardX is imported on first use: it is slow to import and graph building does not need it.
"""

from __future__ import annotations

import functools
import io
import sys
from typing import Any

import numpy as np

_DBL_MAX = sys.float_info.max
# TF1 paints pixels with a non-finite channel in this color (the first `channels` entries).
BAD_COLOR = (255, 0, 0, 255)


class SummaryError(ValueError):
    """A value a summary kernel refuses; the op's step re-raises it as InvalidArgumentError."""


def pb() -> Any:
    from tensorboardX.proto import summary_pb2

    return summary_pb2


def scalar_summary(tag: str, value: np.ndarray) -> bytes:
    from tensorboardX import summary as tbx_summary

    if value.ndim != 0:
        raise SummaryError(f"tags and values are not the same shape: [] != {list(value.shape)} (tag '{tag}')")
    return tbx_summary.scalar(tag, np.asarray(value, dtype=np.float64)).SerializeToString()


@functools.lru_cache(maxsize=1)
def default_bucket_limits() -> np.ndarray:
    """TF1's histogram.cc buckets: +-1e-12 growing by 10% up to 1e20, then +-DBL_MAX, and 0."""
    positive = []
    v = 1.0e-12
    while v < 1.0e20:  # the same float multiplications as the C++ loop, so the same limits
        positive.append(v)
        v *= 1.1
    positive.append(_DBL_MAX)
    limits = [-p for p in reversed(positive)] + [0.0] + positive
    return np.array(limits, dtype=np.float64)


def histogram_summary(tag: str, values: np.ndarray, op_name: str) -> bytes:
    from tensorboardX import summary as tbx_summary

    flat = np.asarray(values, dtype=np.float64).reshape(-1)
    if np.isnan(flat).any():
        raise SummaryError(f"Nan in summary histogram for: {op_name}")
    if np.isinf(flat).any():
        raise SummaryError(f"Infinity in summary histogram for: {op_name}")
    limits = default_bucket_limits()
    # a value goes to the first bucket whose limit is above it (std::upper_bound)
    counts = np.bincount(np.searchsorted(limits, flat, side="right"), minlength=limits.size)
    # runs of empty buckets collapse into one, which keeps the run's last limit (EncodeToProto)
    nonzero = counts > 0
    run_end = np.ones(limits.size, dtype=bool)
    run_end[:-1] = nonzero[:-1] | nonzero[1:]
    keep = nonzero | run_end
    summary = tbx_summary.histogram_raw(
        tag,
        min=float(flat.min()) if flat.size else _DBL_MAX,
        max=float(flat.max()) if flat.size else -_DBL_MAX,
        num=float(flat.size), sum=float(flat.sum()), sum_squares=float(flat @ flat),
        bucket_limits=limits[keep].tolist(), bucket_counts=counts[keep].astype(np.float64).tolist())
    return summary.SerializeToString()


def image_tags(tag: str, count: int, max_images: int) -> list[str]:
    if max_images > 1:
        return [f"{tag}/image/{i}" for i in range(count)]
    return [f"{tag}/image"] * count


def to_uint8_image(image: np.ndarray) -> np.ndarray:
    """One [h, w, c] image as uint8, as TF1's ImageSummary kernel does it.

    uint8 is kept. Floats are scaled by 255/max when all finite values are >= 0, else by 127/max|v|
    around 128; the result is truncated; a pixel with a non-finite channel gets BAD_COLOR.
    """
    if image.dtype == np.uint8:
        return image
    work = np.float64 if image.dtype == np.float64 else np.float32
    pixels = image.astype(work, copy=False)
    finite = np.isfinite(pixels).all(axis=-1)
    good = pixels[finite]
    # TF1 takes the range and the scale in float32 whatever the image dtype; so do we, for equal pixels
    f32 = np.float32
    lo = f32(good.min()) if good.size else f32(np.inf)
    hi = f32(good.max()) if good.size else f32(-np.inf)
    if lo < 0:
        max_val = max(abs(lo), abs(hi))
        scale, offset = (f32(0) if max_val < 1e-6 else f32(127) / max_val), 128.0
    else:
        scale, offset = (f32(0) if hi < 1e-6 else f32(255) / hi), 0.0
    scaled = pixels * work(scale) + work(offset)
    out = np.clip(np.where(np.isfinite(scaled), scaled, 0), 0, 255).astype(np.uint8)
    out[~finite] = BAD_COLOR[: image.shape[-1]]
    return out


def encode_png(image: np.ndarray) -> bytes:
    from PIL import Image

    channels = image.shape[-1]
    mode = {1: "L", 3: "RGB", 4: "RGBA"}[channels]
    picture = Image.fromarray(image[..., 0] if channels == 1 else image, mode=mode)
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return buffer.getvalue()


def image_summary(tag: str, images: np.ndarray, max_images: int) -> bytes:
    if images.ndim != 4 or images.shape[-1] not in (1, 3, 4):
        raise SummaryError(f"Tensor must be 4-D with last dim 1, 3, or 4, not {list(images.shape)} "
                           f"(tag '{tag}')")
    summary_pb2 = pb()
    count = min(images.shape[0], max_images)
    values = []
    for tag_i, image in zip(image_tags(tag, count, max_images), images[:count]):
        h, w, c = image.shape
        encoded = encode_png(to_uint8_image(image)) if h and w else b""
        values.append(summary_pb2.Summary.Value(tag=tag_i, image=summary_pb2.Summary.Image(
            height=h, width=w, colorspace=c, encoded_image_string=encoded)))
    return summary_pb2.Summary(value=values).SerializeToString()


_DTYPE_ENUMS = {
    "float16": "DT_HALF", "float32": "DT_FLOAT", "float64": "DT_DOUBLE", "int8": "DT_INT8",
    "int16": "DT_INT16", "int32": "DT_INT32", "int64": "DT_INT64", "uint8": "DT_UINT8", "bool": "DT_BOOL",
}


def tensor_proto(array: np.ndarray) -> Any:
    """A TensorProto of ``array``: strings in ``string_val``, numbers as raw little-endian content."""
    from tensorboardX.proto import tensor_pb2, tensor_shape_pb2

    shape = tensor_shape_pb2.TensorShapeProto(
        dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=int(d)) for d in array.shape])
    if array.dtype == object or array.dtype.kind in "SU":
        strings = [v.encode("utf-8") if isinstance(v, str) else bytes(v) for v in array.reshape(-1).tolist()]
        return tensor_pb2.TensorProto(dtype="DT_STRING", tensor_shape=shape, string_val=strings)
    name = _DTYPE_ENUMS.get(array.dtype.name)
    if name is None:
        raise SummaryError(f"cannot write a tensor of dtype {array.dtype} to a summary")
    content = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<")).tobytes()
    return tensor_pb2.TensorProto(dtype=name, tensor_shape=shape, tensor_content=content)


def tensor_summary(tag: str, array: np.ndarray, plugin_name: str, plugin_content: bytes,
                   display_name: str, description: str) -> bytes:
    summary_pb2 = pb()
    metadata = summary_pb2.SummaryMetadata(display_name=display_name, summary_description=description)
    if plugin_name:
        metadata.plugin_data.plugin_name = plugin_name
        metadata.plugin_data.content = plugin_content
    value = summary_pb2.Summary.Value(tag=tag, tensor=tensor_proto(array), metadata=metadata)
    return summary_pb2.Summary(value=[value]).SerializeToString()


def merge_summaries(serialized: list[Any]) -> bytes:
    """Parse each input, concatenate their values; a tag twice is an error, as in TF1."""
    summary_pb2 = pb()
    merged = summary_pb2.Summary()
    seen: set[str] = set()
    for item in serialized:
        part = summary_pb2.Summary()
        try:
            part.ParseFromString(bytes(item))
        except Exception as e:  # protobuf's DecodeError, or a value that is not bytes
            raise SummaryError(f"Could not parse one of the summary inputs: {e}") from None
        for value in part.value:
            if value.tag in seen:
                raise SummaryError(f"Duplicate tag {value.tag} found in summary inputs")
            seen.add(value.tag)
            merged.value.add().CopyFrom(value)
    return merged.SerializeToString()
