"""Candidate samplers and accidental-hit detection for sampled losses, as TF1's range samplers.

A sampler op owns one random stream per session, seeded from (graph seed, op seed) as the random
ops are: a new session replays the same draws, successive runs in one session draw new ones.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from gpugraph.framework import dtypes
from gpugraph.framework.graph import get_default_graph
from gpugraph.framework.tensor import Operation, Tensor
from gpugraph.ops.constant_ops import convert_to_tensor
from gpugraph.ops.registry import NO_GRADIENT, OpDef, register_op
from gpugraph.ops.random_ops import get_seed

__all__ = ["log_uniform_candidate_sampler", "uniform_candidate_sampler", "learned_unigram_candidate_sampler",
           "compute_accidental_hits"]


# --- the two range distributions: draw(gen, n, range_max) and probability(values, range_max) ---
def _log_uniform_draw(gen: np.random.Generator, n: int, range_max: int) -> np.ndarray:
    # P(k) = (log(k + 2) - log(k + 1)) / log(range_max + 1): floor(exp(u * log(range_max + 1))) - 1
    values = np.floor(np.exp(gen.random(n) * np.log1p(range_max))).astype(np.int64) - 1
    return np.minimum(values, range_max - 1)  # guards exp's rounding at u close to 1


def _log_uniform_probability(values: np.ndarray, range_max: int) -> np.ndarray:
    v = values.astype(np.float64)
    return np.log((v + 2.0) / (v + 1.0)) / np.log1p(range_max)


def _uniform_draw(gen: np.random.Generator, n: int, range_max: int) -> np.ndarray:
    return gen.integers(0, range_max, size=n, dtype=np.int64)


def _uniform_probability(values: np.ndarray, range_max: int) -> np.ndarray:
    return np.full(values.shape, 1.0 / range_max)


_DISTRIBUTIONS: dict[str, tuple[Callable[..., np.ndarray], Callable[..., np.ndarray]]] = {
    "LogUniformCandidateSampler": (_log_uniform_draw, _log_uniform_probability),
    "UniformCandidateSampler": (_uniform_draw, _uniform_probability),
}


def _draw_unique(draw: Callable[[int], np.ndarray], n: int) -> tuple[np.ndarray, int]:
    """The first ``n`` distinct values of a stream of draws, and how many draws that took."""
    values = np.empty(0, dtype=np.int64)
    chunk = max(2 * n, 16)
    while True:  # one pass per chunk of draws, not per draw
        values = np.concatenate([values, draw(chunk)])
        _, first = np.unique(values, return_index=True)
        if first.size >= n:
            first = np.sort(first)[:n]
            return values[first], int(first[-1]) + 1 if n else 0
        chunk *= 2


def _expected_count(p: np.ndarray, num_sampled: int, num_tries: int) -> np.ndarray:
    if num_tries == num_sampled:  # sampling with replacement
        return p * num_sampled
    return -np.expm1(num_tries * np.log1p(-p))  # 1 - (1 - p)^num_tries, computed stably


def _sampler_infer(true_classes: Tensor, *, num_true: int, num_sampled: int, unique: bool, range_max: int,
                   seeds: Any) -> Any:
    if true_classes.dtype.base_dtype != dtypes.int64:
        raise TypeError(f"Value passed to parameter 'true_classes' has DataType "
                        f"{true_classes.dtype.base_dtype.name} not in list of allowed values: int64")
    dims = true_classes.shape.as_tuple()
    if dims is not None and len(dims) != 2:
        raise ValueError(f"Shape must be rank 2 but is rank {len(dims)}")
    if dims is not None and dims[1] is not None and dims[1] != num_true:
        raise ValueError(f"true_classes must have num_true={num_true} columns, got {dims[1]}")
    if num_sampled < 1 or num_true < 1 or range_max < 1:
        raise ValueError(f"num_sampled ({num_sampled}), num_true ({num_true}) and range_max ({range_max}) "
                         "must be positive")
    batch = None if dims is None else dims[0]
    return [((num_sampled,), dtypes.int64), ((batch, num_true), dtypes.float32), ((num_sampled,), dtypes.float32)]


class _LearnedUnigram:
    """Counts of the true classes seen so far in this session, each starting at 1 (TF1's UnigramSampler)."""

    def __init__(self, range_max: int) -> None:
        self.weights = np.ones(range_max, dtype=np.int64)

    def draw(self, gen: np.random.Generator, n: int, range_max: int) -> np.ndarray:
        cumulative = np.cumsum(self.weights)
        return np.searchsorted(cumulative, gen.integers(0, cumulative[-1], size=n), side="right").astype(np.int64)

    def probability(self, values: np.ndarray, range_max: int) -> np.ndarray:
        return self.weights[values] / float(self.weights.sum())

    def update(self, true_classes: np.ndarray) -> None:
        np.add.at(self.weights, true_classes.reshape(-1), 1)


def _bind_sampler(op: Operation, ctx: Any) -> Any:
    gen = ctx.rng(op)
    learned = _LearnedUnigram(op.get_attr("range_max")) if op.type == "LearnedUnigramCandidateSampler" else None
    draw, probability = (learned.draw, learned.probability) if learned else _DISTRIBUTIONS[op.type]
    n, range_max, unique = op.get_attr("num_sampled"), op.get_attr("range_max"), op.get_attr("unique")
    xp = ctx.backend.xp

    def sample(true_classes: Any) -> Any:
        if unique and n > range_max:
            raise ValueError("Sampler's range is too small.")
        if unique:
            sampled, num_tries = _draw_unique(lambda k: draw(gen, k, range_max), n)
        else:
            sampled, num_tries = draw(gen, n, range_max), n
        true_classes = np.asarray(true_classes)
        true_count = _expected_count(probability(true_classes, range_max), n, num_tries)
        sampled_count = _expected_count(probability(sampled, range_max), n, num_tries)
        if learned is not None:  # what this run saw shapes the next runs' distribution
            learned.update(true_classes)
        return (xp.asarray(sampled), xp.asarray(true_count.astype(np.float32)),
                xp.asarray(sampled_count.astype(np.float32)))
    return sample


def _sampler_op(name: str) -> OpDef:
    return register_op(OpDef(name, infer=_sampler_infer, bind=_bind_sampler, stateful=True, grad=NO_GRADIENT,
                             gpu=False, same_dtype=False, input_names=("true_classes",)))


LOG_UNIFORM_CANDIDATE_SAMPLER = _sampler_op("LogUniformCandidateSampler")
UNIFORM_CANDIDATE_SAMPLER = _sampler_op("UniformCandidateSampler")
LEARNED_UNIGRAM_CANDIDATE_SAMPLER = _sampler_op("LearnedUnigramCandidateSampler")


# --- ComputeAccidentalHits ---
def _hits_infer(true_classes: Tensor, sampled: Tensor, *, num_true: int) -> Any:
    for t, what in ((true_classes, "true_classes"), (sampled, "sampled_candidates")):
        if t.dtype.base_dtype != dtypes.int64:
            raise TypeError(f"Value passed to parameter '{what}' has DataType {t.dtype.base_dtype.name} "
                            "not in list of allowed values: int64")
    if true_classes.shape.ndims not in (None, 2):
        raise ValueError(f"Shape must be rank 2 but is rank {true_classes.shape.ndims}")
    if sampled.shape.ndims not in (None, 1):
        raise ValueError(f"Shape must be rank 1 but is rank {sampled.shape.ndims}")
    return [((None,), dtypes.int32), ((None,), dtypes.int64), ((None,), dtypes.float32)]


def _hits_impl(xp: Any, true_classes: Any, sampled: Any, *, num_true: int) -> Any:
    # each true class that was sampled is a hit at the LAST position holding it, as TF1's kernel maps them
    equal = true_classes[:, :, None] == sampled[None, None, :]
    found = equal.any(axis=2)
    if not sampled.shape[0]:  # argmax has nothing to reduce; nothing was hit
        last = xp.zeros(found.shape, dtype=np.int64)
    else:
        last = sampled.shape[0] - 1 - xp.argmax(equal[:, :, ::-1], axis=2)
    rows, cols = xp.nonzero(found)
    weights = xp.full(rows.shape, -np.finfo(np.float32).max, dtype=np.float32)
    return rows.astype(np.int32), last[rows, cols].astype(np.int64), weights


COMPUTE_ACCIDENTAL_HITS = register_op(OpDef(
    "ComputeAccidentalHits", infer=_hits_infer, impl=_hits_impl, grad=NO_GRADIENT, same_dtype=False,
    input_names=("true_classes", "sampled_candidates"),
    sample=lambda rng: [([np.array([[1, 4], [2, 2], [0, 3]]), np.array([4, 2, 7, 2])], {"num_true": 2})],
))


# --- TF1's Python functions ---
def _sampler(opdef: OpDef, true_classes: Any, num_true: int, num_sampled: int, unique: bool, range_max: int,
             seed: Any, name: str | None) -> tuple[Tensor, Tensor, Tensor]:
    graph = get_default_graph()
    with graph.name_scope(name or opdef.name) as scope:
        classes = convert_to_tensor(true_classes, dtype=None if isinstance(true_classes, Tensor) else dtypes.int64,
                                    name="true_classes")
        out = opdef(classes, name=scope, num_true=int(num_true), num_sampled=int(num_sampled),
                    unique=bool(unique), range_max=int(range_max), seeds=get_seed(seed))
    return tuple(out)  # type: ignore[return-value]


def log_uniform_candidate_sampler(true_classes: Any, num_true: int, num_sampled: int, unique: bool, range_max: int,
                                  seed: Any = None, name: str | None = None) -> tuple[Tensor, Tensor, Tensor]:
    """``num_sampled`` classes from Zipf's law over [0, range_max): P(k) = log((k+2)/(k+1)) / log(range_max+1).

    Returns (sampled_candidates, true_expected_count, sampled_expected_count).
    """
    return _sampler(LOG_UNIFORM_CANDIDATE_SAMPLER, true_classes, num_true, num_sampled, unique, range_max, seed,
                    name)


def uniform_candidate_sampler(true_classes: Any, num_true: int, num_sampled: int, unique: bool, range_max: int,
                              seed: Any = None, name: str | None = None) -> tuple[Tensor, Tensor, Tensor]:
    """``num_sampled`` classes drawn uniformly from [0, range_max)."""
    return _sampler(UNIFORM_CANDIDATE_SAMPLER, true_classes, num_true, num_sampled, unique, range_max, seed, name)


def learned_unigram_candidate_sampler(true_classes: Any, num_true: int, num_sampled: int, unique: bool,
                                      range_max: int, seed: Any = None,
                                      name: str | None = None) -> tuple[Tensor, Tensor, Tensor]:
    """Classes drawn in proportion to 1 + how often each was a true class in earlier runs of this session."""
    return _sampler(LEARNED_UNIGRAM_CANDIDATE_SAMPLER, true_classes, num_true, num_sampled, unique, range_max, seed,
                    name)


def compute_accidental_hits(true_classes: Any, sampled_candidates: Any, num_true: int, seed: Any = None,
                            name: str | None = None) -> tuple[Tensor, Tensor, Tensor]:
    """(row indices, positions in sampled_candidates, -FLT_MAX weights) of sampled candidates that are true."""
    graph = get_default_graph()
    with graph.name_scope(name or "ComputeAccidentalHits") as scope:
        classes = convert_to_tensor(true_classes, dtype=None if isinstance(true_classes, Tensor) else dtypes.int64,
                                    name="true_classes")
        sampled = convert_to_tensor(sampled_candidates, name="sampled_candidates")
        return tuple(COMPUTE_ACCIDENTAL_HITS(classes, sampled, name=scope, num_true=int(num_true)))  # type: ignore
