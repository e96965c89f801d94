"""A region's CUDA text compiled by the host C++ compiler into one loop, loaded with ctypes.

The ElementwiseKernel body (gpugraph.fusion.cuda) is C++ as it stands once CUDA's math names are
``std::`` ones: the loop binds ``x0..`` to the inputs' elements and ``y0..`` to the outputs', and runs the
body once per element. A one-element input is read once, before the loop; any other broadcast input is
first made contiguous. Libraries are cached on disk by source
text and compiler ($GPUGRAPH_KERNEL_CACHE, default ~/.cache/gpugraph/fused). Compiled with
``-ffp-contract=off -fno-fast-math`` (NumPy's rounding) and ``-fwrapv`` (integer overflow wraps).
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from gpugraph.fusion.cuda import kernel_text
from gpugraph.fusion.region import Region, shrink
from gpugraph.fusion.rules import C_TYPES

PRELUDE = """#include <cmath>
using std::sqrt; using std::exp; using std::expm1; using std::log; using std::log1p; using std::pow;
using std::sin; using std::cos; using std::tan; using std::asin; using std::acos; using std::atan; using std::atan2;
using std::sinh; using std::cosh; using std::tanh; using std::asinh; using std::acosh; using std::atanh;
using std::floor; using std::ceil; using std::rint; using std::fabs; using std::abs;
"""
FLAGS = ("-std=c++17", "-O3", "-ffp-contract=off", "-fno-fast-math", "-fno-math-errno", "-fwrapv", "-shared", "-fPIC")


@functools.cache
def compiler() -> str | None:
    """The host C++ compiler ($CXX, else g++), or None when there is none."""
    return shutil.which(os.environ.get("CXX", "g++"))


def available() -> bool:
    return compiler() is not None


def cache_dir() -> Path:
    root = os.environ.get("GPUGRAPH_KERNEL_CACHE")
    return Path(root) if root else Path.home() / ".cache" / "gpugraph" / "fused"


def host_source(region: Region, scalars: tuple[bool, ...]) -> tuple[str, str]:
    """(C++ function text, its name) of the region's loop; inputs flagged in ``scalars`` are one element,
    read once before the loop (a loop with only unit-stride reads is one the compiler vectorizes)."""
    text = kernel_text(region)
    name = text.name + "_" + "".join("s" if flag else "a" for flag in scalars)
    # restrict-qualified parameters (GCC ignores restrict on locals): the loop vectorizes without overlap checks
    params, casts, setup, binds = [], [], [], []
    for k, (i, scalar) in enumerate(zip(region.inputs, scalars)):
        ctype = C_TYPES[i.dtype]
        params.append(f"const {ctype}* __restrict__ _p{k}")
        casts.append(f"(const {ctype}*)_in[{k}]")
        if scalar:
            setup.append(f"  const {ctype} x{k} = _p{k}[0];")
        else:
            binds.append(f"    const {ctype} x{k} = _p{k}[_i];")
    for j, r in enumerate(region.outputs):
        ctype = C_TYPES[region.dtype_of(r)]
        params.append(f"{ctype}* __restrict__ _q{j}")
        casts.append(f"({ctype}*)_out[{j}]")
        binds.append(f"    {ctype} &y{j} = _q{j}[_i];")
    body = "\n".join("    " + line for line in text.operation.splitlines())
    source = "\n".join([
        f"static void _loop_{name}(long long _n, {', '.join(params)}) {{",
        *setup,
        "  for (long long _i = 0; _i < _n; ++_i) {",
        *binds,
        body,
        "  }",
        "}",
        f'extern "C" void {name}(const void* const* _in, void* const* _out, long long _n) {{',
        f"  _loop_{name}(_n, {', '.join(casts)});",
        "}",
        "",
    ])
    return source, name


_loaded: dict[str, Any] = {}


def load(functions: list[tuple[str, str]]) -> list[Any]:
    """The named functions of the (text, name) pairs, compiled in one compiler run (or found in the cache)."""
    cxx = compiler()
    if cxx is None:
        raise RuntimeError("no C++ compiler for fused regions: set $CXX or install g++")
    source = PRELUDE + "\n".join(text for text, _ in functions)
    digest = hashlib.sha256("\0".join([cxx, *FLAGS, source]).encode()).hexdigest()[:24]
    if digest not in _loaded:
        folder = cache_dir()
        folder.mkdir(parents=True, exist_ok=True)
        so = folder / f"{digest}.so"
        if not so.exists():
            with tempfile.TemporaryDirectory(dir=folder) as tmp:
                cpp = Path(tmp) / "regions.cpp"
                cpp.write_text(source)
                built = Path(tmp) / "regions.so"
                done = subprocess.run([cxx, *FLAGS, "-o", str(built), str(cpp)], capture_output=True, text=True)
                if done.returncode != 0:
                    raise RuntimeError(f"the C++ compiler rejected a fused region:\n{done.stderr}\n{source}")
                os.replace(built, so)  # atomic: a concurrent process sees the whole file or none
        _loaded[digest] = ctypes.CDLL(str(so))
    library = _loaded[digest]
    found = []
    for _, name in functions:
        function = getattr(library, name)
        function.restype = None
        function.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_longlong]
        found.append(function)
    return found


def compile_regions(regions: list[Region]) -> list[CompiledRegion]:
    """A CompiledRegion for each region, all built by one compiler run (for their static scalar inputs)."""
    patterns = [tuple(i.is_scalar for i in r.inputs) for r in regions]
    functions = load([host_source(r, p) for r, p in zip(regions, patterns)])
    return [CompiledRegion(r, {p: f}) for r, p, f in zip(regions, patterns, functions)]


class CompiledRegion:
    """Runs a region as one compiled C++ loop over NumPy arrays (one build per pattern of scalar inputs)."""

    def __init__(self, region: Region, functions: dict[tuple[bool, ...], Any] | None = None):
        self.region = region
        self._functions = dict(functions or {})
        self._in_dtypes = [np.dtype(i.dtype) for i in region.inputs]
        self._out_dtypes = [np.dtype(region.dtype_of(r)) for r in region.outputs]
        if not self._functions:
            self.function(tuple(i.is_scalar for i in region.inputs))  # the likely build, made now

    def function(self, scalars: tuple[bool, ...]) -> Any:
        f = self._functions.get(scalars)
        if f is None:
            f = self._functions[scalars] = load([host_source(self.region, scalars)])[0]
        return f

    def __call__(self, *arrays: Any) -> tuple[np.ndarray, ...]:
        inputs = [np.asarray(a, d) for a, d in zip(arrays, self._in_dtypes)]
        shape = np.broadcast_shapes(*(a.shape for a in inputs)) if inputs else ()
        size = int(np.prod(shape, dtype=np.int64))
        scalars = tuple(a.size == 1 for a in inputs)
        # a partly broadcast input (neither one element nor full size) is copied out in full
        keep = [np.ascontiguousarray(a if one or a.shape == shape else np.broadcast_to(a, shape))
                for a, one in zip(inputs, scalars)]
        outs = [np.empty(shape, d) for d in self._out_dtypes]
        if size:
            in_ptrs = (ctypes.c_void_p * max(1, len(keep)))(*[a.ctypes.data for a in keep])
            out_ptrs = (ctypes.c_void_p * len(outs))(*[o.ctypes.data for o in outs])
            self.function(scalars)(in_ptrs, out_ptrs, size)
        shapes = self.region.output_shapes([a.shape for a in inputs])
        return tuple(shrink(o, s) for o, s in zip(outs, shapes))
