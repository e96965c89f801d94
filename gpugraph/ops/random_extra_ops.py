"""RandomShuffle and Multinomial: TF's CPU kernels on the Philox streams of ``random_ops``.

Shuffle: TF runs a forward Fisher-Yates over the first dimension (step t swaps t with
t + word_t % (n - t)). Here the permutation that walk produces is found without a loop over
elements: sort the steps by the position they swap into, then follow "who last wrote here" chains by
pointer doubling (log2(n) gathers).
Multinomial: per row, an unnormalised float64 CDF of exp(logit - max) over the finite logits and an
upper-bound search of u * total for each sample, u drawn as a double from two words.
"""

from __future__ import annotations

import math
import operator
from typing import Any

import numpy as np

from gpugraph.framework import dtypes
from gpugraph.framework.graph import get_default_graph
from gpugraph.framework.tensor import Operation, Tensor
from gpugraph.framework.tensor_shape import TensorShape
from gpugraph.ops import philox
from gpugraph.ops.random_ops import get_seed
from gpugraph.ops.registry import NO_GRADIENT, OpDef, register_op

__all__ = ["random_shuffle", "multinomial", "categorical"]


def fisher_yates_sources(xp: Any, targets: Any) -> Any:
    """``perm`` with ``out = a[perm]`` after the swaps (t, targets[t]) for t = 0, 1, ... in turn (targets[t] >= t)."""
    n = targets.shape[0]
    steps = xp.arange(n, dtype=xp.int64)
    order = xp.argsort(targets * n + steps)  # by target, then time: the keys are distinct
    sorted_targets = targets[order]
    same = sorted_targets[1:] == sorted_targets[:-1]
    earlier = xp.full(n, -1, dtype=xp.int64)  # the previous step that swapped into the same target
    earlier[order[1:]] = xp.where(same, order[:-1], -1)
    last = xp.full(n + 1, -1, dtype=xp.int64)  # per position, the last step that swapped into it
    is_last = xp.concatenate([~same, xp.ones(1, dtype=bool)])
    last[xp.where(is_last, sorted_targets, n)] = order  # the others all land in the spare entry n
    # What position k holds when step k runs came from the step that last wrote k before then.
    writer = xp.where(targets == steps, earlier, last[:n])
    root = xp.where(writer >= 0, writer, steps)
    for _ in range(max(1, math.ceil(math.log2(n)))):
        root = root[root]
    return xp.where(earlier >= 0, root[xp.maximum(earlier, 0)], targets)


def _shuffle_infer(value: Tensor, *, seeds: Any) -> Any:
    return value.shape, value.dtype.base_dtype


def _bind_shuffle(op: Operation, ctx: Any) -> Any:
    state = ctx.philox(op)
    xp = ctx.backend.xp

    def shuffle(value: Any) -> Any:
        if value.ndim == 0 or value.size <= 1 or value.shape[0] <= 1:
            return value.copy()  # TF draws nothing here
        n = value.shape[0]
        counter = state.reserve((n - 1 + 3) // 4)
        steps = xp.arange(n - 1, dtype=xp.uint64)
        draws = philox.words(xp, state.key, counter, n - 1)
        targets = (steps + draws % (xp.uint64(n) - steps)).astype(xp.int64)
        targets = xp.concatenate([targets, xp.full(1, n - 1, dtype=xp.int64)])
        return value[fisher_yates_sources(xp, targets)]
    return shuffle


RANDOM_SHUFFLE = register_op(OpDef(
    "RandomShuffle", infer=_shuffle_infer, bind=_bind_shuffle, stateful=True, fresh_outputs=True, grad=NO_GRADIENT,
    input_names=("value",),
))


def random_shuffle(value: Any, seed: Any = None, name: str | None = None) -> Tensor:
    """``value`` with its first dimension randomly permuted (the same permutation for every slice)."""
    return RANDOM_SHUFFLE(value, name=name, seeds=get_seed(seed))


def _multinomial_infer(logits: Tensor, num_samples: Tensor, *, seeds: Any, output_dtype: dtypes.DType) -> Any:
    if not logits.dtype.base_dtype.is_floating:
        raise TypeError(f"logits must be a floating point tensor, got {logits.dtype.base_dtype.name}")
    if logits.shape.ndims not in (None, 2):
        raise ValueError(f"Shape must be rank 2 but is rank {logits.shape.ndims}")
    if num_samples.shape.ndims not in (None, 0):
        raise ValueError(f"Shape must be rank 0 but is rank {num_samples.shape.ndims}")
    if num_samples.dtype.base_dtype != dtypes.int32:
        raise TypeError(f"num_samples must be int32, got {num_samples.dtype.base_dtype.name}")
    batch = logits.shape[0] if logits.shape.ndims == 2 else None
    known = num_samples.op.get_attr("value") if num_samples.op.type == "Const" else None
    return TensorShape([batch, None if known is None else int(np.asarray(known))]), output_dtype


def _bind_multinomial(op: Operation, ctx: Any) -> Any:
    state = ctx.philox(op)
    backend = ctx.backend
    xp = backend.xp
    out_dtype = np.dtype(op.get_attr("output_dtype").np_dtype)

    def sample(logits: Any, num_samples: Any) -> Any:
        n = operator.index(backend.to_host(num_samples).reshape(()))  # TF keeps it in host memory too
        if n < 0:
            raise ValueError(f"num_samples should be non-negative, got {n}")
        batch, classes = logits.shape
        if classes <= 0:
            raise ValueError(f"num_classes should be positive, got {classes}")
        if batch * n == 0:
            return xp.zeros((batch, n), dtype=out_dtype)
        counter = state.reserve(batch * ((n + 3) // 4 * 4) * 2 * philox.RESERVED_BLOCKS_PER_OUTPUT)
        w = philox.words(xp, state.key, counter, 2 * batch * n)
        uniforms = philox.uint64_to_double(xp, w[0::2], w[1::2]).reshape(batch, n)
        finite = xp.isfinite(logits)
        lowest = xp.asarray(np.finfo(logits.dtype).min, dtype=logits.dtype)
        top = xp.max(xp.where(finite, logits, lowest), axis=1, keepdims=True).astype(xp.float64)
        weights = xp.where(finite, xp.exp(logits.astype(xp.float64) - top), 0.0)
        cdf = xp.cumsum(weights, axis=1)  # left to right, as TF's running total
        wanted = uniforms * cdf[:, -1:]
        return xp.sum(cdf[:, None, :] <= wanted[:, :, None], axis=2).astype(out_dtype)  # upper bound
    return sample


MULTINOMIAL = register_op(OpDef(
    "Multinomial", infer=_multinomial_infer, bind=_bind_multinomial, stateful=True, grad=NO_GRADIENT,
    fresh_outputs=True, same_dtype=False, input_names=("logits", "num_samples"),
))


def _categorical(default: str, logits: Any, num_samples: Any, dtype: Any, seed: Any, name: str | None) -> Tensor:
    from gpugraph.ops.constant_ops import convert_to_tensor

    graph = get_default_graph()
    with graph.name_scope(name or default):
        logits = convert_to_tensor(logits, name="logits")
        dt = dtypes.as_dtype(dtype).base_dtype if dtype else dtypes.int64
        if dt not in (dtypes.int32, dtypes.int64):
            raise ValueError(f"Argument `dtype` got invalid value {dt!r}. Accepted dtypes are "
                             f"({dtypes.int32!r}, {dtypes.int64!r}).")
        return MULTINOMIAL(logits, num_samples, seeds=get_seed(seed), output_dtype=dt)


def multinomial(logits: Any, num_samples: Any, seed: Any = None, name: str | None = None,
                output_dtype: Any = None) -> Tensor:
    """Draws ``num_samples`` class indices per row of unnormalised log-probabilities ``logits``."""
    return _categorical("multinomial", logits, num_samples, output_dtype, seed, name)


def categorical(logits: Any, num_samples: Any, dtype: Any = None, seed: Any = None, name: str | None = None) -> Tensor:
    """``tf.random.categorical``: as ``multinomial``, with the output dtype named ``dtype``."""
    return _categorical("categorical", logits, num_samples, dtype, seed, name)
