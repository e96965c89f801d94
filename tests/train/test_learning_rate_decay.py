"""Learning-rate schedules: TF1 formulas, a tensorflow.compat.v1 reference table, names and errors.

learning_rate_decay_reference.json comes from make_learning_rate_decay_reference.py (run under TensorFlow).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pytest

import gpugraph as tf

REFERENCE = json.loads(Path(__file__).with_name("learning_rate_decay_reference.json").read_text())


@pytest.fixture(autouse=True)
def graph() -> Iterator[tf.Graph]:
    g = tf.Graph()
    with g.as_default():
        yield g


def values_at(lr: tf.Tensor, step: Any, steps: list[int]) -> list[Any]:
    """lr after assigning each step to the global step variable, one run per step."""
    value = tf.placeholder(tf.int64, [])
    set_step = tf.assign(step, value)
    out = []
    with tf.Session() as s:
        s.run(tf.global_variables_initializer())
        for v in steps:
            s.run(set_step, {value: v})
            out.append(s.run(lr))
    return out


@pytest.mark.parametrize("case", REFERENCE["cases"], ids=lambda c: f"{c['fn']}-{c['kwargs']}")
def test_matches_tensorflow_reference(case: dict[str, Any]) -> None:
    step = tf.train.get_or_create_global_step()
    args = [step if a == "global_step" else a for a in case["args"]]
    lr = getattr(tf.train, case["fn"])(*args, **case["kwargs"])
    assert lr.dtype == tf.float32 and lr.shape.as_tuple() == ()
    got = values_at(lr, step, REFERENCE["steps"])
    assert all(isinstance(v, np.float32) for v in got)
    np.testing.assert_allclose(np.array(got, np.float64), case["values"], rtol=1e-6, atol=0)


# --- the TF1 formulas, in float64 (a float64 learning rate keeps the whole schedule in float64) ---
STEPS = [0, 1, 3, 7, 10, 13, 20, 29, 30, 31, 45, 60, 61, 200]


def f32(x: float) -> float:
    """A Python float hyperparameter as TF1 casts it: through a float32 constant, then to the rate's dtype."""
    return float(np.float32(x))


def fed_values(lr: tf.Tensor, step: tf.Tensor) -> np.ndarray:
    """lr for each of STEPS, the global step being a fed int32 tensor."""
    with tf.Session() as s:
        out = [s.run(lr, {step: v}) for v in STEPS]
    assert all(np.asarray(v).dtype == np.float64 for v in out)
    return np.array(out)


def lr64(value: float) -> tf.Tensor:
    return tf.constant(value, tf.float64)


@pytest.mark.parametrize("staircase", [False, True])
def test_exponential_natural_and_inverse_time_formulas(staircase: bool) -> None:
    step = tf.placeholder(tf.int32, [])
    s = np.array(STEPS, np.float64)
    p = np.floor(s / 10) if staircase else s / 10
    natural_rate = float(np.exp(np.float32(-0.3)))  # TF1 takes exp(-rate) in float32 first
    schedules = {
        "exp": (tf.train.exponential_decay(lr64(0.1), step, 10, 0.9, staircase=staircase), 0.1 * f32(0.9) ** p),
        "nat": (tf.train.natural_exp_decay(lr64(0.1), step, 10, 0.3, staircase=staircase),
                0.1 * natural_rate ** p),
        "inv": (tf.train.inverse_time_decay(lr64(0.1), step, 10, 0.5, staircase=staircase),
                0.1 / (1 + 0.5 * p)),
    }
    for name, (lr, want) in schedules.items():
        np.testing.assert_allclose(fed_values(lr, step), want, rtol=1e-13, err_msg=name)


@pytest.mark.parametrize("power,cycle", [(1.0, False), (0.5, False), (3.0, False), (1.0, True), (2.0, True)])
def test_polynomial_decay_formula(power: float, cycle: bool) -> None:
    step = tf.placeholder(tf.int32, [])
    lr = tf.train.polynomial_decay(lr64(0.2), step, 30, end_learning_rate=0.01, power=power, cycle=cycle)
    end = f32(0.01)
    want = []
    for s in STEPS:
        horizon = 30 * (max(1, math.ceil(s / 30)) if cycle else 1)
        frac = (s if cycle else min(s, 30)) / horizon
        want.append((0.2 - end) * (1 - frac) ** power + end)
    np.testing.assert_allclose(fed_values(lr, step), want, rtol=1e-13)


def test_piecewise_constant_boundaries_are_inclusive_on_the_left_piece() -> None:
    x = tf.placeholder(tf.float32, [])
    lr = tf.train.piecewise_constant(x, [1.0, 2.0], [10.0, 20.0, 30.0])
    with tf.Session() as s:
        got = [s.run(lr, {x: v}) for v in [-5.0, 0.5, 1.0, 1.5, 2.0, 2.5, np.nan]]
    # x <= b0 -> v0; b0 < x <= b1 -> v1; x > b1 -> v2; NaN matches no piece: TF1's default, v0
    assert got == [10.0, 10.0, 10.0, 20.0, 20.0, 30.0, 10.0]


def test_piecewise_constant_int32_boundaries_promote_to_int64_step() -> None:
    step = tf.train.get_or_create_global_step()
    lr = tf.train.piecewise_constant(step, np.array([3, 6], np.int32), (1, 2, 3))
    assert lr.dtype == tf.int32
    assert values_at(lr, step, [0, 3, 4, 6, 7, 2**40]) == [1, 1, 2, 2, 3, 3]


def test_piecewise_constant_tensor_values() -> None:
    step = tf.placeholder(tf.int32, [])
    a = tf.Variable(0.5)
    lr = tf.train.piecewise_constant(step, [10], [a, a * 0.1])
    grad = tf.gradients(lr, a)[0]
    with tf.Session() as s:
        s.run(tf.global_variables_initializer())
        np.testing.assert_allclose(s.run([lr, grad], {step: 3}), [0.5, 1.0])
        np.testing.assert_allclose(s.run([lr, grad], {step: 11}), [0.05, 0.1], rtol=1e-6)


# --- the schedule follows the training loop ---
def test_value_follows_the_global_step_across_runs() -> None:
    step = tf.train.get_or_create_global_step()
    lr = tf.train.exponential_decay(0.1, step, 100, 0.96, staircase=True)
    increment = tf.assign_add(step, 50)
    seen = []
    with tf.Session() as s:
        s.run(tf.global_variables_initializer())
        for _ in range(5):
            seen.append(float(s.run(lr)))
            s.run(increment)
    want = [np.float32(0.1) * np.float32(0.96) ** k for k in (0, 0, 1, 1, 2)]
    np.testing.assert_allclose(seen, np.array(want, np.float64), rtol=1e-6)


def test_learning_rate_may_be_a_variable_with_gradient() -> None:
    base = tf.Variable(0.5, name="base_lr")
    step = tf.constant(20, tf.int64)
    lr = tf.train.exponential_decay(base, step, 10, 0.5)
    grad = tf.gradients(lr, base)[0]
    with tf.Session() as s:
        s.run(tf.global_variables_initializer())
        np.testing.assert_allclose(s.run([lr, grad]), [0.125, 0.25], rtol=1e-6)


# --- names and exports ---
def test_names_follow_tf1() -> None:
    step = tf.train.get_or_create_global_step()
    assert tf.train.exponential_decay(0.1, step, 10, 0.5).op.name == "ExponentialDecay"
    assert tf.train.exponential_decay(0.1, step, 10, 0.5).op.name == "ExponentialDecay_1"
    assert tf.train.natural_exp_decay(0.1, step, 10, 0.5).op.name == "ExponentialDecay_2"
    assert tf.train.inverse_time_decay(0.1, step, 10, 0.5).op.name == "InverseTimeDecay"
    assert tf.train.polynomial_decay(0.1, step, 10).op.name == "PolynomialDecay"
    assert tf.train.piecewise_constant(step, [5], [1.0, 0.1]).op.name == "PiecewiseConstant"
    assert tf.train.exponential_decay(0.1, step, 10, 0.5, name="lr").name == "lr:0"
    assert tf.compat.v1.train.piecewise_constant_decay is tf.train.piecewise_constant


# --- errors ---
def test_piecewise_constant_errors() -> None:
    step = tf.train.get_or_create_global_step()
    with pytest.raises(ValueError, match="1 less than the length of values"):
        tf.train.piecewise_constant(step, [5, 10], [1.0, 0.5])
    with pytest.raises(ValueError, match="1 less than the length of values"):
        tf.train.piecewise_constant(step, [5], [1.0, 0.5, 0.1])
    with pytest.raises(ValueError, match="at least one boundary"):
        tf.train.piecewise_constant(step, [], [1.0])
    with pytest.raises(ValueError, match=r"Boundaries \(float32\) must have the same dtype as x \(int64\)"):
        tf.train.piecewise_constant(step, [5.0], [1.0, 0.5])
    with pytest.raises(ValueError, match=r"same dtype \(float32 vs int32\)"):
        tf.train.piecewise_constant(step, [5], [1.0, 1])
    with pytest.raises(TypeError, match="list of scalars"):
        tf.train.piecewise_constant(step, tf.constant([5]), [1.0, 0.5])


SCHEDULES = {
    "exponential_decay": lambda s: tf.train.exponential_decay(0.1, s, 10, 0.5),
    "natural_exp_decay": lambda s: tf.train.natural_exp_decay(0.1, s, 10, 0.5),
    "inverse_time_decay": lambda s: tf.train.inverse_time_decay(0.1, s, 10, 0.5),
    "polynomial_decay": lambda s: tf.train.polynomial_decay(0.1, s, 10),
    "piecewise_constant": lambda s: tf.train.piecewise_constant(s, [5], [1.0, 0.1]),
}


@pytest.mark.parametrize("fn", SCHEDULES)
def test_non_scalar_global_step_is_an_error(fn: str) -> None:
    with pytest.raises(ValueError, match="must be a scalar"):
        SCHEDULES[fn](tf.constant([1, 2], tf.int64))
    with pytest.raises(ValueError, match="must be a scalar"):
        SCHEDULES[fn](tf.placeholder(tf.int64, [None]))
    SCHEDULES[fn](tf.placeholder(tf.int64))  # unknown rank: left to run time, as TF1


@pytest.mark.parametrize("fn", [f for f in SCHEDULES if f != "piecewise_constant"])
def test_missing_global_step_and_integer_learning_rate(fn: str) -> None:
    with pytest.raises(ValueError, match=f"global_step is required for {fn}"):
        SCHEDULES[fn](None)
    builder = getattr(tf.train, fn)
    extra = [10] if fn == "polynomial_decay" else [10, 0.5]
    with pytest.raises(TypeError, match="floating point"):
        builder(1, tf.constant(3), *extra)


def test_cosine_decay_follows_tf1_formula_and_stays_at_alpha_after_decay_steps() -> None:
    import math

    import gpugraph as tf

    g = tf.Graph()
    with g.as_default():
        step = tf.placeholder(tf.int32, shape=())
        lr = tf.train.cosine_decay(0.1, step, decay_steps=100, alpha=0.2)
        assert lr.op.name == "CosineDecay" and lr.dtype == tf.float32
        with tf.Session() as sess:
            for s in (0, 25, 50, 100, 150):
                expected = 0.1 * ((1 - 0.2) * 0.5 * (1 + math.cos(math.pi * min(s, 100) / 100)) + 0.2)
                assert abs(sess.run(lr, {step: s}) - expected) < 1e-7


def test_sin_and_cos_ops_match_numpy() -> None:
    import gpugraph as tf

    x = np.linspace(-3, 3, 7)
    with tf.Graph().as_default(), tf.Session() as sess:
        t = tf.constant(x)
        np.testing.assert_allclose(sess.run([tf.sin(t), tf.cos(t)]), [np.sin(x), np.cos(x)])
