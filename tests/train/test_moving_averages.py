"""tf.train.ExponentialMovingAverage: values, names and collections against TensorFlow's (reference data),
and the Saver(ema.variables_to_restore()) pattern."""

from __future__ import annotations

import importlib.util
import inspect
import json
from pathlib import Path

import numpy as np
import pytest

import gpugraph as tf

DATA = Path(__file__).resolve().parent / "data"
_spec = importlib.util.spec_from_file_location("moving_average_cases", DATA / "moving_average_cases.py")
assert _spec is not None and _spec.loader is not None
cases = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(cases)
REFERENCE = json.loads((DATA / "moving_average_reference.json").read_text())


@pytest.fixture(autouse=True)
def _fresh_graph():
    tf.reset_default_graph()
    yield


@pytest.fixture(scope="module")
def result() -> dict:
    return cases.run(tf)


@pytest.mark.parametrize("key", ["train_op", "fixed_op", "average_names", "average_variables",
                                 "moving_average_variables", "global_variables", "trainable_variables",
                                 "update_ops"])
def test_names_and_collections_are_tf1s(result: dict, key: str) -> None:
    assert result[key] == REFERENCE[key]


def test_variables_to_restore_is_tf1s(result: dict) -> None:
    assert result["restore_map"] == REFERENCE["restore_map"]


def test_averages_match_tensorflow_step_by_step(result: dict) -> None:
    assert len(result["values"]) == len(REFERENCE["values"]) == cases.STEPS + 1
    for step, (got, want) in enumerate(zip(result["values"], REFERENCE["values"])):
        for key, value in want.items():
            rtol = 1e-12 if key == "w64" else 1e-5
            np.testing.assert_allclose(got[key], value, rtol=rtol, err_msg=f"{key} at step {step}")


def test_shadow_variables_start_at_the_value_and_are_not_trainable() -> None:
    w = tf.Variable(np.array([3.0, -1.0], np.float32), name="w")
    with tf.device("/cpu:0"):
        v = tf.Variable(2.0, name="v")
    ema = tf.train.ExponentialMovingAverage(0.5)
    update = ema.apply([w, v])
    shadow = ema.average(w)
    assert shadow.name == "w/ExponentialMovingAverage:0" and ema.average_name(w) == "w/ExponentialMovingAverage"
    assert not shadow.trainable and shadow not in tf.trainable_variables() and shadow in tf.global_variables()
    assert ema.average(v).device == v.device == "/device:CPU:0"
    assert tf.get_collection(tf.GraphKeys.MOVING_AVERAGE_VARIABLES) == [w, v]
    assert ema.average(tf.Variable(1.0, name="other")) is None
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        np.testing.assert_array_equal(sess.run(shadow), [3.0, -1.0])
        sess.run(w.assign([1.0, 1.0]))
        sess.run(update)  # shadow -= (shadow - w) * (1 - 0.5)
        np.testing.assert_allclose(sess.run(shadow), [2.0, 0.0])


def test_apply_twice_reuses_the_shadow_and_num_updates_caps_the_decay() -> None:
    w = tf.Variable(0.0, name="w")
    n = tf.placeholder(tf.int64, [])
    ema = tf.train.ExponentialMovingAverage(0.999, num_updates=n)
    first = ema.apply([w])
    second = ema.apply([w])
    assert (first.name, second.name) == ("ExponentialMovingAverage", "ExponentialMovingAverage_1")
    assert len(tf.global_variables()) == 2
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(w.assign(10.0))
        sess.run(first, {n: 0})  # decay = min(0.999, 1/10) = 0.1
        np.testing.assert_allclose(sess.run(ema.average(w)), 9.0, rtol=1e-6)
        sess.run(first, {n: 10 ** 6})  # decay = 0.999
        np.testing.assert_allclose(sess.run(ema.average(w)), 9.0 + 0.001, rtol=1e-6)


def test_only_float_variables() -> None:
    i = tf.Variable(1, name="i")
    with pytest.raises(TypeError, match="must be half, float, or double: i:0"):
        tf.train.ExponentialMovingAverage(0.9).apply([i])


def test_saver_with_variables_to_restore_loads_the_averages(tmp_path: Path) -> None:
    w = tf.Variable(np.array([1.0, 2.0], np.float32), name="w")
    step = tf.train.get_or_create_global_step()
    train = tf.train.GradientDescentOptimizer(0.5).minimize(tf.reduce_sum(tf.square(w)), global_step=step)
    ema = tf.train.ExponentialMovingAverage(0.9, step)
    with tf.control_dependencies([train]):
        train = ema.apply(tf.trainable_variables())
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(3):
            sess.run(train)
        averaged, raw = sess.run([ema.average(w), w])
        path = tf.train.Saver().save(sess, str(tmp_path / "model"))
    assert not np.allclose(averaged, raw)

    tf.reset_default_graph()  # an evaluation graph: the model alone, loading the averages
    w = tf.Variable(np.zeros(2, np.float32), name="w")
    tf.train.get_or_create_global_step()
    restore = tf.train.ExponentialMovingAverage(0.9).variables_to_restore()
    assert restore == {"w/ExponentialMovingAverage": w, "global_step": tf.train.get_global_step()}
    with tf.Session() as sess:
        tf.train.Saver(restore).restore(sess, path)
        np.testing.assert_array_equal(sess.run(w), averaged)


def test_assign_moving_average_without_debias() -> None:
    from gpugraph.train.moving_averages import assign_moving_average

    v = tf.Variable(np.array([4.0, 0.0]), name="v")
    op = assign_moving_average(v, tf.constant([0.0, 2.0], tf.float64), 0.75, zero_debias=False)
    assert (op.op.type, op.op.name) == ("AssignSub", "AssignMovingAvg")
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        np.testing.assert_allclose(sess.run(op), [3.0, 0.5])  # v -= (v - value) * (1 - 0.75)


def test_signature_is_tf1s() -> None:
    params = inspect.signature(tf.train.ExponentialMovingAverage.__init__).parameters.values()
    assert [(p.name, p.default) for p in params][1:] == [
        ("decay", inspect.Parameter.empty), ("num_updates", None), ("zero_debias", False),
        ("name", "ExponentialMovingAverage")]
    assert tf.compat.v1.train.ExponentialMovingAverage is tf.train.ExponentialMovingAverage
