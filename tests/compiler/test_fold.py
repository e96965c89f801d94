"""The fold pass: what is known before the run is computed once, into the template, up to a size."""

from __future__ import annotations

import numpy as np
import pytest
from pass_testing import first_plan, step_types

import gpugraph as tf
from gpugraph.compiler.fold import FOLD_LIMIT_BYTES, fold


@pytest.fixture(autouse=True)
def _fresh_graph():
    tf.reset_default_graph()


def test_constant_subgraphs_fold_and_the_rest_stays():
    x = tf.placeholder(tf.float32, [3], name="x")
    c = tf.sqrt(tf.constant([4.0, 9.0, 16.0])) * 2.0  # all constant
    y = x + c
    with tf.Session() as sess:
        plan = fold(first_plan(sess, [y], [x]), sess)
    assert step_types(plan) in (["Add"], ["AddV2"])
    add = plan.steps[0]
    folded = [plan.template[s] for s in add.inputs if s in plan.template]
    np.testing.assert_array_equal(folded[0], [4.0, 6.0, 8.0])
    assert not folded[0].flags.writeable  # shared by every run


def test_shape_of_a_statically_shaped_input_folds_but_random_and_large_values_do_not():
    x = tf.placeholder(tf.float32, [2, 5], name="x")
    shape = tf.shape(x)
    r = tf.random_uniform([3])
    big = tf.zeros([FOLD_LIMIT_BYTES // 4 + 1]) + 1.0
    with tf.Session() as sess:
        plan = fold(first_plan(sess, [shape, r, big], [x]), sess)
    np.testing.assert_array_equal(plan.template[plan.fetch_slots[0]], [2, 5])
    assert "RandomUniform" in step_types(plan)
    assert plan.fetch_slots[2] not in plan.template  # over the limit: computed at run time
    assert all(getattr(v, "nbytes", 0) <= FOLD_LIMIT_BYTES for v in plan.template.values())


def test_a_bad_constant_computation_is_an_error_at_plan_time_naming_the_op():
    bad = tf.gather(tf.constant([1.0, 2.0, 3.0]), tf.constant(7), name="bad_gather")
    with tf.Session() as sess, pytest.raises(tf.errors.InvalidArgumentError, match="bad_gather"):
        fold(first_plan(sess, [bad]), sess)
