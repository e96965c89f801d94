"""Random multi-op regions (DAGs of exact float ops over broadcast inputs, NaN/inf/signed zeros included)
equal the op-by-op NumPy reference bit for bit: by the NumPy evaluator (hypothesis draws the programs),
and by the host-compiled loop and the CUDA source run on the host (a seeded batch, built at once; the
CUDA sources also compile with NVRTC)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from fusion_reference import reference, same_values, special_values
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from host_compiled import host_kernels
from test_fusion_ops import _kernel_source, _run_host
from test_kernels_compile import compile_ptx, cuda_source

import gpugraph as tf
from gpugraph.framework import dtypes
from gpugraph.fusion import region_from_ops
from gpugraph.fusion.compiled import compile_regions
from gpugraph.fusion.host import NumpyRegion
from gpugraph.fusion.region import Region
from gpugraph.ops.registry import REGISTRY

UNARY = ["Neg", "Square", "Abs", "Sign", "Relu", "Relu6", "Sqrt", "Floor", "Ceil", "Rint", "Reciprocal",
         "Softsign", "LeakyRelu", "Identity"]
BINARY = ["Add", "Sub", "Mul", "RealDiv", "Maximum", "Minimum", "SquaredDifference", "DivNoNan"]
COMPARE = ["Less", "Greater", "Equal", "NotEqual", "LessEqual", "GreaterEqual"]
SHAPES = [(4, 6), (6,), (), (4, 1)]
OTHER = {"float32": "float64", "float64": "float32"}

Program = tuple[list[tuple[str, tuple[int, ...]]], list[tuple[str, tuple[int, ...], dict[str, Any]]], list[int]]


def random_program(rng: np.random.Generator) -> Program:
    """(inputs as (dtype, shape), nodes as (op, operand indices, attrs), output indices); value k < number of
    inputs is input k, else node k - inputs."""
    dtype = str(rng.choice(["float32", "float64"]))
    inputs = [(dtype, (4, 6))] + [(dtype, SHAPES[rng.integers(len(SHAPES))]) for _ in range(rng.integers(1, 4))]
    kinds = [d for d, _ in inputs]
    shapes = [s for _, s in inputs]
    nodes: list[tuple[str, tuple[int, ...], dict[str, Any]]] = []

    def pick(want: str) -> int:
        return int(rng.choice([k for k, d in enumerate(kinds) if d == want]))

    for _ in range(rng.integers(2, 9)):
        a = int(rng.choice([k for k, kind in enumerate(kinds) if kind != "bool"]))
        d = kinds[a]
        roll = rng.random()
        full_values = [k for k, kind in enumerate(kinds) if kind == d and shapes[k] == (4, 6)]
        if 0.75 <= roll < 0.9 and not full_values:
            roll = 0.5
        operands: tuple[int, ...] = (a,)
        if roll < 0.35:
            op = str(rng.choice(UNARY))
            nodes.append((op, operands, {"alpha": 0.2} if op == "LeakyRelu" else {}))
        elif roll < 0.75:
            operands = (a, pick(d))
            nodes.append((str(rng.choice(BINARY)), operands, {}))
        elif roll < 0.9:  # select(compare(full, b), c, d): a full-shape condition selects elements, not rows
            full = int(rng.choice(full_values))
            nodes.append((str(rng.choice(COMPARE)), (full, pick(d)), {}))
            kinds.append("bool")
            shapes.append((4, 6))
            operands = (len(kinds) - 1, pick(d), pick(d))
            nodes.append(("Select", operands, {}))
        else:
            nodes.append(("Cast", operands, {"DstT": OTHER[d]}))
            d = OTHER[d]
        kinds.append(d)
        shapes.append(np.broadcast_shapes(*(shapes[k] for k in operands)))
    n_in = len(inputs)
    outputs = sorted({len(kinds) - 1, int(rng.integers(n_in, len(kinds)))})
    outputs = [k for k in outputs if kinds[k] != "bool"] or [len(kinds) - 1]
    return inputs, nodes, outputs


def input_arrays(program: Program, rng: np.random.Generator) -> list[np.ndarray]:
    arrays = []
    for dtype, shape in program[0]:
        pool = np.concatenate([special_values(dtype), rng.standard_normal(16).astype(dtype) * 3])
        arrays.append(rng.choice(pool, size=shape).astype(dtype))
    return arrays


def build(program: Program) -> Region:
    inputs, nodes, outputs = program
    with tf.Graph().as_default():
        values = [tf.placeholder(dtypes.as_dtype(d), s) for d, s in inputs]
        feeds = list(values)
        for op, operands, attrs in nodes:
            graph_attrs = {k: dtypes.as_dtype(v) if k == "DstT" else v for k, v in attrs.items()}
            values.append(REGISTRY[op](*[values[k] for k in operands], **graph_attrs))
        ops = [v.op for v in values[len(inputs):]]
        return region_from_ops(ops, feeds, [values[k] for k in outputs])


def evaluate(program: Program, arrays: list[np.ndarray]) -> list[np.ndarray]:
    """The op-by-op NumPy reference."""
    values = list(arrays)
    for op, operands, attrs in program[1]:
        values.append(reference(op, *[values[k] for k in operands], **attrs))
    return [values[k] for k in program[2]]


def _check(name: str, got: tuple[np.ndarray, ...] | list[np.ndarray], want: list[np.ndarray], program: Program) -> None:
    for j, (g, w) in enumerate(zip(got, want)):
        problem = same_values(np.asarray(g), w)
        assert problem is None, f"{name}, output {j}: {problem}\nprogram: {program[1]}"


@settings(max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1))
def test_numpy_evaluator_equals_op_by_op_numpy(seed: int) -> None:
    rng = np.random.default_rng(seed)
    program = random_program(rng)
    arrays = input_arrays(program, rng)
    _check("NumPy evaluator", NumpyRegion(build(program))(*arrays), evaluate(program, arrays), program)


BATCH = 40


@pytest.fixture(scope="module")
def batch() -> list[tuple[Program, Region, list[np.ndarray]]]:
    rng = np.random.default_rng(2024)
    programs = [random_program(rng) for _ in range(BATCH)]
    return [(p, build(p), input_arrays(p, rng)) for p in programs]


def test_compiled_loops_equal_op_by_op_numpy(batch: list[tuple[Program, Region, list[np.ndarray]]]) -> None:
    compiled = compile_regions([region for _, region, _ in batch])
    for (program, _, arrays), run in zip(batch, compiled):
        _check("host-compiled loop", run(*arrays), evaluate(program, arrays), program)


def test_cuda_sources_compile_and_equal_op_by_op_numpy_on_the_host(
        batch: list[tuple[Program, Region, list[np.ndarray]]]) -> None:
    single = [(p, r, a) for p, r, a in batch if len(r.outputs) == 1]
    sources = [_kernel_source(r) for _, r, _ in single]
    assert len(sources) >= BATCH // 4
    ptx = compile_ptx("".join(cuda_source(s, "float", f"{s.name}.cu") for s in sources), "fused_chains.cu")
    assert all(f".entry {s.name}(" in ptx for s in sources)
    kernels = host_kernels(sources)
    for (program, _, arrays), src in zip(single, sources):
        want = evaluate(program, arrays)
        _check("CUDA source on the host", [_run_host(kernels[src.name], arrays, want[0])], want, program)
