"""tf.while_loop: values, gradients (captured variables, nested loops, get_variable in the body) and
TF1's names against TensorFlow-generated data; float64 central differences; shape invariants; GPU path."""

from __future__ import annotations

import collections
import sys
from pathlib import Path

import numpy as np
import pytest

import gpugraph as tf
from gpugraph.testing import simulated_gpus

sys.path.insert(0, str(Path(__file__).resolve().parent / "data"))
from control_flow_cases import assert_matches, load_reference, run_program  # noqa: E402

REFERENCE = load_reference()


@pytest.mark.parametrize("program", ["while_capture", "rnn_like", "nested_loops"])
def test_values_gradients_and_names_match_tensorflow(program: str) -> None:
    got = run_program(tf, program)
    assert got["names"] == REFERENCE[program]["names"]
    assert_matches(got["values"], REFERENCE[program]["values"])


def test_loop_on_a_simulated_gpu_matches_tensorflow() -> None:
    with simulated_gpus(1):
        got = run_program(tf, "rnn_like")
    assert_matches(got["values"], REFERENCE["rnn_like"]["values"])


def test_loop_ops_are_placed_on_the_gpu() -> None:
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [3])
        out = tf.while_loop(lambda i, v: i < 3, lambda i, v: (i + 1, v * 2.0), [0, x])[1]
        grad = tf.gradients(tf.reduce_sum(out), x)[0]
    with simulated_gpus(1), tf.Session(graph=g) as sess:
        records = {r.node: r.device for r in sess.explain_placement([out, grad], {x: np.ones(3, np.float32)})}
        np.testing.assert_array_equal(sess.run(grad, {x: np.ones(3, np.float32)}), [8.0, 8.0, 8.0])
    assert records["while/While"] == "/device:GPU:0"
    assert records["gradients/while/While_grad/WhileGrad"] == "/device:GPU:0"


def test_gradient_matches_float64_central_differences() -> None:
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float64, [2])
        w = tf.constant([[0.3, -0.8], [0.5, 0.1]], tf.float64)

        def body(i, h, acc):
            h = tf.tanh(tf.reshape(tf.matmul(tf.reshape(h, [1, 2]), w), [2]) + x)
            return i + 1, h, acc + tf.reduce_sum(h * h) * tf.cast(i + 1, tf.float64)

        _, h, acc = tf.while_loop(lambda i, h, acc: i < 5, body, [0, x, tf.constant(0.0, tf.float64)])
        y = acc + tf.reduce_sum(h)
        grad = tf.gradients(y, x)[0]
        with tf.Session(graph=g) as sess:
            v = np.array([0.4, -0.7])
            eps = 1e-6
            numeric = [(sess.run(y, {x: v + eps * e}) - sess.run(y, {x: v - eps * e})) / (2 * eps) for e in np.eye(2)]
            np.testing.assert_allclose(sess.run(grad, {x: v}), numeric, rtol=1e-6)


def test_history_is_kept_only_when_a_gradient_in_the_plan_reads_it() -> None:
    from gpugraph.compiler import pipeline as plan_module

    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [])
        out = tf.while_loop(lambda v: v < 10.0, lambda v: v * 2.0, [x])
        grad = tf.gradients(out, x)[0]
    loop = g.get_operation_by_name("while/While")
    with tf.Session(graph=g) as sess:
        forward = sess._compile([out], {x: 1.0}, None).plan
        both = sess._compile([out, grad], {x: 1.0}, None).plan
        assert sess.run([out, grad], {x: 1.5}) == [12.0, 8.0]
    for plan, keeps in ((forward, False), (both, True)):
        step = next(s for s in plan.steps if s.op is loop)
        slots = plan.template.copy()
        slots[plan.feeds[0].slot] = np.float32(1.0)
        outs = step.fn(*[slots[i] for i in step.inputs])
        assert (outs[-1] is not None) == keeps
    assert plan_module.ops_in_plan() == frozenset()


def test_shape_invariants() -> None:
    v0 = tf.constant([1.0])
    with pytest.raises(ValueError, match=r"Input tensor 'Const(_\d+)?:0' enters the loop with shape \(1,\), but has "
                                         r"shape \(2,\) after one iteration. To allow the shape to vary"):
        tf.while_loop(lambda v: tf.size(v) < 5, lambda v: tf.concat([v, v], 0), [v0])
    out = tf.while_loop(lambda v: tf.size(v) < 5, lambda v: tf.concat([v, v], 0), [v0],
                        shape_invariants=[tf.TensorShape([None])])
    assert out.shape.as_list() == [None]
    with tf.Session() as sess:
        np.testing.assert_array_equal(sess.run(out), np.ones(8))


def test_nested_loop_variables_maximum_iterations_and_back_prop_false() -> None:
    Pair = collections.namedtuple("Pair", ["a", "b"])
    x = tf.constant(2.0)
    out = tf.while_loop(lambda p, d: p.a < 100.0,
                        lambda p, d: (Pair(p.a * d["k"], p.b + 1), {"k": d["k"] + 1.0}),
                        (Pair(x, tf.constant(0)), {"k": tf.constant(2.0)}), maximum_iterations=3)
    assert isinstance(out[0], Pair) and sorted(out[1]) == ["k"]
    frozen = tf.while_loop(lambda v: v < 10.0, lambda v: v * 2.0, [x], back_prop=False)
    assert tf.gradients(frozen, x) == [None]
    with tf.Session() as sess:
        (a, b), d = sess.run(out)
    assert (a, b, d["k"]) == (2.0 * 2.0 * 3.0 * 4.0, 3, 5.0)


def test_variables_made_in_the_body_live_in_the_outer_graph() -> None:
    g = tf.Graph()
    with g.as_default():
        def body(i, s):
            v = tf.get_variable("scale", [], initializer=tf.constant_initializer(3.0))
            return i + 1, s * v

        out = tf.while_loop(lambda i, s: i < 2, body, [0, tf.constant(1.0)])[1]
        variables = tf.global_variables()
        assert [v.name for v in variables] == ["scale:0"] and variables[0].graph is g
        train = tf.train.GradientDescentOptimizer(0.1).minimize(out)
        with tf.Session(graph=g) as sess:
            sess.run(tf.global_variables_initializer())
            assert sess.run(out) == 9.0
            sess.run(train)  # d(v*v)/dv = 2v = 6
            np.testing.assert_allclose(sess.run(variables[0]), 3.0 - 0.6)
