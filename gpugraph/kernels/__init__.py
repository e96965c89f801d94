"""CUDA sources of the fused elementwise kernels, and the loader that turns them into CuPy kernels.

The sources live in the repository's top-level ``kernels/`` folder; a built wheel carries them as
``gpugraph/kernels/cuda/`` (see setup.py), and :func:`source_dir` finds either. Each ``<name>.cu``
file holds the loop body of one ``cupy.ElementwiseKernel`` (the code run for one element ``i``) and,
in header comment lines, its parameter lists::

    // name: apply_adam                          kernel name (required, a C identifier)
    // in: T beta1_power, T lr, T grad           read-only parameters, "TYPE NAME" comma-separated
    // inout: T var, T m                          parameters written in place (the arrays passed in)
    // out: T result                              optional: outputs CuPy allocates
    // any other comment line is free text

Every other line is the body. ``T`` is CuPy's type placeholder: one kernel serves float32 and
float64. Inputs are ``const`` in the body; ``inout``/``out`` parameters are references to the
element. Parameter names must not be ``i`` or ``n`` (loop index and size) or start with ``_``.

Each kernel has a NumPy twin in :mod:`gpugraph.kernels.twins` doing the same arithmetic in place.
This module does not import CuPy: :func:`elementwise_kernel` imports it on first use.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["KernelSource", "KernelSourceError", "Param", "available", "elementwise_kernel", "load", "parse",
           "source_dir", "KERNEL_OPTIONS"]

# Without FMA contraction every operation rounds as NumPy's does, so the GPU result equals the twin's.
KERNEL_OPTIONS: tuple[str, ...] = ("--fmad=false",)

_HEADER = re.compile(r"^\s*//\s*(name|in|inout|out)\s*:(.*)$")
_IDENT = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_RESERVED = {"i", "n"}


class KernelSourceError(ValueError):
    """A .cu file whose header cannot be read."""


@dataclass(frozen=True)
class Param:
    ctype: str  # "T" or a concrete type such as "bool", "float32"
    name: str

    def __str__(self) -> str:
        return f"{self.ctype} {self.name}"


@dataclass(frozen=True)
class KernelSource:
    name: str
    inputs: tuple[Param, ...]
    inouts: tuple[Param, ...]
    outputs: tuple[Param, ...]
    operation: str
    line: int = 1  # the file's line number of the body's first line

    @property
    def in_params(self) -> str:
        """The ``in_params`` string of ``cupy.ElementwiseKernel``."""
        return ", ".join(str(p) for p in self.inputs)

    @property
    def out_params(self) -> str:
        """The ``out_params`` string: in-place parameters first, then allocated outputs."""
        return ", ".join(str(p) for p in self.inouts + self.outputs)

    def as_tuple(self) -> tuple[str, str, str, str]:
        """``(in_params, out_params, operation, name)``: the ElementwiseKernel arguments."""
        return self.in_params, self.out_params, self.operation, self.name


def _params(text: str, where: str) -> tuple[Param, ...]:
    out: list[Param] = []
    for item in (s.strip() for s in text.split(",")):
        if not item:
            continue
        parts = item.split()
        if len(parts) != 2 or not _IDENT.match(parts[0]) or not _IDENT.match(parts[1]):
            raise KernelSourceError(f"{where}: bad parameter {item!r}; expected 'TYPE NAME'")
        if parts[1] in _RESERVED:
            raise KernelSourceError(f"{where}: parameter name {parts[1]!r} is reserved")
        out.append(Param(parts[0], parts[1]))
    return tuple(out)


def parse(text: str, origin: str = "<kernel>") -> KernelSource:
    """Read one kernel file's text into a :class:`KernelSource`.

    Header lines come first (mixed with free comment lines); the body runs from the first line of
    code to the end of the file, comments included, so ``KernelSource.line`` maps it to the file.
    """
    fields: dict[str, str] = {}
    body: list[str] = []
    first = 0
    for number, line in enumerate(text.splitlines(), 1):
        m = _HEADER.match(line)
        if m is not None:
            key, value = m.group(1), m.group(2).strip()
            if body:
                raise KernelSourceError(f"{origin}:{number}: '{key}:' header line after the body started")
            if key in fields:
                raise KernelSourceError(f"{origin}:{number}: '{key}:' given twice")
            fields[key] = value
        elif body or (line.strip() and not line.strip().startswith("//")):
            first = first or number
            body.append(line)
    name = fields.get("name", "")
    if not _IDENT.match(name):
        raise KernelSourceError(f"{origin}: missing or invalid '// name:' line ({name!r})")
    inputs = _params(fields.get("in", ""), origin)
    inouts = _params(fields.get("inout", ""), origin)
    outputs = _params(fields.get("out", ""), origin)
    names = [p.name for p in inputs + inouts + outputs]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        raise KernelSourceError(f"{origin}: parameter(s) {sorted(dup)} declared twice")
    if not inouts and not outputs:
        raise KernelSourceError(f"{origin}: a kernel needs at least one 'inout:' or 'out:' parameter")
    operation = "\n".join(body).rstrip()
    if not operation:
        raise KernelSourceError(f"{origin}: empty kernel body")
    return KernelSource(name, inputs, inouts, outputs, operation, first)


_PACKAGE_DIR = Path(__file__).resolve().parent


def source_dir(package_dir: Path = _PACKAGE_DIR) -> Path:
    """The folder of the .cu files: ``cuda/`` beside this module in an installed wheel, else the
    source checkout's ``kernels/`` (two levels above ``gpugraph/kernels``, which is also what an
    editable install imports)."""
    installed = package_dir / "cuda"
    if installed.is_dir():
        return installed
    checkout = package_dir.parent.parent / "kernels"
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(f"no kernel sources: neither {installed} nor {checkout} exists")


def available() -> list[str]:
    """Names of the shipped kernels (file stems)."""
    return sorted(p.stem for p in source_dir().glob("*.cu"))


@functools.cache
def load(name: str) -> KernelSource:
    """The parsed ``<name>.cu``; ``FileNotFoundError`` if there is none."""
    path = source_dir() / f"{name}.cu"
    if not path.is_file():
        raise FileNotFoundError(f"no kernel source '{name}.cu' in {path.parent}")
    src = parse(path.read_text(encoding="utf-8"), f"{name}.cu")
    if src.name != name:
        raise KernelSourceError(f"{name}.cu: '// name: {src.name}' does not match the file name")
    return src


_KERNELS: dict[tuple[str, tuple[str, ...], int], Any] = {}


def elementwise_kernel(name: str, dtypes: tuple[Any, ...] = (), cupy: Any = None) -> Any:
    """The ``cupy.ElementwiseKernel`` for kernel ``name``, built once per (source, dtypes).

    ``dtypes`` are the dtypes it will be called with (part of the cache key: CuPy compiles one
    binary per dtype); ``cupy`` is the module to build with (imported here when None).
    """
    if cupy is None:
        import cupy  # the GPU backend is optional: imported on first use only
    src = load(name)
    key = (src.operation + "\0" + src.in_params + "\0" + src.out_params,
           tuple(np.dtype(d).name for d in dtypes), id(cupy))
    kernel = _KERNELS.get(key)
    if kernel is None:
        in_params, out_params, operation, kname = src.as_tuple()
        kernel = cupy.ElementwiseKernel(in_params, out_params, operation, kname, options=KERNEL_OPTIONS)
        _KERNELS[key] = kernel
    return kernel
