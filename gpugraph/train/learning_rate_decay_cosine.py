"""The cosine schedules with warm restarts and linear decay (tf.train.cosine_decay_restarts, ...),
with TF1's formulas and op names."""

from __future__ import annotations

import math
from typing import Any

from gpugraph.framework.tensor import Tensor
from gpugraph.ops.math_ops import cast, equal, minimum, multiply, pow, where
from gpugraph.ops.random_ops import random_normal
from gpugraph.ops.registry import graph_of
from gpugraph.ops.unary_ops import cos, floor, log, sqrt
from gpugraph.train.learning_rate_decay import _learning_rate, _require_step, _step

__all__ = ["cosine_decay_restarts", "linear_cosine_decay", "noisy_linear_cosine_decay"]


def cosine_decay_restarts(learning_rate: Any, global_step: Any, first_decay_steps: Any, t_mul: float = 2.0,
                          m_mul: float = 1.0, alpha: float = 0.0, name: str | None = None) -> Tensor:
    """SGDR (Loshchilov & Hutter): cosine decay over periods growing by ``t_mul``, each restart's peak
    scaled by ``m_mul``."""
    _require_step(global_step, "cosine decay restarts")
    graph = graph_of([learning_rate, global_step, first_decay_steps])
    with graph.as_default(), graph.name_scope(name or "SGDRDecay") as scope:
        lr = _learning_rate(learning_rate, "cosine_decay_restarts")
        dtype = lr.dtype.base_dtype
        first_steps = cast(first_decay_steps, dtype)
        alpha_t, t_mul_t, m_mul_t = cast(alpha, dtype), cast(t_mul, dtype), cast(m_mul, dtype)
        fraction = _step(global_step, dtype, "cosine_decay_restarts") / first_steps
        # TF1 picks one of the two with tf.cond; both are cheap scalars, so select instead
        restart_even = floor(fraction)
        restart_geo = floor(log(1.0 - fraction * (1.0 - t_mul_t)) / log(t_mul_t))
        sum_r = (1.0 - t_mul_t ** restart_geo) / (1.0 - t_mul_t)
        fraction_geo = (fraction - sum_r) / t_mul_t ** restart_geo
        even = equal(t_mul_t, 1.0)
        i_restart = where(even, restart_even, restart_geo)
        fraction = where(even, fraction - restart_even, fraction_geo)
        cosine = 0.5 * m_mul_t ** i_restart * (1.0 + cos(math.pi * fraction))
        decayed = (1 - alpha_t) * cosine + alpha_t
        return multiply(lr, decayed, name=scope)


def _linear_cosine(learning_rate: Any, global_step: Any, decay_steps: Any, num_periods: float, what: str,
                   ) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """(lr, step clipped at decay_steps, linear part, cosine part) of the linear cosine schedules."""
    _require_step(global_step, what.replace("_", " "))
    lr = _learning_rate(learning_rate, what)
    dtype = lr.dtype.base_dtype
    steps = cast(decay_steps, dtype)
    step = minimum(_step(global_step, dtype, what), steps)
    linear = (steps - step) / steps
    fraction = 2.0 * cast(num_periods, dtype) * (step / steps)
    cosine = 0.5 * (1.0 + cos(math.pi * fraction))
    return lr, step, linear, cosine


def linear_cosine_decay(learning_rate: Any, global_step: Any, decay_steps: Any, num_periods: float = 0.5,
                        alpha: float = 0.0, beta: float = 0.001, name: str | None = None) -> Tensor:
    """``lr * ((alpha + linear) * cosine + beta)`` with linear = (decay_steps - step) / decay_steps and
    cosine = 0.5 * (1 + cos(pi * 2 * num_periods * step / decay_steps)), the step capped at decay_steps."""
    graph = graph_of([learning_rate, global_step, decay_steps])
    with graph.as_default(), graph.name_scope(name or "LinearCosineDecay") as scope:
        lr, _, linear, cosine = _linear_cosine(learning_rate, global_step, decay_steps, num_periods,
                                               "linear_cosine_decay")
        dtype = lr.dtype.base_dtype
        return multiply(lr, (cast(alpha, dtype) + linear) * cosine + cast(beta, dtype), name=scope)


def noisy_linear_cosine_decay(learning_rate: Any, global_step: Any, decay_steps: Any, initial_variance: float = 1.0,
                              variance_decay: float = 0.55, num_periods: float = 0.5, alpha: float = 0.0,
                              beta: float = 0.001, name: str | None = None) -> Tensor:
    """linear_cosine_decay whose linear part gets Gaussian noise (a RandomStandardNormal op, following
    the graph seed) of variance ``initial_variance / (1 + step)^variance_decay``, redrawn each run."""
    graph = graph_of([learning_rate, global_step, decay_steps])
    with graph.as_default(), graph.name_scope(name or "NoisyLinearCosineDecay") as scope:
        lr, step, linear, cosine = _linear_cosine(learning_rate, global_step, decay_steps, num_periods,
                                                  "noisy_linear_cosine_decay")
        dtype = lr.dtype.base_dtype
        variance = cast(initial_variance, dtype) / pow(1.0 + step, cast(variance_decay, dtype))
        noisy = linear + random_normal(linear.shape, stddev=sqrt(variance), dtype=dtype)
        return multiply(lr, (cast(alpha, dtype) + noisy) * cosine + cast(beta, dtype), name=scope)
