"""``cupy.ElementwiseKernel`` and ``cupy.ReductionKernel`` for the fake CuPy (fake_cupy.py).

The kernel's own CUDA text runs: it is wrapped into one C++ function (as CuPy wraps it into a
``__global__`` one), built by the host C++ compiler through tests/kernels/host_compiled.py (one build per
distinct source in a test session) and called on the arrays' NumPy buffers. The Python side does what
CuPy does around the launch, with CuPy 14's rules and errors: parameter strings (``T x``, ``float32 x``,
``raw T x``), type placeholders resolved from the array arguments (scalars take the resolved type),
broadcasting of the non-raw arrays (outputs included), outputs allocated when not given, the
reduction's ``axis``/``keepdims``. Each launch is one kernel of the fake module (counted in
``kernel_launches``, recorded during a stream capture so a graph replays it).

Differences from a GPU: a reduction sums its mapped values pairwise (a GPU's tree order differs).
Not modelled: ``size=`` with non-raw arrays, texture arguments, complex and float16 types.
"""

from __future__ import annotations

import ctypes
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "kernels"))
from host_compiled import PRELUDE, _library  # noqa: E402

# CuPy's C names of the dtypes (cupy/_core/_scalar.pyx get_typename) and ctypes classes to pass scalars
TYPENAMES = {"bool": "bool", "int8": "signed char", "uint8": "unsigned char", "int16": "short",
             "uint16": "unsigned short", "int32": "int", "uint32": "unsigned int", "int64": "long long",
             "uint64": "unsigned long long", "float32": "float", "float64": "double"}
_SCALAR_CTYPES = {"bool": ctypes.c_bool, "int8": ctypes.c_int8, "uint8": ctypes.c_uint8, "int16": ctypes.c_int16,
                  "uint16": ctypes.c_uint16, "int32": ctypes.c_int32, "uint32": ctypes.c_uint32,
                  "int64": ctypes.c_int64, "uint64": ctypes.c_uint64, "float32": ctypes.c_float,
                  "float64": ctypes.c_double}
_KERNEL_NAME = re.compile(r"^[A-Za-z_][A-Za-z_0-9]*$")

# What CUDA C++ has beyond host_compiled's prelude; the indexer and raw-array types of the launch.
_DEVICE_PRELUDE = r"""
#define __device__
#define __host__
#define __forceinline__ inline
using std::isnan; using std::isinf; using std::isfinite; using std::signbit; using std::copysign;
using std::fmin; using std::fmax; using std::erf; using std::erfc; using std::fmod; using std::trunc;
using std::max; using std::min;
struct _FakeIndexer {
  long long n;
  long long size() const { return n; }
};
template <typename V> struct _FakeRaw {
  V *p;
  long long n;
  V &operator[](long long k) const { return p[k]; }
  long long size() const { return n; }
};
"""


@dataclass(frozen=True)
class ParameterInfo:
    """One parameter, as cupy._core._kernel.ParameterInfo reads it."""

    name: str
    dtype: np.dtype | None  # None for a type placeholder
    ctype: str  # the placeholder ("T") or the C name of dtype
    raw: bool
    is_const: bool


def param_info(text: str, is_const: bool) -> tuple[ParameterInfo, ...]:
    if not text.strip():
        return ()
    params = []
    for item in text.strip().split(","):
        words = item.split()
        if len(words) < 2:
            raise Exception(f"Syntax error: {item}")
        t, name = words[-2:]
        raw, const = False, is_const
        for word in words[:-2]:
            if word == "raw":
                raw = True
            elif word == "_non_const":
                const = False
            else:
                raise Exception(f'Unknown keyword "{word}"')
        if len(t) == 1:
            params.append(ParameterInfo(name, None, t, raw, const))
        else:
            dtype = np.dtype(t)  # TypeError for an unknown type name, as CuPy's get_dtype
            params.append(ParameterInfo(name, dtype, TYPENAMES[dtype.name], raw, const))
    return tuple(params)


def decide_types(in_params: tuple, out_params: tuple, in_dtypes: tuple, out_dtypes: tuple
                 ) -> tuple[tuple[np.dtype, ...], tuple[np.dtype, ...], dict[str, np.dtype]]:
    """(input types, output types, placeholder -> dtype), with CuPy's checks (_decide_params_type_core)."""
    types: dict[str, np.dtype] = {}
    for params, dtypes, outputs in ((out_params, out_dtypes, True), (in_params, in_dtypes, False)):
        for p, a in zip(params, dtypes):
            if a is None:
                if outputs:
                    raise TypeError("Output arguments must be cupy.ndarray")
                continue
            if p.dtype is not None:
                if np.dtype(a) != p.dtype:
                    raise TypeError(f"Type is mismatched. {p.name} {a} {p.dtype}")
            elif p.ctype in types:
                if types[p.ctype] != np.dtype(a):
                    raise TypeError(f"Type is mismatched. {p.name} {a} {types[p.ctype]} {p.ctype}")
            else:
                types[p.ctype] = np.dtype(a)
    try:
        in_types = tuple(types[p.ctype] if p.dtype is None else p.dtype for p in in_params)
        out_types = tuple(types[p.ctype] if p.dtype is None else p.dtype for p in out_params)
    except KeyError as missing:  # a placeholder only scalars stand for: CuPy fails the same lookup
        raise KeyError(missing.args[0]) from None
    return in_types, out_types, types


class _KernelBase:
    """A kernel object serves every fake module (as CuPy's serves its one module): a call launches on the
    module of its array arguments."""

    def _check_name(self, name: str) -> None:
        if not _KERNEL_NAME.match(name):
            raise ValueError(f'Invalid kernel name: "{name}"')

    def _preprocess(self, args: tuple) -> tuple[Any, list]:
        """(the fake module of the arrays, the arguments): device arrays stay; Python and NumPy scalars
        become scalars; anything else is refused."""
        modules = [type(a)._module for a in args if getattr(type(a), "_module", None) is not None]
        if not modules:
            raise ValueError("Loop size is undecided.")
        module = modules[0]
        array = module.ndarray
        out = []
        for a in args:
            if isinstance(a, array) or isinstance(a, np.generic) or type(a) in (bool, int, float):
                out.append(a)
            else:
                raise TypeError(f"Unsupported type {type(a)}")
        return module, out


def _broadcast_shape(arrays: list) -> tuple[int, ...]:
    try:
        return tuple(np.broadcast_shapes(*(a.shape for a in arrays)))
    except ValueError:
        shapes = ", ".join(str(a.shape) for a in arrays)
        raise ValueError(f"operands could not be broadcast together with shapes {shapes}") from None


def _typedefs(types: dict[str, np.dtype]) -> str:
    return "".join(f"typedef {TYPENAMES[t.name]} {name};\n" for name, t in sorted(types.items()))


def _scalar(value: Any, dtype: np.dtype) -> Any:
    with np.errstate(all="ignore"):
        return np.asarray(value).astype(dtype)[()]  # CScalar.apply_dtype: a C conversion


def _c_value(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return ctypes.c_void_p(value.ctypes.data)
    return _SCALAR_CTYPES[value.dtype.name](value.item())


class ElementwiseKernel(_KernelBase):
    """cupy.ElementwiseKernel: the body runs once per element ``i`` of the broadcast shape."""

    def __init__(self, in_params: str, out_params: str, operation: str, name: str = "kernel",
                 reduce_dims: bool = True, preamble: str = "", no_return: bool = False, return_tuple: bool = False,
                 **kwargs: Any):
        self._check_name(name)
        self.in_params = param_info(in_params, True)
        self.out_params = param_info(out_params, False)
        self.nin, self.nout = len(self.in_params), len(self.out_params)
        self.nargs = self.nin + self.nout
        self.operation, self.name, self.preamble = operation, name, preamble
        self.reduce_dims, self.no_return, self.return_tuple = reduce_dims, no_return, return_tuple
        self.loop_prep, self.after_loop = kwargs.pop("loop_prep", ""), kwargs.pop("after_loop", "")
        self.options = tuple(kwargs.pop("options", ()))
        if kwargs:
            raise TypeError(f"unexpected arguments {sorted(kwargs)}")
        if "i" in [p.name for p in self.in_params + self.out_params]:
            raise ValueError("Can not use 'i' as a parameter name")
        self.__name__ = name

    def __call__(self, *args: Any, size: int = -1, stream: Any = None, block_size: int = 128) -> Any:
        if block_size <= 0:
            raise ValueError("block_size must be greater than zero")
        if len(args) not in (self.nin, self.nargs):
            raise TypeError(f"Wrong number of arguments for {self.name!r}. It must be either {self.nin} or "
                            f"{self.nargs} (with outputs), but given {len(args)}.")
        module, args_list = self._preprocess(args)
        array = module.ndarray
        params = self.in_params + self.out_params
        nonraw = [a for p, a in zip(params, args_list) if not p.raw and isinstance(a, array)]
        if size != -1:
            if nonraw:
                raise ValueError("Specified 'size' can be used only if all of the ndarray are 'raw'.")
            shape: tuple[int, ...] = (size,)
        else:
            if not nonraw:
                raise ValueError("Loop size is undecided.")
            shape = _broadcast_shape(nonraw)
        in_args, out_args = args_list[:self.nin], args_list[self.nin:]
        in_types, out_types, types = decide_types(
            self.in_params, self.out_params, tuple(a.dtype if isinstance(a, array) else None for a in in_args),
            tuple(a.dtype for a in out_args))
        if not out_args:
            if any(p.raw for p in self.out_params) and size == -1:
                raise ValueError("Output array size is Undecided")
            out_args = [module.empty(shape, t) for t in out_types]
        for p, a in zip(self.out_params, out_args):
            if not isinstance(a, array):
                raise TypeError("Output arguments type must be cupy.ndarray")
            if not p.raw and a.shape != shape:
                raise ValueError("Out shape is mismatched")
        result = None if self.no_return else (
            out_args[0] if self.nout == 1 and not self.return_tuple else tuple(out_args))
        if 0 in shape:
            return result
        values = [a if isinstance(a, array) else _scalar(a, t) for a, t in zip(in_args, in_types)] + out_args
        is_array = tuple(isinstance(v, array) for v in values)
        function = self._function(types, in_types + out_types, is_array)
        n = int(np.prod(shape, dtype=np.int64))

        def run(*buffers: Any) -> None:
            c_args, write_back, keep = [], [], []
            for p, buf, flag in zip(params, buffers, is_array):
                if not flag:
                    c_args.append(_c_value(buf))
                    continue
                if p.is_const:
                    contiguous = np.ascontiguousarray(buf if p.raw else np.broadcast_to(buf, shape))
                elif buf.flags.c_contiguous:
                    contiguous = buf  # written in place
                else:  # a strided output: through a contiguous copy, written back after
                    contiguous = np.ascontiguousarray(buf)
                    write_back.append((buf, contiguous))
                keep.append(contiguous)  # alive until the call returns: ctypes holds only its address
                c_args.append(ctypes.c_void_p(contiguous.ctypes.data))
                if p.raw:
                    c_args.append(ctypes.c_longlong(buf.size))
            function(*c_args, ctypes.c_longlong(n))
            for target, source in write_back:
                np.copyto(target, source.reshape(target.shape))
        module._kernel(run, tuple(values), {}, in_place=True)  # one kernel on the current stream
        return result

    def _function(self, types: dict, dtypes: tuple, is_array: tuple) -> Any:
        params = self.in_params + self.out_params
        decls, binds = [], []
        for p, t, flag in zip(params, dtypes, is_array):
            ctype = p.ctype if p.dtype is None else TYPENAMES[t.name]
            const = "const " if p.is_const else ""
            if not flag:
                decls.append(f"{const}{ctype} {p.name}")
            elif p.raw:
                decls.append(f"{ctype} *_rawp_{p.name}, long long _rawn_{p.name}")
                binds.append(f"const _FakeRaw<{ctype}> {p.name} = {{_rawp_{p.name}, _rawn_{p.name}}};")
            else:
                decls.append(f"{const}{ctype} *_raw_{p.name}")
                binds.append(f"{const}{ctype} &{p.name} = _raw_{p.name}[i];")
        raw_binds = [b for b in binds if b.startswith("const _FakeRaw")]
        elem_binds = [b for b in binds if not b.startswith("const _FakeRaw")]
        source = "\n".join([
            PRELUDE, _DEVICE_PRELUDE, _typedefs(types), self.preamble,
            f'extern "C" void {self.name}({", ".join(decls + ["long long _n"])}) {{',
            "  const _FakeIndexer _ind = {_n};", *raw_binds, f"  {self.loop_prep};",
            "  for (long long i = 0; i < _n; ++i) {", *elem_binds, self.operation, ";", "  }",
            f"  {self.after_loop};", "}", ""])
        function = getattr(_library(source), self.name)
        function.restype = None
        return function


class ReductionKernel(_KernelBase):
    """cupy.ReductionKernel: ``map_expr`` per input element, folded by ``reduce_expr`` from ``identity``
    over the reduced axes, written by ``post_map_expr`` (``a`` the folded value)."""

    def __init__(self, in_params: str, out_params: str, map_expr: str, reduce_expr: str, post_map_expr: str,
                 identity: str | None, name: str = "reduce_kernel", reduce_type: str | None = None,
                 reduce_dims: bool = True, preamble: str = "", options: tuple = ()):
        self._check_name(name)
        self.in_params = param_info(in_params, True)
        self.out_params = param_info(out_params, False)
        if any(p.raw for p in self.in_params + self.out_params):
            raise NotImplementedError("raw is not allowed for ReductionKernel")  # as CuPy
        self.nin, self.nout = len(self.in_params), len(self.out_params)
        self.nargs = self.nin + self.nout
        self.map_expr, self.reduce_expr, self.post_map_expr = map_expr, reduce_expr, post_map_expr
        self.identity = None if identity is None else str(identity)
        self.name, self.preamble, self.options = name, preamble, tuple(options)
        self.reduce_type = self.out_params[0].ctype if reduce_type is None else reduce_type
        self.__name__ = name

    def __call__(self, *args: Any, out: Any = None, axis: Any = None, keepdims: bool = False, stream: Any = None,
                 reduce_dims: bool = True) -> Any:
        if len(args) not in (self.nin, self.nargs):
            raise TypeError(f"Wrong number of arguments for {self.name!r}. It must be either {self.nin} or "
                            f"{self.nargs} (with outputs), but given {len(args)}.")
        module, args_list = self._preprocess(args + (() if out is None else (out,)))
        args_list = args_list[:len(args)]
        array = module.ndarray
        in_args, out_args = args_list[:self.nin], args_list[self.nin:]
        if out is not None:
            if out_args:
                raise ValueError("cannot specify 'out' as both a positional and keyword argument")
            out_args = [out]
        arrays = [a for a in in_args if isinstance(a, array)]
        if not arrays:
            raise ValueError("Loop size is undecided.")
        shape = _broadcast_shape(arrays)
        ndim = len(shape)
        axes = tuple(range(ndim)) if axis is None else (axis,) if isinstance(axis, int) else tuple(axis)
        for a in axes:
            if not -ndim <= a < ndim:
                raise np.exceptions.AxisError(a, ndim)
        axes = tuple(sorted({a % ndim for a in axes})) if ndim else ()
        kept = tuple(d for k, d in enumerate(shape) if k not in axes)
        out_shape = tuple(1 if k in axes else d for k, d in enumerate(shape)) if keepdims else kept
        in_types, out_types, types = decide_types(
            self.in_params, self.out_params, tuple(a.dtype if isinstance(a, array) else None for a in in_args),
            tuple(a.dtype for a in out_args))
        if not out_args:
            out_args = [module.empty(out_shape, t) for t in out_types]
        for a in out_args:
            if not isinstance(a, array):
                raise TypeError("Output arguments type must be cupy.ndarray")
            if a.shape != out_shape:
                raise ValueError("Out shape is mismatched")
        result = out_args[0] if self.nout == 1 else tuple(out_args)
        out_size = int(np.prod(kept, dtype=np.int64))
        red_size = int(np.prod([shape[a] for a in axes], dtype=np.int64))
        if out_size == 0:
            return result
        if red_size == 0 and not self.identity:
            raise ValueError(f"zero-size array to reduction operation {self.name} which has no identity")
        values = [a if isinstance(a, array) else _scalar(a, t) for a, t in zip(in_args, in_types)] + out_args
        is_array = tuple(isinstance(v, array) for v in values)
        function = self._function(types, in_types + out_types, is_array)
        order = tuple(k for k in range(ndim) if k not in axes) + axes  # kept axes first: rows of the reduction

        def run(*buffers: Any) -> None:
            c_args, write_back, keep = [], [], []
            for k, (buf, flag) in enumerate(zip(buffers, is_array)):
                if not flag:
                    c_args.append(_c_value(buf))
                elif k < self.nin:
                    rows = np.ascontiguousarray(np.broadcast_to(buf, shape).transpose(order))
                    keep.append(rows)  # alive until the call returns: ctypes holds only its address
                    c_args.append(ctypes.c_void_p(rows.ctypes.data))
                else:
                    target = np.empty(out_size, buf.dtype)
                    write_back.append((buf, target))
                    c_args.append(ctypes.c_void_p(target.ctypes.data))
            function(*c_args, ctypes.c_longlong(out_size), ctypes.c_longlong(red_size))
            for target, source in write_back:
                np.copyto(target, source.reshape(target.shape))
        module._kernel(run, tuple(values), {}, in_place=True)  # one kernel on the current stream
        return result

    def _function(self, types: dict, dtypes: tuple, is_array: tuple) -> Any:
        decls, in_binds, out_binds = [], [], []
        for k, (p, t, flag) in enumerate(zip(self.in_params + self.out_params, dtypes, is_array)):
            ctype = p.ctype if p.dtype is None else TYPENAMES[t.name]
            const = "const " if p.is_const else ""
            if not flag:
                decls.append(f"{const}{ctype} {p.name}")
                continue
            decls.append(f"{const}{ctype} *_raw_{p.name}")
            if k < self.nin:
                in_binds.append(f"      {const}{ctype} &{p.name} = _raw_{p.name}[_row * _red + _k];")
            else:
                out_binds.append(f"    {ctype} &{p.name} = _raw_{p.name}[_row];")
        identity = self.identity or ""
        source = "\n".join([
            PRELUDE, _DEVICE_PRELUDE, _typedefs(types), f"typedef {self.reduce_type} _type_reduce;",
            self.preamble,
            f"#define REDUCE(a, b) ({self.reduce_expr})", f"#define POST_MAP(a) ({self.post_map_expr})",
            f'extern "C" void {self.name}({", ".join(decls + ["long long _out", "long long _red"])}) {{',
            "  const _FakeIndexer _in_ind = {_out * _red}, _out_ind = {_out};",
            "  _type_reduce *_mapped = new _type_reduce[_red > 0 ? _red : 1];",
            "  for (long long _row = 0; _row < _out; ++_row) {",
            f"    _type_reduce _s = _type_reduce({identity});",
            "    for (long long _k = 0; _k < _red; ++_k) {", *in_binds,
            f"      _mapped[_k] = (_type_reduce)({self.map_expr});", "    }",
            "    // pairwise, as a tree of threads folds",
            "    for (long long _w = 1; _w < _red; _w *= 2)",
            "      for (long long _k = 0; _k + _w < _red; _k += 2 * _w)",
            "        _mapped[_k] = REDUCE(_mapped[_k], _mapped[_k + _w]);",
            "    if (_red > 0) _s = REDUCE(_s, _mapped[0]);", *out_binds,
            "    POST_MAP(_s);", "  }", "  delete[] _mapped;", "}", ""])
        function = getattr(_library(source), self.name)
        function.restype = None
        return function
