"""Optimizer updates on the host as one compiled C++ loop: the .cu body run once per element, in place.

The NumPy twin of an update kernel makes several full passes over the variable (Adam: about nine, with
temporaries); the loop makes one. It is the kernel's body as the host C++ compiler builds it, through
gpugraph.fusion.compiled (its compiler, its flags, so without FMA contraction or fast-math every
operation rounds as the twin's does, and its disk cache). Scalars (``lr``, the beta powers) are passed
by value in the variable's dtype, the values the twin computes with, and the loop computes what depends
on them alone (Adam's ``alpha``) in that dtype, as the twin does; ``fmax`` is NumPy's ``maximum`` (NaN
wins), as in the twin. Variables under ``LARGE_ELEMENTS`` elements keep the twin (the
C call costs more than it saves), and a loop is compiled after ``COMPILE_AFTER`` large updates, so a
plan run once never waits for the compiler. Without a compiler, or for arguments the loop does not take
(other dtypes, overlapping or strided slots, non-scalar hyper-parameters), the twin runs.
"""

from __future__ import annotations

import ctypes
import os
import weakref
from typing import Any, Callable, Sequence

import numpy as np

from gpugraph.compiler.fused_step import COMPILE_AFTER, LARGE_ELEMENTS
from gpugraph.fusion import parallel
from gpugraph.fusion.addresses import data_address
from gpugraph.kernels import KernelSource, load

__all__ = ["ENV_HOST_LOOPS", "NUMPY_POW_IS_LIBM", "HostLoop", "HostUpdate", "KeptPointers", "build", "build_many",
           "enabled", "host_source", "in_place_pointers"]

ENV_HOST_LOOPS = "GPUGRAPH_HOST_UPDATE_LOOPS"  # "0" / "false" / "off": every update runs its NumPy twin
ARRAY_PARAMS = frozenset({"grad", "delta"})  # the one full-size input; every other input is a scalar
LOOP_DTYPES = ("float32", "float64")
LOOP_C_TYPES = {"float32": "float", "float64": "double", "int64": "long long", "bool": "bool"}


def _numpy_cpu_features() -> dict[str, bool]:
    try:
        from numpy._core._multiarray_umath import __cpu_features__
    except ImportError:  # NumPy 1.x
        from numpy.core._multiarray_umath import __cpu_features__
    return dict(__cpu_features__)


# NumPy's float power goes through SVML on AVX-512 machines, whose last bit may differ from libm's pow
NUMPY_POW_IS_LIBM = not _numpy_cpu_features().get("AVX512_SKX", False)

_built: dict[tuple[str, str], HostLoop | None] = {}  # (kernel, dtype) -> its loop; None: cannot be built


def enabled(environ: Any = os.environ) -> bool:
    return environ.get(ENV_HOST_LOOPS, "1").strip().lower() not in ("0", "false", "no", "off")


# One copy of the loop per vector width, picked by the CPU at load time (glibc's ifunc): every width rounds
# each operation alike (no FMA contraction), and AVX2 halves the time of Adam's divides and square roots.
_CLONES = """#ifndef GPUGRAPH_UPDATE_CLONES
#if defined(__x86_64__) && defined(__GLIBC__) && (!defined(__clang__) || __clang_major__ >= 14)
#define GPUGRAPH_UPDATE_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define GPUGRAPH_UPDATE_CLONES
#endif
#endif"""
CTYPES_ARG = {"float32": ctypes.c_float, "float64": ctypes.c_double, "int64": ctypes.c_longlong,
               "bool": ctypes.c_bool}


def host_source(src: KernelSource, dtype: str) -> tuple[str, str]:
    """(C++ text, exported function name) of the kernel's loop over ``dtype`` elements. The exported
    function takes the size, then the in parameters (scalars by value, the gradient's address), then the
    addresses of the inout arrays."""
    name = f"gpugraph_update_{src.name}_{dtype}"
    ctype = LOOP_C_TYPES[dtype]
    params, args, binds = ["long long _n"], ["_n"], []
    for p in src.inputs:
        c = ctype if p.ctype == "T" else LOOP_C_TYPES[p.ctype]
        if p.name in ARRAY_PARAMS:
            params.append(f"const {c}* __restrict__ _a_{p.name}")
            binds.append(f"    const {c} {p.name} = _a_{p.name}[_i];")
        else:
            params.append(f"const {c} {p.name}")
        args.append(f"_a_{p.name}" if p.name in ARRAY_PARAMS else p.name)
    for p in src.inouts:
        params.append(f"{ctype}* __restrict__ _o_{p.name}")
        args.append(f"_o_{p.name}")
        binds.append(f"    {ctype}& {p.name} = _o_{p.name}[_i];")
    body = "\n".join("    " + line for line in src.operation.splitlines())
    signature = ", ".join(params)
    text = "\n".join([
        _CLONES,
        f"namespace {name}_ns {{",
        f"typedef {ctype} T;",
        # NumPy's maximum: a NaN operand wins (C's fmax would drop it)
        "static inline T fmax(T a, T b) { return (a >= b || a != a) ? a : b; }",
        f"GPUGRAPH_UPDATE_CLONES static void loop({signature}) {{",
        "  for (long long _i = 0; _i < _n; ++_i) {",
        *binds,
        body,
        "  }",
        "}",
        "}",
        f'extern "C" void {name}({signature.replace("__restrict__ ", "")}) {{',
        f"  {name}_ns::loop({', '.join(args)});",
        "}",
        "",
    ])
    return text, name


class HostLoop:
    """A compiled update loop for one kernel and dtype: ``loop(refs, inputs, attrs)`` updates the refs in
    place and returns True, or returns False (nothing written) for arguments it does not take."""

    def __init__(self, src: KernelSource, dtype: str, function: Any):
        self.src = src
        self.dtype = np.dtype(dtype)
        self._specs = [(p.name in ARRAY_PARAMS, self.dtype if p.ctype == "T" else np.dtype(p.ctype))
                       for p in src.inputs]
        self._n_refs = len(src.inouts)
        function.argtypes = [ctypes.c_longlong, *[ctypes.c_void_p if array else CTYPES_ARG[want.name]
                                                  for array, want in self._specs],
                             *[ctypes.c_void_p] * self._n_refs]
        function.restype = None
        self.function = function
        names = [p.name for p in src.inputs]
        # where NumPy's power is not libm's, only FTRL's square-root case (lr_power == -0.5) matches the twin
        self._power = names.index("lr_power") if "lr_power" in names and not NUMPY_POW_IS_LIBM else None

    def __call__(self, refs: list[Any], inputs: tuple[Any, ...], attrs: tuple[Any, ...]) -> bool:
        pointers = self.ref_pointers(refs)
        return pointers is not None and self.run(refs, pointers, (*inputs, *attrs))

    def ref_pointers(self, refs: Sequence[Any]) -> list[int] | None:
        """The addresses of the variable and its slots, or None where the loop cannot write them in place."""
        return in_place_pointers(refs, self._n_refs, self.dtype)

    def run(self, refs: list[Any], pointers: list[int], values: tuple[Any, ...]) -> bool:
        """The update over ``refs`` (at ``pointers``, from ``ref_pointers``) with the op's inputs then attrs."""
        if len(values) != len(self._specs):
            return False
        var = refs[0]
        args: list[Any] = [var.size]
        for value, (is_array, want) in zip(values, self._specs):
            if is_array:
                if type(value) is not np.ndarray or value.dtype != want or value.shape != var.shape:
                    return False
                value = np.ascontiguousarray(value)
                start = data_address(value)
                end, size = start + value.nbytes, var.nbytes
                if any(p < end and start < p + size for p in pointers):
                    return False  # the loop would read the gradient where it writes the slots
                args.append(start)
            elif isinstance(value, (np.ndarray, np.generic)):
                # a hyper-parameter in the variable's dtype (the twin's value exactly), or global_step
                if value.dtype != want or value.size != 1:
                    return False
                args.append(value.item())
            elif want != self.dtype and isinstance(value, (bool, int)):  # an attribute (use_nesterov)
                args.append(value)
            else:
                return False
        if self._power is not None and args[1 + self._power] != -0.5:
            return False
        if var.size:
            self.function(*args, *pointers)
        return True


def build(kernel: str, dtype: Any) -> HostLoop | None:
    """The loop of ``kernel`` over ``dtype`` (compiled now, or found in the cache), or None where it cannot
    be built: no compiler, a dtype or parameter type the loop does not take, or a compiler that fails."""
    return build_many([(kernel, dtype)])[0]


def build_many(pairs: list[tuple[str, Any]]) -> list[HostLoop | None]:
    """``build`` for each (kernel, dtype), the ones not built yet compiled in one compiler run."""
    keys = [(kernel, np.dtype(dtype).name) for kernel, dtype in pairs]
    todo = [k for k in dict.fromkeys(keys) if k not in _built]
    buildable = [(k, load(k[0])) for k in todo if k[1] in LOOP_DTYPES]
    buildable = [(k, src) for k, src in buildable if all(p.ctype in ("T", *LOOP_C_TYPES) for p in src.inputs)]
    for k in todo:
        _built[k] = None
    if buildable:
        from gpugraph.fusion import compiled  # the fused regions' compiler, flags and cache

        if compiled.available():
            try:
                functions = compiled.load([host_source(src, k[1]) for k, src in buildable])
            except (RuntimeError, OSError):  # a compiler that fails here: the twins still run
                functions = []
            for (k, src), function in zip(buildable, functions):
                _built[k] = HostLoop(src, k[1], function)
    return [_built[k] for k in keys]


def in_place_pointers(refs: Sequence[Any], n_refs: int, dtype: np.dtype) -> list[int] | None:
    """The addresses of an update's variable and slots, or None where a loop cannot write them in place:
    not ``n_refs`` C-contiguous, writable NumPy arrays of ``dtype`` and one shape, or two that overlap."""
    if len(refs) != n_refs:
        return None
    shape = refs[0].shape
    for r in refs:
        if (type(r) is not np.ndarray or r.dtype != dtype or r.shape != shape or not r.flags.c_contiguous
                or not r.flags.writeable):
            return None
    for k in range(1, len(refs)):
        for j in range(k):
            if np.may_share_memory(refs[j], refs[k]):
                return None
    return [r.ctypes.data for r in refs]


class KeptPointers:
    """``find(refs)``'s answer (the arrays' addresses, or what is built from them) kept while the variables
    and slots keep their buffers (as updates do): reading an array's address costs more than a small
    update's loop. None answers are not kept."""

    __slots__ = ("_refs", "_pointers")

    def __init__(self) -> None:
        self._refs: tuple[weakref.ref, ...] = ()
        self._pointers: Any = None

    def __call__(self, refs: Sequence[Any], find: Callable[[Sequence[Any]], Any]) -> Any:
        kept = self._refs
        if kept and len(kept) == len(refs) and all(w() is r for w, r in zip(kept, refs)):
            return self._pointers
        pointers = find(refs)
        if pointers is not None:
            self._refs, self._pointers = tuple(weakref.ref(r) for r in refs), pointers
        return pointers


class HostUpdate:
    """``update(refs, inputs, attrs)`` on NumPy: the compiled loop for large variables, else the twin."""

    def __init__(self, kernel: str, twin: Callable[..., Any]):
        self.kernel = kernel
        self.twin = twin
        self._large_runs: dict[Any, int] = {}  # per dtype: large updates run before the loop was built
        self._pointers = KeptPointers()
        self._split: dict[tuple[Any, int], Any] = {}  # (dtype, inputs) -> HostMultiUpdate, for huge variables

    def __call__(self, refs: list[Any], inputs: tuple[Any, ...], attrs: tuple[Any, ...]) -> Any:
        var = refs[0]
        if var.size >= LARGE_ELEMENTS and type(var) is np.ndarray:  # not a simulated device's array
            if var.size >= parallel.PARALLEL_ELEMENTS and self._on_threads(refs, inputs, attrs):
                return var
            loop = self._loop(var.dtype)
            if loop is not None:
                pointers = self._pointers(refs, loop.ref_pointers)
                if pointers is not None and loop.run(refs, pointers, (*inputs, *attrs)):
                    return var
        return self.twin(np, *refs, *inputs, *attrs)

    def _on_threads(self, refs: list[Any], inputs: tuple[Any, ...], attrs: tuple[Any, ...]) -> bool:
        """A variable of ``PARALLEL_ELEMENTS`` or more through the grouped call with this one variable,
        whose loop runs on the intra-op threads (gpugraph.fusion.parallel), the same bits; False (nothing
        written) until that is built, or for arguments it does not take."""
        from gpugraph.kernels.host_multi import HostMultiUpdate  # it builds on this module

        key = (refs[0].dtype, len(inputs))
        split = self._split.get(key)
        if split is None:
            names = [p.name for p in load(self.kernel).inputs]
            grad = next((k for k, n in enumerate(names[:len(inputs)]) if n in ARRAY_PARAMS), None)
            split = self._split[key] = (grad, None if grad is None else
                                        HostMultiUpdate(self.kernel, len(inputs), grad, refs[0].dtype))
        grad, update = split
        if update is None:
            return False
        return update(inputs[:grad] + inputs[grad + 1:], [inputs[grad]], [refs], attrs)

    def _loop(self, dtype: Any) -> HostLoop | None:
        key = (self.kernel, dtype.name)
        if key in _built:
            return _built[key]
        runs = self._large_runs[dtype] = self._large_runs.get(dtype, 0) + 1
        if runs < COMPILE_AFTER:
            return None
        return build(self.kernel, dtype)
