"""The lower pass: every step gets its device's function; fused steps run their members' functions."""

from __future__ import annotations

import numpy as np
import pytest
from pass_testing import first_plan

import gpugraph as tf
from gpugraph.compiler.fuse import fuse
from gpugraph.compiler.fused_step import FusedStep
from gpugraph.compiler.lower import lower_steps


@pytest.fixture(autouse=True)
def _fresh_graph():
    tf.reset_default_graph()


def test_every_step_gets_a_function_that_computes_its_op():
    x = tf.placeholder(tf.float64, [3], name="x")
    y = tf.matmul(tf.reshape(x, [1, 3]), tf.ones([3, 2], tf.float64))
    with tf.Session() as sess:
        plan = lower_steps(first_plan(sess, [y], [x]), sess)
    values = {0: np.array([1.0, 2.0, 3.0])}
    values.update(plan.template)
    for step in plan.steps:
        out = step.fn(*[values[s] for s in step.inputs])
        values[step.outputs[0]] = out
    np.testing.assert_array_equal(values[plan.fetch_slots[0]], [[6.0, 6.0]])


def test_a_fused_step_lowers_to_one_function_of_its_inputs():
    x = tf.placeholder(tf.float32, [None], name="x")  # of unknown size: may be large, so fused on the CPU
    y = tf.nn.relu(x * 2.0 - 1.0)
    with tf.Session() as sess:
        plan = lower_steps(fuse(first_plan(sess, [y], [x]), sess), sess)
    (step,) = [s for s in plan.steps if s.ops]
    assert isinstance(step.fn, FusedStep) and [op.type for op in step.ops] == ["Mul", "Sub", "Relu"]
    xs = np.array([-1.0, 0.0, 0.5, 1.0, 3.0], np.float32)
    args = [xs if s == 0 else plan.template[s] for s in step.inputs]
    np.testing.assert_allclose(step.fn(*args), np.maximum(xs * 2 - 1, 0))
