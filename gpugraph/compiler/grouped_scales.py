"""Variables scaled in place one after another (an optimizer's beta powers: ``beta1_power *= beta1``,
``beta2_power *= beta2``) as one step: on CuPy one multi-tensor kernel for all of them.

The group-updates pass makes each ``Assign(v, Mul(read(v), c))`` a ScaleInPlace step; a run of such
steps on one device, each multiplying a variable by a factor of its own shape (scalars, as Adam's),
becomes one GroupedScales step. The kernel multiplies in the Mul's operand order, built with
``--fmad=false`` (the same rounding as the steps one by one). Arguments the kernel does not take (a
broadcast factor, another dtype, a variable not yet made) run the steps one by one, as before.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from gpugraph.compiler.ir import Step
from gpugraph.kernels import KERNEL_OPTIONS, parse
from gpugraph.kernels.multi_tensor import C_TYPES, MAX_TENSORS, MultiTensorKernel, multi_tensor_name, \
    multi_tensor_source

# Mul(read(v), c) and Mul(c, read(v)): the factor's side is the Mul's operand order
_BODIES = {0: "var = var * factor;", 1: "var = factor * var;"}


def scale_source(side: int) -> Any:
    """The kernel source of one in-place scaling (a KernelSource, as kernels/*.cu files parse to)."""
    return parse(f"// name: scale_in_place_{side}\n// in: T factor\n// inout: T var\n{_BODIES[side]}\n",
                 f"scale_in_place_{side}.cu")


def group_scales(steps: list[Step], scalers: dict[int, Any], xp_of: Any) -> list[Step]:
    """``steps`` with each run of consecutive ScaleInPlace steps (``scalers``: id(step) -> its ScaleInPlace)
    on one device, of one factor side, made one step. ``xp_of(device)``: that device's array module."""
    out: list[Step] = []
    run: list[Step] = []

    def close() -> None:
        if len(run) > 1:
            members = [scalers[id(s)] for s in run]
            xp = xp_of(run[0].device)
            cupy = xp if getattr(xp, "RawKernel", None) is not None else None
            fn = GroupedScales(members, cupy)
            out.append(Step(run[-1].op, fn, tuple(i for s in run for i in s.inputs),
                            tuple(o for s in run for o in s.outputs), ops=tuple(op for s in run for op in s.ops),
                            device=run[0].device))
        else:
            out.extend(run)
        run.clear()

    for step in steps:
        scaler = scalers.get(id(step))
        if scaler is not None and run and (step.device != run[0].device or scaler.side != scalers[id(run[0])].side
                                           or len(run) >= MAX_TENSORS):
            close()
        if scaler is not None:
            run.append(step)
        else:
            close()
            out.append(step)
    close()
    return out


class GroupedScales:
    """``grouped(a0, b0, a1, b1, ...)`` -> each scaled variable: the Mul operands of each member in turn."""

    def __init__(self, members: Sequence[Any], cupy: Any):
        self.members = tuple(members)
        self.ops = tuple(op for m in members for op in m.ops)
        self.side = members[0].side
        self.cupy = cupy
        self._kernels: dict[np.dtype, MultiTensorKernel] = {}

    def __call__(self, *xs: Any) -> tuple[Any, ...]:
        if self.cupy is not None and self._launch(xs):
            return tuple(m.cell.value for m in self.members)
        return tuple(m(xs[2 * k], xs[2 * k + 1]) for k, m in enumerate(self.members))

    def _launch(self, xs: Sequence[Any]) -> bool:
        """One kernel over every variable, where each is a contiguous array of the factor's shape and dtype."""
        ndarray = self.cupy.ndarray
        tensors = []
        for k, member in enumerate(self.members):
            var = member.cell.value
            read, factor = xs[2 * k + self.side], xs[2 * k + (1 - self.side)]
            if not (isinstance(var, ndarray) and isinstance(read, ndarray) and read.data.ptr == var.data.ptr
                    and isinstance(factor, ndarray) and factor.shape == var.shape
                    and factor.dtype == var.dtype and var.flags.c_contiguous and factor.flags.c_contiguous
                    and not member.locked):
                return False
            tensors.append((factor, var))
        dtype = tensors[0][1].dtype
        if any(var.dtype != dtype for _, var in tensors) or dtype.name not in C_TYPES:
            return False
        if len({var.data.ptr for _, var in tensors}) != len(tensors):
            return False  # one variable twice: one by one, in order
        self._kernel(dtype)([], [], tensors)
        return True

    def _kernel(self, dtype: np.dtype) -> MultiTensorKernel:
        kernel = self._kernels.get(dtype)
        if kernel is None:
            src = scale_source(self.side)
            n = len(self.members)
            code = multi_tensor_source(src, C_TYPES[dtype.name], n, (), (), f"{src.name}.cu")
            raw = self.cupy.RawKernel(code, multi_tensor_name(src, n), options=KERNEL_OPTIONS)
            kernel = self._kernels[dtype] = MultiTensorKernel(src, dtype, n, (), (), raw)
        return kernel
