"""tf.cond and tf.case: values, gradients and TF1's tensor names against TensorFlow-generated data;
only the taken branch runs; build-time errors as TF1 raises them."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

import gpugraph as tf
from gpugraph import errors

sys.path.insert(0, str(Path(__file__).resolve().parent / "data"))
from control_flow_cases import assert_matches, load_reference, run_program  # noqa: E402

REFERENCE = load_reference()


@pytest.mark.parametrize("program", ["cond_basic", "case"])
def test_values_gradients_and_names_match_tensorflow(program: str) -> None:
    got = run_program(tf, program)
    assert got["names"] == REFERENCE[program]["names"]
    assert_matches(got["values"], REFERENCE[program]["values"])


def test_gradient_through_nested_conds_matches_float64_central_differences() -> None:
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float64, [3])
        y = tf.cond(tf.reduce_sum(x) > 0.0,
                    lambda: tf.cond(x[0] > 0.5, lambda: tf.reduce_sum(tf.sin(x) * x), lambda: tf.reduce_prod(x)),
                    lambda: tf.reduce_sum(tf.exp(x)))
        grad = tf.gradients(y, x)[0]
        with tf.Session(graph=g) as sess:
            for point in ([0.9, 0.2, -0.3], [0.1, 0.7, 0.4], [-0.5, -0.2, 0.1]):
                v = np.array(point)
                eps = 1e-6
                numeric = [(sess.run(y, {x: v + eps * e}) - sess.run(y, {x: v - eps * e})) / (2 * eps)
                           for e in np.eye(3)]
                np.testing.assert_allclose(sess.run(grad, {x: v}), numeric, rtol=1e-6, atol=1e-8)


def test_only_the_taken_branch_runs() -> None:
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [])
        table = tf.constant([1.0, 2.0])
        out = tf.cond(x > 0.0, lambda: tf.gather(table, 7) * x, lambda: table[0] * x)  # index 7 fails if run
        with tf.Session(graph=g) as sess:
            assert sess.run(out, {x: -2.0}) == -2.0
            with pytest.raises(errors.InvalidArgumentError):
                sess.run(out, {x: 2.0})


def test_branch_sub_plans_are_compiled_once_per_plan(monkeypatch: pytest.MonkeyPatch) -> None:
    from gpugraph.compiler import pipeline as plan_module

    compiled: list[int] = []
    real = plan_module.compile_plan
    monkeypatch.setattr(plan_module, "compile_plan", lambda *a, **k: compiled.append(1) or real(*a, **k))
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [])
        out = tf.cond(x > 0.0, lambda: x * 2.0, lambda: x - 1.0)
        with tf.Session(graph=g) as sess:
            results = [sess.run(out, {x: v}) for v in (1.0, -1.0, 3.0)]
    assert results == [2.0, -2.0, 6.0]
    assert len(compiled) == 2  # one sub-plan per branch, made with the session's plan, reused by every run


def test_build_time_errors_are_tf1s() -> None:
    x = tf.constant(1.0)
    with pytest.raises(TypeError, match="'pred' must not be a Python bool"):
        tf.cond(True, lambda: x, lambda: x * 2.0)
    with pytest.raises(ValueError, match="same nested structure"):
        tf.cond(x > 0.0, lambda: (x, x), lambda: x)
    with pytest.raises(ValueError, match="Received float32 from 'true_fn' and int32 from 'false_fn'"):
        tf.cond(x > 0.0, lambda: x, lambda: tf.constant(1))


def test_outputs_keep_the_structure_and_the_most_specific_common_shape() -> None:
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [None, 3])
        out = tf.cond(tf.size(x) > 3, lambda: {"a": x[:2], "b": [x]}, lambda: {"a": x[:1], "b": [x * 2.0]})
        assert sorted(out) == ["a", "b"] and isinstance(out["b"], list)
        assert out["a"].shape.as_list() == [None, 3]
        with tf.Session(graph=g) as sess:
            value = sess.run(out, {x: np.ones((3, 3), np.float32)})
        np.testing.assert_array_equal(value["a"], np.ones((2, 3)))
