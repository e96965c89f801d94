"""The build pass: one step per op, a slot per output, constants in the template, feeds first."""

from __future__ import annotations

import numpy as np
import pytest
from pass_testing import first_plan, step_types

import gpugraph as tf


@pytest.fixture(autouse=True)
def _fresh_graph():
    tf.reset_default_graph()


def test_steps_follow_the_schedule_and_constants_go_to_the_template():
    x = tf.placeholder(tf.float32, [3], name="x")
    y = tf.exp(x) * tf.constant(2.0) + 1.0
    with tf.Session() as sess:
        plan = first_plan(sess, [y], [x])
    assert step_types(plan) == ["Exp", "Mul", "AddV2" if "AddV2" in step_types(plan) else "Add"]
    assert plan.feeds[0].slot == 0 and plan.feeds[0].tensor is x
    assert plan.steps[0].inputs == (0,)  # the feed's slot
    consts = [v for v in plan.template.values()]
    assert sorted(float(v) for v in consts) == [1.0, 2.0]
    assert all(step.fn is None for step in plan.steps)  # nothing lowered yet
    assert plan.fetch_slots == (plan.steps[-1].outputs[0],)


# TF 2.21 compat.v1's messages for the same placeholders
@pytest.mark.parametrize("dtype, shape, message", [
    (tf.float32, [None, 2], "You must feed a value for placeholder tensor 'images' with dtype float and shape [?,2]"),
    (tf.float64, [None, 2], "You must feed a value for placeholder tensor 'images' with dtype double and shape [?,2]"),
    (tf.int64, [None, 2], "You must feed a value for placeholder tensor 'images' with dtype int64 and shape [?,2]"),
    (tf.float32, None, "You must feed a value for placeholder tensor 'images' with dtype float"),
    (tf.float32, [], "You must feed a value for placeholder tensor 'images' with dtype float"),
])
def test_a_missing_feed_names_the_placeholder_as_tf_does(dtype, shape, message):
    x = tf.placeholder(dtype, shape, name="images")
    with tf.Session() as sess, pytest.raises(tf.errors.InvalidArgumentError) as raised:
        first_plan(sess, [x])
    assert raised.value.message == message


def test_steps_run_where_they_are_placed_and_reads_of_variables_are_checked():
    v = tf.Variable(np.ones(3, np.float32), name="v")
    y = v * 3.0
    with tf.Session() as sess:
        plan = first_plan(sess, [y], devices={y.op: "/device:GPU:0"})
    mul = [s for s in plan.steps if s.op is y.op][0]
    assert mul.device == "/device:GPU:0"
    assert plan.slot_device[mul.outputs[0]] == "/device:GPU:0"
    assert [op.name for op, _ in plan.precheck] == ["v"]
