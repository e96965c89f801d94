"""SparseSoftmaxCrossEntropyWithLogits on CuPy in four kernels.

For logits ``[..., C]`` and integer labels ``[...]``: a row max and a row log-sum-exp (ReductionKernels),
the loss (an ElementwiseKernel over rows reading ``logits[row, label]``) and the backprop
``exp(x - max - log(sum)) - onehot`` (an ElementwiseKernel over the logits). The arithmetic is the NumPy
lowering's, operation for operation (``x - max``, then ``- log(sum(exp(x - max)))``), built without FMA
contraction. A label outside ``[0, C)`` gives a NaN row, as TF1 on a GPU: nothing is read back to the host.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gpugraph.fusion.reduction import ReductionText
from gpugraph.kernels import KERNEL_OPTIONS

# CUDA has no INFINITY/NAN macros without headers CuPy does not include: build them from their bits
# (the intrinsic exists in CUDA and in C++ stand-ins alike).
PREAMBLE = r"""
__device__ __forceinline__ double gpugraph_xent_nan() { return __longlong_as_double(0x7ff8000000000000LL); }
__device__ __forceinline__ double gpugraph_xent_neg_inf() {
  return __longlong_as_double((long long)0xfff0000000000000ULL);
}
"""

C_TYPES = {"float32": "float", "float64": "double"}
LABEL_DTYPES = ("int32", "int64")


@dataclass(frozen=True)
class ElementwiseText:
    """The arguments of ``cupy.ElementwiseKernel``."""

    in_params: str
    out_params: str
    operation: str
    name: str
    preamble: str


@dataclass(frozen=True)
class XentTexts:
    """The four kernels' sources for one (logits dtype, labels dtype)."""

    row_max: ReductionText
    row_log_sum_exp: ReductionText
    loss: ElementwiseText
    backprop: ElementwiseText


def xent_texts(dtype: str, label_dtype: str) -> XentTexts:
    """Kernel sources for logits of ``dtype`` (float32/float64) and labels of ``label_dtype`` (int32/int64)."""
    if dtype not in C_TYPES or label_dtype not in LABEL_DTYPES:
        raise ValueError(f"no cross-entropy kernels for logits {dtype} and labels {label_dtype}")
    suffix, ctype = f"{dtype}_{label_dtype}", C_TYPES[dtype]
    row_max = ReductionText(
        in_params=f"{dtype} x", out_params=f"{dtype} row_max", map_expr="x",
        # NaN wins, as numpy.max: a NaN logit makes its row NaN
        reduce_expr="(a > b || a != a) ? a : b", post_map_expr="row_max = a",
        identity="gpugraph_xent_neg_inf()", name=f"gpugraph_xent_row_max_{dtype}", reduce_type=ctype,
        preamble=PREAMBLE)
    row_log_sum_exp = ReductionText(
        in_params=f"{dtype} x, {dtype} row_max", out_params=f"{dtype} log_sum",
        map_expr="exp(x - row_max)", reduce_expr="a + b", post_map_expr="log_sum = log(a)", identity="0",
        name=f"gpugraph_xent_log_sum_exp_{dtype}", reduce_type=ctype, preamble=PREAMBLE)
    loss = ElementwiseText(
        in_params=f"raw {dtype} x, {label_dtype} label, {dtype} row_max, {dtype} log_sum, int64 classes",
        out_params=f"{dtype} loss",
        operation=("loss = (label < 0 || label >= classes) ? " + f"({ctype})gpugraph_xent_nan()"
                   " : -((x[i * classes + label] - row_max) - log_sum)"),
        name=f"gpugraph_xent_loss_{suffix}", preamble=PREAMBLE)
    backprop = ElementwiseText(
        in_params=f"{dtype} x, {dtype} row_max, {dtype} log_sum, {label_dtype} label, int64 classes",
        out_params=f"{dtype} backprop",
        operation=(f"const {ctype} hit = (i % classes == label) ? 1 : 0;\n"
                   "backprop = (label < 0 || label >= classes) ? "
                   f"({ctype})gpugraph_xent_nan() : exp((x - row_max) - log_sum) - hit"),
        name=f"gpugraph_xent_backprop_{suffix}", preamble=PREAMBLE)
    return XentTexts(row_max, row_log_sum_exp, loss, backprop)


@dataclass(frozen=True)
class _Kernels:
    row_max: Any
    row_log_sum_exp: Any
    loss: Any
    backprop: Any


_kernels: dict[tuple[str, str], _Kernels] = {}


def _kernels_for(xp: Any, dtype: str, label_dtype: str) -> _Kernels:
    key = (dtype, label_dtype)
    found = _kernels.get(key)
    if found is None:
        t = xent_texts(dtype, label_dtype)

        def elementwise(e: ElementwiseText) -> Any:
            return xp.ElementwiseKernel(e.in_params, e.out_params, e.operation, e.name, preamble=e.preamble,
                                        options=KERNEL_OPTIONS)

        found = _kernels[key] = _Kernels(t.row_max.kernel(xp), t.row_log_sum_exp.kernel(xp),
                                         elementwise(t.loss), elementwise(t.backprop))
    return found


def sparse_xent_on_device(xp: Any, logits: Any, labels: Any) -> tuple[Any, Any]:
    """(loss [...], backprop [..., C]) of float32/float64 ``logits`` on CuPy, in four kernel launches."""
    if tuple(labels.shape) != tuple(logits.shape[:-1]):
        raise ValueError(f"logits and labels must have the same first dimensions, got logits shape "
                         f"{tuple(logits.shape)} and labels shape {tuple(labels.shape)}")
    classes = logits.shape[-1]
    k = _kernels_for(xp, logits.dtype.name, labels.dtype.name)
    row_max = k.row_max(logits, axis=-1, keepdims=True)
    log_sum = k.row_log_sum_exp(logits, row_max, axis=-1, keepdims=True)
    loss = k.loss(logits, labels, row_max.reshape(labels.shape), log_sum.reshape(labels.shape), classes)
    backprop = k.backprop(logits, row_max, log_sum, labels[..., None], classes)
    return loss, backprop
