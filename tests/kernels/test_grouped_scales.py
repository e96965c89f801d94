"""Variables scaled in place in a row (Adam's beta powers) as one multi-tensor kernel: its source compiles
with NVRTC, and built by the host compiler it multiplies as NumPy does, in the Mul's operand order."""

from __future__ import annotations

import types

import numpy as np
import pytest
from host_compiled import HostRawKernel
from test_kernels_compile import compile_ptx

from gpugraph.compiler.grouped_scales import GroupedScales, scale_source
from gpugraph.kernels.multi_tensor import MultiTensorKernel, multi_tensor_name, multi_tensor_source


@pytest.mark.parametrize("side", [0, 1])
@pytest.mark.parametrize("ctype", ["float", "double"])
def test_the_kernel_compiles_with_nvrtc_without_contraction(side: int, ctype: str) -> None:
    src = scale_source(side)
    ptx = compile_ptx(multi_tensor_source(src, ctype, 2, (), (), f"{src.name}.cu"), f"{src.name}.cu")
    assert f".entry {multi_tensor_name(src, 2)}(" in ptx and "fma." not in ptx
    assert (".f64" in ptx) == (ctype == "double")


@pytest.mark.parametrize("side", [0, 1])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_one_launch_scales_every_variable_as_numpy_multiplies(side: int, dtype: type) -> None:
    rng = np.random.default_rng(side)
    variables = [rng.uniform(0.1, 2, size).astype(dtype) for size in (1, 1, 7)]
    factors = [rng.uniform(0.5, 1, v.shape).astype(dtype) for v in variables]
    expected = [np.multiply(v, f) if side == 0 else np.multiply(f, v) for v, f in zip(variables, factors)]
    src = scale_source(side)
    code = multi_tensor_source(src, {np.float32: "float", np.float64: "double"}[dtype], 3, (), ())
    kernel = MultiTensorKernel(src, np.dtype(dtype), 3, (), (), HostRawKernel(code, multi_tensor_name(src, 3),
                                                                               ("--fmad=false",)))
    kernel([], [], list(zip(factors, variables)))
    for got, want in zip(variables, expected):
        assert got.tobytes() == want.tobytes()


class _Member:
    """A ScaleInPlace as GroupedScales sees it: its variable's cell, operand side and call."""

    def __init__(self, value: np.ndarray, side: int):
        self.cell = types.SimpleNamespace(value=value)
        self.side, self.locked, self.ops = side, False, ()
        self.calls = 0

    def __call__(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        self.calls += 1
        np.multiply(a, b, out=self.cell.value)
        return self.cell.value


def test_without_a_gpu_the_members_run_one_by_one() -> None:
    members = [_Member(np.array(0.9, np.float32), 0), _Member(np.array(0.999, np.float32), 0)]
    grouped = GroupedScales(members, cupy=None)
    out = grouped(members[0].cell.value, np.float32(0.9), members[1].cell.value, np.float32(0.999))
    assert [m.calls for m in members] == [1, 1]
    assert [float(v) for v in out] == [np.float32(0.9) * np.float32(0.9), np.float32(0.999) * np.float32(0.999)]
