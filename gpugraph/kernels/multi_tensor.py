"""One kernel launch for many tensors: an ElementwiseKernel body run over a list of tensors.

An optimizer's updates of one kind (say every ``ApplyAdam`` of a step) share their scalar inputs and
differ only in their arrays. :func:`multi_tensor_source` wraps a ``kernels/<name>.cu`` body into one
``extern "C" __global__`` function over ``n_tensors`` tensors: the shared scalars are 0-d device arrays
read at ``[0]``, attributes are passed by value, and each tensor brings its own pointers and size. A
flat index runs over all elements one after another; each element finds its tensor and binds the
body's names exactly as the ElementwiseKernel does, so the arithmetic (built with ``--fmad=false``)
is the same, bit for bit.

Pointers travel as kernel arguments (no table uploaded per call), so a captured CUDA graph replays
the launch as it was made. This module does not import CuPy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Collection, Sequence

import numpy as np

from gpugraph.kernels import KERNEL_OPTIONS, KernelSource, Param, load

__all__ = ["C_TYPES", "MAX_TENSORS", "MultiTensorKernel", "MultiTensorUpdate", "multi_tensor_kernel",
           "multi_tensor_name", "multi_tensor_source"]

MAX_TENSORS = 32  # per launch: keeps the arguments far under CUDA's 4 KB and the tensor search short
THREADS = 256
MAX_BLOCKS = 8192  # a grid-stride loop covers the rest

# C types of NumPy dtype names (kernel parameters that are not T)
C_TYPES = {"float32": "float", "float64": "double", "int32": "int", "int64": "long long", "uint32": "unsigned int",
           "uint64": "unsigned long long", "bool": "bool"}


def multi_tensor_name(src: KernelSource, n_tensors: int) -> str:
    return f"{src.name}_multi{n_tensors}"


def _ctype(p: Param) -> str:
    return "T" if p.ctype == "T" else C_TYPES.get(p.ctype, p.ctype)


def multi_tensor_source(src: KernelSource, ctype: str, n_tensors: int, shared: Collection[str],
                        by_value: Collection[str] = (), filename: str = "kernel.cu") -> str:
    """The CUDA source of ``src`` over ``n_tensors`` tensors with ``T`` = ``ctype``. Inputs named in
    ``shared`` are 0-d arrays common to all tensors, those in ``by_value`` values common to all; every
    other input and every ``inout`` parameter is one contiguous array per tensor.

    Arguments: the shared pointers and the values (in the order of ``in:``), then per tensor its
    per-tensor inputs, its in-place arrays and its size, then the total size."""
    if src.outputs:
        raise ValueError(f"{src.name}: a multi-tensor kernel writes in place only ('out:' parameters unsupported)")
    if n_tensors < 1:
        raise ValueError("a multi-tensor kernel needs at least one tensor")
    common = [p for p in src.inputs if p.name in shared or p.name in by_value]
    own_inputs = [p for p in src.inputs if p not in common]
    own = own_inputs + list(src.inouts)
    args = [f"{_ctype(p)} {p.name}" if p.name in by_value else f"const {_ctype(p)}* _raw_{p.name}" for p in common]
    for k in range(n_tensors):
        args += [f"const {_ctype(p)}* _raw_{p.name}_{k}" for p in own_inputs]
        args += [f"{_ctype(p)}* _raw_{p.name}_{k}" for p in src.inouts]
        args.append(f"long long _n_{k}")
    args.append("long long _total")

    def pick(k: int) -> str:
        return " ".join([f"n = _n_{k};"] + [f"_raw_{p.name} = _raw_{p.name}_{k};" for p in own])

    declare = [f"const {_ctype(p)}* _raw_{p.name};" for p in own_inputs] + [f"{_ctype(p)}* _raw_{p.name};"
                                                                           for p in src.inouts]
    select = [f"    long long i = _j; long long n; {' '.join(declare)}", f"    {pick(0)}"]
    for k in range(1, n_tensors):  # the tensor holding element _j: past each earlier one, step to the next
        select.append(f"    if (i >= _n_{k - 1}) {{ i -= _n_{k - 1}; {pick(k)}")
    select.append("    " + "}" * (n_tensors - 1) if n_tensors > 1 else "")
    binds = [f"    const {_ctype(p)} {p.name} = _raw_{p.name}[0];" for p in common if p.name not in by_value]
    binds += [f"    const {_ctype(p)} {p.name} = _raw_{p.name}[i];" for p in own_inputs]
    binds += [f"    {_ctype(p)} &{p.name} = _raw_{p.name}[i];" for p in src.inouts]
    return "\n".join([
        '#line 1 "<multi-tensor wrapper>"',
        f"typedef {ctype} T;",
        f'extern "C" __global__ void {multi_tensor_name(src, n_tensors)}({", ".join(args)}) {{',
        "  for (long long _j = blockIdx.x * (long long)blockDim.x + threadIdx.x; _j < _total;",
        "       _j += (long long)blockDim.x * gridDim.x) {",
        *select,
        *binds,
        "    (void)n;",
        f'#line {src.line} "{filename}"',
        src.operation,
        "  }",
        "}",
        "",
    ])


@dataclass(frozen=True)
class MultiTensorKernel:
    """``kernel(shared, values, tensors)``: one launch of ``src``'s body over ``tensors`` (each a sequence
    of its per-tensor input arrays then its in-place arrays, all contiguous and of one size)."""

    src: KernelSource
    dtype: np.dtype
    n_tensors: int
    shared: tuple[str, ...]
    by_value: tuple[str, ...]
    raw: Any  # the cupy.RawKernel

    def __call__(self, shared: Sequence[Any], values: Sequence[Any], tensors: Sequence[Sequence[Any]]) -> None:
        assert len(tensors) == self.n_tensors, f"{self.raw.name} takes {self.n_tensors} tensors, got {len(tensors)}"
        args: list[Any] = [*shared, *(self._value(p, v) for p, v in zip(self._value_params, values))]
        total = 0
        for arrays in tensors:
            size = arrays[-1].size
            args += arrays
            args.append(np.int64(size))
            total += size
        if total == 0:
            return
        args.append(np.int64(total))
        blocks = min((total + THREADS - 1) // THREADS, MAX_BLOCKS)
        self.raw((blocks,), (THREADS,), tuple(args))

    @property
    def _value_params(self) -> list[Param]:
        return [p for p in self.src.inputs if p.name in self.by_value]

    def _value(self, p: Param, value: Any) -> Any:
        """A value as the C type of its parameter (CuPy passes NumPy scalars with their own width)."""
        if p.ctype == "T":
            return self.dtype.type(value)
        return np.dtype(p.ctype if p.ctype != "bool" else np.bool_).type(value)


_KERNELS: dict[tuple[Any, ...], MultiTensorKernel] = {}


def multi_tensor_kernel(name: str, dtype: Any, n_tensors: int, shared: Collection[str], by_value: Collection[str],
                        cupy: Any) -> MultiTensorKernel:
    """The launcher of kernel ``name`` over ``n_tensors`` tensors of ``dtype``, built once (CuPy compiles
    the RawKernel on its first launch and caches the binary)."""
    dtype = np.dtype(dtype)
    src = load(name)
    key = (name, src.operation, dtype.name, n_tensors, tuple(shared), tuple(by_value), id(cupy))
    kernel = _KERNELS.get(key)
    if kernel is None:
        code = multi_tensor_source(src, C_TYPES[dtype.name], n_tensors, shared, by_value, f"{name}.cu")
        raw = cupy.RawKernel(code, multi_tensor_name(src, n_tensors), options=KERNEL_OPTIONS)
        kernel = _KERNELS[key] = MultiTensorKernel(src, dtype, n_tensors, tuple(shared), tuple(by_value), raw)
    return kernel


class MultiTensorUpdate:
    """Several updates of one ``Apply*`` rule in one launch: ``update(shared, grads, refs, attrs)`` with the
    op's non-ref inputs but the gradient (``shared``, 0-d device arrays), each update's gradient and its
    ref arrays (the variable, then its slots). Returns False, launching nothing, for arguments the kernel
    does not take as the ElementwiseKernel would (shapes that differ, other dtypes, strided or overlapping
    arrays): the caller then runs the updates one by one."""

    def __init__(self, kernel: str, n_inputs: int, grad: int, dtype: Any, n_tensors: int, cupy: Any):
        src = load(kernel)
        names = [p.name for p in src.inputs]
        self.shared_params = [p for k, p in enumerate(src.inputs[:n_inputs]) if k != grad]
        self.dtype = np.dtype(dtype)
        self.expected = [self.dtype if p.ctype == "T" else np.dtype(p.ctype) for p in self.shared_params]
        self.kernel = multi_tensor_kernel(kernel, self.dtype, n_tensors, [p.name for p in self.shared_params],
                                          names[n_inputs:], cupy)
        self.ndarray = cupy.ndarray

    def __call__(self, shared: Sequence[Any], grads: Sequence[Any], refs: Sequence[Sequence[Any]],
                 attrs: Sequence[Any]) -> bool:
        ndarray, dtype = self.ndarray, self.dtype
        for value, want in zip(shared, self.expected):
            if not isinstance(value, ndarray) or value.ndim != 0 or value.dtype != want:
                return False
        tensors = []
        for grad, arrays in zip(grads, refs):
            shape = arrays[0].shape
            for a in (grad, *arrays):
                if not isinstance(a, ndarray) or a.shape != shape or a.dtype != dtype or not a.flags.c_contiguous:
                    return False
            tensors.append((grad, *arrays))
        if _overlapping([a for arrays in refs for a in arrays], [*shared, *grads]):
            return False
        self.kernel(shared, attrs, tensors)
        return True


def _overlapping(written: Sequence[Any], read: Sequence[Any]) -> bool:
    """Whether an array written shares memory with another written one or with one read: one launch
    would race where the updates one by one are ordered."""
    spans = sorted((a.data.ptr, a.data.ptr + a.nbytes) for a in written if a.nbytes)
    for (_, end), (start, _) in zip(spans, spans[1:]):
        if start < end:
            return True
    for a in read:
        lo, hi = a.data.ptr, a.data.ptr + a.nbytes
        if a.nbytes and any(start < hi and lo < end for start, end in spans):
            return True
    return False
