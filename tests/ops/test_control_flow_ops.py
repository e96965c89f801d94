"""no_op, group and tuple: what runs, in which order, seen through assign_add counters."""

from __future__ import annotations

from typing import Any, Iterator

import numpy as np
import pytest

import gpugraph as tf


@pytest.fixture(autouse=True)
def graph() -> Iterator[tf.Graph]:
    g = tf.Graph()
    with g.as_default():
        yield g


def counters(n: int = 2) -> tuple[list[Any], list[tf.Tensor]]:
    vs = [tf.Variable(0, name=f"c{i}") for i in range(n)]
    incs = [tf.assign_add(v, 10**i) for i, v in enumerate(vs)]
    return vs, incs


def session() -> tf.Session:
    s = tf.Session()
    s.run(tf.global_variables_initializer())
    return s


def test_group_runs_every_input_once_per_run() -> None:
    vs, incs = counters(3)
    grp = tf.group(incs[0], [incs[1], incs[2].op])
    assert isinstance(grp, tf.Operation) and grp.type == "NoOp" and grp.name == "group_deps"
    assert not grp.outputs and {op.name for op in grp.control_inputs} == {i.op.name for i in incs}
    with session() as s:
        assert s.run(grp) is None
        assert s.run(vs) == [1, 10, 100]
        s.run(grp)
        assert s.run(vs) == [2, 20, 200]


def test_group_names_and_inputs() -> None:
    _, incs = counters(1)
    assert tf.group(incs[0], name="train").name == "train"
    empty = tf.group()
    assert empty.name == "group_deps" and empty.control_inputs == []
    with session() as s:
        assert s.run(empty) is None
    with pytest.raises(TypeError, match="group"):
        tf.group(3)


def test_no_op_runs_its_control_dependencies() -> None:
    vs, incs = counters(2)
    plain = tf.no_op()
    assert plain.name == "NoOp" and plain.type == "NoOp" and not plain.outputs
    with tf.control_dependencies([incs[0]]):
        after = tf.no_op(name="after")
    with session() as s:
        s.run(plain)
        assert s.run(vs) == [0, 0]
        s.run(after)
        s.run(after)
        assert s.run(vs) == [2, 0]


def test_reads_made_under_control_dependencies_see_the_update() -> None:
    vs, incs = counters(1)
    with tf.control_dependencies([incs[0]]):
        read = tf.identity(vs[0])
    with session() as s:
        assert [s.run(read) for _ in range(3)] == [1, 2, 3]


def test_control_dependencies_none_clears_outer_dependencies() -> None:
    vs, incs = counters(2)
    with tf.control_dependencies([incs[0]]):
        with tf.control_dependencies(None):
            free = tf.identity(vs[1], name="free")
            with tf.control_dependencies([incs[1]]):
                only_inner = tf.no_op(name="inner")
        bound = tf.identity(vs[1], name="bound")
    assert free.op.control_inputs == [] and [o.name for o in only_inner.control_inputs] == [incs[1].op.name]
    assert [o.name for o in bound.op.control_inputs] == [incs[0].op.name]
    with session() as s:
        s.run(free)
        assert s.run(vs) == [0, 0]
        s.run(only_inner)
        assert s.run(vs) == [0, 10]
        s.run(bound)
        assert s.run(vs) == [1, 10]


def test_tuple_outputs_wait_for_all_inputs_and_control_inputs() -> None:
    vs, incs = counters(3)
    a, b = tf.constant(np.array([1.0, 2.0])), tf.constant(3.0)
    out = tf.tuple([a, incs[1], None, b], control_inputs=[incs[0], incs[2].op])
    assert out[2] is None
    assert [t.op.name for t in (out[0], out[1], out[3])] == [
        "tuple/control_dependency", "tuple/control_dependency_1", "tuple/control_dependency_2"]
    gate = out[0].op.control_inputs[0]
    assert gate.type == "NoOp" and {o.name for o in gate.control_inputs} == {
        a.op.name, b.op.name, *(i.op.name for i in incs)}
    with session() as s:
        got = s.run(out[0])  # fetching one output runs every gating op
        np.testing.assert_array_equal(got, [1.0, 2.0])
        assert s.run(vs) == [1, 10, 100]
        assert s.run(out[3]) == 3.0
        assert s.run(vs) == [2, 20, 200]


def test_tuple_of_operations_and_errors() -> None:
    vs, incs = counters(2)
    out = tf.tuple([incs[0].op, incs[1]], name="t")
    assert isinstance(out[0], tf.Operation) and out[0].type == "NoOp"
    assert out[1].op.name == "t/control_dependency"
    with session() as s:
        s.run(out[0])
        assert s.run(vs) == [1, 10]
    with pytest.raises(ValueError, match="at least one Tensor"):
        tf.tuple([None])
    with pytest.raises(TypeError, match="Control input"):
        tf.tuple([incs[0]], control_inputs=[3])
