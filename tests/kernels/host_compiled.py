"""Run a kernel's CUDA source on the CPU: the source CuPy would compile, built by the host C++ compiler.

``cuda_source`` (test_kernels_compile.py) wraps a .cu body into the ``extern "C" __global__`` function
CuPy generates. Here a prelude makes that text plain C++: ``__global__`` is empty, the launch indices
make the grid-stride loop one pass over all ``n`` elements, and CUDA's intrinsics are written in C++.
The result is compiled into a shared library (cached per source text for the test session), loaded
with ctypes and called on NumPy buffers, so the kernel's integer and float arithmetic is tested where
there is no GPU.

Where host and device may differ: integer operations, ``+ - * /``, ``sqrt``/``sqrtf`` and conversions
are IEEE-exact on both (the device built without FMA contraction, the host with ``-ffp-contract=off``);
signed integer overflow wraps on both (``-fwrapv`` here).
The double ``log``, ``tan``, ``sin`` and ``cos`` come from glibc here (within 1 ulp) and from CUDA's
libdevice on a GPU (within 1-2 ulp): a result rounded from them to float agrees on both unless the
double lies within an ulp or two of a float rounding boundary; a double result may differ in its last bits.
"""

from __future__ import annotations

import atexit
import ctypes
import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any, Callable, Collection, Sequence

import numpy as np
from test_kernels_compile import CTYPES, cuda_source

from gpugraph.kernels import KernelSource, parse

PRELUDE = r"""
#include <cmath>
#include <cstring>
#define __global__
// One "thread" whose grid-stride loop covers every element.
struct HostDim3 { unsigned int x; };
static const HostDim3 blockIdx = {0}, threadIdx = {0}, blockDim = {1}, gridDim = {1};

// CUDA intrinsics, written in C++.
static inline unsigned int __umulhi(unsigned int a, unsigned int b) {
  return (unsigned int)(((unsigned long long)a * b) >> 32);
}
static inline float __uint_as_float(unsigned int x) { float f; std::memcpy(&f, &x, sizeof f); return f; }
static inline unsigned int __float_as_uint(float f) { unsigned int x; std::memcpy(&x, &f, sizeof x); return x; }
static inline double __longlong_as_double(long long x) { double d; std::memcpy(&d, &x, sizeof d); return d; }
static inline long long __double_as_longlong(double d) { long long x; std::memcpy(&x, &d, sizeof x); return x; }
// CUDA's math functions are overloaded for float and double, as <cmath>'s are.
using std::sqrt; using std::log; using std::exp; using std::tan; using std::sin; using std::cos; using std::fabs;
using std::expm1; using std::log1p; using std::pow; using std::tanh; using std::atan; using std::atan2;
using std::sinh; using std::cosh; using std::asin; using std::acos; using std::asinh; using std::acosh;
using std::atanh; using std::floor; using std::ceil; using std::rint; using std::abs;
"""

# C types of the parameters that are not T, and the ctypes class of a scalar of each
_SCALAR_CTYPES = {"float": ctypes.c_float, "double": ctypes.c_double, "int": ctypes.c_int32,
                  "long long": ctypes.c_int64, "unsigned int": ctypes.c_uint32,
                  "unsigned long long": ctypes.c_uint64, "bool": ctypes.c_bool}
_DTYPES = {"float": np.float32, "double": np.float64, "int": np.int32, "long long": np.int64,
           "unsigned int": np.uint32, "unsigned long long": np.uint64, "bool": np.bool_}

_build_dir: Path | None = None
_libraries: dict[str, ctypes.CDLL] = {}


def compiler() -> str:
    """The host C++ compiler ($CXX, else g++); AssertionError saying so when there is none."""
    name = os.environ.get("CXX", "g++")
    path = shutil.which(name)
    assert path is not None, (
        f"no C++ compiler {name!r} on PATH: the host-compiled kernel tests need one (install g++ or set $CXX)")
    return path


def _library(source: str) -> ctypes.CDLL:
    global _build_dir
    digest = hashlib.sha256(source.encode()).hexdigest()[:20]
    lib = _libraries.get(digest)
    if lib is not None:
        return lib
    if _build_dir is None:
        _build_dir = Path(tempfile.mkdtemp(prefix="gpugraph-host-kernels-"))
        atexit.register(shutil.rmtree, _build_dir, ignore_errors=True)
    cpp, so = _build_dir / f"{digest}.cpp", _build_dir / f"{digest}.so"
    cpp.write_text(source)
    cmd = [compiler(), "-std=c++17", "-O1", "-ffp-contract=off", "-fno-fast-math", "-fwrapv", "-shared", "-fPIC",
           "-o", str(so), str(cpp)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    assert done.returncode == 0, f"the host compiler rejected the kernel:\n{done.stderr}\n--- source ---\n{source}"
    lib = _libraries[digest] = ctypes.CDLL(str(so))
    return lib


def host_kernel(src: KernelSource, dtype: Any, scalars: Collection[str] = ()) -> Callable[..., None]:
    """The kernel ``src`` with ``T`` = ``dtype``, compiled for the CPU: ``kernel(*args)`` takes the
    arguments in the order of its ``in``, ``inout`` then ``out`` parameters. Inputs named in ``scalars``
    are numbers passed by value; every other argument is a contiguous 1-d array of its parameter's dtype
    and of one length ``n``, written in place for ``inout``/``out``."""
    ctype = CTYPES[np.dtype(dtype).name]
    unknown = set(scalars) - {p.name for p in src.inputs}
    assert not unknown, f"{sorted(unknown)} are not inputs of {src.name}"
    source = PRELUDE + cuda_source(src, ctype, f"{src.name}.cu", scalars)
    return _caller(src, ctype, getattr(_library(source), src.name), scalars)


def host_kernels(srcs: Sequence[KernelSource], dtype: Any = np.float32) -> dict[str, Callable[..., None]]:
    """Several kernels (distinct names, no scalar inputs) built by one compiler run: name -> the call
    :func:`host_kernel` returns for it."""
    ctype = CTYPES[np.dtype(dtype).name]
    library = _library(PRELUDE + "".join(cuda_source(s, ctype, f"{s.name}.cu") for s in srcs))
    return {s.name: _caller(s, ctype, getattr(library, s.name), ()) for s in srcs}


def _caller(src: KernelSource, ctype: str, function: Any, scalars: Collection[str]) -> Callable[..., None]:
    params = src.inputs + src.inouts + src.outputs
    function.restype = None

    def param_ctype(p: Any) -> str:
        return ctype if p.ctype == "T" else CTYPES.get(p.ctype, p.ctype)

    def call(*args: Any) -> None:
        assert len(args) == len(params), f"{src.name} takes {len(params)} arguments, got {len(args)}"
        arrays = [a for p, a in zip(params, args) if p.name not in scalars]
        n = len(arrays[0])
        c_args: list[Any] = []
        for p, a in zip(params, args):
            c = param_ctype(p)
            if p.name in scalars:
                c_args.append(_SCALAR_CTYPES[c](a))
                continue
            want = np.dtype(_DTYPES[c])
            assert isinstance(a, np.ndarray) and a.dtype == want and a.ndim == 1 and len(a) == n, (
                f"{src.name}: {p.name} must be a 1-d {want} array of length {n}")
            assert a.flags.c_contiguous and (a.flags.writeable or p in src.inputs), f"{p.name}: not a usable buffer"
            c_args.append(ctypes.c_void_p(a.ctypes.data))
        function(*c_args, ctypes.c_longlong(n))
    return call


class HostElementwiseKernel:
    """A stand-in for ``cupy.ElementwiseKernel`` running the host-compiled source on NumPy arrays: a
    module with it as ``ElementwiseKernel`` drives a device code path on the CPU. Non-array arguments
    are passed by value, arrays of one element are broadcast (as CuPy does), outputs must be given."""

    def __init__(self, in_params: str, out_params: str, operation: str, name: str, **options: Any):
        self.src = parse(f"// name: {name}\n// in: {in_params}\n// out: {out_params}\n{operation}\n", f"{name}.cu")
        self.options = options

    def __call__(self, *args: Any) -> None:
        params = self.src.inputs + self.src.outputs
        outs = args[len(self.src.inputs):]
        n = len(outs[0])
        t_dtype = next(a.dtype for p, a in zip(params, args) if p.ctype == "T" and isinstance(a, np.ndarray))
        scalars = [p.name for p, a in zip(params, args) if not isinstance(a, np.ndarray)]
        values = [a if p.name in scalars or a.ndim == 1 else np.ascontiguousarray(np.broadcast_to(a, (n,)))
                  for p, a in zip(params, args)]
        host_kernel(self.src, t_dtype, scalars)(*values)


class HostRawKernel:
    """A stand-in for ``cupy.RawKernel`` running a complete ``extern "C" __global__`` source on the CPU
    (compiled with :data:`PRELUDE`): NumPy arrays are passed as pointers, NumPy scalars by value in
    their own width, as CuPy passes them; any other argument is a TypeError, as in CuPy. The grid and
    block are accepted and ignored: the prelude's one thread covers every element."""

    def __init__(self, code: str, name: str, options: tuple[str, ...] = ()):
        self.code, self.name, self.options = code, name, options

    def __call__(self, grid: tuple[int, ...], block: tuple[int, ...], args: tuple[Any, ...],
                 shared_mem: int = 0) -> None:
        c_args: list[Any] = []
        for a in args:
            if isinstance(a, np.ndarray):
                assert a.flags.c_contiguous, f"{self.name}: a kernel argument must be a contiguous array"
                c_args.append(ctypes.c_void_p(a.ctypes.data))
            elif isinstance(a, np.generic) and a.dtype.name in _SCALAR_BY_DTYPE:
                c_args.append(_SCALAR_BY_DTYPE[a.dtype.name](a.item()))
            else:
                raise TypeError(f"Unsupported type {type(a)}")
        function = getattr(_library(PRELUDE + self.code), self.name)
        function.restype = None
        function(*c_args)


_SCALAR_BY_DTYPE = {np.dtype(d).name: _SCALAR_CTYPES[c] for c, d in _DTYPES.items()}
