"""On a CUDA device: each kernel built by the loader updates CuPy arrays in place exactly as its NumPy twin."""

from __future__ import annotations

import numpy as np
import pytest

from gpugraph import kernels
from gpugraph.kernels.twins import TWINS

pytestmark = pytest.mark.gpu

SCALARS = {"beta1_power": 0.9 ** 3, "beta2_power": 0.999 ** 3, "lr": 0.01, "alpha": 0.01, "beta1": 0.9,
           "beta2": 0.999, "epsilon": 1e-7, "rho": 0.9, "momentum": 0.5, "l1": 0.01, "l2": 0.02, "l2_shrinkage": 0.03,
           "lr_power": -0.5}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", kernels.available())
def test_kernel_equals_twin(name: str, dtype: type) -> None:
    import cupy

    src = kernels.load(name)
    rng = np.random.default_rng(0)
    refs = {p.name: rng.uniform(0.5, 1.5, 1000).astype(dtype) for p in src.inouts}
    if "mg" in refs:
        refs["mg"] *= dtype(0.1)
    ins = {}
    for p in src.inputs:
        if p.ctype == "bool":
            ins[p.name] = True
        elif p.ctype == "int64":  # AdagradDA's global step
            ins[p.name] = np.asarray(7, np.int64)
        elif p.name in ("grad", "delta"):
            ins[p.name] = rng.standard_normal(1000).astype(dtype)
        else:
            ins[p.name] = np.asarray(SCALARS[p.name], dtype)
    gpu_refs = {k: cupy.asarray(v) for k, v in refs.items()}
    gpu_ins = {k: cupy.asarray(v) if isinstance(v, np.ndarray) else v for k, v in ins.items()}
    buffers = [a.data.ptr for a in gpu_refs.values()]
    TWINS[name](np, **refs, **ins)
    kernel = kernels.elementwise_kernel(name, (dtype,))
    kernel(*gpu_ins.values(), *gpu_refs.values())
    assert [a.data.ptr for a in gpu_refs.values()] == buffers
    for key, want in refs.items():
        np.testing.assert_array_equal(cupy.asnumpy(gpu_refs[key]), want, err_msg=key)
