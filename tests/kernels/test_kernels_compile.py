"""Every kernel source compiles with NVRTC (no GPU needed), for float and double (the integer kernels: int
and long long).

Each .cu body is wrapped into the complete ``extern "C" __global__`` function that CuPy's
ElementwiseKernel would generate: ``typedef`` of T, a grid-stride loop over ``n`` elements,
inputs bound as ``const`` values and in-place parameters as references.
"""

from __future__ import annotations

from typing import Collection

import pytest
from cuda.bindings import nvrtc

from gpugraph import kernels
from gpugraph.kernels import KernelSource

CTYPES = {"float32": "float", "float64": "double", "int32": "int", "int64": "long long", "uint32": "unsigned int",
          "uint64": "unsigned long long"}
# The types T takes for kernels that are not for float and double.
T_CTYPES = {"philox_uniform_int": ("int", "long long")}


def cuda_source(src: KernelSource, ctype: str, filename: str = "kernel.cu", scalars: Collection[str] = ()) -> str:
    """The complete kernel CuPy would compile for ``src`` with ``T`` = ``ctype``; NVRTC's messages
    about the body name ``filename`` and its line numbers there. Inputs named in ``scalars`` are passed
    by value, as CuPy passes a scalar argument; the others are arrays."""

    def typename(p: kernels.Param) -> str:
        return "T" if p.ctype == "T" else CTYPES.get(p.ctype, p.ctype)

    args = [f"{typename(p)} {p.name}" if p.name in scalars else f"const {typename(p)}* _raw_{p.name}"
            for p in src.inputs]
    args += [f"{typename(p)}* _raw_{p.name}" for p in src.inouts + src.outputs]
    binds = [f"    const {typename(p)} {p.name} = _raw_{p.name}[i];" for p in src.inputs if p.name not in scalars]
    binds += [f"    {typename(p)} &{p.name} = _raw_{p.name}[i];" for p in src.inouts + src.outputs]
    return "\n".join([
        '#line 1 "<elementwise wrapper>"',
        f"typedef {ctype} T;",
        f'extern "C" __global__ void {src.name}({", ".join(args)}, long long n) {{',
        "  for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n;",
        "       i += (long long)blockDim.x * gridDim.x) {",
        *binds,
        f'#line {src.line} "{filename}"',
        src.operation,
        "  }",
        "}",
        "",
    ])


def _check(result: tuple) -> object:
    err, *rest = result
    assert err == nvrtc.nvrtcResult.NVRTC_SUCCESS, f"NVRTC call failed: {err}"
    return rest[0] if rest else None


def compile_ptx(source: str, filename: str) -> str:
    """PTX for ``source``; AssertionError carrying NVRTC's log when it does not compile."""
    prog = _check(nvrtc.nvrtcCreateProgram(source.encode(), filename.encode(), 0, [], []))
    try:
        (err,) = nvrtc.nvrtcCompileProgram(prog, 2, [b"--fmad=false", b"-default-device"])
        size = _check(nvrtc.nvrtcGetProgramLogSize(prog))
        log = bytearray(size)  # a fresh buffer: NVRTC writes into it (b" " * 1 is CPython's shared object)
        _check(nvrtc.nvrtcGetProgramLog(prog, log))
        text = bytes(log).decode(errors="replace").rstrip("\x00 \n")
        assert err == nvrtc.nvrtcResult.NVRTC_SUCCESS, (
            f"{filename} does not compile:\n{text}\n--- source ---\n{source}")
        ptx_size = _check(nvrtc.nvrtcGetPTXSize(prog))
        ptx = bytearray(ptx_size)
        _check(nvrtc.nvrtcGetPTX(prog, ptx))
        return bytes(ptx).decode(errors="replace")
    finally:
        nvrtc.nvrtcDestroyProgram(prog)


NAMES = kernels.available()


def test_there_are_kernels_to_compile() -> None:
    assert len(NAMES) >= 7


@pytest.mark.parametrize("name, ctype", [(n, c) for n in NAMES for c in T_CTYPES.get(n, ("float", "double"))])
def test_kernel_compiles(name: str, ctype: str) -> None:
    src = kernels.load(name)
    ptx = compile_ptx(cuda_source(src, ctype, f"{name}.cu"), f"{name}.cu")
    assert f".entry {name}(" in ptx  # extern "C": the unmangled name CuPy looks up
    if name.startswith("apply_"):  # the update rules compute in T alone
        assert (".f64" in ptx) == (ctype == "double")


@pytest.mark.parametrize("body, message", [
    ("var -= alpha * ;", "expected an expression"),  # a syntax error
    ("alpha = var;", "modifiable lvalue"),  # writing a read-only input
    ("var -= undefined_name;", "undefined"),
])
def test_a_broken_kernel_fails_with_the_nvrtc_log(body: str, message: str) -> None:
    src = kernels.parse(f"// name: broken\n// in: T alpha\n// inout: T var\n{body}\n", "broken.cu")
    with pytest.raises(AssertionError) as info:
        compile_ptx(cuda_source(src, "float", "broken.cu"), "broken.cu")
    text = str(info.value)
    assert "broken.cu does not compile" in text and message in text
    assert "broken.cu(4): error" in text  # the log points at the line in the file


def test_kernels_compile_to_their_twins_operations() -> None:
    # the same body with FMA contraction off has no fused multiply-add: rounding as NumPy's
    ptx = compile_ptx(cuda_source(kernels.load("apply_adam"), "float", "apply_adam.cu"), "apply_adam.cu")
    assert "fma." not in ptx and "sqrt.rn.f32" in ptx
