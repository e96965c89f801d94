"""hvd.Compression: what gradients look like on the wire (none, or float16 for float tensors)."""

from __future__ import annotations

from typing import Any

from gpugraph.framework import dtypes
from gpugraph.framework.tensor import Tensor

__all__ = ["Compression", "Compressor", "NoneCompressor", "FP16Compressor"]


class Compressor:
    """Turns a tensor into what the collective carries, and back (static methods, as Horovod's)."""

    @staticmethod
    def compress(tensor: Tensor) -> tuple[Tensor, Any]:
        raise NotImplementedError

    @staticmethod
    def decompress(tensor: Tensor, ctx: Any) -> Tensor:
        raise NotImplementedError


class NoneCompressor(Compressor):
    """The tensor as it is."""

    @staticmethod
    def compress(tensor: Tensor) -> tuple[Tensor, Any]:
        return tensor, None

    @staticmethod
    def decompress(tensor: Tensor, ctx: Any) -> Tensor:
        return tensor


class FP16Compressor(Compressor):
    """Float tensors travel as float16 and come back in their own dtype; other dtypes are left alone."""

    @staticmethod
    def compress(tensor: Tensor) -> tuple[Tensor, Any]:
        from gpugraph.ops.math_ops import cast

        dtype = tensor.dtype.base_dtype
        if dtype.is_floating and dtype != dtypes.float16:
            return cast(tensor, dtypes.float16), dtype
        return tensor, dtype

    @staticmethod
    def decompress(tensor: Tensor, ctx: Any) -> Tensor:
        from gpugraph.ops.math_ops import cast

        if ctx is not None and ctx.is_floating and tensor.dtype.base_dtype != ctx:
            return cast(tensor, ctx)
        return tensor


class Compression:
    """The compressors DistributedOptimizer and allreduce accept: ``Compression.none``, ``Compression.fp16``."""

    none = NoneCompressor
    fp16 = FP16Compressor
