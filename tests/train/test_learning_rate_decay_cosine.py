"""cosine_decay_restarts, linear_cosine_decay and noisy_linear_cosine_decay against TensorFlow's values
(cosine_decay_reference.json), and the noise's spread and seeding."""

from __future__ import annotations

import inspect
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import gpugraph as tf

REFERENCE = json.loads((Path(__file__).parent / "data" / "cosine_decay_reference.json").read_text())


@pytest.fixture(autouse=True)
def _fresh_graph():
    tf.reset_default_graph()
    yield


@pytest.mark.parametrize("case", REFERENCE["cases"], ids=lambda c: f"{c['fn']}-{c['kwargs']}")
def test_matches_tensorflow_reference(case: dict[str, Any]) -> None:
    step = tf.Variable(0, dtype=tf.int64, name="global_step")
    lr = getattr(tf.train, case["fn"])(*[step if a == "global_step" else a for a in case["args"]], **case["kwargs"])
    assert lr.op.name == case["name"] and lr.dtype == tf.float32
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        got = []
        for s in REFERENCE["steps"]:
            step.load(s, sess)
            got.append(float(sess.run(lr)))
    np.testing.assert_allclose(got, case["values"], rtol=2e-5, atol=1e-7)


def _noise_samples(seed: int | None, n: int, step_value: int) -> np.ndarray:
    tf.reset_default_graph()
    if seed is not None:
        tf.set_random_seed(seed)
    step = tf.Variable(step_value, dtype=tf.int64, name="global_step")
    lr = tf.train.noisy_linear_cosine_decay(1.0, step, 100, initial_variance=2.0, beta=0.0)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        return np.array([sess.run(lr) for _ in range(n)], np.float64)


def test_noise_has_tf1s_variance_and_is_redrawn_each_run() -> None:
    s = 20  # variance = 2 / (1 + 20)^0.55 around the linear part; the whole is scaled by the cosine
    samples = _noise_samples(None, 400, s)
    cosine = 0.5 * (1 + math.cos(math.pi * s / 100))
    linear = (100 - s) / 100
    noise = samples / cosine - linear
    std = math.sqrt(2.0 / (1 + s) ** 0.55)
    assert len(np.unique(samples)) == len(samples)
    assert abs(noise.mean()) < 4 * std / math.sqrt(len(noise))
    assert 0.85 * std < noise.std() < 1.15 * std


def test_noise_follows_the_graph_seed() -> None:
    first, again, other = _noise_samples(7, 3, 5), _noise_samples(7, 3, 5), _noise_samples(8, 3, 5)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


@pytest.mark.parametrize("fn", ["cosine_decay_restarts", "linear_cosine_decay", "noisy_linear_cosine_decay"])
def test_global_step_is_required(fn: str) -> None:
    with pytest.raises(ValueError, match="global_step is required"):
        getattr(tf.train, fn)(0.1, None, 10)


def test_signatures_are_tf1s() -> None:
    def text(f: Any) -> str:
        return ", ".join(p.name if p.default is p.empty else f"{p.name}={p.default!r}"
                         for p in inspect.signature(f).parameters.values())
    assert text(tf.train.cosine_decay_restarts) == ("learning_rate, global_step, first_decay_steps, t_mul=2.0, "
                                                   "m_mul=1.0, alpha=0.0, name=None")
    assert text(tf.train.linear_cosine_decay) == ("learning_rate, global_step, decay_steps, num_periods=0.5, "
                                                 "alpha=0.0, beta=0.001, name=None")
    assert text(tf.train.noisy_linear_cosine_decay) == (
        "learning_rate, global_step, decay_steps, initial_variance=1.0, variance_decay=0.55, num_periods=0.5, "
        "alpha=0.0, beta=0.001, name=None")
