"""Registry-wide op conformance: every registered OpDef is checked by being registered.

For each op's samples (NumPy is the ground truth): inferred shape/dtype match the real output (also
with unknown input shapes), a Session run equals ``impl(numpy, ...)`` with fed and with constant
(folded) inputs, the gradient rule returns one entry per input and agrees with float64 central
differences; on a CUDA machine, CuPy equals NumPy and each ``cuda`` expression equals ``impl``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

try:
    from . import conformance_util as cu
except ImportError:  # tests/ops is not a package: pytest put it on sys.path
    import conformance_util as cu

from gpugraph.framework import dtypes
from gpugraph.ops.constant_ops import placeholder
from gpugraph.ops.registry import NO_GRADIENT, REGISTRY, OpDef

IMPORT_ERRORS = cu.import_op_modules()

# Ops without a sample, and why a sample cannot exercise them (their value comes from session state).
SAMPLELESS: dict[str, str] = {
    "Placeholder": "its value is the feed; the plan never executes it",
    "VariableV2": "reads the session's variable cell",
    "Assign": "writes a variable in place (ref input)",
    "AssignAdd": "updates a variable in place (ref input)",
    "AssignSub": "updates a variable in place (ref input)",
    "CheckNumerics": "a bound check that stops the run (its error names the op); tests/ops/test_check_numerics.py",
    "IsVariableInitialized": "reports session state of a variable",
    "ReportUninitializedVariables": "reports session state of variables",
    "InitializedValue": "reads the variable's cell (or its initial value before initialization)",
    "RandomUniformInt": "draws from the session's per-op random stream (shape: a static attr, or a run-time input)",
    "RandomUniform": "draws from the session's per-op random stream (shape: a static attr, or a run-time input)",
    "RandomStandardNormal": "draws from the session's per-op random stream (shape: a static attr, or a run-time input)",
    "TruncatedNormal": "draws from the session's per-op random stream (shape: a static attr, or a run-time input)",
    "RandomShuffle": "draws from the session's per-op random stream",
    "Multinomial": "draws from the session's per-op random stream",
    "LogUniformCandidateSampler": "draws from the session's per-op random stream",
    "UniformCandidateSampler": "draws from the session's per-op random stream",
    "LearnedUnigramCandidateSampler": "draws from the session's per-op random stream and class counts",
    "NoOp": "no inputs, no outputs: only orders its control dependencies",
    "If": "runs a sub-plan compiled from its branch sub-graphs; checked against TF in tests/ops/test_cond.py",
    "While": "runs sub-plans of its cond/body sub-graphs; checked against TF in tests/ops/test_while_loop.py",
    "WhileGrad": "runs the body's VJP sub-plan over a While's history; checked in tests/ops/test_while_loop.py",
    **{name: "a TensorArray (a run-time object, updated in place); checked in tests/ops/test_tensor_array.py"
       for name in ("TensorArrayV3", "TensorArrayWriteV3", "TensorArrayScatterV3", "TensorArrayReadV3",
                    "TensorArraySizeV3", "TensorArrayConcatV3", "TensorArrayEntryGrad", "TensorArrayGradRead",
                    "TensorArrayConcatGrad")},
    "ApplyGradientDescent": "updates a variable in place (ref input)",
    "ApplyMomentum": "updates a variable and its slot in place (ref inputs)",
    "ApplyAdam": "updates a variable and its slots in place (ref inputs)",
    "ApplyRMSProp": "updates a variable and its slots in place (ref inputs)",
    "ApplyCenteredRMSProp": "updates a variable and its slots in place (ref inputs)",
    "ApplyAdagrad": "updates a variable and its slot in place (ref inputs)",
    "ApplyAdadelta": "updates a variable and its slots in place (ref inputs)",
    "RestoreV2": "reads a tensor of a checkpoint file when it runs; checked in tests/train/test_init_from_checkpoint",
    "ApplyFtrl": "updates a variable and its slots in place (ref inputs)",
    "ApplyFtrlV2": "updates a variable and its slots in place (ref inputs)",
    "ApplyProximalGradientDescent": "updates a variable in place (ref input)",
    "ApplyProximalAdagrad": "updates a variable and its slot in place (ref inputs)",
    "ApplyAdagradDA": "updates a variable and its slots in place (ref inputs)",
    "ScalarSummary": "serializes host values into a Summary protobuf (bytes); checked in tests/summary",
    "HistogramSummary": "serializes host values into a Summary protobuf (bytes); checked in tests/summary",
    "ImageSummary": "serializes host values into a Summary protobuf (bytes); checked in tests/summary",
    "TensorSummaryV2": "serializes host values into a Summary protobuf (bytes); checked in tests/summary",
    "MergeSummary": "serializes host values into a Summary protobuf (bytes); checked in tests/summary",
    "AudioSummaryV2": "serializes host values into a Summary protobuf (bytes); checked in tests/summary",
    "IteratorV2": "names a session's iterator state (no inputs, no outputs); checked in tests/data",
    **{name: "a session's host queue (blocking, shared by threads); checked against TF in tests/train/test_queues.py"
       for name in ("FIFOQueueV2", "RandomShuffleQueueV2", "PaddingFIFOQueueV2", "PriorityQueueV2", "QueueEnqueueV2",
                    "QueueEnqueueManyV2", "QueueDequeueV2", "QueueDequeueManyV2", "QueueDequeueUpToV2",
                    "QueueCloseV2", "QueueSizeV2", "QueueIsClosedV2")},
    "OneShotIterator": "names a session's iterator state (no inputs, no outputs); checked in tests/data",
    "MakeIterator": "starts the session's iterator on a host dataset pipeline; checked in tests/data",
    "IteratorGetNext": "pulls the next element from the session's iterator; checked against TF in tests/data",
    "IteratorToStringHandle": "the name of a session's iterator as a string handle; checked in tests/data",
    "ScatterUpdate": "updates a variable in place (ref input); checked against TF in tests/ops/test_scatter_ops.py",
    "ScatterAdd": "updates a variable in place (ref input); checked against TF in tests/ops/test_scatter_ops.py",
    "ScatterSub": "updates a variable in place (ref input); checked against TF in tests/ops/test_scatter_ops.py",
    "ScatterMul": "updates a variable in place (ref input); checked against TF in tests/ops/test_scatter_ops.py",
    "ScatterDiv": "updates a variable in place (ref input); checked against TF in tests/ops/test_scatter_ops.py",
    "ScatterMax": "updates a variable in place (ref input); checked against TF in tests/ops/test_scatter_ops.py",
    "ScatterMin": "updates a variable in place (ref input); checked against TF in tests/ops/test_scatter_ops.py",
    "ScatterNdUpdate": "updates a variable in place (ref input); checked against TF in tests/ops/test_scatter_ops.py",
    "ScatterNdAdd": "updates a variable in place (ref input); checked against TF in tests/ops/test_scatter_ops.py",
    "ScatterNdSub": "updates a variable in place (ref input); checked against TF in tests/ops/test_scatter_ops.py",
    "ScatterNdMax": "updates a variable in place (ref input); checked against TF in tests/ops/test_scatter_ops.py",
    "ScatterNdMin": "updates a variable in place (ref input); checked against TF in tests/ops/test_scatter_ops.py",
    "CountUpTo": "updates a variable in place (ref input); checked against TF in tests/ops/test_scatter_ops.py",
    "Assert": "raises or passes on host values; no outputs; checked in tests/ops/test_debug_ops.py",
    "Print": "writes to stderr (a side effect) and passes its input; checked in tests/ops/test_debug_ops.py",
    "PrintV2": "writes to a stream (a side effect); no outputs; checked in tests/ops/test_debug_ops.py",
    "PyFunc": "calls a Python function (any side effects); checked in tests/ops/test_script_ops.py",
    "EagerPyFunc": "calls a Python function (any side effects); checked in tests/ops/test_script_ops.py",
    **{name: "a host codec on string tensors (Pillow); checked against TF in tests/image/test_image_codec.py"
       for name in ("DecodePng", "DecodeJpeg", "DecodeImage", "EncodePng", "EncodeJpeg")},
    **{name: "a reader's handle or its per-session state (file, position, counters); checked in tests/io"
       for name in ("TextLineReaderV2", "FixedLengthRecordReaderV2", "WholeFileReaderV2", "TFRecordReaderV2",
                    "ReaderReadV2", "ReaderReadUpToV2", "ReaderNumRecordsProducedV2",
                    "ReaderNumWorkUnitsCompletedV2", "ReaderResetV2")},
    **{name: "a collective across processes (MPI/NCCL); checked under mpiexec in tests/horovod"
       for name in ("HorovodAllreduce", "HorovodGroupedAllreduce", "HorovodAllgather", "HorovodBroadcast")},
}

ALL_OPS = sorted(REGISTRY.values(), key=lambda o: o.name)
SAMPLED = [o for o in ALL_OPS if o.sample is not None and o.impl is not None]
WITH_GRAD = [o for o in SAMPLED if o.grad is not None]
DIFFERENTIABLE = [o for o in WITH_GRAD if o.grad is not NO_GRADIENT]
FUSIBLE = [o for o in SAMPLED if o.cuda]

# No "explain" phase: it writes patch files; a failing seed is shrunk and reported as usual.
PHASES = (Phase.explicit, Phase.generate, Phase.shrink)
SETTINGS = settings(max_examples=5, deadline=None, database=None, phases=PHASES,
                    suppress_health_check=[HealthCheck.too_slow])
SEEDS = st.integers(0, 2**32 - 1)


def _params(ops: list[OpDef]) -> Any:
    return pytest.mark.parametrize("opdef", ops, ids=[o.name for o in ops])


def _samples(opdef: OpDef, seed: int) -> list[tuple[int, list[np.ndarray], dict[str, Any]]]:
    rng = np.random.default_rng(seed)
    samples = opdef.sample(rng)
    assert samples, f"{opdef.name}: sample() returned no samples"
    return [(i, cu.frozen(inputs), dict(attrs)) for i, (inputs, attrs) in enumerate(samples)]


# --- 1. every op is sampled or explicitly exempt ---
def test_every_op_module_imports() -> None:
    assert not IMPORT_ERRORS, f"op modules failed to import: {IMPORT_ERRORS}"


def test_registry_is_walked() -> None:
    assert len(ALL_OPS) == len(REGISTRY) and "MatMul" in REGISTRY and SAMPLED


@_params(ALL_OPS)
def test_op_has_sample_or_is_exempt(opdef: OpDef) -> None:
    pure = opdef.impl is not None and opdef.bind is None and not opdef.stateful
    if opdef.sample is not None:
        assert opdef.impl is not None and opdef.bind is None, (
            f"op '{opdef.name}' has a sample but no impl to check it against (bind ops read session state)")
        assert opdef.name not in SAMPLELESS, f"op '{opdef.name}' has a sample: remove it from SAMPLELESS"
        return
    assert not pure, (f"pure op '{opdef.name}' has no sample: give its OpDef sample=lambda rng: "
                      f"[(inputs, attrs), ...] so the conformance test checks it")
    assert opdef.name in SAMPLELESS, (
        f"op '{opdef.name}' has no sample: add one, or (stateful ops only) list it in SAMPLELESS "
        f"in tests/ops/test_conformance.py with the reason")


@pytest.mark.parametrize("name", sorted(SAMPLELESS))
def test_exempt_ops_are_registered_and_stateful(name: str) -> None:
    assert name in REGISTRY, f"SAMPLELESS names '{name}', which is not a registered op"
    opdef = REGISTRY[name]
    assert opdef.stateful or opdef.bind is not None, f"'{name}' is pure: it needs a sample, not an exemption"


# --- 2. shapes, dtypes and values against NumPy ---
def _check_forward(opdef: OpDef, idx: int, inputs: list[np.ndarray], attrs: dict[str, Any]) -> None:
    where = f"{opdef.name} sample {idx}"
    graph, phs, outs = cu.build(opdef, inputs, attrs)
    expected = cu.impl_outputs(opdef, np, inputs, attrs, len(outs))
    for k, (t, want) in enumerate(zip(outs, expected)):
        want = np.asarray(want)
        problem = cu.shape_matches(t.shape, want.shape, exact=True)
        assert problem is None, f"{where} output {k}: {problem}"
        assert t.dtype.base_dtype == dtypes.as_dtype(want.dtype), (
            f"{where} output {k}: inferred dtype {t.dtype.name} != real dtype {want.dtype}")
    _check_aliasing(opdef, where, inputs, expected)
    feeds = dict(zip(phs, inputs))
    for label, got in (("session", cu.run(graph, outs, feeds)), ("folded constants", _run_const(opdef, inputs, attrs))):
        for k, (g, want) in enumerate(zip(got, expected)):
            want = np.asarray(want)
            assert g.dtype == want.dtype and g.shape == want.shape, (
                f"{where} output {k} ({label}): {g.dtype}{g.shape} != impl's {want.dtype}{want.shape}")
            np.testing.assert_array_equal(g, want, err_msg=f"{where} output {k} ({label}) != impl(numpy)")
    for mode in ("rank", "unknown"):
        g2, phs2, outs2 = cu.build(opdef, inputs, attrs, mode=mode)
        assert len(outs2) == len(outs), f"{where} ({mode} shapes): {len(outs2)} outputs, not {len(outs)}"
        for k, (t, want) in enumerate(zip(outs2, expected)):
            want = np.asarray(want)
            problem = cu.shape_matches(t.shape, want.shape, exact=False)
            assert problem is None, f"{where} output {k} ({mode} input shapes): {problem}"
            assert t.dtype.base_dtype == dtypes.as_dtype(want.dtype), (
                f"{where} output {k} ({mode} input shapes): dtype {t.dtype.name} != {want.dtype}")
        got = cu.run(g2, outs2, dict(zip(phs2, inputs)))
        for k, (g, want) in enumerate(zip(got, expected)):
            np.testing.assert_array_equal(g, want, err_msg=f"{where} output {k} ({mode} input shapes)")


def _run_const(opdef: OpDef, inputs: list[np.ndarray], attrs: dict[str, Any]) -> list[np.ndarray]:
    graph, _, outs = cu.build(opdef, inputs, attrs, mode="const")
    return cu.run(graph, outs, {})


def _check_aliasing(opdef: OpDef, where: str, inputs: list[np.ndarray], outs: list[Any]) -> None:
    """An output sharing memory with an input must be declared (aliases=True), and only with input 0."""
    for k, out in enumerate(outs):
        for i, x in enumerate(inputs):
            if isinstance(out, np.ndarray) and np.shares_memory(out, x):
                assert i == 0 and opdef.aliases, (
                    f"{where}: output {k} shares memory with input {i} but the OpDef does not declare "
                    f"aliases=True (which covers input 0 only)")


@_params(SAMPLED)
@SETTINGS
@given(seed=SEEDS)
def test_forward_matches_numpy(opdef: OpDef, seed: int) -> None:
    for idx, inputs, attrs in _samples(opdef, seed):
        _check_forward(opdef, idx, inputs, attrs)


@_params(SAMPLED)
@settings(max_examples=2, deadline=None, database=None, phases=PHASES)
@given(seed=SEEDS)
def test_float32_inputs_keep_float32(opdef: OpDef, seed: int) -> None:
    """Models run in float32: outputs and gradients must not be promoted to float64 on the way."""
    for idx, inputs64, attrs in _samples(opdef, seed):
        inputs = cu.frozen([a.astype(np.float32) if a.dtype == np.float64 else a for a in inputs64])
        where = f"{opdef.name} sample {idx} (float32 inputs)"
        graph, phs, outs = cu.build(opdef, inputs, attrs)
        expected = cu.impl_outputs(opdef, np, inputs, attrs, len(outs))
        got = cu.run(graph, outs, dict(zip(phs, inputs)))
        for k, (t, g, want) in enumerate(zip(outs, got, expected)):
            want = np.asarray(want)
            assert t.dtype.base_dtype == dtypes.as_dtype(want.dtype) and g.dtype == want.dtype, (
                f"{where} output {k}: inferred {t.dtype.name}, session {g.dtype}, impl {want.dtype}")
        float_outs = [k for k, o in enumerate(expected) if cu.is_float(np.asarray(o))]
        if opdef.grad in (None, NO_GRADIENT) or not float_outs:
            continue
        weights = cu.weights_for(np.random.default_rng(seed), [np.asarray(expected[k]) for k in float_outs])
        for i, g in cu.analytic_vjp(opdef, inputs, attrs, weights, float_outs).items():
            assert g is None or (g.dtype == inputs[i].dtype and g.shape == inputs[i].shape), (
                f"{where}: gradient of input {i} is {g.dtype}{g.shape}, input is {inputs[i].dtype}{inputs[i].shape}")


# --- 3. gradients ---
@_params(WITH_GRAD)
def test_grad_returns_one_entry_per_input(opdef: OpDef) -> None:
    for idx, inputs, attrs in _samples(opdef, 0):
        graph, _, outs = cu.build(opdef, inputs, attrs)
        op = outs[0].op
        with graph.as_default():
            dys = [placeholder(t.dtype.base_dtype, shape=t.shape) for t in outs]
            grads = list(opdef.grad(op, *dys))
        assert len(grads) == len(op.inputs), (
            f"{opdef.name} sample {idx}: grad returned {len(grads)} entries for {len(op.inputs)} inputs")


def _tolerance(inputs: list[np.ndarray], outs: list[np.ndarray]) -> tuple[float, float, float]:
    """(eps, rtol, atol): float64 throughout gets tight checks; a float32/16 value limits precision."""
    floats = [a.dtype for a in list(inputs) + list(outs) if a.dtype.kind == "f"]
    if all(d == np.float64 for d in floats):
        return 1e-6, 1e-5, 1e-6
    return 1e-3, 2e-3, 2e-4


@_params(DIFFERENTIABLE)
@SETTINGS
@given(seed=SEEDS)
def test_gradient_matches_central_differences(opdef: OpDef, seed: int) -> None:
    rng = np.random.default_rng(seed ^ 0x5EED)
    for idx, inputs, attrs in _samples(opdef, seed):
        where = f"{opdef.name} sample {idx}"
        n_out = len(cu.build(opdef, inputs, attrs)[2])
        outs = [np.asarray(o) for o in cu.impl_outputs(opdef, np, inputs, attrs, n_out)]
        float_outs = [k for k, o in enumerate(outs) if cu.is_float(o)]
        if not float_outs or not any(cu.is_float(a) for a in inputs):
            continue  # nothing differentiable to compare
        weights = cu.weights_for(rng, [outs[k] for k in float_outs])
        analytic = cu.analytic_vjp(opdef, inputs, attrs, weights, float_outs)
        assert any(g is not None for g in analytic.values()), (
            f"{where}: the grad rule gives None for every float input; declare grad=NO_GRADIENT instead")
        eps, rtol, atol = _tolerance(inputs, outs)
        for i, got in analytic.items():
            if got is None:
                continue  # TF1 defines no gradient for this input
            assert got.shape == inputs[i].shape and got.dtype == inputs[i].dtype, (
                f"{where}: gradient of input {i} is {got.dtype}{got.shape}, input is "
                f"{inputs[i].dtype}{inputs[i].shape}")
            want = cu.numeric_vjp(opdef, inputs, attrs, weights, float_outs, n_out, i, eps)
            np.testing.assert_allclose(got, want, rtol=rtol, atol=atol,
                                       err_msg=f"{where}: gradient of input {i} != central differences")


# --- 4. CUDA: CuPy equals NumPy, fused equals unfused ---
def _cupy() -> Any:
    cupy = pytest.importorskip("cupy")
    try:
        if cupy.cuda.runtime.getDeviceCount() < 1:
            pytest.skip("no CUDA device")
    except Exception as e:  # no driver / no device
        pytest.skip(f"no CUDA device: {e}")
    return cupy


def _assert_device_close(got: Any, want: Any, where: str) -> None:
    want = np.asarray(want)
    assert got.dtype == want.dtype and got.shape == want.shape, (
        f"{where}: {got.dtype}{got.shape} != numpy's {want.dtype}{want.shape}")
    if want.dtype.kind == "f":
        rtol, atol = (1e-9, 1e-12) if want.dtype == np.float64 else (1e-5, 1e-6)
        np.testing.assert_allclose(got, want, rtol=rtol, atol=atol, err_msg=where)
    else:
        np.testing.assert_array_equal(got, want, err_msg=where)


@pytest.mark.gpu
@_params(SAMPLED)
@settings(max_examples=3, deadline=None, database=None, phases=PHASES)
@given(seed=SEEDS)
def test_cupy_matches_numpy(opdef: OpDef, seed: int) -> None:
    cupy = _cupy()
    for idx, inputs, attrs in _samples(opdef, seed):
        n_out = len(cu.build(opdef, inputs, attrs)[2])
        want = cu.impl_outputs(opdef, np, inputs, attrs, n_out)
        got = cu.impl_outputs(opdef, cupy, [cupy.asarray(a) for a in inputs], attrs, n_out)
        for k, (g, w) in enumerate(zip(got, want)):
            _assert_device_close(cupy.asnumpy(g), w, f"{opdef.name} sample {idx} output {k} (cupy)")


@pytest.mark.gpu
@_params(FUSIBLE)
@settings(max_examples=3, deadline=None, database=None, phases=PHASES)
@given(seed=SEEDS)
def test_fused_kernel_matches_impl(opdef: OpDef, seed: int) -> None:
    cupy = _cupy()
    code = opdef.cuda.strip()
    for idx, inputs64, attrs in _samples(opdef, seed):
        _check_fused(cupy, opdef, code, idx, inputs64, attrs)
        _check_fused(cupy, opdef, code, idx, [a.astype(np.float32) if a.dtype == np.float64 else a
                                              for a in inputs64], attrs)


def _check_fused(cupy: Any, opdef: OpDef, code: str, idx: int, inputs: list[np.ndarray],
                 attrs: dict[str, Any]) -> None:
    """The kernel built from ``cuda`` (inN -> outN, typed like the inputs) equals impl(numpy)."""
    n_out = len(cu.build(opdef, inputs, attrs)[2])
    want = [np.asarray(w) for w in cu.impl_outputs(opdef, np, inputs, attrs, n_out)]
    kernel = cupy.ElementwiseKernel(
        ", ".join(f"{cu.ctype(a.dtype)} in{i}" for i, a in enumerate(inputs)),
        ", ".join(f"{cu.ctype(w.dtype)} out{k}" for k, w in enumerate(want)),
        code if code.endswith(";") else code + ";",
        name=f"conformance_{opdef.name}")
    got = kernel(*[cupy.asarray(a) for a in inputs])
    got = got if isinstance(got, tuple) else (got,)
    for k, (g, w) in enumerate(zip(got, want)):
        where = f"{opdef.name} sample {idx} output {k} ({w.dtype}, fused '{code}')"
        _assert_device_close(cupy.asnumpy(g), w, where)
