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
