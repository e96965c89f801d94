"""On a CUDA device: each update kernel built by the loader updates CuPy arrays in place exactly as its NumPy
twin; each Philox kernel draws the NumPy path's numbers and TensorFlow's (tests/ops/data/philox_reference.json)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

import gpugraph as tf
from gpugraph import kernels
from gpugraph.kernels.twins import TWINS
from gpugraph.ops import philox

DATA = Path(__file__).resolve().parents[1] / "ops" / "data"
sys.path.insert(0, str(DATA))
from make_philox_reference import CASES, build  # noqa: E402

pytestmark = pytest.mark.gpu

SCALARS = {"beta1_power": 0.9 ** 3, "beta2_power": 0.999 ** 3, "lr": 0.01, "alpha": 0.01, "beta1": 0.9,
           "beta2": 0.999, "epsilon": 1e-7, "rho": 0.9, "momentum": 0.5, "l1": 0.01, "l2": 0.02, "l2_shrinkage": 0.03,
           "lr_power": -0.5}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(TWINS))
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


# reference cases whose op's output is the raw draw (no scaling after it), with the draw that makes it
PHILOX_CASES = {"uniform_f32_op_seed": philox.uniform, "uniform_f16": philox.uniform, "uniform_i32": philox.uniform_int,
                "uniform_i32_wide": philox.uniform_int, "uniform_i64": philox.uniform_int,
                "normal_f32_graph_seed": philox.normal, "normal_f16": philox.normal, "normal_f64": philox.normal,
                "truncated_f32": philox.truncated_normal, "truncated_f16": philox.truncated_normal}

RANDOM_TYPES = ("RandomUniform", "RandomUniformInt", "RandomStandardNormal", "TruncatedNormal")


@pytest.mark.parametrize("case", sorted(PHILOX_CASES))
def test_philox_kernel_equals_numpy_path_and_tensorflow(case: str) -> None:
    import cupy

    tf.reset_default_graph()
    out = build(tf, case)
    op = [o for o in tf.get_default_graph().get_operations() if o.type in RANDOM_TYPES][-1]  # the case's draw
    dtype = np.dtype(out.dtype.np_dtype)
    n = int(np.prod(out.shape.as_list()))
    state = philox.PhiloxState(*op.get_attr("seeds"))
    counter = state.reserve(n * philox.RESERVED_BLOCKS_PER_OUTPUT)
    draw = PHILOX_CASES[case]
    if draw is philox.uniform_int:
        kw = CASES[case][3]
        bounds = [np.asarray(kw[k], dtype) for k in ("minval", "maxval")]
        got = draw(cupy, state.key, counter, n, *[cupy.asarray(b) for b in bounds], dtype)
        host = draw(np, state.key, counter, n, *bounds, dtype)
    else:
        got = draw(cupy, state.key, counter, n, dtype)
        host = draw(np, state.key, counter, n, dtype)
    got = cupy.asnumpy(got)
    want = np.asarray(json.loads((DATA / "philox_reference.json").read_text())["cases"][case][0], dtype)
    assert got.dtype == dtype and got.shape == (n,)
    if dtype == np.float64 and draw is not philox.uniform:  # libdevice's and NumPy's log/sin/cos
        ulp = np.spacing(np.maximum(np.abs(host), 1.0))
        assert np.all(np.abs(got - host) <= 4 * ulp)
    else:
        np.testing.assert_array_equal(got.view(f"u{dtype.itemsize}"), host.view(f"u{dtype.itemsize}"))
    if draw in (philox.normal, philox.truncated_normal):  # the tolerance of tests/ops/test_philox_random.py
        ulp = np.spacing(np.maximum(np.abs(want), want.dtype.type(1)))
        assert np.all(np.abs(got - want.reshape(-1)) <= 8 * ulp)
    else:
        np.testing.assert_array_equal(got, want.reshape(-1))
