"""The slice-gradient pass: AddN of StridedSliceGrads of one tensor over disjoint slices is one step, with
AddN's values bit for bit (a -0.0 gradient sums to +0.0); overlapping slices are left to AddN."""

from __future__ import annotations

import numpy as np
import pytest

import gpugraph as tf
from gpugraph.compiler import pipeline
from gpugraph.compiler.slice_grads import merge_slice_grads


@pytest.fixture(autouse=True)
def _fresh_graph():
    tf.reset_default_graph()


def gradients_and_steps(build, merged: bool, monkeypatch):
    if not merged:
        monkeypatch.setattr(pipeline, "PASSES", tuple(p for p in pipeline.PASSES if p is not merge_slice_grads))
    tf.reset_default_graph()
    w, loss = build()
    (grad,) = tf.gradients(loss, [w])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        value = sess.run(grad)
        steps = list(sess._runs.values())[-1].plan.steps
    monkeypatch.undo()
    return value, steps


def polynomial():
    w = tf.Variable(np.array([0.5, -1.0, 2.0, 0.0, 3.0, -0.0], np.float32), name="w")
    x = tf.constant(np.float32(-1.5))
    coefficients = [np.float32(c) for c in (1.0, 2.5, -0.0, -3.0, 0.0, 7.0)]  # w[2]'s gradient: -0.0
    return w, tf.add_n([w[i] * tf.pow(x, i) * coefficients[i] for i in range(6)])


@pytest.mark.parametrize("build", [polynomial, lambda: (lambda w: (w, w[0] * 2.0 + w[1:3] * 3.0 + w[-1]))(
    tf.Variable(np.arange(5, dtype=np.float64), name="v"))])
def test_merged_slice_gradients_equal_addn_of_slice_gradients_bit_for_bit(build, monkeypatch):
    merged, steps = gradients_and_steps(build, True, monkeypatch)
    alone, steps_alone = gradients_and_steps(build, False, monkeypatch)
    assert merged.tobytes() == alone.tobytes()
    assert any(s.ops and s.ops[-1].type == "AddN" and s.ops[0].type == "StridedSliceGrad" for s in steps)
    assert sum(s.op.type == "StridedSliceGrad" for s in steps_alone) >= 2
    assert not any(s.op.type == "StridedSliceGrad" and not s.ops for s in steps)


def test_the_polynomials_gradient_is_the_coefficients_times_powers(monkeypatch):
    value, _ = gradients_and_steps(polynomial, True, monkeypatch)
    powers = np.float32(-1.5) ** np.arange(6, dtype=np.float32)
    want = powers * np.array([1.0, 2.5, -0.0, -3.0, 0.0, 7.0], np.float32)
    np.testing.assert_array_equal(value, want)
    assert np.signbit(want[2]) and not np.signbit(value[2])  # a -0.0 summed with AddN's zeros: +0.0


def test_overlapping_slices_are_left_to_addn(monkeypatch):
    def overlapping():
        w = tf.Variable(np.arange(4, dtype=np.float32), name="w")
        return w, tf.reduce_sum(w[0:2] * 2.0) + tf.reduce_sum(w[1:3] * 5.0)
    value, steps = gradients_and_steps(overlapping, True, monkeypatch)
    np.testing.assert_array_equal(value, [2.0, 7.0, 5.0, 0.0])
    assert sum(s.op.type == "StridedSliceGrad" for s in steps) == 2


def test_per_sample_scalar_gradients_merge_as_addn_does_bit_for_bit(monkeypatch):
    """A fed scalar makes each slice's gradient a NumPy scalar at run time (one of them -0.0)."""
    def fed():
        w = tf.Variable(np.array([0.5, -1.0, 2.0, 0.0], np.float32), name="w")
        x = tf.placeholder_with_default(np.float32(1.25), [])
        coefficients = [np.float32(c) for c in (1.0, -0.0, 2.5, -3.0)]
        return w, tf.add_n([w[i] * tf.pow(x, float(i)) * coefficients[i] for i in range(4)])

    merged, _ = gradients_and_steps(fed, True, monkeypatch)
    alone, _ = gradients_and_steps(fed, False, monkeypatch)
    assert merged.tobytes() == alone.tobytes()
    powers = np.float32(1.25) ** np.arange(4, dtype=np.float32)
    np.testing.assert_array_equal(merged, powers * np.array([1.0, -0.0, 2.5, -3.0], np.float32))
    assert not np.signbit(merged[1])  # -0.0 summed with AddN's zeros
