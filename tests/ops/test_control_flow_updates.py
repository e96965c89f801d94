"""In-place updates of outer variables inside tf.cond branches and tf.while_loop bodies (assign, assign_add,
scatter_*, optimizer steps): values against TensorFlow-generated data; ordering and statefulness in the plan."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

import gpugraph as tf

sys.path.insert(0, str(Path(__file__).resolve().parent / "data"))
from control_flow_cases import assert_matches, load_reference, run_program  # noqa: E402

REFERENCE = load_reference()


@pytest.mark.parametrize("program", ["cond_updates", "while_updates", "cond_train"])
def test_updates_inside_branches_and_bodies_match_tensorflow(program: str) -> None:
    got = run_program(tf, program)
    assert got["names"] == REFERENCE[program]["names"]
    assert_matches(got["values"], REFERENCE[program]["values"])


def test_an_update_inside_a_cond_is_ordered_as_an_update_outside() -> None:
    """Among ops free to run, reads of a variable go before the If that writes it, as before an Assign."""
    v = tf.Variable(1.0)
    pred = tf.placeholder(tf.bool, [])
    out = tf.cond(pred, lambda: tf.assign_add(v, 1.0), lambda: tf.identity(v))
    read = v * 10.0
    w = tf.Variable(1.0)
    plain = tf.assign_add(w, 1.0)
    plain_read = w * 10.0
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert sess.run([out, read], {pred: True}) == [2.0, 10.0]
        assert sess.run([plain, plain_read]) == [2.0, 10.0]
        assert sess.run([out, read], {pred: False}) == [2.0, 20.0]


def test_update_ops_with_a_constant_predicate_run_every_time() -> None:
    """Never folded or shared: each run of the cond (and of a loop) updates again."""
    counter = tf.Variable(0)
    bump = tf.cond(tf.constant(True), lambda: tf.assign_add(counter, 1), lambda: tf.identity(counter))
    loop = tf.while_loop(lambda i: i < 3, lambda i: tf.tuple([i + 1], control_inputs=[tf.assign_add(counter, 10)])[0],
                         [tf.constant(0)])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert [sess.run(bump) for _ in range(3)] == [1, 2, 3]
        sess.run([loop])
        sess.run(loop)
        assert sess.run(counter) == 63


def test_nested_loop_updates_and_uninitialized_variable_error() -> None:
    total = tf.Variable(np.zeros(2, np.float32))

    def outer(i):
        inner = tf.while_loop(lambda j: j < i, lambda j: tf.tuple(
            [j + 1], control_inputs=[tf.scatter_add(total, tf.reshape(j % 2, [1]), tf.ones([1]))])[0], [0])
        return i + inner - inner + 1
    done = tf.while_loop(lambda i: i < 4, outer, [0])
    with tf.Session() as sess:
        with pytest.raises(tf.errors.FailedPreconditionError, match="Variable"):
            sess.run(done)
        sess.run(tf.global_variables_initializer())
        sess.run(done)
        # inner loops of length 0, 1, 2, 3: indices 0 | 0 1 | 0 1 0
        np.testing.assert_array_equal(sess.run(total), [4.0, 2.0])
