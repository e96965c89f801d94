"""Optimizer updates as compiled host loops: bit for bit the NumPy twins' results, and the twin where no loop runs."""

from __future__ import annotations

import subprocess
from typing import Any, Iterator

import numpy as np
import pytest

import gpugraph as tf
from gpugraph.compiler.fused_step import COMPILE_AFTER, LARGE_ELEMENTS
from gpugraph.fusion import compiled
from gpugraph.kernels import available, host_loops, load
from gpugraph.kernels.host_multi import HostMultiUpdate
from gpugraph.kernels.twins import TWINS

KERNELS = [k for k in available() if k.startswith("apply_")]
DTYPES = ("float32", "float64")
SIGNED_SLOTS = {"var", "m", "mom", "linear", "gradient_accumulator"}  # the others are sums of squares
UNIT = {"beta1", "beta2", "rho", "momentum"}


@pytest.fixture(scope="module", autouse=True)
def kernel_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Loops are built into a fresh cache folder, all in one compiler run."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GPUGRAPH_KERNEL_CACHE", str(tmp_path_factory.mktemp("update-loops")))
        mp.setattr(host_loops, "_built", {})
        host_loops.build_many([(k, d) for k in KERNELS for d in DTYPES])
        yield


def _case(kernel: str, dtype: str, shape: tuple[int, ...], variant: int, seed: int = 0) -> tuple[list, tuple, tuple]:
    """(refs, inputs, attrs) of random values in each parameter's domain; ``variant`` 1 takes the other
    branches (l1 = 0, an lr_power other than -0.5, no Nesterov)."""
    rng = np.random.default_rng(seed)
    src = load(kernel)
    refs = []
    for p in src.inouts:
        a = rng.uniform(-1.0, 1.0, shape) if p.name in SIGNED_SLOTS else rng.uniform(0.1, 1.0, shape)
        if p.name == "mg":
            a = rng.uniform(-0.1, 0.1, shape)  # ms - mg^2 stays positive
        if p.name == "var":
            a.reshape(-1)[::10] = 0.0
        refs.append(a.astype(dtype))
    inputs: list[Any] = []
    attrs: list[Any] = []
    for p in src.inputs:
        if p.name in ("grad", "delta"):
            g = rng.uniform(-1.0, 1.0, shape)
            g.reshape(-1)[::5] = 0.0  # with var's zeros: the sign(0) branches
            inputs.append(g.astype(dtype))
        elif p.ctype == "bool":
            attrs.append(variant == 0)
        elif p.ctype == "int64":
            inputs.append(np.array(rng.integers(1, 1000), np.int64))
        else:
            value = {"l1": 0.0 if variant else rng.uniform(0.01, 0.2), "lr_power": -0.6 if variant else -0.5,
                     "epsilon": rng.uniform(1e-8, 1e-3)}.get(p.name, rng.uniform(0.5, 0.99) if p.name in UNIT
                                                           else rng.uniform(0.01, 0.5))
            inputs.append(np.array(value, dtype))
    return refs, tuple(inputs), tuple(attrs)


def _assert_same_bits(got: list[np.ndarray], want: list[np.ndarray], names: list[str]) -> None:
    for g, w, name in zip(got, want, names):
        assert g.dtype == w.dtype and g.shape == w.shape
        np.testing.assert_array_equal(g.view(f"u{g.itemsize}"), w.view(f"u{w.itemsize}"), err_msg=name)


def test_every_update_kernel_has_a_loop() -> None:
    assert sorted(KERNELS) == sorted(TWINS)
    for kernel in KERNELS:
        for dtype in DTYPES:
            assert host_loops.build(kernel, dtype) is not None, (kernel, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kernel", KERNELS)
def test_loop_equals_twin_bit_for_bit(kernel: str, dtype: str) -> None:
    loop = host_loops.build(kernel, dtype)
    names = [p.name for p in load(kernel).inouts]
    for shape in [(0,), (1,), (1001,), (33, 31)]:
        for variant in (0, 1):
            refs, inputs, attrs = _case(kernel, dtype, shape, variant)
            want = [r.copy() for r in refs]
            TWINS[kernel](np, *want, *inputs, *attrs)
            buffers = list(refs)
            ran = loop(refs, inputs, attrs)
            # where NumPy's power is SVML's, FTRL's power case is left to the twin
            takes = host_loops.NUMPY_POW_IS_LIBM or not (kernel.startswith("apply_ftrl") and variant)
            assert ran == takes
            if ran:
                assert all(r is b for r, b in zip(refs, buffers))
                _assert_same_bits(refs, want, names)
                if refs[0].size > 1:  # element 0 has a zero gradient
                    assert not np.array_equal(refs[0], _case(kernel, dtype, shape, variant)[0][0])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kernel", KERNELS)
def test_non_finite_gradients_give_the_twins_nans_and_infinities(kernel: str, dtype: str) -> None:
    refs, inputs, attrs = _case(kernel, dtype, (50,), 0)
    grad = next(i for i in inputs if i.shape == (50,))
    grad[3], grad[7], grad[8] = np.nan, np.inf, -np.inf
    want = [r.copy() for r in refs]
    with np.errstate(all="ignore"):
        TWINS[kernel](np, *want, *inputs, *attrs)
    assert host_loops.build(kernel, dtype)(refs, inputs, attrs)
    for got, expected, name in zip(refs, want, [p.name for p in load(kernel).inouts]):
        np.testing.assert_array_equal(got, expected, err_msg=name)  # NaN where the twin has NaN


def test_strided_gradient_is_read_and_an_overlapping_one_left_to_the_twin() -> None:
    refs, inputs, attrs = _case("apply_adam", "float32", (40, 30), 0)
    strided = np.asfortranarray(inputs[-1])  # the same values, column-major
    assert not strided.flags.c_contiguous
    want = [r.copy() for r in refs]
    TWINS["apply_adam"](np, *want, *inputs, *attrs)
    loop = host_loops.build("apply_adam", "float32")
    assert loop(refs, (*inputs[:-1], strided), attrs)
    _assert_same_bits(refs, want, ["var", "m", "v"])
    refs, inputs, attrs = _case("apply_adam", "float32", (40, 30), 0)
    before = [r.copy() for r in refs]
    assert not loop(refs, (*inputs[:-1], refs[1]), attrs)  # the gradient is the m slot itself
    _assert_same_bits(refs, before, ["var", "m", "v"])  # nothing written: the twin runs instead


def _spy_loops(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    calls: list[bool] = []
    real = host_loops.HostLoop.run

    def spy(self: Any, refs: list[Any], pointers: list[int], values: tuple[Any, ...]) -> bool:
        calls.append(real(self, refs, pointers, values))
        return calls[-1]
    monkeypatch.setattr(host_loops.HostLoop, "run", spy)
    return calls


def test_large_updates_compile_after_a_few_runs_and_small_ones_never(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(host_loops, "_built", {})
    built: list[tuple[str, Any]] = []
    real_build = host_loops.build
    monkeypatch.setattr(host_loops, "build", lambda k, d: built.append((k, d)) or real_build(k, d))
    ran = _spy_loops(monkeypatch)
    refs, inputs, attrs = _case("apply_momentum", "float64", (LARGE_ELEMENTS + 3,), 0)
    want = [r.copy() for r in refs]
    small, small_inputs, _ = _case("apply_momentum", "float64", (LARGE_ELEMENTS - 1,), 0)
    small_want = [r.copy() for r in small]
    update = host_loops.HostUpdate("apply_momentum", TWINS["apply_momentum"])
    for run in range(1, COMPILE_AFTER + 3):
        update(refs, inputs, attrs)
        TWINS["apply_momentum"](np, *want, *inputs, *attrs)
        update(small, small_inputs, attrs)
        TWINS["apply_momentum"](np, *small_want, *small_inputs, *attrs)
        assert len(built) == (run >= COMPILE_AFTER)  # once, on the third large run
        assert ran == [True] * max(0, run - COMPILE_AFTER + 1)  # the small variable never takes the loop
    _assert_same_bits(refs + small, want + small_want, ["var", "accum"] * 2)


def test_a_variable_given_new_buffers_is_updated_in_them() -> None:
    update = host_loops.HostUpdate("apply_adagrad", TWINS["apply_adagrad"])
    first, inputs, attrs = _case("apply_adagrad", "float32", (LARGE_ELEMENTS,), 0)
    for _ in range(COMPILE_AFTER + 1):
        update(first, inputs, attrs)
    kept = [r.copy() for r in first]
    second, _, _ = _case("apply_adagrad", "float32", (LARGE_ELEMENTS,), 0, seed=5)
    want = [r.copy() for r in second]
    TWINS["apply_adagrad"](np, *want, *inputs, *attrs)
    assert update(second, inputs, attrs) is second[0]
    _assert_same_bits(second + first, want + kept, ["var", "accum"] * 2)


def test_no_compiler_falls_back_to_the_twin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(host_loops, "_built", {})
    monkeypatch.setattr(compiled, "compiler", lambda: None)

    def no_subprocess(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("no compiler to run")
    monkeypatch.setattr(subprocess, "run", no_subprocess)
    refs, inputs, attrs = _case("apply_adam", "float32", (LARGE_ELEMENTS * 2,), 0)
    want = [r.copy() for r in refs]
    update = host_loops.HostUpdate("apply_adam", TWINS["apply_adam"])
    for _ in range(COMPILE_AFTER + 2):
        assert update(refs, inputs, attrs) is refs[0]
        TWINS["apply_adam"](np, *want, *inputs, *attrs)
    _assert_same_bits(refs, want, ["var", "m", "v"])
    assert host_loops.build("apply_adam", "float32") is None


def _train_mlp(steps: int) -> dict[str, np.ndarray]:
    """An MLP 64-160-10 (its first kernel above LARGE_ELEMENTS) trained with Adam: every variable after."""
    graph = tf.Graph()
    with graph.as_default():
        tf.set_random_seed(1)
        x = tf.placeholder(tf.float32, [None, 64])
        y = tf.placeholder(tf.int32, [None])
        h = x
        for i, (n_in, n_out) in enumerate([(64, 160), (160, 10)]):
            w = tf.Variable(tf.truncated_normal([n_in, n_out], stddev=0.1), name=f"w{i}")
            h = tf.matmul(h, w) + tf.Variable(tf.zeros([n_out]), name=f"b{i}")
            h = tf.nn.relu(h) if i == 0 else h
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=h))
        train = tf.train.AdamOptimizer(0.01).minimize(loss)
        init = tf.global_variables_initializer()
    rng = np.random.default_rng(2)
    with tf.Session(graph=graph) as sess:
        sess.run(init)
        for _ in range(steps):
            sess.run(train, {x: rng.standard_normal((32, 64), dtype=np.float32), y: rng.integers(0, 10, 32)})
        return {v.name: sess.run(v) for v in graph.get_collection(tf.GraphKeys.GLOBAL_VARIABLES)}


def test_mlp_trained_with_adam_equals_the_twins_run(monkeypatch: pytest.MonkeyPatch) -> None:
    ran = _spy_loops(monkeypatch)
    grouped: list[bool] = []
    real = HostMultiUpdate.__call__

    def spy(self: Any, *args: Any) -> bool:
        grouped.append(real(self, *args))
        return grouped[-1]
    monkeypatch.setattr(HostMultiUpdate, "__call__", spy)
    monkeypatch.setenv(host_loops.ENV_HOST_LOOPS, "0")
    twin_run = _train_mlp(COMPILE_AFTER + 3)
    assert ran == [] and grouped == []
    monkeypatch.delenv(host_loops.ENV_HOST_LOOPS)
    loop_run = _train_mlp(COMPILE_AFTER + 3)
    assert all(ran)  # the 64x160 kernel's own loop, where it ran before the group's call was built
    assert grouped.count(True) >= 3  # then the four updates in one compiled call each step
    assert sorted(loop_run) == sorted(twin_run) and any(n.endswith("/Adam_1:0") for n in loop_run)
    _assert_same_bits([loop_run[n] for n in sorted(loop_run)], [twin_run[n] for n in sorted(twin_run)],
                      sorted(loop_run))


@pytest.mark.parametrize("kernel", ["apply_adam", "apply_ftrl", "apply_momentum"])
def test_a_huge_variable_updated_on_the_intra_op_threads_equals_the_twin(
        kernel: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Over ``PARALLEL_ELEMENTS`` (lowered here), a lone update goes through the grouped call with its one
    variable, split across two threads: the twin's bits, every run."""
    from gpugraph.fusion import parallel
    from gpugraph.ops import host_blas

    monkeypatch.setattr(parallel, "PARALLEL_ELEMENTS", LARGE_ELEMENTS)
    monkeypatch.setattr(parallel, "MIN_CHUNK", 512)
    monkeypatch.setattr(host_blas, "fixed_threads", lambda: 2)
    split: list[bool] = []
    real = HostMultiUpdate.__call__
    monkeypatch.setattr(HostMultiUpdate, "__call__", lambda self, *a: split.append(real(self, *a)) or split[-1])
    refs, inputs, attrs = _case(kernel, "float32", (LARGE_ELEMENTS + 777,), 0)
    want = [r.copy() for r in refs]
    update = host_loops.HostUpdate(kernel, TWINS[kernel])
    for _ in range(COMPILE_AFTER + 2):
        assert update(refs, inputs, attrs) is refs[0]
        TWINS[kernel](np, *want, *inputs, *attrs)
    assert split[-2:] == [True, True]
    _assert_same_bits(refs, want, [p.name for p in load(kernel).inouts])
