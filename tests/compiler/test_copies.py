"""The copy pass: values cross devices once each, constants at plan time, fetches back to the host."""

from __future__ import annotations

import numpy as np
import pytest
from pass_testing import first_plan

import gpugraph as tf
from gpugraph.compiler.copies import insert_copies
from gpugraph.testing import simulated_gpus

GPU = "/device:GPU:0"


@pytest.fixture(autouse=True)
def _fresh_graph():
    tf.reset_default_graph()


def test_each_value_is_copied_once_per_device_and_constants_at_plan_time():
    x = tf.placeholder(tf.float32, [4], name="x")
    c = tf.constant(np.arange(4, dtype=np.float32), name="c")
    a = tf.exp(x, name="a")
    b = tf.add(x, c, name="b")
    with simulated_gpus(1) as (gpu,), tf.Session() as sess:
        plan = insert_copies(first_plan(sess, [a, b], [x], devices={a.op: GPU, b.op: GPU}), sess)
        copies = [s for s in plan.steps if s.kind == "copy"]
        # x goes up once (read by both), each result comes back once; c was copied while compiling
        assert [(s.device, s.inputs) for s in copies][0] == (GPU, (0,))
        assert sum(s.device == GPU for s in copies) == 1
        assert sum(s.device == sess.backend.device for s in copies) == 2
        b_step = [s for s in plan.steps if s.op is b.op and s.kind == "op"][0]
        c_on_gpu = [s for s in b_step.inputs if s in plan.template]
        assert len(c_on_gpu) == 1 and plan.slot_device[c_on_gpu[0]] == GPU
        np.testing.assert_array_equal(plan.template[c_on_gpu[0]], np.arange(4))
        assert gpu.transfers_to_device == 1  # the constant, now; nothing else has run
        first_copy = plan.steps.index(copies[0])
        assert first_copy < min(i for i, s in enumerate(plan.steps) if s.kind == "op")
        assert all(plan.slot_device[s] == sess.backend.device for s in plan.fetch_slots)


def test_a_plan_on_one_device_gets_no_copies():
    x = tf.placeholder(tf.float32, [4], name="x")
    y = tf.exp(x) + 1.0
    with tf.Session() as sess:
        plan = first_plan(sess, [y], [x])
        assert insert_copies(plan, sess).steps == plan.steps
