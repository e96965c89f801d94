"""Candidate samplers (distribution, uniqueness, expected counts, seeds) and compute_accidental_hits."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import gpugraph as tf
from op_testing import graph, run  # noqa: F401 - graph: each test's fresh default graph (autouse)

SAMPLERS = {"log_uniform": tf.nn.log_uniform_candidate_sampler, "uniform": tf.nn.uniform_candidate_sampler}


def _probability(kind: str, values: Any, range_max: int) -> np.ndarray:
    """The samplers' distributions, written out independently of the ops."""
    k = np.asarray(values, dtype=np.float64)
    if kind == "uniform":
        return np.full(k.shape, 1.0 / range_max)
    return (np.log(k + 2) - np.log(k + 1)) / np.log(range_max + 1)


@pytest.mark.parametrize("kind", sorted(SAMPLERS))
def test_draws_follow_the_distribution(kind: str) -> None:
    range_max, n = 12, 60000
    sampled, _, _ = SAMPLERS[kind]([[0]], 1, n, False, range_max, seed=5)
    values = run(sampled)
    assert values.dtype == np.int64 and values.shape == (n,)
    assert values.min() >= 0 and values.max() < range_max
    freq = np.bincount(values, minlength=range_max) / n
    p = _probability(kind, np.arange(range_max), range_max)
    np.testing.assert_allclose(freq, p, atol=5 * np.sqrt(p * (1 - p) / n).max())


@pytest.mark.parametrize("kind", sorted(SAMPLERS))
def test_expected_counts_with_replacement(kind: str) -> None:
    range_max, n = 50, 7
    labels = np.array([[0, 3], [49, 10]])
    sampled, true_count, sampled_count = run(*SAMPLERS[kind](labels, 2, n, False, range_max, seed=1))
    assert true_count.dtype == np.float32 and true_count.shape == (2, 2) and sampled_count.shape == (n,)
    np.testing.assert_allclose(true_count, n * _probability(kind, labels, range_max), rtol=1e-6)
    np.testing.assert_allclose(sampled_count, n * _probability(kind, sampled, range_max), rtol=1e-6)


@pytest.mark.parametrize("kind", sorted(SAMPLERS))
def test_unique_draws_and_their_expected_counts(kind: str) -> None:
    range_max, n = 30, 20
    labels = np.array([[0], [29], [4]])
    sampled, true_count, sampled_count = run(*SAMPLERS[kind](labels, 1, n, True, range_max, seed=2))
    assert len(set(sampled.tolist())) == n and sampled.min() >= 0 and sampled.max() < range_max
    # count = 1 - (1 - p)^tries for one whole number of tries >= n, shared by every output
    p_sampled = _probability(kind, sampled, range_max)
    tries = np.log1p(-sampled_count.astype(np.float64)) / np.log1p(-p_sampled)
    num_tries = round(float(np.median(tries)))
    assert num_tries > n  # 20 distinct values of 30 take more than 20 draws (all but surely)
    np.testing.assert_allclose(sampled_count, 1 - (1 - p_sampled) ** num_tries, rtol=1e-5)
    np.testing.assert_allclose(true_count, 1 - (1 - _probability(kind, labels, range_max)) ** num_tries, rtol=1e-5)


def test_unique_over_the_whole_range_is_a_permutation() -> None:
    sampled, _, _ = tf.nn.uniform_candidate_sampler([[1]], 1, 9, True, 9, seed=4)
    assert sorted(run(sampled).tolist()) == list(range(9))


def test_seeded_sampler_repeats_across_sessions_and_varies_across_runs() -> None:
    tf.set_random_seed(11)
    sampled, _, _ = tf.nn.log_uniform_candidate_sampler([[1]], 1, 8, True, 1000000, seed=3)
    with tf.Session() as s:
        first = [s.run(sampled) for _ in range(3)]
    with tf.Session() as s:
        again = [s.run(sampled) for _ in range(3)]
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[0], first[1]) and not np.array_equal(first[1], first[2])


def test_unseeded_sampler_differs_between_sessions() -> None:
    sampled, _, _ = tf.nn.uniform_candidate_sampler([[1]], 1, 8, False, 10**9)
    assert not np.array_equal(run(sampled), run(sampled))


def test_op_type_outputs_and_tf_random_aliases() -> None:
    out = tf.random.log_uniform_candidate_sampler([[1, 2]], 2, 3, True, 10)
    assert out[0].op.type == "LogUniformCandidateSampler" and out[0].name == "LogUniformCandidateSampler:0"
    assert [t.shape.as_list() for t in out] == [[3], [1, 2], [3]]
    assert [t.dtype for t in out] == [tf.int64, tf.float32, tf.float32]
    assert tf.random.uniform_candidate_sampler is tf.nn.uniform_candidate_sampler


def test_range_too_small_for_unique_is_a_run_time_error() -> None:
    sampled, _, _ = tf.nn.uniform_candidate_sampler([[1, 2]], 2, 5, True, 3)
    with pytest.raises(tf.errors.InvalidArgumentError, match="Sampler's range is too small"):
        run(sampled)


def test_bad_true_classes_fail_at_build_time() -> None:
    with pytest.raises(ValueError, match="rank 2"):
        tf.nn.uniform_candidate_sampler([1, 2], 2, 5, True, 3)
    with pytest.raises(TypeError, match="int64"):
        tf.nn.uniform_candidate_sampler(tf.constant([[1, 2]], tf.int32), 2, 5, True, 3)


def _hits_reference(true_classes: np.ndarray, sampled: np.ndarray) -> tuple[list[int], list[int]]:
    last = {int(c): j for j, c in enumerate(sampled)}  # a class sampled twice maps to its last position
    indices, ids = [], []
    for i, row in enumerate(true_classes):
        for c in row:
            if int(c) in last:
                indices.append(i)
                ids.append(last[int(c)])
    return indices, ids


def test_compute_accidental_hits() -> None:
    true_classes = np.array([[1, 2], [2, 2], [7, 8]])
    sampled = np.array([2, 1, 2, 9])
    indices, ids, weights = run(*tf.nn.compute_accidental_hits(tf.constant(true_classes, tf.int64),
                                                               tf.constant(sampled, tf.int64), 2))
    want_indices, want_ids = _hits_reference(true_classes, sampled)
    assert want_indices == [0, 0, 1, 1] and want_ids == [1, 2, 2, 2]  # what TensorFlow returns for these
    assert indices.dtype == np.int32 and ids.dtype == np.int64 and weights.dtype == np.float32
    assert indices.tolist() == want_indices and ids.tolist() == want_ids
    np.testing.assert_array_equal(weights, np.full(4, -np.finfo(np.float32).max, np.float32))


def test_learned_unigram_learns_the_true_classes_of_earlier_runs() -> None:
    range_max, n = 6, 4
    labels = np.array([[2], [2], [5]])
    sampled, true_count, sampled_count = tf.nn.learned_unigram_candidate_sampler(labels, 1, n, False, range_max,
                                                                                  seed=8)
    with tf.Session() as s:
        _, first_true, _ = s.run([sampled, true_count, sampled_count])
        second = s.run([sampled, true_count, sampled_count])
        for _ in range(40):
            s.run(sampled)
        many = np.concatenate([s.run(sampled) for _ in range(500)])
    np.testing.assert_allclose(first_true, np.full((3, 1), n / range_max), rtol=1e-6)  # every count starts at 1
    weights = np.array([1, 1, 3, 1, 1, 2], np.float64)  # after one run: class 2 seen twice, class 5 once
    np.testing.assert_allclose(second[1], n * weights[labels] / weights.sum(), rtol=1e-6)
    np.testing.assert_allclose(second[2], n * weights[second[0]] / weights.sum(), rtol=1e-6)
    # by then class 2 has weight 1 + 2 * runs and class 5 has 1 + runs, the others 1: about 2/3 and 1/3
    freq = np.bincount(many, minlength=range_max) / many.size
    assert freq[2] > 0.5 and freq[5] > 0.25 and freq[[0, 1, 3, 4]].max() < 0.05
