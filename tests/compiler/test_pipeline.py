"""Compiled plans: one build per (fetches, feeds) signature, pruning, folding, scheduling."""

from __future__ import annotations

import numpy as np
import pytest

import gpugraph as tf
from gpugraph.compiler import fold, schedule


@pytest.fixture(autouse=True)
def _fresh_graph():
    tf.reset_default_graph()
    yield


def test_plan_is_built_once_per_signature():
    x = tf.placeholder(tf.float32, shape=(None,), name="x")
    y = x * 2.0
    z = y + 1.0
    with tf.Session() as sess:
        assert sess.plan_builds == 0
        for i in range(5):
            np.testing.assert_array_equal(sess.run(y, {x: [float(i)]}), [2.0 * i])
        assert sess.plan_builds == 1
        sess.run([y], {x: [1.0]})  # a different fetch structure: a new plan
        assert sess.plan_builds == 2
        sess.run((y,), {x: [1.0]})
        assert sess.plan_builds == 3
        sess.run({"y": y}, {x: [1.0]})
        assert sess.plan_builds == 4
        sess.run([y, z], {x: [1.0]})
        sess.run([y, z], {x: [2.0, 3.0]})  # new values and shapes, same signature
        assert sess.plan_builds == 5
        sess.run(z, {y: [1.0]})  # different feeds: new plan
        assert sess.plan_builds == 6
        sess.run(y, {x: [1.0]})
        assert sess.plan_builds == 6


def test_cached_runs_do_not_compile(monkeypatch):
    x = tf.placeholder(tf.float32, shape=(), name="x")
    y = x + 1.0
    with tf.Session() as sess:
        sess.run(y, {x: 1.0})

        def refuse(*args, **kwargs):
            raise AssertionError("compile_plan called on a cached signature")

        monkeypatch.setattr("gpugraph.runtime.session.compile_plan", refuse)
        assert sess.run(y, {x: 2.0}) == 3.0


def test_plans_are_per_session():
    c = tf.constant(1.0) + 1.0
    s1, s2 = tf.Session(), tf.Session()
    s1.run(c)
    s1.run(c)
    s2.run(c)
    assert (s1.plan_builds, s2.plan_builds) == (1, 1)
    s1.close()
    s2.close()


def test_pruning_runs_only_what_the_fetches_need():
    v = tf.Variable(0, name="v")
    inc = tf.assign_add(v, 1)
    c = tf.constant(5)
    y = c * 2
    with tf.Session() as sess:
        sess.run(v.initializer)
        assert sess.run(y) == 10
        assert sess.run(v) == 0  # inc was not needed
        compiled = next(iter(sess._runs.values()))
        assert all(step.op is not inc.op for step in compiled.plan.steps)


def test_unneeded_placeholders_need_no_feed():
    x = tf.placeholder(tf.float32, name="unused")
    c = tf.constant(1.0) + 1.0
    with tf.Session() as sess:
        assert sess.run(c) == 2.0
    del x


def test_constants_are_folded_out_of_the_steps():
    a = tf.constant(np.ones((2, 2), np.float32))
    b = tf.matmul(a, a) + 1.0
    p = tf.placeholder(tf.float32, shape=(2, 2))
    out = b * p
    with tf.Session() as sess:
        np.testing.assert_array_equal(sess.run(out, {p: np.ones((2, 2))}), np.full((2, 2), 3.0))
        compiled = next(iter(sess._runs.values()))
        assert [s.op.type for s in compiled.plan.steps] == ["Mul"]


def test_shape_size_and_rank_of_a_known_shape_are_folded_out_of_the_steps():
    x = tf.placeholder(tf.float32, shape=(2, 3))
    facts = [tf.shape(x), tf.size(x), tf.rank(x)]
    partly = tf.placeholder(tf.float32, shape=(None, 3))
    with tf.Session() as sess:
        got = sess.run(facts, {x: np.zeros((2, 3))})
        assert not [s.op.type for s in next(iter(sess._runs.values())).plan.steps
                    if s.op.type in ("Shape", "Size", "Rank")]
        assert [g.tolist() for g in got] == [[2, 3], 6, 2] and [g.dtype for g in got] == [np.int32] * 3
        # a dimension known only at run time is read from the fed value
        np.testing.assert_array_equal(sess.run(tf.shape(partly), {partly: np.zeros((4, 3))}), [4, 3])


def test_stateful_ops_are_never_folded():
    r = tf.random_uniform([3])
    with tf.Session() as sess:
        a = sess.run(r)
        b = sess.run(r)
    assert not np.array_equal(a, b)


def test_reads_are_scheduled_before_in_place_writes():
    v = tf.Variable(1.0, name="v")
    read = v * 1.0
    upd = tf.assign(v, 5.0)
    with tf.Session() as sess:
        sess.run(v.initializer)
        r, u = sess.run([read, upd])
        assert r == 1.0 and u == 5.0


def test_a_read_made_after_the_write_still_sees_the_old_value():
    v = tf.Variable(1.0, name="v")
    upd = tf.assign(v, 5.0)
    read = v * 1.0  # created after the write: creation order alone would run the write first
    with tf.Session() as sess:
        sess.run(v.initializer)
        r, u = sess.run([read, upd])
        assert r == 1.0 and u == 5.0


def test_each_update_runs_as_soon_as_its_own_reads_are_done():
    """A group of assign_add(v, f(v)) keeps one temporary alive at a time, not one per variable."""
    variables = [tf.Variable(tf.zeros([4]), name=f"v{i}") for i in range(4)]
    updates = [tf.assign_add(v, v * 0.5) for v in variables]
    order = schedule.prune(updates, set())
    pos = {op: i for i, op in enumerate(order)}
    temps = [u.op.inputs[1].op for u in updates]
    for i in range(3):
        assert pos[updates[i].op] < pos[temps[i + 1]]


def test_a_write_waits_for_every_read_of_its_variable():
    v = tf.Variable(2.0, name="v")
    w = tf.Variable(3.0, name="w")
    upd_v = tf.assign(v, w * 10.0)
    late_read = tf.identity(v * 1.0)  # created after the write
    upd_w = tf.assign(w, 0.0)
    with tf.Session() as sess:
        sess.run([v.initializer, w.initializer])
        r, a, b = sess.run([late_read, upd_v, upd_w])
        assert (r, a, b) == (2.0, 30.0, 0.0)


def test_large_folded_values_are_not_kept_in_the_plan():
    v = tf.Variable(tf.zeros([1024, 1024]), name="big")  # 4 MiB: filled at run time, not folded
    small = tf.constant(2.0) * 3.0
    with tf.Session() as sess:
        sess.run(v.initializer)
        plan = next(iter(sess._runs.values())).plan
        assert all(getattr(x, "nbytes", 0) <= fold.FOLD_LIMIT_BYTES for x in plan.template)
        np.testing.assert_array_equal(sess.run(v), np.zeros([1024, 1024], np.float32))
        assert sess.run(small) == 6.0
        folded = next(c.plan for k, c in sess._runs.items() if c.plan.fetch_slots and not c.plan.steps)
        assert any(x is not None and float(x) == 6.0 for x in folded.template)


def test_a_folded_constant_copied_nowhere_else_is_dropped_from_the_template():
    a = tf.constant(np.arange(6.0))
    b = a * 2.0  # folded: a's value is only read while folding
    with tf.Session() as sess:
        np.testing.assert_array_equal(sess.run(b), np.arange(6.0) * 2.0)
        plan = next(iter(sess._runs.values())).plan
        kept = [x for x in plan.template if x is not None]
        assert len(kept) == 1 and np.array_equal(kept[0], np.arange(6.0) * 2.0)


def test_cycle_free_schedule_is_topological():
    a = tf.constant(1.0)
    b = a + 1.0
    c = b * a
    order = schedule.prune([c], set())
    pos = {op: i for i, op in enumerate(order)}
    assert pos[a.op] < pos[b.op] < pos[c.op]


def test_operation_fetch_returns_none_and_runs_side_effects():
    v = tf.Variable(0, name="v")
    inc = tf.assign_add(v, 3).op
    with tf.Session() as sess:
        sess.run(v.initializer)
        assert sess.run(inc) is None
        assert sess.run([inc, v])[0] is None
        assert sess.run(v) == 6


def test_feeding_one_output_of_a_multi_output_op_keeps_the_feed():
    x = tf.placeholder(tf.float32, shape=(4,), name="x")
    a, b = tf.split(x, 2)
    total = a + b
    with tf.Session() as sess:
        got_a, got_b, got_total = sess.run([a, b, total], {x: [1.0, 2.0, 3.0, 4.0], a: [10.0, 20.0]})
    assert list(got_a) == [10.0, 20.0]
    assert list(got_b) == [3.0, 4.0]
    assert list(got_total) == [13.0, 24.0]


def test_feeding_an_output_of_a_folded_multi_output_op():
    a, b = tf.split(tf.constant([1.0, 2.0, 3.0, 4.0]), 2)
    doubled = a * 2.0
    with tf.Session() as sess:
        assert list(sess.run(doubled, {a: [5.0, 6.0]})) == [10.0, 12.0]
        assert list(sess.run([doubled, b], {a: [5.0, 6.0]})[0]) == [10.0, 12.0]


def test_folded_constants_are_read_only_and_fetches_are_writable():
    c = tf.constant([1.0, 2.0]) * 3.0
    with tf.Session() as sess:
        out = sess.run(c)
        out[0] = 0.0  # a private copy
        assert list(sess.run(c)) == [3.0, 6.0]
        compiled = next(iter(sess._runs.values()))
        folded = [v for v in compiled.plan.template if v is not None]
        assert folded and all(not v.flags.writeable for v in folded)


def test_fetches_of_fresh_stateful_outputs_are_not_copied_but_session_storage_is():
    v = tf.Variable(np.ones(3, np.float32), name="v")
    r = tf.random_uniform([4], seed=1)  # a new array each run: handed over as it is
    with tf.Session() as sess:
        sess.run(v.initializer)
        fetched = sess.run([v, r])
        compiled = next(c for c in sess._runs.values() if len(c.plan.fetch_slots) == 2)
        assert compiled.plan.copy_on_fetch == (True, False)
        fetched[0][:] = 5.0  # the user's copy: the variable keeps its value
        np.testing.assert_array_equal(sess.run(v), np.ones(3, np.float32))


def test_a_rank_0_constant_read_only_beside_scalars_is_a_numpy_scalar_in_the_template():
    """Scalar arithmetic between NumPy scalars is cheap, but a scalar beside an array costs more than a 0-d
    array: a constant read with a known array stays a 0-d array."""
    x = tf.placeholder(tf.float32)  # unknown rank: may be a scalar
    a = tf.placeholder(tf.float32, [3])
    y = x * 3.0
    z = a * 5.0
    with tf.Session() as sess:
        got_y, got_z = sess.run([y, z], {x: 2.0, a: np.ones(3, np.float32)})
        template = next(iter(sess._runs.values())).plan.template
    assert got_y == np.float32(6.0) and type(got_y) is np.float32
    np.testing.assert_array_equal(got_z, np.full(3, 5.0, np.float32))
    three = [v for v in template if isinstance(v, (np.generic, np.ndarray)) and np.ndim(v) == 0 and v == 3.0]
    five = [v for v in template if isinstance(v, (np.generic, np.ndarray)) and np.ndim(v) == 0 and v == 5.0]
    assert [type(v) for v in three] == [np.float32]
    assert [type(v) for v in five] == [np.ndarray]


@pytest.mark.parametrize("enabled", [True, False])
def test_compiling_runs_no_cyclic_collection_and_leaves_the_collector_as_it_was(enabled):
    import gc

    from gpugraph.compiler.pipeline import compile_plan

    x = tf.placeholder(tf.float32, [4], name="x")
    y = x
    for _ in range(1500):  # 3000 steps: tens of thousands of small objects, dozens of collections' worth
        y = y * 1.0001 + 0.5
    starts = []

    def count(phase, info):
        if phase == "start":
            starts.append(info["generation"])
    was = gc.isenabled()
    with tf.Session() as sess:
        (gc.enable if enabled else gc.disable)()
        gc.callbacks.append(count)
        try:
            plan = compile_plan([y], [x], sess)
            assert gc.isenabled() is enabled
        finally:
            gc.callbacks.remove(count)
            (gc.enable if was else gc.disable)()
    # none while compiling; enabled again, the collector may run once on what the compile made
    assert len(starts) <= (1 if enabled else 0)
    slots = list(plan.template)
    slots[plan.feeds[0].slot] = np.ones(4, np.float32)
    plan.runner(slots)
    want = np.ones(4, np.float32)
    for _ in range(1500):
        want = want * np.float32(1.0001) + np.float32(0.5)
    np.testing.assert_allclose(slots[plan.fetch_slots[0]], want, rtol=1e-5)


def test_overlapping_compiles_resume_the_collector_when_the_last_ends():
    import gc

    from gpugraph.compiler.pipeline import without_cyclic_gc

    was = gc.isenabled()
    gc.enable()
    try:
        first, second = without_cyclic_gc(), without_cyclic_gc()  # as two threads' compiles would
        first.__enter__()
        second.__enter__()
        assert not gc.isenabled()
        first.__exit__(None, None, None)
        assert not gc.isenabled()  # the second compile is still running
        second.__exit__(None, None, None)
        assert gc.isenabled()
        gc.disable()  # the user's choice: kept
        with without_cyclic_gc():
            pass
        assert not gc.isenabled()
    finally:
        (gc.enable if was else gc.disable)()
