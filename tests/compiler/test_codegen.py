"""The plan runner: compiled chunks, the interpreted first run of large plans, and errors naming the step."""

from __future__ import annotations

import numpy as np
import pytest

import gpugraph as tf
from gpugraph.compiler import codegen as runner_lib


@pytest.fixture(autouse=True)
def _fresh_graph(monkeypatch):
    tf.reset_default_graph()
    monkeypatch.setenv("GPUGRAPH_FUSION", "0")  # the runner is tested step by step: no fused regions
    yield


def chain(n: int):
    """x -> n steps of (y * 2 - 1): a plan of 2n steps whose value a loop in NumPy gives too."""
    x = tf.placeholder(tf.float64, [3], name="x")
    y = x
    for i in range(n):
        y = tf.subtract(y * 2.0, 1.0, name=f"step{i}")
    return x, y


def numpy_chain(x: np.ndarray, n: int) -> np.ndarray:
    for _ in range(n):
        x = x * 2.0 - 1.0
    return x


@pytest.fixture
def small_limits(monkeypatch):
    """Plans of a few steps behave as large ones: interpreted first, then compiled in chunks of 3."""
    monkeypatch.setattr(runner_lib, "EAGER_STEPS", 0)
    monkeypatch.setattr(runner_lib, "CHUNK_STEPS", 3)


def test_a_large_plan_runs_interpreted_then_compiled_with_the_same_values(small_limits):
    x, y = chain(5)
    feed = np.array([0.5, 1.0, 2.0])
    with tf.Session() as sess:
        first = sess.run(y, {x: feed})
        plan = next(iter(sess._runs.values())).plan
        assert plan.runner._chunks == [None] * 4  # 10 steps in chunks of 3, all interpreted at first
        second = sess.run(y, {x: feed})
        assert [c is not None for c in plan.runner._chunks] == [True, False, False, False]  # one a run
        third = sess.run(y, {x: feed * 2})
        for _ in range(3):
            assert np.array_equal(sess.run(y, {x: feed}), first)
        assert plan.runner.compiled
    np.testing.assert_array_equal(first, numpy_chain(feed, 5))
    np.testing.assert_array_equal(second, first)
    np.testing.assert_array_equal(third, numpy_chain(feed * 2, 5))


def test_a_small_plan_is_compiled_before_its_first_run():
    x, y = chain(2)
    with tf.Session() as sess:
        sess.run(y, {x: np.zeros(3)})
        plan = next(iter(sess._runs.values())).plan
        assert plan.runner.compiled and len(plan.runner._chunks) == 1


@pytest.mark.parametrize("run_index", [0, 1])  # 0: the interpreted run; 1: compiled chunks
def test_an_error_names_its_node_in_either_mode(small_limits, run_index):
    x = tf.placeholder(tf.float32, [None], name="x")
    a = x * 2.0
    b = a + 1.0
    bad = tf.reshape(b, [2, 2], name="bad_reshape")  # fails for any length but 4
    c = bad * 3.0
    with tf.Session() as sess:
        for _ in range(run_index * 3):  # enough runs to compile every chunk
            sess.run(c, {x: np.ones(4, np.float32)})
        with pytest.raises(tf.errors.InvalidArgumentError) as info:
            sess.run(c, {x: np.ones(3, np.float32)})
    assert "bad_reshape" in str(info.value)
    assert info.value.op is not None and info.value.op.name == "bad_reshape"


def test_an_error_inside_a_loop_body_names_the_inner_node(small_limits):
    x = tf.placeholder(tf.float32, [], name="x")

    def body(i, v):
        with tf.control_dependencies([tf.debugging.assert_positive(v, message="v went negative")]):
            return i + 1, v - 1.0
    out = tf.while_loop(lambda i, v: i < 3, body, [tf.constant(0), x])
    with tf.Session() as sess:
        assert float(sess.run(out[1], {x: 5.0})) == 2.0
        with pytest.raises(tf.errors.InvalidArgumentError) as info:
            sess.run(out[1], {x: 1.0})
    assert "v went negative" in str(info.value)


def test_traced_runs_keep_the_plans_own_hooks_and_time_every_step(small_limits):
    x, y = chain(4)
    with tf.Session() as sess:
        metadata = tf.RunMetadata()
        value = sess.run(y, {x: np.ones(3)}, options=tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE),
                         run_metadata=metadata)
    np.testing.assert_array_equal(value, numpy_chain(np.ones(3), 4))
    names = [ns.node_name for dev in metadata.step_stats.dev_stats for ns in dev.node_stats]
    assert [n for n in names if n.startswith("step")] == [f"step{i}" for i in range(4)]
