"""The memory pass: values are dropped after their last reader; what outlives a run is fetched as a copy."""

from __future__ import annotations

import numpy as np
import pytest
from pass_testing import first_plan

import gpugraph as tf
from gpugraph.compiler.fold import fold
from gpugraph.compiler.memory_plan import plan_memory, releases_after


@pytest.fixture(autouse=True)
def _fresh_graph():
    tf.reset_default_graph()


def test_each_slot_is_released_after_its_last_reader_except_fetches():
    x = tf.placeholder(tf.float32, [3], name="x")
    a = tf.exp(x)
    b = tf.sin(a)
    c = tf.cos(a) + b
    with tf.Session() as sess:
        plan = plan_memory(fold(first_plan(sess, [c], [x]), sess))
    last_reader: dict[int, int] = {}
    for i, step in enumerate(plan.steps):
        for s in step.inputs:
            last_reader[s] = i
    for i, dead in enumerate(plan.releases):
        for slot in dead:
            assert last_reader.get(slot, i) == i
    released = {s for dead in plan.releases for s in dead}
    assert plan.fetch_slots[0] not in released
    assert set(last_reader) <= released  # every slot read is dropped somewhere


def test_releases_of_a_hand_written_plan():
    from gpugraph.compiler.ir import Step

    op = tf.no_op().node_def and tf.get_default_graph().get_operations()[0]
    steps = [Step(op, None, (0,), (1,)), Step(op, None, (1, 0), (2,)), Step(op, None, (2,), (3,))]
    assert releases_after(steps, [3]) == [(), (0, 1), (2,)]


def test_values_that_outlive_the_run_are_fetched_as_copies_and_only_values_read_are_kept():
    v = tf.Variable(np.ones(2, np.float32), name="v")
    x = tf.placeholder(tf.float32, [2], name="x")
    read = v.read_value() if hasattr(v, "read_value") else tf.identity(v)
    y = x * 2.0
    z = x + tf.constant([3.0, 4.0]) * 5.0  # [3, 4] and 5 are read only while folding
    with tf.Session() as sess:
        folded = fold(first_plan(sess, [v.op.outputs[0], read, y, x, y, z], [x]), sess)
        plan = plan_memory(folded)
    assert plan.copy_on_fetch == (True, True, False, True, True, False)  # variable, alias, fresh, feed, repeat
    kept = sorted((np.asarray(value).tolist() for value in plan.template.values()), key=str)
    assert kept == [2.0, [15.0, 20.0]] and len(folded.template) == 4
    assert all(s in {i for step in plan.steps for i in step.inputs} | set(plan.fetch_slots)
               for s in plan.template)
