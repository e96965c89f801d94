"""SparseSoftmaxCrossEntropyWithLogits on CuPy (the fake CuPy, whose kernels run their CUDA text on the
host): loss and backprop equal a float64 NumPy reference, bad labels give NaN rows, one call is four
kernels, and the kernel sources compile with NVRTC."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

TESTS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TESTS / "runtime"))
sys.path.insert(0, str(TESTS / "kernels"))
from fake_cupy import FakeCuda, make_fake_cupy  # noqa: E402
from fake_gpu import one_fake_gpu  # noqa: E402
from test_kernels_compile import compile_ptx  # noqa: E402

import gpugraph as tf  # noqa: E402
from gpugraph.ops.nn_ops import _sparse_xent_impl  # noqa: E402
from gpugraph.ops.xent_kernels import ElementwiseText, ReductionText, xent_texts  # noqa: E402

MiB = 1 << 20
C_TYPES = {"float32": "float", "float64": "double", "int32": "int", "int64": "long long"}


@pytest.fixture
def state():
    return FakeCuda(n_devices=1, total_memory=64 * MiB)


@pytest.fixture
def cp(state):
    return make_fake_cupy(state)


def reference(logits: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(loss, backprop) in float64; NaN rows for labels outside [0, C)."""
    x = logits.astype(np.float64)
    n = x.shape[-1]
    m = x.max(axis=-1, keepdims=True)
    lse = m + np.log(np.exp(x - m).sum(axis=-1, keepdims=True))
    bad = (labels < 0) | (labels >= n)
    safe = np.where(bad, 0, labels)
    loss = lse[..., 0] - np.take_along_axis(x, safe[..., None], axis=-1)[..., 0]
    onehot = np.arange(n) == safe[..., None]
    backprop = np.exp(x - lse) - onehot
    return np.where(bad, np.nan, loss), np.where(bad[..., None], np.nan, backprop)


def run_on_device(cp, logits: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    loss, backprop = _sparse_xent_impl(cp, cp.asarray(logits), cp.asarray(labels))
    return loss.get(), backprop.get()


def tolerance(dtype: np.dtype) -> dict[str, float]:
    return {"float16": dict(rtol=2e-3, atol=2e-3), "float32": dict(rtol=2e-6, atol=2e-6),
            "float64": dict(rtol=1e-13, atol=1e-13)}[np.dtype(dtype).name]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("label_dtype", [np.int32, np.int64])
@pytest.mark.parametrize("batch", [(), (7,), (2, 3), (2, 1, 3)])
def test_loss_and_backprop_equal_the_float64_reference(cp, dtype, label_dtype, batch):
    rng = np.random.default_rng(len(batch))
    classes = 5
    logits = (rng.standard_normal(batch + (classes,)) * 4).astype(dtype)
    labels = rng.integers(0, classes, batch).astype(label_dtype)
    loss, backprop = run_on_device(cp, logits, labels)
    want_loss, want_backprop = reference(logits, labels)
    assert loss.dtype == dtype and loss.shape == batch
    assert backprop.dtype == dtype and backprop.shape == logits.shape
    np.testing.assert_allclose(loss, want_loss, **tolerance(dtype))
    np.testing.assert_allclose(backprop, want_backprop, **tolerance(dtype))


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_device_path_equals_the_host_path(cp, dtype):
    rng = np.random.default_rng(1)
    logits = (rng.standard_normal((6, 4, 9)) * 3).astype(dtype)
    logits[0, 0, 2] = 60  # a dominant logit: the shift by the row max keeps exp finite
    labels = rng.integers(0, 9, (6, 4)).astype(np.int64)
    loss, backprop = run_on_device(cp, logits, labels)
    host_loss, host_backprop = _sparse_xent_impl(np, logits, labels)
    assert loss.dtype == host_loss.dtype == dtype and backprop.dtype == host_backprop.dtype == dtype
    np.testing.assert_allclose(loss, host_loss, **tolerance(dtype))
    np.testing.assert_allclose(backprop, host_backprop, **tolerance(dtype))


def test_out_of_range_labels_give_nan_rows_and_leave_the_others(cp):
    rng = np.random.default_rng(2)
    logits = rng.standard_normal((3, 4, 6)).astype(np.float32)
    labels = rng.integers(0, 6, (3, 4)).astype(np.int32)
    labels[0, 1], labels[2, 3], labels[1, 0] = -1, 6, 1 << 30
    loss, backprop = run_on_device(cp, logits, labels)
    bad = np.zeros((3, 4), bool)
    bad[0, 1] = bad[2, 3] = bad[1, 0] = True
    assert np.isnan(loss[bad]).all() and np.isnan(backprop[bad]).all()
    want_loss, want_backprop = reference(logits, labels)
    np.testing.assert_allclose(loss[~bad], want_loss[~bad], rtol=2e-6, atol=2e-6)
    np.testing.assert_allclose(backprop[~bad], want_backprop[~bad], rtol=2e-6, atol=2e-6)


def test_a_nan_or_infinite_logit_makes_its_row_nan_as_on_the_host(cp):
    logits = np.array([[0.5, np.nan, 1.0], [np.inf, 0.0, 1.0], [-np.inf, 0.0, 1.0], [1.0, 2.0, 3.0]])
    labels = np.array([0, 1, 2, 0])
    loss, backprop = run_on_device(cp, logits, labels)
    with np.errstate(invalid="ignore"):  # inf - inf
        host_loss, host_backprop = _sparse_xent_impl(np, logits, labels)
    assert np.isnan(loss[:2]).all() and np.isnan(backprop[:2]).all()
    np.testing.assert_allclose(loss, host_loss, rtol=1e-13)
    np.testing.assert_allclose(backprop, host_backprop, rtol=1e-13)


@pytest.mark.parametrize("batch", [(0,), (2, 0)])
def test_a_zero_size_batch_gives_empty_results(cp, batch):
    loss, backprop = _sparse_xent_impl(cp, cp.zeros(batch + (4,), np.float32), cp.zeros(batch, np.int64))
    assert loss.shape == batch and backprop.shape == batch + (4,)
    assert loss.dtype == backprop.dtype == np.float32


@pytest.mark.parametrize("dtype, most", [(np.float32, 4), (np.float64, 4), (np.float16, 7)])
def test_one_call_launches_four_kernels(cp, state, dtype, most):
    logits = cp.asarray(np.ones((32, 10), dtype))
    labels = cp.asarray(np.arange(32, dtype=np.int64) % 10)
    before = state.kernel_launches
    _sparse_xent_impl(cp, logits, labels)
    assert state.kernel_launches - before <= most  # float16: a cast in and one out per result


def test_labels_of_another_shape_are_refused(cp):
    with pytest.raises(ValueError, match="same first dimensions"):
        _sparse_xent_impl(cp, cp.zeros((4, 3), np.float32), cp.zeros((5,), np.int32))


def test_host_path_still_raises_on_a_bad_label():
    with pytest.raises(ValueError, match="outside the valid range"):
        _sparse_xent_impl(np, np.zeros((2, 3), np.float32), np.array([0, 3]))


@pytest.fixture
def gpu_session(monkeypatch, state, cp):
    """Sessions placing ops on one fake GPU."""
    monkeypatch.setenv("GPUGRAPH_CUDA_GRAPHS", "0")
    with one_fake_gpu(monkeypatch, cp, 64 * MiB):
        tf.reset_default_graph()
        yield state


def test_a_session_on_the_gpu_computes_the_loss_and_its_gradient(gpu_session):
    rng = np.random.default_rng(5)
    xs = rng.standard_normal((8, 6)).astype(np.float32)
    ys = rng.integers(0, 6, 8).astype(np.int64)
    x = tf.placeholder(tf.float32, [None, 6])
    y = tf.placeholder(tf.int64, [None])
    loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=x)
    (grad,) = tf.gradients(tf.reduce_sum(loss), [x])
    with tf.Session() as sess:
        got_loss, got_grad = sess.run([loss, grad], {x: xs, y: ys})
    want_loss, want_backprop = reference(xs, ys)
    np.testing.assert_allclose(got_loss, want_loss, rtol=2e-6, atol=2e-6)
    np.testing.assert_allclose(got_grad, want_backprop, rtol=2e-6, atol=2e-6)


# --- the sources as CuPy compiles them: a __global__ function around each kernel's text ---
def elementwise_source(text: ElementwiseText) -> str:
    args, binds = [], []
    for kind, params in (("in", text.in_params), ("out", text.out_params)):
        for item in params.split(","):
            *words, name = item.split()
            ctype = C_TYPES[words[-1]]
            if "raw" in words:
                args.append(f"const {ctype}* {name}")
            elif kind == "in" and name == "classes":
                args.append(f"const {ctype} {name}")  # a scalar, passed by value
            elif kind == "in":
                args.append(f"const {ctype}* _raw_{name}")
                binds.append(f"    const {ctype} {name} = _raw_{name}[i];")
            else:
                args.append(f"{ctype}* _raw_{name}")
                binds.append(f"    {ctype} &{name} = _raw_{name}[i];")
    return "\n".join([
        text.preamble, f'extern "C" __global__ void {text.name}({", ".join(args)}, long long n) {{',
        "  for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n;",
        "       i += (long long)blockDim.x * gridDim.x) {", *binds, text.operation + ";", "  }", "}", ""])


def reduction_source(text: ReductionText) -> str:
    ins = [item.split() for item in text.in_params.split(",")]
    (out_type, out_name), = [item.split() for item in text.out_params.split(",")]
    ctype = C_TYPES[out_type]
    args = [f"const {C_TYPES[t]}* _raw_{name}" for t, name in ins] + [f"{ctype}* _raw_{out_name}"]
    binds = [f"      const {C_TYPES[t]} {name} = _raw_{name}[row * cols + k];" for t, name in ins]
    return "\n".join([
        text.preamble, f"typedef {ctype} _type_reduce;", f"#define REDUCE(a, b) ({text.reduce_expr})",
        f'extern "C" __global__ void {text.name}({", ".join(args)}, long long rows, long long cols) {{',
        "  for (long long row = blockIdx.x * (long long)blockDim.x + threadIdx.x; row < rows;",
        "       row += (long long)blockDim.x * gridDim.x) {",
        f"    _type_reduce a = _type_reduce({text.identity});",
        "    for (long long k = 0; k < cols; ++k) {", *binds,
        f"      a = REDUCE(a, (_type_reduce)({text.map_expr}));", "    }",
        f"    {ctype} &{out_name} = _raw_{out_name}[row];", f"    {text.post_map_expr};", "  }", "}", ""])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("label_dtype", ["int32", "int64"])
def test_kernel_sources_compile_with_nvrtc(dtype, label_dtype):
    texts = xent_texts(dtype, label_dtype)
    sources = [reduction_source(texts.row_max), reduction_source(texts.row_log_sum_exp),
               elementwise_source(texts.loss), elementwise_source(texts.backprop)]
    for text, source in zip((texts.row_max, texts.row_log_sum_exp, texts.loss, texts.backprop), sources):
        ptx = compile_ptx(source, f"{text.name}.cu")
        assert f".entry {text.name}(" in ptx


def test_no_kernels_for_other_dtypes():
    with pytest.raises(ValueError, match="no cross-entropy kernels"):
        xent_texts("float16", "int32")
