"""Learning-rate schedules (tf.train.exponential_decay, ...) as graph tensors, with TF1's formulas.

Each schedule is built once; its value follows the global step from one ``Session.run`` to the next.
The step is cast to the learning rate's dtype (float32 for a Python float), as TF1 does.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from gpugraph.framework import dtypes
from gpugraph.framework.tensor import Tensor
from gpugraph.ops.constant_ops import constant, convert_to_tensor
from gpugraph.ops.math_ops import add, cast, divide, equal, minimum, multiply, pow, where
from gpugraph.ops.registry import graph_of
from gpugraph.ops.unary_ops import ceil, cos, exp, floor, negative

__all__ = ["exponential_decay", "natural_exp_decay", "inverse_time_decay", "polynomial_decay", "cosine_decay",
           "piecewise_constant", "piecewise_constant_decay"]


def _require_step(global_step: Any, what: str) -> None:
    if global_step is None:
        raise ValueError(f"global_step is required for {what}.")


def _learning_rate(learning_rate: Any, what: str) -> Tensor:
    lr = convert_to_tensor(learning_rate, name="learning_rate")
    if not lr.dtype.base_dtype.is_floating:
        raise TypeError(f"{what}: learning_rate must be a floating point value, got {lr.name} of dtype "
                        f"{lr.dtype.base_dtype.name}.")
    _require_scalar(lr, what, "learning_rate")
    return lr


def _require_scalar(t: Tensor, what: str, arg: str) -> None:
    ndims = t.shape.ndims
    if ndims is not None and ndims != 0:
        raise ValueError(f"{what}: {arg} must be a scalar, got shape {t.shape} ('{t.name}').")


def _step(global_step: Any, dtype: dtypes.DType, what: str) -> Tensor:
    step = cast(global_step, dtype)
    _require_scalar(step, what, "global_step")
    return step


def exponential_decay(learning_rate: Any, global_step: Any, decay_steps: Any, decay_rate: Any,
                      staircase: bool = False, name: str | None = None) -> Tensor:
    """``learning_rate * decay_rate ** (global_step / decay_steps)``; staircase floors the exponent."""
    _require_step(global_step, "exponential_decay")
    graph = graph_of([learning_rate, global_step, decay_steps, decay_rate])
    with graph.as_default(), graph.name_scope(name or "ExponentialDecay") as scope:
        lr = _learning_rate(learning_rate, "exponential_decay")
        dtype = lr.dtype.base_dtype
        steps = cast(decay_steps, dtype)
        rate = cast(decay_rate, dtype)
        p = _step(global_step, dtype, "exponential_decay") / steps
        if staircase:
            p = floor(p)
        return multiply(lr, pow(rate, p), name=scope)


def natural_exp_decay(learning_rate: Any, global_step: Any, decay_steps: Any, decay_rate: Any,
                      staircase: bool = False, name: str | None = None) -> Tensor:
    """``learning_rate * exp(-decay_rate * global_step / decay_steps)``, built as TF1 does (an
    exponential decay with rate ``exp(-decay_rate)``)."""
    _require_step(global_step, "natural_exp_decay")
    graph = graph_of([learning_rate, global_step, decay_steps, decay_rate])
    with graph.as_default():
        natural_exp_rate = exp(negative(decay_rate))
    return exponential_decay(learning_rate, global_step, decay_steps, natural_exp_rate, staircase=staircase,
                             name=name)


def inverse_time_decay(learning_rate: Any, global_step: Any, decay_steps: Any, decay_rate: Any,
                       staircase: bool = False, name: str | None = None) -> Tensor:
    """``learning_rate / (1 + decay_rate * global_step / decay_steps)``; staircase floors the ratio."""
    _require_step(global_step, "inverse_time_decay")
    graph = graph_of([learning_rate, global_step, decay_steps, decay_rate])
    with graph.as_default(), graph.name_scope(name or "InverseTimeDecay") as scope:
        lr = _learning_rate(learning_rate, "inverse_time_decay")
        dtype = lr.dtype.base_dtype
        steps = cast(decay_steps, dtype)
        rate = cast(decay_rate, dtype)
        p = _step(global_step, dtype, "inverse_time_decay") / steps
        if staircase:
            p = floor(p)
        one = cast(constant(1), dtype)
        return divide(lr, add(one, multiply(rate, p)), name=scope)


def polynomial_decay(learning_rate: Any, global_step: Any, decay_steps: Any, end_learning_rate: Any = 0.0001,
                     power: Any = 1.0, cycle: bool = False, name: str | None = None) -> Tensor:
    """From ``learning_rate`` to ``end_learning_rate`` along ``(1 - step / decay_steps) ** power``.

    Past ``decay_steps`` the rate stays at the end value, or with ``cycle`` restarts with the next
    multiple of ``decay_steps`` as the horizon.
    """
    _require_step(global_step, "polynomial_decay")
    graph = graph_of([learning_rate, global_step, decay_steps, end_learning_rate, power])
    with graph.as_default(), graph.name_scope(name or "PolynomialDecay") as scope:
        lr = _learning_rate(learning_rate, "polynomial_decay")
        dtype = lr.dtype.base_dtype
        end_lr = cast(end_learning_rate, dtype)
        power_t = cast(power, dtype)
        step = _step(global_step, dtype, "polynomial_decay")
        steps = cast(decay_steps, dtype)
        if cycle:
            # the first multiple of decay_steps at or above the step; 1 at step zero
            multiplier = where(equal(step, 0), 1.0, ceil(step / steps))
            steps = multiply(steps, multiplier)
        else:
            step = minimum(step, steps)
        p = divide(step, steps)
        return add(multiply(lr - end_lr, pow(1 - p, power_t)), end_lr, name=scope)


def cosine_decay(learning_rate: Any, global_step: Any, decay_steps: Any, alpha: float = 0.0,
                 name: str | None = None) -> Tensor:
    """``lr * ((1 - alpha) * 0.5 * (1 + cos(pi * min(step, decay_steps) / decay_steps)) + alpha)``."""
    _require_step(global_step, "cosine_decay")
    graph = graph_of([learning_rate, global_step, decay_steps])
    with graph.as_default(), graph.name_scope(name or "CosineDecay") as scope:
        lr = _learning_rate(learning_rate, "cosine_decay")
        dtype = lr.dtype.base_dtype
        steps = cast(decay_steps, dtype)
        step = minimum(_step(global_step, dtype, "cosine_decay"), steps)
        cosine = 0.5 * (1.0 + cos(math.pi * step / steps))
        decayed = (1.0 - cast(alpha, dtype)) * cosine + cast(alpha, dtype)
        return multiply(lr, decayed, name=scope)


def _as_list(value: Any, arg: str) -> list[Any]:
    if isinstance(value, np.ndarray):
        return list(value.reshape(-1))
    if not isinstance(value, (list, tuple)):
        raise TypeError(f"piecewise_constant: {arg} must be a list of scalars, got {type(value).__name__}.")
    return list(value)


def piecewise_constant(x: Any, boundaries: Any, values: Any, name: str | None = None) -> Tensor:
    """``values[0]`` while ``x <= boundaries[0]``, ``values[i]`` while ``boundaries[i-1] < x <= boundaries[i]``,
    ``values[-1]`` past the last boundary.

    Boundaries take x's dtype only where that loses nothing (int32 -> int64); other mismatches are
    errors, so that a float boundary is never silently truncated against an integer step.
    """
    boundaries = _as_list(boundaries, "boundaries")
    values = _as_list(values, "values")
    if len(boundaries) != len(values) - 1:
        raise ValueError("The length of boundaries should be 1 less than the length of values")
    if not boundaries:
        raise ValueError("piecewise_constant needs at least one boundary (and two values).")
    graph = graph_of([x, *boundaries, *values])
    with graph.as_default(), graph.name_scope(name or "PiecewiseConstant") as scope:
        bounds = [convert_to_tensor(b) for b in boundaries]
        vals = [convert_to_tensor(v) for v in values]
        x_t = convert_to_tensor(x)
        _require_scalar(x_t, "piecewise_constant", "x")
        x_dtype = x_t.dtype.base_dtype
        for i, b in enumerate(bounds):
            _require_scalar(b, "piecewise_constant", f"boundaries[{i}]")
            if b.dtype.base_dtype != x_dtype:
                if b.dtype.base_dtype == dtypes.int32 and x_dtype == dtypes.int64:
                    bounds[i] = cast(b, x_dtype)
                else:
                    raise ValueError(f"Boundaries ({b.dtype.base_dtype.name}) must have the same dtype as x "
                                     f"({x_dtype.name}).")
        for v in vals[1:]:
            if v.dtype.base_dtype != vals[0].dtype.base_dtype:
                raise ValueError(f"Values must have elements all with the same dtype "
                                 f"({vals[0].dtype.base_dtype.name} vs {v.dtype.base_dtype.name}).")
            if not v.shape.is_compatible_with(vals[0].shape):
                raise ValueError(f"Values must all have the same shape ({vals[0].shape} vs {v.shape}).")
        # TF1's case(): the pairs below, first true one wins, values[0] when none is (x is NaN)
        pairs = [(x_t <= bounds[0], vals[0]), (x_t > bounds[-1], vals[-1])]
        for low, high, v in zip(bounds[:-1], bounds[1:], vals[1:-1]):
            pairs.append(((x_t > low) & (x_t <= high), v))
        out = vals[0]
        for pred, v in reversed(pairs[1:]):
            out = where(pred, v, out)
        return where(pairs[0][0], pairs[0][1], out, name=scope)


piecewise_constant_decay = piecewise_constant
