"""A region's CUDA text compiled by the host C++ compiler into one loop, loaded with ctypes.

The ElementwiseKernel body (gpugraph.fusion.cuda) is C++ as it stands once CUDA's math names are
``std::`` ones: the loop binds ``x0..`` to the inputs' elements and ``y0..`` to the outputs', and runs the
body once per element. A one-element input is read once, before the loop; any other broadcast input is
first made contiguous. Libraries are cached on disk by source
text and compiler ($GPUGRAPH_KERNEL_CACHE, default ~/.cache/gpugraph/fused). Compiled with
``-ffp-contract=off -fno-fast-math`` (NumPy's rounding), ``-fno-trapping-math`` (comparisons without
branches) and ``-fwrapv`` (integer overflow wraps).
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import math
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from gpugraph.fusion.addresses import pointer_array
from gpugraph.fusion.cuda import kernel_text
from gpugraph.fusion import parallel
from gpugraph.fusion.parallel import PARALLEL_TYPEDEF
from gpugraph.fusion.region import Region, shrink
from gpugraph.fusion.rules import C_TYPES

# A region's loop is built once per vector width and picked by the CPU at load time (glibc's ifunc): every
# width rounds each operation alike (no FMA contraction); AVX2 takes the MLP's bias + ReLU from 12.5 to 9 us.
PRELUDE = """#include <cmath>
using std::sqrt; using std::exp; using std::expm1; using std::log; using std::log1p; using std::pow;
using std::sin; using std::cos; using std::tan; using std::asin; using std::acos; using std::atan; using std::atan2;
using std::sinh; using std::cosh; using std::tanh; using std::asinh; using std::acosh; using std::atanh;
using std::floor; using std::ceil; using std::rint; using std::fabs; using std::abs;
#if defined(__x86_64__) && defined(__GLIBC__) && (!defined(__clang__) || __clang_major__ >= 14)
#define GPUGRAPH_REGION_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define GPUGRAPH_REGION_CLONES
#endif
"""
# -fno-trapping-math: no code here reads floating-point exception flags, and without it GCC keeps a branch
# for every ordered comparison (ReluGrad's dy * (y > 0) ran 20x slower on random signs); values are the same
FLAGS = ("-std=c++17", "-O3", "-ffp-contract=off", "-fno-fast-math", "-fno-math-errno", "-fno-trapping-math",
         "-fwrapv", "-shared", "-fPIC")


# Ops the host compiler calls libm for, one element at a time, where NumPy runs its own SIMD loops (float32
# exp: about 6 ns an element against 0.3): an LSTM step's gates ran 1.9x slower as compiled loops.
LIBM_OPS = frozenset({"Exp", "Expm1", "Log", "Log1p", "Sin", "Cos", "Tan", "Atan", "Sinh", "Cosh", "Tanh",
                      "Sigmoid", "Softplus", "Elu", "Selu", "Atan2"})


def worth_compiling(region: Region) -> bool:
    """Whether one compiled loop beats NumPy's passes over the region: not where it calls libm's scalar
    transcendental functions."""
    return not any(node.op_type in LIBM_OPS for node in region.nodes)


@functools.cache
def compiler() -> str | None:
    """The host C++ compiler ($CXX, else g++), or None when there is none."""
    return shutil.which(os.environ.get("CXX", "g++"))


def available() -> bool:
    return compiler() is not None


def cache_dir() -> Path:
    root = os.environ.get("GPUGRAPH_KERNEL_CACHE")
    return Path(root) if root else Path.home() / ".cache" / "gpugraph" / "fused"


def host_source(region: Region, pattern: tuple[Any, ...], in_place: bool = False) -> tuple[str, str]:
    """(C++ function text, its name) of the region's loop. ``pattern`` says how each input is read: "s",
    one element read once before the loop; "r", a row the size of the result's last axis, read at the
    column (a bias broadcast over a batch, read in place of a copy of it in full); "a", every element
    (True and False stand for "s" and "a"). A loop with only unit-stride reads is one the compiler
    vectorizes. ``in_place``: an output may be an input's own buffer (element i is read before it is
    written, in the same iteration)."""
    pattern = tuple(("s" if p else "a") if isinstance(p, bool) else p for p in pattern)
    text = kernel_text(region)
    name = text.name + "_" + "".join(pattern) + ("_inplace" if in_place else "")
    # restrict-qualified parameters (GCC ignores restrict on locals): the loop vectorizes without overlap
    # checks. In place, restrict would be a false promise; "ivdep" says what holds instead: no iteration
    # reads what another writes (an element is read and written by its own iteration only).
    restrict = "" if in_place else " __restrict__"
    params, casts, setup, binds = [], [], [], []
    for k, (i, how) in enumerate(zip(region.inputs, pattern)):
        ctype = C_TYPES[i.dtype]
        params.append(f"const {ctype}*{restrict} _p{k}")
        casts.append(f"(const {ctype}*)_in[{k}]")
        if how == "s":
            setup.append(f"  const {ctype} x{k} = _p{k}[0];")
        else:
            binds.append(f"      const {ctype} x{k} = _p{k}[{'_c' if how == 'r' else '_i'}];")
    for j, r in enumerate(region.outputs):
        ctype = C_TYPES[region.dtype_of(r)]
        params.append(f"{ctype}*{restrict} _q{j}")
        casts.append(f"({ctype}*)_out[{j}]")
        binds.append(f"      {ctype} &y{j} = _q{j}[_i];")
    body = "\n".join("      " + line for line in text.operation.splitlines())
    source = "\n".join([
        PARALLEL_TYPEDEF,
        # elements [_begin, _end) in rows of _inner (a chunk of a parallel loop starts at a row's start)
        f"GPUGRAPH_REGION_CLONES static void _loop_{name}(long long _begin, long long _end, long long _inner, "
        f"{', '.join(params)}) {{",
        *setup,
        "  for (long long _o = _begin; _o < _end; _o += _inner) {",
        "    const long long _m = _end - _o < _inner ? _end - _o : _inner;",
        *(["#pragma GCC ivdep"] if in_place else []),
        "    for (long long _c = 0; _c < _m; ++_c) {",
        "      const long long _i = _o + _c;",
        *binds,
        body,
        "    }",
        "  }",
        "}",
        f"struct _args_{name} {{ const void* const* _in; void* const* _out; long long _inner; }};",
        f"static void _range_{name}(const void* _ctx, long long _begin, long long _end) {{",
        f"  const void* const* _in = ((const _args_{name}*)_ctx)->_in;",
        f"  void* const* _out = ((const _args_{name}*)_ctx)->_out;",
        f"  _loop_{name}(_begin, _end, ((const _args_{name}*)_ctx)->_inner, {', '.join(casts)});",
        "}",
        f'extern "C" void {name}(const void* const* _in, void* const* _out, long long _n, long long _inner) {{',
        f"  _loop_{name}(0, _n, _inner, {', '.join(casts)});",
        "}",
        # the same loop, its chunks run by the pool's threads (gpugraph.fusion.parallel)
        f'extern "C" void {name}_threads(const void* const* _in, void* const* _out, long long _n, long long _inner,',
        "    gpugraph_parallel_for_t _pool, long long _chunk, int _threads) {",
        f"  const _args_{name} _args{{_in, _out, _inner}};",
        f"  _pool(_range_{name}, &_args, _n, _chunk, _threads);",
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
    patterns = [tuple("s" if i.is_scalar else "a" for i in r.inputs) for r in regions]
    functions = region_loops([host_source(r, p) for r, p in zip(regions, patterns)])
    return [CompiledRegion(r, {p: f}) for r, p, f in zip(regions, patterns, functions)]


class RegionLoop:
    """A region's compiled loop: ``loop(inputs, outputs, elements, row length)`` with the addresses of its
    input and output arrays; over ``PARALLEL_ELEMENTS`` or more, its chunks run on the session's intra-op
    threads (gpugraph.fusion.parallel), the same bits as on one."""

    __slots__ = ("serial", "threaded")

    def __init__(self, serial: Any, threaded: Any):
        serial.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_longlong, ctypes.c_longlong]
        threaded.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_longlong, ctypes.c_longlong,
                             ctypes.c_void_p, ctypes.c_longlong, ctypes.c_int]
        self.serial, self.threaded = serial, threaded

    def __call__(self, inputs: Any, outputs: Any, elements: int, row: int) -> None:
        if elements < parallel.PARALLEL_ELEMENTS:  # most loops: no call to ask
            self.serial(inputs, outputs, elements, row)
            return
        # a row shorter than the whole is a bias read at the column: chunks start at a row's start
        split = parallel.split(elements, row if row < elements else 1)
        if split is None:
            self.serial(inputs, outputs, elements, row)
        else:
            self.threaded(inputs, outputs, elements, row, *split)


def region_loops(sources: list[tuple[str, str]]) -> list[RegionLoop]:
    """The loops of ``host_source``'s (text, name) pairs, built in one compiler run."""
    names = [(text, name) for text, name in sources] + [("", f"{name}_threads") for _, name in sources]
    functions = load(names)
    n = len(sources)
    return [RegionLoop(serial, threaded) for serial, threaded in zip(functions[:n], functions[n:])]


class CompiledRegion:
    """Runs a region as one compiled C++ loop over NumPy arrays (one build per pattern of inputs)."""

    def __init__(self, region: Region, functions: dict[tuple[str, ...], Any] | None = None):
        self.region = region
        self._functions = dict(functions or {})
        self._in_dtypes = [np.dtype(i.dtype) for i in region.inputs]
        self._out_dtypes = [np.dtype(region.dtype_of(r)) for r in region.outputs]
        self._layouts: dict[tuple[tuple[int, ...], ...], tuple[Any, ...]] = {}
        if not self._functions:  # the likely build, now: both loops in one compiler run
            likely = tuple("s" if i.is_scalar else "a" for i in region.inputs)
            both = region_loops([host_source(region, likely), host_source(region, likely, in_place=True)])
            self._functions[likely], self._functions[likely + (IN_PLACE,)] = both

    def function(self, pattern: tuple[str, ...]) -> Any:
        """The loop for inputs read as ``pattern`` (ending in IN_PLACE: the one that may write in place)."""
        f = self._functions.get(pattern)
        if f is None:
            in_place = bool(pattern) and pattern[-1] == IN_PLACE
            source = host_source(self.region, pattern[:-1] if in_place else pattern, in_place=in_place)
            f = self._functions[pattern] = region_loops([source])[0]
        return f

    def __call__(self, *arrays: Any) -> tuple[np.ndarray, ...]:
        return self.into(None, *arrays)

    def into(self, given: Sequence[Any] | None, *arrays: Any) -> tuple[np.ndarray, ...]:
        """The region's outputs for ``arrays``, each written into its ``given`` array where that is one the
        loop can fill (C-contiguous, writeable, of the output's shape and dtype; None, or no ``given``: a
        new array). A given array may be one of ``arrays`` itself: the loop reads each element before it
        writes it."""
        # arrays of the input's dtype as they are (``asarray`` with a dtype costs a call each)
        inputs = [a if type(a) is np.ndarray and a.dtype is d else np.asarray(a, d)
                  for a, d in zip(arrays, self._in_dtypes)]
        shapes = tuple([a.shape for a in inputs])
        layout = self._layouts.get(shapes)
        if layout is None:
            layout = self._layouts[shapes] = self._layout(shapes)
        shape, size, reads, function, inner, out_shapes, pattern = layout
        outs = None
        if given is not None and out_shapes is None:
            filled = [g if _fills(g, shape, d) else None for g, d in zip(given, self._out_dtypes)]
            if any(o is not None for o in filled):
                outs = [np.empty(shape, d) if o is None else o for o, d in zip(filled, self._out_dtypes)]
                function = self.function(pattern + (IN_PLACE,))
        if outs is None:
            outs = [np.empty(shape, d) for d in self._out_dtypes]
        if size:
            keep = [a if a.flags.c_contiguous and how != "b" else _READERS[how](a, shape)
                    for a, how in zip(inputs, reads)]
            function(pointer_array(keep) if keep else _NO_INPUTS, pointer_array(outs), size, inner)
        if out_shapes is None:
            return tuple(outs)
        return tuple(shrink(o, s) for o, s in zip(outs, out_shapes))

    def bound(self, shapes: tuple[tuple[int, ...], ...]) -> Any:
        """``into`` for arrays of exactly ``shapes`` only, as a function ``run(given, arrays)`` that returns
        the outputs' tuple, or None for arrays it does not take (then ``into`` runs): NumPy arrays of the
        region's dtypes, C-contiguous, no input copied out in full, no output of its own shape. In a training
        step every Python call runs with caches the products have just flushed (a fused bias + ReLU: 17 us
        hot through ``into``, 30 in the step); this path checks what ``into`` works out. None where the
        shapes take no such path."""
        layout = self._layouts.get(shapes)
        if layout is None:
            return None
        shape, size, reads, loop, inner, out_shapes, pattern = layout
        if out_shapes is not None or "b" in reads or not size or not shapes:
            return None
        in_place = self.function(pattern + (IN_PLACE,))
        checks = tuple(zip(self._in_dtypes, shapes))
        out_dtypes = tuple(self._out_dtypes)

        def run(given: Sequence[Any] | None, arrays: Sequence[Any]) -> tuple[np.ndarray, ...] | None:
            for a, (dtype, s) in zip(arrays, checks):
                if type(a) is not np.ndarray or a.dtype is not dtype or a.shape != s or not a.flags.c_contiguous:
                    return None
            function = loop
            if given is None:
                outs = [np.empty(shape, d) for d in out_dtypes]
            else:
                outs = []
                for g, d in zip(given, out_dtypes):
                    if g is not None and _fills(g, shape, d):
                        outs.append(g)
                        function = in_place
                    else:
                        outs.append(np.empty(shape, d))
            function(pointer_array(arrays), pointer_array(outs), size, inner)
            return tuple(outs)
        return run

    def _layout(self, shapes: tuple[tuple[int, ...], ...]) -> tuple[Any, ...]:
        """How a call with inputs of these shapes runs, worked out once per shapes (NumPy's shape helpers
        cost microseconds each, more than the loop over a small region): the iteration space, its size,
        how each input is read, the loop, its row length, the outputs' own shapes (None: all span the
        space), and the loop's read pattern."""
        if len(self._layouts) >= _LAYOUTS_KEPT:
            self._layouts.clear()
        shape = tuple(np.broadcast_shapes(*shapes)) if shapes else ()
        size = math.prod(shape)
        reads, pattern = [], []
        for s in shapes:
            if math.prod(s) == 1:
                how = "s"
            elif s == shape:
                how = "a"
            elif shape and math.prod(s) == shape[-1] and s[-1] == shape[-1]:  # a row: read at the column
                how = "r"
            else:  # any other broadcast input is copied out in full
                how = "b"
            reads.append(how)
            pattern.append("a" if how == "b" else how)
        inner = shape[-1] if "r" in pattern else size
        out_shapes = [tuple(o) for o in self.region.output_shapes(list(shapes))]
        return (shape, size, tuple(reads), self.function(tuple(pattern)), inner,
                None if all(o == shape for o in out_shapes) else out_shapes, tuple(pattern))


def _fills(array: Any, shape: tuple[int, ...], dtype: np.dtype) -> bool:
    """Whether the loop can write an output of ``shape`` and ``dtype`` straight into ``array``."""
    return (isinstance(array, np.ndarray) and array.shape == shape and array.dtype == dtype
            and array.flags.c_contiguous and array.flags.writeable)


_NO_INPUTS = (ctypes.c_void_p * 1)()  # a region of constants only reads no array
IN_PLACE = "inplace"  # the last entry of a pattern whose loop may write an output over an input
_LAYOUTS_KEPT = 64  # shapes a region remembers how to run (a varying batch size makes a few)
_READERS = {  # how an input array is handed to the loop, by its read pattern
    "s": lambda a, shape: np.ascontiguousarray(a),
    "a": lambda a, shape: np.ascontiguousarray(a),
    "r": lambda a, shape: np.ascontiguousarray(a).reshape(-1),
    "b": lambda a, shape: np.ascontiguousarray(np.broadcast_to(a, shape)),
}
