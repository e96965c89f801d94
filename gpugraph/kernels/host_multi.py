"""Several optimizer updates of one rule on the host in one compiled call (the CuPy multi-tensor kernel's
counterpart, gpugraph.kernels.multi_tensor).

Each variable's update is the same compiled loop as gpugraph.kernels.host_loops runs for one variable,
so the values are the same bit for bit; one C call walks the variables in order, as the updates one by
one would. A call costs about 10 us of Python checks and argument conversion per variable where each
update is its own call, and small variables (biases) ran the NumPy twin (9-17 us each): an MLP's six
Adam updates went from six calls and four twins to one call.
"""

from __future__ import annotations

import ctypes
from typing import Any, Sequence

import numpy as np

from gpugraph.compiler.fused_step import COMPILE_AFTER
from gpugraph.fusion.addresses import data_address
from gpugraph.fusion import parallel
from gpugraph.fusion.parallel import PARALLEL_TYPEDEF
from gpugraph.kernels import KernelSource, load
from gpugraph.kernels.host_loops import (LOOP_C_TYPES, CTYPES_ARG, ARRAY_PARAMS, LOOP_DTYPES, NUMPY_POW_IS_LIBM,
                                         KeptPointers, host_source, in_place_pointers)

__all__ = ["HostMultiUpdate", "many_source"]

# the loop's sizes and address arrays, per variable (shape, bytes, ref addresses), and the elements in all
_Table = tuple[Any, Any, list[tuple[Any, int, list[int]]], int]



def many_source(src: KernelSource, dtype: str) -> tuple[str, str]:
    """(C++ text, exported name) of the loop over several variables: ``name(count, sizes, arrays, scalars)``
    where ``arrays`` holds, per variable, its array inputs (the gradient) then its inout arrays. The text
    also exports ``name_threads(..., pool, chunk, threads)``: the variables' elements taken end to end as
    one range, its chunks run by the pool's threads (gpugraph.fusion.parallel)."""
    text, single = host_source(src, dtype)
    name = f"{single}_many"
    ctype = LOOP_C_TYPES[dtype]
    params, args, k = ["long long _count", "const long long* _sizes", "void* const* _arrays"], ["_sizes[_t]"], 0
    scalars, chunk_args = [], ["_hi - _lo"]
    for p in src.inputs:
        c = ctype if p.ctype == "T" else LOOP_C_TYPES[p.ctype]
        if p.name in ARRAY_PARAMS:
            args.append(f"(const {c}*)_a[{k}]")
            chunk_args.append(f"(const {c}*)_a[{k}] + _lo")
            k += 1
        else:
            params.append(f"const {c} {p.name}")
            scalars.append((c, p.name))
            args.append(p.name)
            chunk_args.append(f"_j.{p.name}")
    for _ in src.inouts:
        args.append(f"({ctype}*)_a[{k}]")
        chunk_args.append(f"({ctype}*)_a[{k}] + _lo")
        k += 1
    fields = "".join(f" {c} {n};" for c, n in scalars)
    job = f"{name}_job{{_count, _sizes, _arrays{''.join(', ' + n for _, n in scalars)}}}"
    text += "\n".join([
        PARALLEL_TYPEDEF,
        f'extern "C" void {name}({", ".join(params)}) {{',
        "  for (long long _t = 0; _t < _count; ++_t) {",
        f"    void* const* _a = _arrays + _t * {k};",
        f"    {single}_ns::loop({', '.join(args)});",
        "  }",
        "}",
        f"struct {name}_job {{ long long _count; const long long* _sizes; void* const* _arrays;{fields} }};",
        f"static void {name}_range(const void* _ctx, long long _begin, long long _end) {{",
        f"  const {name}_job& _j = *(const {name}_job*)_ctx;",
        "  long long _start = 0;",
        "  for (long long _t = 0; _t < _j._count && _start < _end; ++_t) {",
        "    const long long _size = _j._sizes[_t];",
        "    const long long _lo = _begin > _start ? _begin - _start : 0;",
        "    const long long _hi = _end - _start < _size ? _end - _start : _size;",
        "    if (_lo < _hi) {",
        f"      void* const* _a = _j._arrays + _t * {k};",
        f"      {single}_ns::loop({', '.join(chunk_args)});",
        "    }",
        "    _start += _size;",
        "  }",
        "}",
        f'extern "C" void {name}_threads({", ".join(params)}, gpugraph_parallel_for_t _pool, long long _chunk,',
        "    int _threads) {",
        f"  const {name}_job _job = {job};",
        "  long long _total = 0;",
        "  for (long long _t = 0; _t < _count; ++_t) _total += _sizes[_t];",
        f"  _pool({name}_range, &_job, _total, _chunk, _threads);",
        "}",
        "",
    ])
    return text, name


class HostMultiUpdate:
    """``update(shared, grads, refs, attrs)``: each variable's update, in order, in one compiled call, with
    the op's inputs but the gradient (``shared``), each update's gradient and its ref arrays (the variable,
    then its slots). Returns False, writing nothing, for arguments the loop does not take (other dtypes or
    shapes, strided or read-only arrays, a gradient overlapping its variable, hyper-parameters that are not
    scalars of the variable's dtype), or before the loop is built: the caller runs the updates one by one.
    The loop is compiled after ``COMPILE_AFTER`` calls, so a plan run once never waits for the compiler."""

    def __init__(self, kernel: str, n_inputs: int, grad: int, dtype: Any):
        self.kernel = kernel
        self.dtype = np.dtype(dtype)
        src = load(kernel)
        self._n_refs = len(src.inouts)
        self._scalars = [(p.name, self.dtype if p.ctype == "T" else np.dtype(p.ctype))
                         for k, p in enumerate(src.inputs[:n_inputs]) if k != grad]
        self._attrs = [np.dtype(p.ctype) for p in src.inputs[n_inputs:]]
        self._array_params = sum(p.name in ARRAY_PARAMS for p in src.inputs)
        self._function: Any = None
        self._threaded: Any = None  # the same loop over the pool's threads
        self._calls = 0
        self._kept = KeptPointers()  # the variables' addresses and the loop's arrays (see _table)
        self._usable = self.dtype.name in LOOP_DTYPES and self._array_params == 1 and all(
            p.ctype in ("T", *LOOP_C_TYPES) for p in src.inputs)
        # where NumPy's power is not libm's, only FTRL's square-root case (lr_power == -0.5) matches the twin
        names = [name for name, _ in self._scalars]
        self._power = names.index("lr_power") if "lr_power" in names and not NUMPY_POW_IS_LIBM else None

    def __call__(self, shared: Sequence[Any], grads: Sequence[Any], refs: Sequence[Sequence[Any]],
                 attrs: Sequence[Any]) -> bool:
        function = self._function or self._build()
        if function is None:
            return False
        scalars = self._scalar_args(shared, attrs)
        if scalars is None or len(grads) != len(refs):
            return False
        table = self._table(refs)
        if table is None:
            return False
        sizes, kept_arrays, variables, total = table
        arrays = type(kept_arrays).from_buffer_copy(kept_arrays)  # this call's own: runs may overlap in threads
        dtype, stride = self.dtype, 1 + self._n_refs
        for t, grad in enumerate(grads):
            shape, nbytes, pointers = variables[t]
            if type(grad) is not np.ndarray or grad.dtype != dtype or grad.shape != shape \
                    or not grad.flags.c_contiguous:
                return False
            start = data_address(grad)
            end = start + nbytes
            for p in pointers:
                if p < end and start < p + nbytes:
                    return False  # the loop would read the gradient where it writes the slots
            arrays[t * stride] = start
        split = parallel.split(total)
        if split is None:
            function(len(grads), sizes, arrays, *scalars)
        else:
            self._threaded(len(grads), sizes, arrays, *scalars, *split)
        return True

    def _table(self, refs: Sequence[Sequence[Any]]) -> _Table | None:
        """The loop's size and address arrays, the ref addresses filled in, per variable its shape, size in
        bytes and addresses, and the elements in all: kept while the variables and slots keep their buffers,
        so a step only writes its gradients' addresses. None where the loop cannot write the refs in place."""
        return self._kept([r for values in refs for r in values], lambda _: self._new_table(refs))

    def _new_table(self, refs: Sequence[Sequence[Any]]) -> _Table | None:
        count, stride = len(refs), 1 + self._n_refs
        sizes = (ctypes.c_longlong * count)()
        arrays = (ctypes.c_void_p * (count * stride))()
        variables = []
        for t, values in enumerate(refs):
            pointers = in_place_pointers(values, self._n_refs, self.dtype)
            if pointers is None:
                return None
            var = values[0]
            sizes[t] = var.size
            arrays[t * stride + 1:(t + 1) * stride] = pointers
            variables.append((var.shape, var.nbytes, pointers))
        return sizes, arrays, variables, sum(sizes)

    def _scalar_args(self, shared: Sequence[Any], attrs: Sequence[Any]) -> list[Any] | None:
        """The hyper-parameters by value (each a scalar of its parameter's dtype, the twin's value exactly),
        then the attributes; None where one is not that."""
        if len(shared) != len(self._scalars) or len(attrs) != len(self._attrs):
            return None
        out: list[Any] = []
        for value, (_, want) in zip(shared, self._scalars):
            if not isinstance(value, (np.ndarray, np.generic)) or value.dtype != want or value.size != 1:
                return None
            out.append(value.item())
        if self._power is not None and out[self._power] != -0.5:
            return None
        for value in attrs:
            if not isinstance(value, (bool, int)):
                return None
            out.append(value)
        return out

    def _build(self) -> Any:
        if not self._usable:
            return None
        self._calls += 1
        if self._calls < COMPILE_AFTER:
            return None
        from gpugraph.fusion import compiled  # the fused regions' compiler, flags and cache

        self._usable = False  # one attempt: without a compiler, or where it fails, the updates run one by one
        if not compiled.available():
            return None
        try:
            text, name = many_source(load(self.kernel), self.dtype.name)
            function, threaded = compiled.load([(text, name), ("", f"{name}_threads")])
        except (RuntimeError, OSError):
            return None
        function.argtypes = [ctypes.c_longlong, ctypes.c_void_p, ctypes.c_void_p,
                             *[CTYPES_ARG[want.name] for _, want in self._scalars],
                             *[CTYPES_ARG[want.name] for want in self._attrs]]
        threaded.argtypes = [*function.argtypes, ctypes.c_void_p, ctypes.c_longlong, ctypes.c_int]
        function.restype = threaded.restype = None
        self._function, self._threaded = function, threaded
        return function
