"""A region whose one result is only reduced, ending in the reduction (a reduction epilogue).

The reduction is a sum or a mean over axes known at run time (Sum, Mean, SumToShape, BiasAddGrad). On a
GPU it runs as one ``cupy.ReductionKernel`` whose map expression is the region (a ``__device__`` function
in the kernel's preamble); on the CPU as the region's compiled loop over blocks of rows, each block summed
while it is still in cache, so the region's full result is never written to memory. Sums propagate NaN,
as NumPy's do; a block-wise sum rounds as a pairwise sum of blocks, not as NumPy's one pairwise sum.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from gpugraph.fusion.cuda import node_lines
from gpugraph.fusion.region import Region
from gpugraph.fusion.rules import C_TYPES
from gpugraph.kernels import KERNEL_OPTIONS

REDUCTION_TYPES = ("Sum", "Mean", "SumToShape", "BiasAddGrad")
REDUCED_DTYPES = ("float32", "float64")
BLOCK_ELEMENTS = 1 << 20  # a block of the region's result summed at once: past ~1M elements per call, the
# call's own cost is small beside the block's (8M float32: 2^15 blocks 21.8 ms, 2^18 9.6, 2^20 7.5, 2^22 8.1)


@dataclass(frozen=True)
class Reduction:
    """The reduction ending a region: its op type and the attrs that set its axes."""

    op_type: str
    axes: tuple[int, ...] | None = None  # Sum/Mean: None is every axis
    keepdims: bool = False
    data_format: str = "NHWC"

    @property
    def is_mean(self) -> bool:
        return self.op_type == "Mean"

    def plan(self, shape: tuple[int, ...], extras: Sequence[Any]) -> tuple[tuple[int, ...], tuple[int, ...]] | None:
        """(axes reduced, result shape) for a region result of ``shape``; ``extras``: the reduction's
        other operands (SumToShape's ``like``). None where the op itself would raise or not reduce."""
        ndim = len(shape)
        if self.op_type in ("Sum", "Mean"):
            if self.axes is not None and any(not -ndim <= a < ndim for a in self.axes):
                return None
            axes = tuple(range(ndim)) if self.axes is None else tuple(sorted({a % ndim for a in self.axes}))
            if self.keepdims:
                return axes, tuple(1 if i in axes else d for i, d in enumerate(shape))
            return axes, tuple(d for i, d in enumerate(shape) if i not in axes)
        if self.op_type == "BiasAddGrad":
            if ndim < 2:
                return None
            channel = 1 if self.data_format.startswith("NC") else ndim - 1
            return tuple(i for i in range(ndim) if i != channel), (shape[channel],)
        like = tuple(extras[0].shape)
        lead = ndim - len(like)
        if lead < 0 or any(d != 1 and d != shape[lead + i] for i, d in enumerate(like)):
            return None
        axes = tuple(range(lead)) + tuple(lead + i for i, d in enumerate(like) if d == 1 and shape[lead + i] != 1)
        return axes, like


def reduction_of(op: Any) -> Reduction | None:
    """The Reduction an op performs, or None for an op that does not end a region."""
    if op.type in ("Sum", "Mean"):
        axes = op.get_attr("axes")
        return Reduction(op.type, None if axes is None else tuple(int(a) for a in axes), bool(op.get_attr("keepdims")))
    if op.type == "BiasAddGrad":
        return Reduction(op.type, data_format=str(op.get_attr("data_format")))
    if op.type == "SumToShape":
        return Reduction(op.type)
    return None


def _finish(total: Any, count: int, reduction: Reduction, out_shape: tuple[int, ...]) -> Any:
    if reduction.is_mean and count != 1:
        total = np.true_divide(total, np.intp(count), out=total, casting="unsafe")  # as numpy.mean rounds
    return total.reshape(out_shape)


def reduce_on_host(run_region: Callable[..., tuple[np.ndarray, ...]], arrays: Sequence[np.ndarray],
                   reduction: Reduction, axes: tuple[int, ...], out_shape: tuple[int, ...],
                   shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """The reduced region: ``run_region`` over blocks of rows (axis 0), each block summed at once."""
    count = int(np.prod([shape[a] for a in axes], dtype=np.int64))
    if not shape or shape[0] == 0:
        (full,) = run_region(*arrays)
        return _finish(np.add.reduce(full, axis=axes, keepdims=True), count, reduction, out_shape)
    ndim = len(shape)
    row = int(np.prod(shape[1:], dtype=np.int64))
    rows = max(1, BLOCK_ELEMENTS // max(row, 1))
    kept = tuple(1 if i in axes else d for i, d in enumerate(shape))
    total = np.zeros(kept, dtype)
    for start in range(0, shape[0], rows):
        block = [a[start:start + rows] if a.ndim == ndim and a.shape[0] != 1 else a for a in arrays]
        (part,) = run_region(*block)  # the caller checked that the result spans the iteration space
        summed = np.add.reduce(part, axis=axes, keepdims=True)
        if 0 in axes:
            total += summed
        else:
            total[start:start + rows] = summed
    return _finish(total, count, reduction, out_shape)


@dataclass(frozen=True)
class ReductionText:
    """The arguments of ``cupy.ReductionKernel`` for a reduced region."""

    in_params: str
    out_params: str
    map_expr: str
    reduce_expr: str
    post_map_expr: str
    identity: str
    name: str
    reduce_type: str
    preamble: str

    def kernel(self, cupy: Any) -> Any:
        """The ``cupy.ReductionKernel`` of this text (built with KERNEL_OPTIONS: no FMA contraction)."""
        return cupy.ReductionKernel(self.in_params, self.out_params, self.map_expr, self.reduce_expr,
                                    self.post_map_expr, self.identity, self.name, reduce_type=self.reduce_type,
                                    preamble=self.preamble, options=KERNEL_OPTIONS)


def reduction_text(region: Region, reduction: Reduction) -> ReductionText:
    """The ReductionKernel source of ``region`` (one output) ending in ``reduction``."""
    (ref,) = region.outputs
    dtype = region.dtype_of(ref)
    ctype = C_TYPES[dtype]
    digest = hashlib.sha256(repr((region.key, reduction.is_mean)).encode()).hexdigest()[:16]
    name = f"gpugraph_reduced_{digest}"
    params = ", ".join(f"const {C_TYPES[i.dtype]} x{k}" for k, i in enumerate(region.inputs))
    value = f"x{ref.index}" if ref.is_input else f"v{ref.index}"
    body = "\n".join("    " + line for line in node_lines(region))
    preamble = f"__device__ __forceinline__ {ctype} {name}_map({params}) {{\n{body}\n    return {value};\n}}\n"
    post = "y0 = a / _type_reduce(_in_ind.size() / _out_ind.size())" if reduction.is_mean else "y0 = a"
    return ReductionText(
        in_params=", ".join(f"{i.dtype} x{k}" for k, i in enumerate(region.inputs)),
        out_params=f"{dtype} y0",
        map_expr=f"{name}_map({', '.join(f'x{k}' for k in range(len(region.inputs)))})",
        reduce_expr="a + b", post_map_expr=post, identity="0", name=name, reduce_type=ctype, preamble=preamble)


_kernels: dict[tuple[Any, ...], Any] = {}


def reduce_on_device(region: Region, reduction: Reduction, arrays: Sequence[Any], axes: tuple[int, ...],
                     out_shape: tuple[int, ...]) -> Any:
    """The reduced region over CuPy arrays: one ReductionKernel launch."""
    key = (region.key, reduction.is_mean)
    kernel = _kernels.get(key)
    if kernel is None:
        import cupy

        kernel = _kernels[key] = reduction_text(region, reduction).kernel(cupy)
    return kernel(*arrays, axis=axes, keepdims=True).reshape(out_shape)
