"""Argument checks and output-length arithmetic shared by the convolution and pooling layers (TF1's conv_utils)."""

from __future__ import annotations

from typing import Any


def normalize_tuple(value: Any, n: int, name: str) -> tuple[int, ...]:
    """An int, or n ints, as a tuple of n ints (TF1's error otherwise)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return (value,) * n
    try:
        values = tuple(value)
    except TypeError:
        raise ValueError(f"The `{name}` argument must be a tuple of {n} integers. Received: {value}") from None
    if len(values) != n or not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        raise ValueError(f"The `{name}` argument must be a tuple of {n} integers. Received: {value}")
    return values


def normalize_padding(value: Any, allow_causal: bool = False) -> str:
    padding = value.lower() if isinstance(value, str) else value
    allowed = ("valid", "same", "causal") if allow_causal else ("valid", "same")
    if padding not in allowed:
        raise ValueError('The `padding` argument must be a list/tuple or one of "valid", "same" (or "causal", '
                         f"only for `Conv1D). Received: {value}")
    return padding


def normalize_data_format(value: Any) -> str:
    fmt = (value or "channels_last").lower() if isinstance(value, str) or value is None else value
    if fmt not in ("channels_last", "channels_first"):
        raise ValueError('The `data_format` argument must be one of "channels_first", "channels_last". '
                         f"Received: {value}")
    return fmt


def conv_output_length(length: int | None, filter_size: int, padding: str, stride: int,
                       dilation: int = 1) -> int | None:
    """Output length of a convolution or pooling along one axis (None stays None)."""
    if length is None:
        return None
    dilated = filter_size + (filter_size - 1) * (dilation - 1)
    if padding in ("same", "causal"):
        out = length
    elif padding == "valid":
        out = length - dilated + 1
    else:  # full
        out = length + dilated - 1
    return (out + stride - 1) // stride


def deconv_output_length(length: int | None, filter_size: int, padding: str, stride: int,
                         dilation: int = 1) -> int | None:
    """Output length of a transposed convolution along one axis (None stays None)."""
    if length is None:
        return None
    filter_size = filter_size + (filter_size - 1) * (dilation - 1)
    if padding == "valid":
        return length * stride + max(filter_size - stride, 0)
    if padding == "full":
        return length * stride - (stride + filter_size - 2)
    return length * stride
