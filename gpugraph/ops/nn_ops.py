"""Neural-network ops: activations, softmax family, cross-entropies, l2_loss, bias_add.

Every lowering is the numerically stable form (max-shifted softmax, log-sum-exp, logaddexp
softplus, overflow-free sigmoid), so logits of +-100 give no inf or NaN.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gpugraph.framework import dtypes
from gpugraph.framework.tensor import Tensor
from gpugraph.framework.tensor_shape import TensorShape
from gpugraph.ops import shape_fns
from gpugraph.ops.array_ops import expand_dims, zeros_like
from gpugraph.ops.constant_ops import convert_to_tensor
from gpugraph.ops.math_ops import exp, greater, less, logical_and, where
from gpugraph.ops.reduction_ops import reduce_sum
from gpugraph.ops.registry import OpDef, graph_of, register_op
from gpugraph.ops.xent_kernels import sparse_xent_on_device
from gpugraph.ops.xp_compat import is_numpy, on_host, overflow_to_inf

# The cross-entropy wrappers (keyword-only labels/logits, TF1 name scopes) live in gpugraph/nn.py.
__all__ = ["tanh", "sigmoid", "relu", "relu6", "elu", "softplus", "leaky_relu", "softmax", "log_softmax",
           "l2_loss", "bias_add"]


def _away_from(rng: np.random.Generator, shape: tuple[int, ...], kinks: tuple[float, ...] = (0.0,),
               lo: float = -3.0, hi: float = 3.0) -> np.ndarray:
    """Uniform values at least 0.1 away from each kink, so central differences stay smooth."""
    x = rng.uniform(lo, hi, shape)
    for k in kinks:
        near = np.abs(x - k) < 0.1
        x[near] = k + np.where(x[near] >= k, 0.1, -0.1)
    return x


def _unary_sample(kinks: tuple[float, ...] = (0.0,), lo: float = -3.0, hi: float = 3.0) -> Any:
    return lambda rng: [([_away_from(rng, (3, 4), kinks, lo, hi)], {})]


def _unary(name: str, impl: Any, grad: Any, cuda: str | None = None, sample: Any = None,
           infer: Any = shape_fns.same_shape_float) -> OpDef:
    return register_op(OpDef(name, infer=infer, impl=impl, grad=grad, cuda=cuda, input_names=("features",),
                             sample=sample or _unary_sample()))


def _sigmoid_impl(xp: Any, x: Any) -> Any:
    # 1 / (1 + exp(-x)) in four in-place passes: exp(-x) may overflow to inf for very negative x, giving
    # the correct 0 (and full relative precision down to the subnormal range); half precision works in float32.
    t = xp.negative(x.astype(np.float32) if x.dtype == np.float16 else x)
    with overflow_to_inf(xp):
        xp.exp(t, out=t)
    t += 1
    xp.reciprocal(t, out=t)
    return t.astype(x.dtype, copy=False)


TANH = _unary("Tanh", lambda xp, x: xp.tanh(x), lambda op, dy: [dy * (1 - op.outputs[0] * op.outputs[0])],
              cuda="out0 = tanh(in0)")
SIGMOID = _unary("Sigmoid", _sigmoid_impl, lambda op, dy: [dy * op.outputs[0] * (1 - op.outputs[0])],
                 cuda="out0 = 1 / (1 + exp(-in0))")
def _relu_grad_sample(rng: np.random.Generator) -> list[Any]:
    dy = rng.standard_normal((3, 4))
    return [([dy, _away_from(rng, (3, 4), (0.0,), -3.0, 3.0)], {})]


# TF1's kernel: gradients * (features > 0), so a NaN or inf gradient stays NaN where the unit is off.
RELU_GRAD = register_op(OpDef(
    "ReluGrad", infer=shape_fns.binary_numeric, impl=lambda xp, dy, y: dy * (y > 0).astype(dy.dtype, copy=False),
    grad=lambda op, ddy: [relu_grad(ddy, op.inputs[1]), zeros_like(op.inputs[1])],
    cuda="out0 = in0 * (in1 > 0 ? 1 : 0)", input_names=("gradients", "features"), sample=_relu_grad_sample,
))


def relu_grad(gradients: Any, features: Any, name: str | None = None) -> Tensor:
    return RELU_GRAD(gradients, features, name=name)


RELU = _unary("Relu", lambda xp, x: xp.maximum(x, 0),
              lambda op, dy: [relu_grad(dy, op.outputs[0])],
              cuda="out0 = (in0 > 0 || in0 != in0) ? in0 : 0", infer=shape_fns.same_shape_numeric)
RELU6 = _unary("Relu6", lambda xp, x: xp.minimum(xp.maximum(x, 0), 6),
               lambda op, dy: [where(logical_and(greater(op.inputs[0], 0), less(op.inputs[0], 6)), dy,
                                     zeros_like(dy))],
               cuda="out0 = (in0 > 0 || in0 != in0) ? ((in0 < 6 || in0 != in0) ? in0 : 6) : 0",
               infer=shape_fns.same_shape_numeric,
               sample=_unary_sample((0.0, 6.0), -2.0, 8.0))
ELU = _unary("Elu", lambda xp, x: xp.where(x > 0, x, xp.expm1(xp.minimum(x, 0))),
             lambda op, dy: [where(greater(op.outputs[0], 0), dy, dy * (op.outputs[0] + 1))],
             cuda="out0 = in0 > 0 ? in0 : expm1(in0)")
SOFTPLUS = _unary("Softplus", lambda xp, x: xp.logaddexp(x, 0), lambda op, dy: [dy * sigmoid(op.inputs[0])],
                  cuda="out0 = in0 > 0 ? in0 + log1p(exp(-in0)) : log1p(exp(in0))")
LEAKY_RELU = register_op(OpDef(
    "LeakyRelu", infer=shape_fns.same_shape_float, input_names=("features",),
    impl=lambda xp, x, *, alpha: xp.where(x > 0, x, x * alpha),
    grad=lambda op, dy: [where(greater(op.inputs[0], 0), dy, dy * op.get_attr("alpha"))],
    sample=lambda rng: [([_away_from(rng, (3, 4))], {"alpha": 0.2})],
))


# --- softmax family ---
def _rank_at_least_1(x: Tensor, what: str = "logits") -> tuple[Any, ...] | None:
    dims = x.shape.as_tuple()
    if dims is not None and not dims:
        raise ValueError(f"{what} must have rank >= 1, got a scalar")
    return dims


def _softmax_infer(x: Tensor, *, axis: int) -> Any:
    shape_fns.require(x, "logits", x.dtype.base_dtype.is_floating)
    dims = _rank_at_least_1(x)
    if dims is not None:
        shape_fns.normalize_axis(axis, len(dims), "Softmax axis")
    return x.shape, x.dtype.base_dtype


def _log_softmax_impl(xp: Any, x: Any, *, axis: int) -> Any:
    if x.size == 0:
        return xp.zeros_like(x)
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - xp.log(xp.exp(shifted).sum(axis=axis, keepdims=True))


def _softmax_impl(xp: Any, x: Any, *, axis: int) -> Any:
    if x.size == 0:
        return xp.zeros_like(x)
    e = xp.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _softmax_vjp(g: Tensor, sm: Tensor, axis: int) -> Tensor:
    """(g - <g, softmax>) * softmax: the softmax Jacobian (symmetric) applied to g."""
    return (g - reduce_sum(g * sm, axis=axis, keepdims=True)) * sm


def _softmax_sample(rng: np.random.Generator) -> list[Any]:
    return [([rng.standard_normal((3, 4))], {"axis": -1}), ([rng.standard_normal((2, 3, 2))], {"axis": 1}),
            ([rng.standard_normal((5,))], {"axis": 0})]


SOFTMAX = register_op(OpDef(
    "Softmax", infer=_softmax_infer, impl=_softmax_impl, input_names=("logits",), sample=_softmax_sample,
    grad=lambda op, dy: [_softmax_vjp(dy, op.outputs[0], op.get_attr("axis"))],
))
LOG_SOFTMAX = register_op(OpDef(
    "LogSoftmax", infer=_softmax_infer, impl=_log_softmax_impl, input_names=("logits",), sample=_softmax_sample,
    grad=lambda op, dy: [dy - exp(op.outputs[0]) * reduce_sum(dy, axis=op.get_attr("axis"), keepdims=True)],
))


def _is_zeros(g: Tensor | None) -> bool:
    """The zeros autodiff puts in for an unused output: skip the second-order term they would feed."""
    return g is None or g.op.type == "ZerosLike"


def _work(x: Any) -> Any:
    return x.astype(np.float32) if x.dtype == np.float16 else x  # half precision accumulates badly


# --- cross-entropies: outputs (loss, backprop), as in TF1 ---
def _xent_infer(logits: Tensor, labels: Tensor, *, axis: int) -> Any:
    shape_fns.require(logits, "features", logits.dtype.base_dtype.is_floating)
    _rank_at_least_1(logits)
    if not logits.shape.is_compatible_with(labels.shape):
        raise ValueError(f"logits and labels must be the same shape: logits {logits.shape} vs labels {labels.shape}")
    merged = logits.shape.merge_with(labels.shape)
    dims = merged.as_tuple()
    if dims is None:
        return [(TensorShape(None), logits.dtype.base_dtype), (merged, logits.dtype.base_dtype)]
    a = shape_fns.normalize_axis(axis, len(dims), "dim")
    return [(dims[:a] + dims[a + 1:], logits.dtype.base_dtype), (merged, logits.dtype.base_dtype)]


def _xent_impl(xp: Any, logits: Any, labels: Any, *, axis: int) -> Any:
    logp = _log_softmax_impl(xp, _work(logits), axis=axis)
    lab = labels.astype(logp.dtype, copy=False)
    loss = -(lab * logp).sum(axis=axis)
    # exact d loss / d logits even when a row of labels does not sum to one
    backprop = xp.exp(logp) * lab.sum(axis=axis, keepdims=True) - lab
    return xp.asarray(loss, dtype=logits.dtype), backprop.astype(logits.dtype, copy=False)


def _xent_grad(op: Any, dloss: Tensor, dbackprop: Tensor | None) -> list[Any]:
    logits, labels = op.inputs
    axis = op.get_attr("axis")
    dl = expand_dims(dloss, axis)
    g_logits = dl * op.outputs[1]
    g_labels = dl * -log_softmax(logits, axis=axis)
    if not _is_zeros(dbackprop):  # second order: backprop = softmax * sum(labels) - labels
        sm = softmax(logits, axis=axis)
        total = reduce_sum(labels, axis=axis, keepdims=True)
        g_logits = g_logits + total * _softmax_vjp(dbackprop, sm, axis)
        g_labels = g_labels + reduce_sum(dbackprop * sm, axis=axis, keepdims=True) - dbackprop
    return [g_logits, g_labels]


def _xent_sample(rng: np.random.Generator) -> list[Any]:
    p = rng.uniform(0.1, 1.0, (3, 4))
    q = rng.uniform(0.1, 1.0, (2, 3, 2))
    return [([rng.standard_normal((3, 4)), p / p.sum(-1, keepdims=True)], {"axis": -1}),
            ([rng.standard_normal((2, 3, 2)), q / q.sum(1, keepdims=True)], {"axis": 1})]


SOFTMAX_XENT = register_op(OpDef(
    "SoftmaxCrossEntropyWithLogits", infer=_xent_infer, impl=_xent_impl, grad=_xent_grad,
    input_names=("features", "labels"), sample=_xent_sample,
))


def _sparse_xent_infer(logits: Tensor, labels: Tensor) -> Any:
    shape_fns.require(logits, "features", logits.dtype.base_dtype.is_floating)
    shape_fns.require(labels, "labels", labels.dtype.base_dtype in (dtypes.int32, dtypes.int64))
    ld, yd = _rank_at_least_1(logits), labels.shape.as_tuple()
    if ld is not None and ld[-1] == 0:
        raise ValueError("Must have at least one class, but logits' last dimension is 0")
    if ld is not None and yd is not None:
        if len(yd) != len(ld) - 1:
            raise ValueError(f"Rank mismatch: Rank of labels (received {len(yd)}) should equal rank of "
                             f"logits minus 1 (received {len(ld)}).")
        if not TensorShape(ld[:-1]).is_compatible_with(labels.shape):
            raise ValueError(f"Shape mismatch: The shape of labels (received {labels.shape}) should equal the "
                             f"shape of logits except for the last dimension (received {logits.shape}).")
    if ld is None:
        batch = labels.shape
        backprop = TensorShape(None) if yd is None else TensorShape(yd + (None,))
    else:
        batch = TensorShape(ld[:-1]).merge_with(labels.shape)
        backprop = TensorShape(batch.as_tuple() + ld[-1:])
    return [(batch, logits.dtype.base_dtype), (backprop, logits.dtype.base_dtype)]


def _sparse_xent_impl(xp: Any, logits: Any, labels: Any) -> Any:
    if not on_host(xp) and hasattr(xp, "ElementwiseKernel"):  # CuPy: four kernels instead of ~19
        loss, backprop = sparse_xent_on_device(xp, _work(logits), labels)
        return loss.astype(logits.dtype, copy=False), backprop.astype(logits.dtype, copy=False)
    if is_numpy(xp):  # the host's compiled kernels, once a plan has run them a few times: the same values
        from gpugraph.kernels.host_xent import sparse_xent  # the kernels import the ops: not at load

        done = sparse_xent(_work(logits), labels)
        if done is not None:
            return done[0].astype(logits.dtype, copy=False), done[1].astype(logits.dtype, copy=False)
    n = logits.shape[-1]
    bad = (labels < 0) | (labels >= n)
    # Host backend: fail like TF1 on CPU. A device backend gives NaN rows, as TF1 on GPU does,
    # rather than synchronising every step to look at the labels.
    if on_host(xp) and bad.any():
        first = labels[bad].reshape(-1)[0]
        raise ValueError(f"Received a label value of {first} which is outside the valid range of [0, {n}).")
    if on_host(xp) and logits.size:
        return _sparse_xent_rows(xp, _work(logits), labels, logits.dtype)
    idx = xp.where(bad, 0, labels)
    logp = _log_softmax_impl(xp, _work(logits), axis=-1)
    loss = -xp.take_along_axis(logp, idx[..., None], axis=-1)[..., 0]
    backprop = xp.exp(logp) - (xp.arange(n) == idx[..., None]).astype(logp.dtype)
    loss = xp.where(bad, xp.nan, loss)
    backprop = xp.where(bad[..., None], xp.nan, backprop)
    return loss.astype(logits.dtype, copy=False), backprop.astype(logits.dtype, copy=False)


def _sparse_xent_rows(xp: Any, x: Any, labels: Any, dtype: Any) -> tuple[Any, Any]:
    """The host's loss and backprop (labels checked), in TF's kernel's terms: with ``shifted`` the logits
    less their row's max, loss = log(sum(exp(shifted))) - shifted[label] and backprop = exp(shifted) /
    sum(exp(shifted)) - onehot(label). Rows are indexed, not masked by a one-hot of the whole shape: a
    quarter of the generic path's passes over a batch."""
    n = x.shape[-1]
    rows = x.reshape(-1, n)
    # a row's max as the max over the columns of its transpose: NumPy reduces a short last axis element
    # by element (12 us for 256 rows of 10), a long first one a column at a time (3.5 us); same values
    top = xp.ascontiguousarray(rows.T).max(axis=0).reshape(x.shape[:-1] + (1,))
    shifted = x - top
    e = xp.exp(shifted)
    total = e.sum(axis=-1, keepdims=True)  # kept as it is: another order of the sum would change its bits
    at = xp.arange(0, labels.size * n, n) + labels.reshape(-1)  # each row's label as a flat index
    loss = xp.log(total).reshape(labels.shape) - shifted.reshape(-1)[at].reshape(labels.shape)
    backprop = e / total
    backprop.reshape(-1)[at] -= 1
    return loss.astype(dtype, copy=False), backprop.astype(dtype, copy=False)


def _sparse_xent_grad(op: Any, dloss: Tensor, dbackprop: Tensor | None) -> list[Any]:
    g = expand_dims(dloss, -1) * op.outputs[1]
    if not _is_zeros(dbackprop):  # second order: backprop = softmax - onehot
        g = g + _softmax_vjp(dbackprop, softmax(op.inputs[0]), -1)
    return [g, None]


SPARSE_SOFTMAX_XENT = register_op(OpDef(
    "SparseSoftmaxCrossEntropyWithLogits", infer=_sparse_xent_infer, impl=_sparse_xent_impl,
    grad=_sparse_xent_grad, same_dtype=False, input_names=("features", "labels"),
    sample=lambda rng: [([rng.standard_normal((3, 4)), rng.integers(0, 4, (3,)).astype(np.int32)], {}),
                        ([rng.standard_normal((2, 2, 3)), rng.integers(0, 3, (2, 2)).astype(np.int64)], {})],
))


# --- l2_loss and bias_add ---
def _l2_loss_infer(t: Tensor) -> Any:
    shape_fns.require(t, "t", t.dtype.base_dtype.is_floating)
    return (), t.dtype.base_dtype


L2_LOSS = register_op(OpDef(
    "L2Loss", infer=_l2_loss_infer, input_names=("t",),
    impl=lambda xp, t: xp.asarray((t * t).sum() / 2, dtype=t.dtype), grad=lambda op, dy: [dy * op.inputs[0]],
    sample=lambda rng: [([rng.standard_normal((3, 4))], {}), ([rng.standard_normal(())], {})],
))


def _channel_axis(rank: int, data_format: str) -> int:
    return 1 if data_format.startswith("NC") else rank - 1


def _bias_add_infer(value: Tensor, bias: Tensor, *, data_format: str) -> Any:
    shape_fns.numeric(value)
    dims, bdims = value.shape.as_tuple(), bias.shape.as_tuple()
    if bdims is not None and len(bdims) != 1:
        raise ValueError(f"Shape must be rank 1 but is rank {len(bdims)} for bias")
    if dims is None:
        return value.shape, value.dtype.base_dtype
    if len(dims) < 2:
        raise ValueError(f"Shape must be at least rank 2 but is rank {len(dims)} for value")
    c = _channel_axis(len(dims), data_format)
    if bdims is not None and not TensorShape(dims[c]).is_compatible_with(TensorShape(bdims)):
        raise ValueError(f"Dimensions must be equal, but are {dims[c]} and {bdims[0]} (bias must match "
                         f"the channel dimension {c} of value for data_format {data_format})")
    merged = dims[:c] + (dims[c] if dims[c] is not None else bdims[0] if bdims else None,) + dims[c + 1:]
    return merged, value.dtype.base_dtype


def _bias_add_impl(xp: Any, value: Any, bias: Any, *, data_format: str) -> Any:
    c = _channel_axis(value.ndim, data_format)
    return value + bias.reshape((-1,) + (1,) * (value.ndim - 1 - c))


def _bias_add_grad_infer(dy: Tensor, *, data_format: str) -> Any:
    dims = dy.shape.as_tuple()
    if dims is None:
        return (None,), dy.dtype.base_dtype
    return (dims[_channel_axis(len(dims), data_format)],), dy.dtype.base_dtype


def _bias_add_grad_impl(xp: Any, dy: Any, *, data_format: str) -> Any:
    c = _channel_axis(dy.ndim, data_format)
    return dy.sum(axis=tuple(i for i in range(dy.ndim) if i != c))


def _nchw_sample(rng: np.random.Generator) -> list[Any]:
    return [([rng.standard_normal((2, 3))], {"data_format": "NHWC"}),
            ([rng.standard_normal((2, 3, 4, 2))], {"data_format": "NCHW"})]


def _bias_add_grad_lowering(op: Any, xp: Any) -> Any:
    """On NumPy, channels last: the sum over the leading axes by the compiled loop, NumPy's bits."""
    if xp is not np:
        return None
    from gpugraph.kernels.leading_sums import leading_sum  # the kernels import the ops: not at load
    data_format = op.get_attr("data_format")

    def bias_add_grad(dy: Any) -> Any:
        last = _channel_axis(dy.ndim, data_format) == dy.ndim - 1
        summed = leading_sum(dy, dy.ndim - 1) if last else None
        return _bias_add_grad_impl(np, dy, data_format=data_format) if summed is None else summed
    return bias_add_grad


BIAS_ADD_GRAD = register_op(OpDef(
    "BiasAddGrad", infer=_bias_add_grad_infer, impl=_bias_add_grad_impl, input_names=("out_backprop",),
    lowering=_bias_add_grad_lowering,
    grad=lambda op, g: [BIAS_ADD(zeros_like(op.inputs[0]), g, data_format=op.get_attr("data_format"))],
    sample=_nchw_sample,
))
BIAS_ADD = register_op(OpDef(
    "BiasAdd", infer=_bias_add_infer, impl=_bias_add_impl, input_names=("value", "bias"),
    grad=lambda op, dy: [dy, BIAS_ADD_GRAD(dy, data_format=op.get_attr("data_format"))],
    sample=lambda rng: [([rng.standard_normal((2, 3)), rng.standard_normal((3,))], {"data_format": "NHWC"}),
                        ([rng.standard_normal((2, 3, 2, 2)), rng.standard_normal((3,))], {"data_format": "NCHW"})],
))


# --- public functions (TF1 signatures and default op names) ---
def tanh(x: Any, name: str | None = None) -> Tensor:
    return TANH(x, name=name)


def sigmoid(x: Any, name: str | None = None) -> Tensor:
    return SIGMOID(x, name=name)


def relu(features: Any, name: str | None = None) -> Tensor:
    return RELU(features, name=name)


def relu6(features: Any, name: str | None = None) -> Tensor:
    return RELU6(features, name=name)


def elu(features: Any, name: str | None = None) -> Tensor:
    return ELU(features, name=name)


def softplus(features: Any, name: str | None = None) -> Tensor:
    return SOFTPLUS(features, name=name)


def leaky_relu(features: Any, alpha: float = 0.2, name: str | None = None) -> Tensor:
    if isinstance(alpha, Tensor) or hasattr(alpha, "_as_tensor"):
        raise TypeError("tf.nn.leaky_relu: alpha must be a Python number, not a Tensor")
    return LEAKY_RELU(features, name=name, alpha=float(alpha))


def axis_arg(axis: Any, dim: Any) -> int:
    if axis is not None and dim is not None:
        raise ValueError("Cannot specify both 'axis' and 'dim'")
    axis = dim if axis is None else axis
    if axis is None:
        return -1
    if isinstance(axis, Tensor) or not hasattr(axis, "__index__"):
        raise TypeError(f"axis must be a Python int, got {axis!r}")
    return int(axis)


def softmax(logits: Any, axis: Any = None, name: str | None = None, dim: Any = None) -> Tensor:
    return SOFTMAX(logits, name=name, axis=axis_arg(axis, dim))


def log_softmax(logits: Any, axis: Any = None, name: str | None = None, dim: Any = None) -> Tensor:
    return LOG_SOFTMAX(logits, name=name, axis=axis_arg(axis, dim))


def tensor_like(v: Any) -> bool:
    """A Tensor or something that converts to one without a dtype guess (a Variable)."""
    return isinstance(v, Tensor) or hasattr(v, "_as_tensor")


def l2_loss(t: Any, name: str | None = None) -> Tensor:
    return L2_LOSS(t, name=name)


_FORMATS = {None: "NHWC", "NHWC": "NHWC", "N...C": "NHWC", "NCHW": "NCHW", "NC...": "NCHW"}


def bias_add(value: Any, bias: Any, data_format: str | None = None, name: str | None = None) -> Tensor:
    """value + bias along the channel dimension (last for NHWC, 1 for NCHW)."""
    if data_format not in _FORMATS:
        raise ValueError(f"tf.nn.bias_add: data_format must be 'NHWC' or 'NCHW', got {data_format!r}")
    graph = graph_of([value, bias])
    with graph.as_default(), graph.name_scope(name or "BiasAdd") as scope:
        value = convert_to_tensor(value, name="input")
        bias = convert_to_tensor(bias, dtype=None if tensor_like(bias) else value.dtype, name="bias")
        if bias.dtype.base_dtype != value.dtype.base_dtype:
            raise TypeError(f"Input 'bias' of 'BiasAdd' Op has type {bias.dtype.name} that does not match "
                            f"type {value.dtype.name} of argument 'value' ({scope[:-1]}).")
        return BIAS_ADD(value, bias, name=scope, data_format=_FORMATS[data_format])
