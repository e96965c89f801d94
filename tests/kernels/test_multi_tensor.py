"""Multi-tensor update kernels: the source compiles with NVRTC, runs on the CPU (host compiler) equal bit
for bit to the NumPy twins, and a session on a fake CuPy launches one kernel for a step's Adam updates."""

from __future__ import annotations

import sys
import types
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from host_compiled import HostRawKernel
from test_kernels_compile import compile_ptx, cuda_source

from gpugraph import kernels
from gpugraph.kernels import twins
from gpugraph.kernels.multi_tensor import MultiTensorUpdate, multi_tensor_kernel, multi_tensor_name, multi_tensor_source

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "runtime"))
from fake_cupy import FakeCuda, FakeArray, make_fake_cupy  # noqa: E402
from fake_gpu import one_fake_gpu  # noqa: E402
from test_twins import CALLS as TWIN_CALLS  # noqa: E402

# Each Apply kernel: its number of refs and its op's non-ref inputs ("g": the gradient, "step": an int64
# 0-d array), then its attributes (the twins' test table); Adam's beta powers away from 1.
CALLS = {**TWIN_CALLS, "apply_adam": (3, [0.5, 0.7, 0.1, 0.9, 0.999, 1e-8, "g"])}
SIZES = (5, 0, 17, 1)  # an empty tensor among them: the others still line up


def test_every_apply_kernel_is_covered() -> None:
    assert sorted(CALLS) == [n for n in kernels.available() if n.startswith("apply_")]


def _roles(name: str) -> tuple[list[str], list[str], int]:
    """(shared inputs, values by attribute, the gradient's position among the op's inputs)."""
    src = kernels.load(name)
    args = CALLS[name][1]
    g = args.index("g")
    shared = [p.name for p, a in zip(src.inputs, args) if a != "g" and not isinstance(a, bool)]
    by_value = [p.name for p, a in zip(src.inputs, args) if isinstance(a, bool)]
    return shared, by_value, g


@pytest.mark.parametrize("name, ctype", [(n, c) for n in sorted(CALLS) for c in ("float", "double")])
def test_multi_tensor_source_compiles_with_nvrtc(name: str, ctype: str) -> None:
    src = kernels.load(name)
    shared, by_value, _ = _roles(name)
    entry = multi_tensor_name(src, 3)
    ptx = compile_ptx(multi_tensor_source(src, ctype, 3, shared, by_value, f"{name}.cu"), f"{name}.cu")
    assert f".entry {entry}(" in ptx
    # no contraction: an fma only where the one-tensor kernel has one too (inside libdevice's pow)
    single = compile_ptx(cuda_source(src, ctype, f"{name}.cu"), f"{name}.cu")
    assert ptx.count("fma.") == single.count("fma.")
    assert (".f64" in ptx) == (ctype == "double")


def _inputs(name: str, dtype: Any, rng: np.random.Generator) -> tuple[list[list[np.ndarray]], list[np.ndarray],
                                                                      list[Any]]:
    """Per tensor its refs and gradient; the op's inputs with the first tensor's gradient; attributes."""
    n_refs, args = CALLS[name]
    refs, grads = [], []
    for size in SIZES:
        these = [rng.uniform(0.5, 1.5, size).astype(dtype) for _ in range(n_refs)]
        if name == "apply_centered_rms_prop":
            these[1] *= dtype(0.1)  # mg: the mean square stays above the squared mean
        refs.append(these)
        grads.append(rng.standard_normal(size).astype(dtype))
    values = [grads[0] if a == "g" else np.asarray(7, np.int64) if a == "step" else a if isinstance(a, bool)
              else np.asarray(a, dtype) for a in args]
    return refs, grads, values


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(CALLS))
def test_one_launch_equals_the_twins_bit_for_bit(name: str, dtype: Any) -> None:
    refs, grads, values = _inputs(name, dtype, np.random.default_rng(3))
    g = CALLS[name][1].index("g")
    expected = [[r.copy() for r in these] for these in refs]
    for these, grad in zip(expected, grads):  # the reference: each tensor through its NumPy twin
        twins.TWINS[name](np, *these, *[grad if k == g else v for k, v in enumerate(values)])
    shared, by_value, _ = _roles(name)
    host = types.SimpleNamespace(RawKernel=HostRawKernel)
    kernel = multi_tensor_kernel(name, dtype, len(SIZES), shared, by_value, host)
    kernel([v for k, v in enumerate(values) if k != g and not isinstance(v, bool)],
           [v for v in values if isinstance(v, bool)], [(grad, *these) for grad, these in zip(grads, refs)])
    for got, want in zip(refs, expected):
        for a, b in zip(got, want):
            assert a.dtype == b.dtype and a.tobytes() == b.tobytes()


def test_the_source_binds_what_the_elementwise_kernel_binds() -> None:
    src = kernels.load("apply_momentum")
    text = multi_tensor_source(src, "float", 2, ["lr", "momentum"], ["use_nesterov"], "apply_momentum.cu")
    assert "bool use_nesterov" in text and "const T lr = _raw_lr[0];" in text
    assert "const T grad = _raw_grad[i];" in text and "T &accum = _raw_accum[i];" in text
    assert '#line 6 "apply_momentum.cu"' in text  # NVRTC's messages point into the .cu file
    with pytest.raises(ValueError, match="at least one tensor"):
        multi_tensor_source(src, "float", 0, ["lr", "momentum"], ["use_nesterov"])


# --- the launcher on a fake CuPy whose RawKernel runs the source through the host compiler ---

class FakeRawKernel:
    """cupy.RawKernel over the fake CuPy: arguments are device arrays or NumPy scalars (a NumPy array is
    host memory: CuPy's TypeError); the launch is one kernel on the current stream."""

    launches = 0

    def __init__(self, cupy: Any, code: str, name: str, options: tuple[str, ...] = ()):
        assert "--fmad=false" in options
        self.cupy, self.name, self.host = cupy, name, HostRawKernel(code, name, options)

    def __call__(self, grid: tuple[int, ...], block: tuple[int, ...], args: tuple[Any, ...],
                 shared_mem: int = 0) -> None:
        assert isinstance(grid, tuple) and isinstance(block, tuple) and grid[0] >= 1
        for a in args:
            if not isinstance(a, (FakeArray, np.generic)):
                raise TypeError(f"Unsupported type {type(a)}")
        FakeRawKernel.launches += 1
        self.cupy._kernel(lambda *raw: self.host(grid, block, raw), args, in_place=True)


def _fake_cupy(state: FakeCuda) -> Any:
    cupy = make_fake_cupy(state)
    cupy.RawKernel = lambda code, name, options=(): FakeRawKernel(cupy, code, name, options)
    return cupy


def test_the_launcher_declines_overlapping_and_mismatched_arrays() -> None:
    cupy = _fake_cupy(FakeCuda(n_devices=1, total_memory=1 << 24))
    launch = MultiTensorUpdate("apply_gradient_descent", 2, 1, np.float32, 2, cupy)
    lr = cupy.asarray(np.float32(0.5))
    a, b = cupy.asarray(np.ones(4, np.float32)), cupy.asarray(np.ones(4, np.float32))
    ga, gb = cupy.asarray(np.full(4, 2, np.float32)), cupy.asarray(np.full(4, 4, np.float32))
    assert not launch([lr], [ga, a], [[a], [b]], [])  # a gradient that is another update's variable
    assert not launch([lr], [ga, gb[:2]], [[a], [b]], [])  # a gradient of another shape
    assert not launch([cupy.asarray(np.float64(0.5))], [ga, gb], [[a], [b]], [])  # a float64 learning rate
    assert a.get().tolist() == [1] * 4 and b.get().tolist() == [1] * 4  # nothing launched
    assert launch([lr], [ga, gb], [[a], [b]], [])
    assert a.get().tolist() == [0] * 4 and b.get().tolist() == [-1] * 4


@pytest.fixture
def fake_gpu(monkeypatch):
    state = FakeCuda(n_devices=1, total_memory=64 << 20)
    with one_fake_gpu(monkeypatch, _fake_cupy(state), 64 << 20):
        yield state


def _train_adam(steps: int) -> list[np.ndarray]:
    import gpugraph as tf

    graph = tf.Graph()
    with graph.as_default():
        x = tf.constant(np.linspace(-1, 1, 12, dtype=np.float32).reshape(4, 3))
        w = tf.Variable(np.arange(6, dtype=np.float32).reshape(3, 2) / 7, name="w")
        b = tf.Variable(np.array([0.3, -0.2], np.float32), name="b")
        loss = tf.reduce_sum(tf.square(tf.matmul(x, w) + b))
        train = tf.train.AdamOptimizer(0.05).minimize(loss)
        init = tf.global_variables_initializer()
    with tf.Session(graph=graph) as sess:
        sess.run(init)
        for _ in range(steps):
            sess.run(train)
        return sess.run([w, b])


def test_a_session_on_cupy_launches_one_kernel_for_the_adam_updates(fake_gpu, monkeypatch) -> None:
    FakeRawKernel.launches = 0
    grouped = _train_adam(3)
    # per step, one launch for both variables' updates and one for both beta powers (the later steps may
    # replay them from a captured CUDA graph)
    assert 2 <= FakeRawKernel.launches <= 6
    monkeypatch.setenv("GPUGRAPH_GROUP_UPDATES", "0")
    FakeRawKernel.launches = 0
    one_by_one = _train_adam(3)
    assert FakeRawKernel.launches == 0
    for a, b in zip(grouped, one_by_one):
        assert a.tobytes() == b.tobytes()
