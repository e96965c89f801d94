"""Every fusible op in every dtype it fuses for, as a one-op region, on NaN/inf/signed-zero/extreme inputs
(binary ops see every pair, through broadcasting), against the NumPy references of fusion_reference.py:

- the NumPy evaluator (host.NumpyRegion);
- the generated kernel text compiled by the host C++ compiler (compiled.CompiledRegion, the CPU path);
- the exact source CuPy would compile for it: it compiles with NVRTC, and, built by the host compiler
  (tests/kernels/host_compiled.py), it gives the reference's values.

Exact ops are compared bit for bit (NaN as NaN, the sign of zero kept); TRANSCENDENTAL ones within ULPS.
All kernels of the walk are built by one NVRTC run and two host-compiler runs.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from fusion_reference import TRANSCENDENTAL, ULPS, reference, same_values, special_values
from host_compiled import host_kernels
from test_kernels_compile import compile_ptx, cuda_source

import gpugraph as tf
from gpugraph.framework import dtypes
from gpugraph.fusion import RULES, kernel_text, region_from_ops
from gpugraph.fusion.compiled import compile_regions
from gpugraph.fusion.host import NumpyRegion
from gpugraph.fusion.region import Region, shrink
from gpugraph.fusion.rules import FUSED_DTYPES, kind
from gpugraph.kernels import KernelSource, Param
from gpugraph.ops.registry import REGISTRY

ATTRS: dict[str, dict[str, Any]] = {"LeakyRelu": {"alpha": 0.2}, "BiasAdd": {"data_format": "NHWC"}}


def _cases() -> list[tuple[str, tuple[str, ...], dict[str, Any]]]:
    cases = []
    for op_type, rule in RULES.items():
        data = [d for d in FUSED_DTYPES if kind(d) in rule.kinds]
        if op_type == "Cast":
            cases += [(op_type, (s,), {"DstT": d}) for s in FUSED_DTYPES for d in FUSED_DTYPES]
        elif op_type == "Select":
            cases += [(op_type, ("bool", d, d), {}) for d in data]
        else:
            cases += [(op_type, (d,) * rule.arity, dict(ATTRS.get(op_type, {}))) for d in data]
    return cases


CASES = _cases()
IDS = [f"{op}-{'-'.join(d)}" + (f"-{a['DstT']}" if "DstT" in a else "") for op, d, a in CASES]


def _inputs(op_type: str, in_dtypes: tuple[str, ...], rng: np.random.Generator) -> list[np.ndarray]:
    """Unary: the special values; binary: every pair of them (a column against a row)."""
    if op_type == "Select":
        data = special_values(in_dtypes[1])
        return [rng.random((len(data), 1)) > 0.5, data[None, :], data[::-1, None]]
    values = [special_values(d) for d in in_dtypes]
    if len(values) == 1:
        return values
    if op_type == "BiasAdd":  # every value against every bias: a batch of one value per row, the bias a row
        return [np.repeat(values[0][:, None], len(values[1]), axis=1), values[1]]
    return [values[0][:, None], values[1][None, :]]


def _graph_attrs(attrs: dict[str, Any]) -> dict[str, Any]:
    return {k: dtypes.as_dtype(v) if k == "DstT" else v for k, v in attrs.items()}


def _build(op_type: str, arrays: list[np.ndarray], attrs: dict[str, Any]) -> Region:
    with tf.Graph().as_default():
        feeds = [tf.placeholder(dtypes.as_dtype(a.dtype.name), a.shape) for a in arrays]
        out = REGISTRY[op_type](*feeds, **_graph_attrs(attrs))
        return region_from_ops([out.op], feeds, [out])


@pytest.fixture(scope="module")
def walk() -> list[dict[str, Any]]:
    """Per case: inputs, reference, region, and its results by the three CPU paths (kernels built at once)."""
    rng = np.random.default_rng(7)
    entries = []
    for op_type, in_dtypes, attrs in CASES:
        arrays = _inputs(op_type, in_dtypes, rng)
        region = _build(op_type, arrays, attrs)
        want = reference(op_type, *arrays, **attrs)
        entries.append({"op": op_type, "arrays": arrays, "want": want, "region": region,
                        "ulps": ULPS if op_type in TRANSCENDENTAL else 0})
    compiled = compile_regions([e["region"] for e in entries])
    sources = [_kernel_source(e["region"]) for e in entries]
    host = host_kernels(sources)
    for e, c, src in zip(entries, compiled, sources):
        e["numpy"] = NumpyRegion(e["region"])(*e["arrays"])[0]
        e["compiled"] = c(*e["arrays"])[0]
        e["source"] = src
        e["host"] = _run_host(host[src.name], e["arrays"], e["want"])
    return entries


def _kernel_source(region: Region) -> KernelSource:
    """The kernel as tests/kernels' helpers take it (their wrapper is what CuPy generates around it)."""
    text = kernel_text(region)
    inputs = tuple(Param(*p.strip().split()) for p in text.in_params.split(","))
    outputs = tuple(Param(*p.strip().split()) for p in text.out_params.split(","))
    return KernelSource(text.name, inputs, (), outputs, text.operation)


def _run_host(kernel: Any, arrays: list[np.ndarray], want: np.ndarray) -> np.ndarray:
    """The kernel over the broadcast of all inputs (as CuPy launches it), cut to the output's shape."""
    shape = np.broadcast_shapes(*(a.shape for a in arrays))
    flat = [np.ascontiguousarray(np.broadcast_to(a, shape)).ravel() for a in arrays]
    out = np.empty(int(np.prod(shape)), want.dtype)
    kernel(*flat, out)
    return shrink(out.reshape(shape), want.shape)


def test_every_fusible_op_is_walked() -> None:
    walked = {op for op, _, _ in CASES}
    assert walked == set(RULES) and len(CASES) > 100
    for op_type in RULES:  # the rule and the OpDef agree on the op's name
        assert op_type in REGISTRY, op_type


@pytest.mark.parametrize("index", range(len(CASES)), ids=IDS)
def test_numpy_evaluator_matches_reference(walk: list[dict[str, Any]], index: int) -> None:
    e = walk[index]
    problem = same_values(e["numpy"], e["want"], e["ulps"])
    assert problem is None, f"{IDS[index]} (NumPy evaluator): {problem}"


@pytest.mark.parametrize("index", range(len(CASES)), ids=IDS)
def test_compiled_region_matches_reference(walk: list[dict[str, Any]], index: int) -> None:
    e = walk[index]
    problem = same_values(e["compiled"], e["want"], e["ulps"])
    assert problem is None, f"{IDS[index]} (host-compiled loop): {problem}\n{kernel_text(e['region']).operation}"


@pytest.mark.parametrize("index", range(len(CASES)), ids=IDS)
def test_cuda_source_run_on_the_host_matches_reference(walk: list[dict[str, Any]], index: int) -> None:
    e = walk[index]
    problem = same_values(e["host"], e["want"], e["ulps"])
    assert problem is None, f"{IDS[index]} (CUDA source on the host): {problem}\n{e['source'].operation}"


def test_every_cuda_source_compiles_with_nvrtc(walk: list[dict[str, Any]]) -> None:
    sources = [e["source"] for e in walk]
    ptx = compile_ptx("".join(cuda_source(s, "float", f"{s.name}.cu") for s in sources), "fused_ops.cu")
    for s in sources:
        assert f".entry {s.name}(" in ptx
    float_kernels = [s.name for s, e in zip(sources, walk) if {p.ctype for p in s.inputs} == {"float32"}]
    assert float_kernels  # float32 kernels compute in float: no double arithmetic in their PTX
    one = compile_ptx(cuda_source(next(s for s in sources if s.name == float_kernels[0]), "float"), "one.cu")
    assert ".f64" not in one.split(".entry")[1]


def test_float32_literals_stay_float(walk: list[dict[str, Any]]) -> None:
    selu = next(e for e in walk if e["op"] == "Selu" and e["arrays"][0].dtype == np.float32)
    code = kernel_text(selu["region"]).operation
    assert "1.0507009873554805f" in code
    ptx = compile_ptx(cuda_source(selu["source"], "float"), "selu.cu")
    assert "mul.f64" not in ptx and "cvt.f64" not in ptx
