"""On a CUDA device: every fused one-op kernel and the random chains run by CuPy equal the NumPy
references (transcendental ops within twice the host's ulps: CUDA's libdevice is not glibc)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from fusion_reference import ULPS, same_values
from test_fusion_chains import build, evaluate, input_arrays, random_program
from test_fusion_ops import IDS, walk  # noqa: F401 - walk is the module fixture of the one-op cases

from gpugraph.fusion import run_on_device

pytestmark = pytest.mark.gpu


@pytest.mark.parametrize("index", range(len(IDS)), ids=IDS)
def test_fused_kernel_on_the_device_matches_reference(walk: list[dict[str, Any]], index: int) -> None:
    import cupy

    e = walk[index]
    (got,) = run_on_device(e["region"], *[cupy.asarray(a) for a in e["arrays"]])
    problem = same_values(cupy.asnumpy(got), e["want"], 2 * ULPS if e["ulps"] else 0)
    assert problem is None, f"{IDS[index]} (CuPy): {problem}"


def test_random_chains_on_the_device_equal_op_by_op_numpy() -> None:
    import cupy

    rng = np.random.default_rng(99)
    for _ in range(30):
        program = random_program(rng)
        arrays = input_arrays(program, rng)
        got = run_on_device(build(program), *[cupy.asarray(a) for a in arrays])
        for j, (g, w) in enumerate(zip(got, evaluate(program, arrays))):
            problem = same_values(cupy.asnumpy(g), w)
            assert problem is None, f"output {j}: {problem}\nprogram: {program[1]}"


def test_a_region_writes_over_its_input_on_the_device_with_the_same_values() -> None:
    """``run_on_device_into``: one output given as an input's own buffer, the other made by the kernel."""
    import cupy

    from gpugraph.fusion.cuda import run_on_device_into

    rng = np.random.default_rng(5)
    written = 0
    for _ in range(40):
        program = random_program(rng)
        arrays = input_arrays(program, rng)
        region = build(program)
        want = evaluate(program, arrays)
        device = [cupy.asarray(a) for a in arrays]
        donor = max(range(len(device)), key=lambda k: device[k].size)
        fits = [k for k, w in enumerate(want) if w.dtype == device[donor].dtype]
        if not fits or any(w.shape != device[donor].shape for w in want):
            continue  # every output must span the donor's shape
        given = tuple(device[donor] if k == fits[0] else None for k in range(len(want)))
        got = run_on_device_into(region, given, *device)
        assert got[fits[0]] is device[donor]
        written += 1
        for j, (g, w) in enumerate(zip(got, want)):
            problem = same_values(cupy.asnumpy(g), w)
            assert problem is None, f"output {j}: {problem}\nprogram: {program[1]}"
    assert written >= 10
