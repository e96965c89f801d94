"""Normalisation ops: FusedBatchNormV3 (gradient as a composition of graph ops), LRN and LRNGrad.

Half-precision inputs are normalised in float32 (the dtype of scale), as TF1's kernels do.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gpugraph.framework import dtypes
from gpugraph.framework.tensor import Operation, Tensor
from gpugraph.ops.array_ops import ones_like, reshape
from gpugraph.ops.math_ops import cast, maximum
from gpugraph.ops.reduction_ops import reduce_mean, reduce_sum
from gpugraph.ops.registry import OpDef, register_op
from gpugraph.ops.unary_ops import rsqrt

__all__: list[str] = []

_FLOATS = (dtypes.float16, dtypes.float32, dtypes.float64)


# --- FusedBatchNormV3 ---
def _channel(data_format: str) -> int:
    return 1 if data_format == "NCHW" else 3


def _reduce_axes(data_format: str) -> tuple[int, ...]:
    return (0, 2, 3) if data_format == "NCHW" else (0, 1, 2)


def _rank(t: Tensor, want: int, what: str) -> tuple[Any, ...] | None:
    dims = t.shape.as_tuple()
    if dims is not None and len(dims) != want:
        raise ValueError(f"Shape must be rank {want} but is rank {len(dims)} for {what}")
    return dims


def _fbn_infer(x: Tensor, scale: Tensor, offset: Tensor, mean: Tensor, variance: Tensor, *, epsilon: float,
               data_format: str, is_training: bool, exponential_avg_factor: float) -> Any:
    t, u = x.dtype.base_dtype, scale.dtype.base_dtype
    if t not in _FLOATS:
        raise TypeError(f"Value passed to parameter 'x' has DataType {t.name} not in the list of allowed values")
    want_u = dtypes.float32 if t == dtypes.float16 else t
    for name, p in (("scale", scale), ("offset", offset), ("mean", mean), ("variance", variance)):
        if p.dtype.base_dtype != want_u:
            raise TypeError(f"Input '{name}' has type {p.dtype.base_dtype.name} that does not match the "
                            f"parameter type {want_u.name} expected for x of type {t.name}")
    dims = _rank(x, 4, "x")
    channels = None if dims is None else dims[_channel(data_format)]
    params = [("scale", scale), ("offset", offset)]
    if not is_training or exponential_avg_factor != 1.0:
        params += [("mean", mean), ("variance", variance)]
    for name, p in params:
        pdims = _rank(p, 1, name)
        if pdims is not None and pdims[0] is not None:
            if channels is not None and pdims[0] != channels:
                raise ValueError(f"Dimensions must be equal, but are {channels} and {pdims[0]} for {name} "
                                 f"(the channel dimension of x, data_format {data_format})")
            channels = pdims[0]
    vec = ((channels,), u)
    return [(x.shape if dims is not None else (None,) * 4, t), vec, vec, vec, vec, ((0,), u)]


def _fbn_impl(xp: Any, x: Any, scale: Any, offset: Any, mean: Any, variance: Any, *, epsilon: float,
              data_format: str, is_training: bool, exponential_avg_factor: float) -> Any:
    c = _channel(data_format)
    axes = _reduce_axes(data_format)
    col = (1, -1, 1, 1) if c == 1 else (1, 1, 1, -1)
    xw = x.astype(scale.dtype, copy=False)
    if is_training:
        count = x.size // max(x.shape[c], 1)
        use_mean = xw.mean(axis=axes)
        centred = xw - use_mean.reshape(col)
        use_var = (centred * centred).mean(axis=axes)
        unbiased = use_var * (count / max(count - 1, 1))  # TF1 reports the Bessel-corrected variance
        f = exponential_avg_factor
        out_mean = use_mean if f == 1.0 else (1 - f) * mean + f * use_mean
        out_var = unbiased if f == 1.0 else (1 - f) * variance + f * unbiased
    else:
        use_mean, use_var = mean, variance
        centred = xw - use_mean.reshape(col)
        out_mean, out_var = mean.copy(), variance.copy()
    inv = 1 / xp.sqrt(use_var + xp.asarray(epsilon, dtype=scale.dtype))
    y = centred * (inv * scale).reshape(col) + offset.reshape(col)
    return (y.astype(x.dtype, copy=False), out_mean.copy(), out_var.copy(), use_mean.copy(), use_var.copy(),
            xp.zeros((0,), dtype=scale.dtype))


def _unused(g: Tensor | None) -> bool:
    """No gradient, or the zeros autodiff puts in for an output nobody differentiates."""
    return g is None or g.op.type == "ZerosLike"


def _fbn_grad(op: Operation, dy: Tensor, dmean: Tensor | None, dvar: Tensor | None, drs1: Tensor | None,
              drs2: Tensor | None, _drs3: Tensor | None) -> list[Any]:
    """dx, dscale, doffset; none for mean and variance, as TF1. The terms through batch_mean and
    batch_variance (which TF1 drops) are added when something differentiates them."""
    x, scale, _, mean, variance = op.inputs
    fmt = op.get_attr("data_format")
    training = op.get_attr("is_training")
    axes = list(_reduce_axes(fmt))
    u = scale.dtype.base_dtype

    def col(v: Tensor) -> Tensor:
        return reshape(v, [1, -1, 1, 1] if fmt == "NCHW" else [1, 1, 1, -1])

    xw = cast(x, u) if x.dtype.base_dtype != u else x
    dyw = cast(dy, u) if dy.dtype.base_dtype != u else dy
    mu, var = (op.outputs[3], op.outputs[4]) if training else (mean, variance)
    inv = rsqrt(var + op.get_attr("epsilon"))
    centred = xw - col(mu)
    xhat = centred * col(inv)
    dscale = reduce_sum(dyw * xhat, axes)
    doffset = reduce_sum(dyw, axes)
    if not training:
        dx = dyw * col(scale * inv)
    else:
        dx = col(scale * inv) * (dyw - col(reduce_mean(dyw, axes)) - xhat * col(reduce_mean(dyw * xhat, axes)))
        f = op.get_attr("exponential_avg_factor")
        extra_mean = [g for g in ((f * dmean) if not _unused(dmean) else None, None if _unused(drs1) else drs1)
                      if g is not None]
        var_terms = [(dvar, f, 1.0), (drs2, 1.0, 0.0)]  # (grad, factor, Bessel offset)
        extra_var = [(g, k, b) for g, k, b in var_terms if not _unused(g)]
        if extra_mean or extra_var:
            count = reduce_sum(ones_like(xw), axes)
            for g in extra_mean:
                dx = dx + col(g / count)
            for g, k, b in extra_var:
                dx = dx + centred * col(2.0 * k * g / maximum(count - b, 1.0))
    if x.dtype.base_dtype != u:
        dx = cast(dx, x.dtype.base_dtype)
    return [dx, dscale, doffset, None, None]


def _fbn_sample(rng: np.random.Generator) -> list[Any]:
    def params(c: int) -> list[np.ndarray]:
        return [rng.uniform(0.5, 1.5, c), rng.standard_normal(c), rng.standard_normal(c), rng.uniform(0.5, 2.0, c)]

    empty = np.zeros((0,))
    attrs = {"epsilon": 1e-3, "data_format": "NHWC", "is_training": True, "exponential_avg_factor": 1.0}
    scale, offset, mean, var = params(3)
    return [
        ([rng.standard_normal((2, 2, 3, 3)), scale, offset, empty, empty], attrs),
        ([rng.standard_normal((2, 3, 2, 2)), scale, offset, mean, var], {**attrs, "data_format": "NCHW",
                                                                         "exponential_avg_factor": 0.3}),
        ([rng.standard_normal((2, 2, 2, 3)), scale, offset, mean, var], {**attrs, "is_training": False}),
    ]


FUSED_BATCH_NORM = register_op(OpDef(
    "FusedBatchNormV3", infer=_fbn_infer, impl=_fbn_impl, grad=_fbn_grad, same_dtype=False,
    input_names=("x", "scale", "offset", "mean", "variance"), sample=_fbn_sample,
))


# --- LRN ---
def _lrn_infer(x: Tensor, *, depth_radius: int, bias: float, alpha: float, beta: float) -> Any:
    if x.dtype.base_dtype not in _FLOATS:
        raise TypeError(f"Value passed to parameter 'input' has DataType {x.dtype.base_dtype.name} not in the "
                        f"list of allowed values")
    if depth_radius < 0:
        raise ValueError(f"depth_radius must be non-negative, got {depth_radius}")
    dims = _rank(x, 4, "input")
    return (x.shape if dims is not None else (None,) * 4), x.dtype.base_dtype


def _window_sum(xp: Any, v: Any, radius: int) -> Any:
    """Sum of v over [d - radius, d + radius] along the last axis (zeros beyond the edges)."""
    depth = v.shape[-1]
    r = min(radius, max(depth - 1, 0))  # windows never reach further than the depth
    padded = xp.pad(v, [(0, 0)] * (v.ndim - 1) + [(r, r)])
    total = padded[..., 0:depth]
    for shift in range(1, 2 * r + 1):  # a loop over window offsets, not elements
        total = total + padded[..., shift:shift + depth]
    return total


def _norm(xp: Any, x: Any, depth_radius: int, bias: float, alpha: float) -> Any:
    return bias + alpha * _window_sum(xp, x * x, depth_radius)


def _lrn_impl(xp: Any, x: Any, *, depth_radius: int, bias: float, alpha: float, beta: float) -> Any:
    xw = x.astype(xp.float32) if x.dtype == xp.float16 else x
    y = xw * xp.power(_norm(xp, xw, depth_radius, bias, alpha), -beta)
    return y.astype(x.dtype, copy=False)


def _lrn_grad_impl(xp: Any, dy: Any, x: Any, y: Any, *, depth_radius: int, bias: float, alpha: float,
                   beta: float) -> Any:
    # d y_j / d x_d = [j == d] N_d^-beta - 2 alpha beta x_d y_j / N_j for d in the window of j
    work = xp.float32 if x.dtype == xp.float16 else x.dtype
    dyw, xw, yw = (a.astype(work, copy=False) for a in (dy, x, y))
    n = _norm(xp, xw, depth_radius, bias, alpha)
    dx = dyw * xp.power(n, -beta) - (2 * alpha * beta) * xw * _window_sum(xp, dyw * yw / n, depth_radius)
    return dx.astype(x.dtype, copy=False)


_LRN_ATTRS = {"depth_radius": 2, "bias": 1.0, "alpha": 0.5, "beta": 0.75}


def _lrn_attrs(op: Operation) -> dict[str, Any]:
    return {k: op.get_attr(k) for k in _LRN_ATTRS}


LRN_GRAD = register_op(OpDef(
    "LRNGrad", infer=lambda dy, x, y, **attrs: _lrn_infer(x, **attrs), impl=_lrn_grad_impl,
    input_names=("input_grads", "input_image", "output_image"),
    sample=lambda rng: [([rng.standard_normal((2, 2, 2, 5)) for _ in range(3)], dict(_LRN_ATTRS))],
))
LRN = register_op(OpDef(
    "LRN", infer=_lrn_infer, impl=_lrn_impl, input_names=("input",),
    grad=lambda op, dy: [LRN_GRAD(dy, op.inputs[0], op.outputs[0], **_lrn_attrs(op))],
    sample=lambda rng: [([rng.standard_normal((2, 2, 2, 5))], dict(_LRN_ATTRS)),
                        ([rng.standard_normal((1, 2, 1, 3))], {**_LRN_ATTRS, "depth_radius": 5, "beta": 0.5})],
))
