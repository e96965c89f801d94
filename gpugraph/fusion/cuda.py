"""A region as the text of one ``cupy.ElementwiseKernel``, and its lazily compiled, cached kernel.

Inputs are ``x0, x1, ...``, outputs ``y0, y1, ...``; each node becomes one typed local (``v3``) computed
from its op's "out0 = EXPR" text with ``inK`` replaced by its operands. Floating literals in a float32
region get an ``f`` suffix so the arithmetic stays in float, rounding as NumPy's float32 ufuncs. CuPy
broadcasts the arrays itself; the kernel is built with FMA contraction off (``--fmad=false``), so
``a * b + c`` rounds twice, as NumPy does.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from gpugraph.fusion.region import Ref, Region, shrink
from gpugraph.fusion.rules import C_TYPES, cuda_template
from gpugraph.kernels import KERNEL_OPTIONS

_ASSIGN = re.compile(r"^\s*out0\s*=(?!=)(.*?);?\s*$", re.S)
_OPERAND = re.compile(r"\bin(\d+)\b")
# a decimal floating literal (has a point or an exponent), not part of an identifier
_FLOAT_LITERAL = re.compile(r"(?<![\w.])(\d+\.\d*(?:[eE][-+]?\d+)?|\d*\.\d+(?:[eE][-+]?\d+)?|\d+[eE][-+]?\d+)(?![\w.])")


@dataclass(frozen=True)
class KernelText:
    """The four arguments of ``cupy.ElementwiseKernel``."""

    in_params: str
    out_params: str
    operation: str
    name: str

    def as_tuple(self) -> tuple[str, str, str, str]:
        return self.in_params, self.out_params, self.operation, self.name


def _value(ref: Ref) -> str:
    return f"x{ref.index}" if ref.is_input else f"v{ref.index}"


def node_expression(template: str, operands: list[str], dtype: str) -> str:
    """The C expression of an "out0 = EXPR" template applied to ``operands``."""
    match = _ASSIGN.match(template)
    if match is None:
        raise ValueError(f"cuda expression {template!r} is not of the form 'out0 = EXPR'")
    expr = match.group(1).strip()
    if dtype == "float32":
        expr = _FLOAT_LITERAL.sub(lambda m: m.group(1) + "f", expr)

    def operand(m: re.Match[str]) -> str:
        k = int(m.group(1))
        if k >= len(operands):
            raise ValueError(f"cuda expression {template!r} reads in{k}; the op has {len(operands)} inputs")
        return operands[k]
    return _OPERAND.sub(operand, expr)


def node_lines(region: Region) -> list[str]:
    """One C statement per node: ``const T vK = EXPR;`` over the inputs ``x0..`` and earlier nodes."""
    lines = []
    for k, node in enumerate(region.nodes):
        in_dtypes = tuple(region.dtype_of(r) for r in node.operands)
        template = cuda_template(node.op_type, in_dtypes, node.attr_dict)
        # literals follow the operands' type; Cast's range bounds are doubles whatever it converts
        compute = "float64" if node.op_type == "Cast" else in_dtypes[-1]
        expr = node_expression(template, [_value(r) for r in node.operands], compute)
        lines.append(f"const {C_TYPES[node.dtype]} v{k} = {expr};  // {node.op_type}")
    return lines


def kernel_text(region: Region) -> KernelText:
    """The ElementwiseKernel source of ``region`` (a pure function of its key)."""
    lines = node_lines(region)
    for j, ref in enumerate(region.outputs):
        lines.append(f"y{j} = {_value(ref)};")
    in_params = ", ".join(f"{i.dtype} x{k}" for k, i in enumerate(region.inputs))
    out_params = ", ".join(f"{region.dtype_of(r)} y{j}" for j, r in enumerate(region.outputs))
    digest = hashlib.sha256(repr(region.key).encode()).hexdigest()[:16]
    return KernelText(in_params, out_params, "\n".join(lines), f"gpugraph_fused_{digest}")


_kernels: dict[tuple[Any, ...], Any] = {}


def elementwise_kernel(region: Region) -> Any:
    """The compiled ``cupy.ElementwiseKernel`` of ``region``; made once per structure (CuPy compiles it
    on the first call, for the dtypes and broadcast shapes it sees)."""
    kernel = _kernels.get(region.key)
    if kernel is None:
        import cupy

        text = kernel_text(region)
        kernel = cupy.ElementwiseKernel(*text.as_tuple(), options=KERNEL_OPTIONS)
        _kernels[region.key] = kernel
    return kernel


def run_on_device(region: Region, *arrays: Any) -> tuple[Any, ...]:
    """The region's outputs for CuPy (or 0-d) input arrays: one kernel launch."""
    out = elementwise_kernel(region)(*arrays)
    outs = out if isinstance(out, tuple) else (out,)
    return tuple(shrink(o, s) for o, s in zip(outs, region.output_shapes([a.shape for a in arrays])))


def run_on_device_into(region: Region, given: Sequence[Any], *arrays: Any) -> tuple[Any, ...]:
    """As ``run_on_device``, with each output written into its ``given`` CuPy array (None: a new one)
    where that has the output's shape and dtype and is C-contiguous; one given array may be an input
    itself (each thread reads its element before it writes it)."""
    shapes = [a.shape for a in arrays]
    shape = tuple(np.broadcast_shapes(*shapes))
    if any(tuple(o) != shape for o in region.output_shapes(shapes)):
        return run_on_device(region, *arrays)
    import cupy

    dtypes = [np.dtype(region.dtype_of(r)) for r in region.outputs]
    outs = [g if isinstance(g, cupy.ndarray) and g.shape == shape and g.dtype == d and g.flags.c_contiguous
            else None for g, d in zip(given, dtypes)]
    if all(o is None for o in outs):
        return run_on_device(region, *arrays)
    outs = [cupy.empty(shape, d) if o is None else o for o, d in zip(outs, dtypes)]
    elementwise_kernel(region)(*arrays, *outs)
    return tuple(outs)
