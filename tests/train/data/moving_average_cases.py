"""The ExponentialMovingAverage reference problem, written once against the TF1 API.

``make_moving_average_reference.py`` runs it with ``tensorflow.compat.v1`` and stores the results in
``moving_average_reference.json``; ``tests/train/test_moving_averages.py`` runs it with gpugraph and
compares. ``run(tf)`` gets the library to use.
"""

from __future__ import annotations

from typing import Any

import numpy as np

STEPS = 6


def run(tf: Any) -> dict[str, Any]:
    """A small regression trained with plain SGD, averaged three ways: with num_updates (the global
    step), with a fixed decay, and a zero-debiased average of a tensor (the loss)."""
    graph = tf.Graph()
    with graph.as_default():
        x = tf.constant(np.array([[1.0, 2.0], [-1.0, 0.5], [0.3, -2.0]], np.float32), name="x")
        y = tf.constant(np.array([[1.0], [0.0], [-1.0]], np.float32), name="y")
        with tf.variable_scope("model"):
            w = tf.get_variable("w", initializer=np.array([[0.5], [-0.3]], np.float32))
            b = tf.get_variable("b", initializer=np.array([0.1], np.float32))
        w64 = tf.Variable(np.array([1.0, 2.0, 3.0]), name="w64")  # float64: the decay is cast
        loss = (tf.reduce_mean(tf.square(tf.matmul(x, w) + b - y))
                + tf.cast(tf.reduce_sum(tf.square(w64 - 1.0)), tf.float32))
        step = tf.train.get_or_create_global_step()
        train_op = tf.train.GradientDescentOptimizer(0.1).minimize(loss, global_step=step)
        ema = tf.train.ExponentialMovingAverage(0.99, step)
        with tf.control_dependencies([train_op]):
            train_op = ema.apply(tf.trainable_variables())
        fixed = tf.train.ExponentialMovingAverage(0.7, name="Fixed")
        fixed_op = fixed.apply([w])
        debiased = tf.train.ExponentialMovingAverage(0.8, zero_debias=True, name="Debiased")
        loss_avg_op = debiased.apply([loss])
        out: dict[str, Any] = {
            "train_op": [train_op.name, train_op.type],
            "fixed_op": fixed_op.name,
            "average_names": [ema.average_name(v) for v in (w, b, w64)] + [fixed.average_name(w)],
            "average_variables": [ema.average(v).op.name for v in (w, b, w64)] + [debiased.average(loss).op.name],
            "moving_average_variables": [v.op.name for v in tf.moving_average_variables()],
            "restore_map": {k: v.op.name for k, v in ema.variables_to_restore().items()},
            "global_variables": [v.op.name for v in tf.global_variables()],
            "trainable_variables": [v.op.name for v in tf.trainable_variables()],
            "update_ops": sorted(op.name for op in graph.get_operations()
                                 if op.type in ("AssignSub", "Assign") and "Moving" in op.name),
        }
        shadows = {"w": ema.average(w), "b": ema.average(b), "w64": ema.average(w64), "fixed_w": fixed.average(w),
                   "loss_avg": debiased.average(loss)}
        values: list[dict[str, Any]] = []
        with tf.Session(graph=graph) as sess:
            sess.run(tf.global_variables_initializer())
            values.append({k: np.asarray(sess.run(v)).tolist() for k, v in shadows.items()})
            for _ in range(STEPS):
                sess.run(train_op)
                sess.run(fixed_op)  # after the step: one run would leave the order of the two open
                sess.run(loss_avg_op)
                values.append({k: np.asarray(sess.run(v)).tolist() for k, v in shadows.items()})
        out["values"] = values
        return out
