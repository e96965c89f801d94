"""Function graphs of control flow: captures of outer tensors, names that continue the outer scope,
variables lifted to the outermost graph, graph mismatches, and meta-graph export."""

from __future__ import annotations

import pytest

import gpugraph as tf
from gpugraph.framework.func_graph import FuncGraph


def _body_graph(loop_op: tf.Operation) -> FuncGraph:
    return loop_op.get_attr("body").graph


def test_outer_tensors_are_captured_once_as_placeholders_and_fed_as_extra_inputs() -> None:
    g = tf.Graph()
    with g.as_default():
        w = tf.constant(2.0, name="w")
        seen = {}

        def body(v):
            seen["product"] = v * w
            seen["again"] = v + w
            return seen["product"] + seen["again"]

        tf.while_loop(lambda v: v < 10.0, body, [tf.constant(1.0)])
        loop = g.get_operation_by_name("while/While")
        inner = _body_graph(loop)
        assert seen["product"].graph is inner and seen["product"].op.name == "while/mul"
        assert inner.outer_captures() == [w]
        assert w in loop.inputs  # the captured tensor is an input of the loop op
        placeholder = inner.captures[w]
        assert placeholder.op.type == "Placeholder" and placeholder in seen["again"].op.inputs


def test_nested_functions_capture_through_each_level() -> None:
    g = tf.Graph()
    with g.as_default():
        w = tf.constant(3.0, name="w")

        def outer_body(i, s):
            inner = tf.while_loop(lambda j, t: j < 2, lambda j, t: (j + 1, t * w), [0, s])[1]
            return i + 1, inner

        out = tf.while_loop(lambda i, s: i < 2, outer_body, [0, tf.constant(1.0)])[1]
        outer_loop = g.get_operation_by_name("while/While")
        assert _body_graph(outer_loop).outer_captures() == [w]
        with tf.Session(graph=g) as sess:
            assert sess.run(out) == 81.0


def test_variables_made_while_tracing_belong_to_the_outermost_graph_with_tf1_names() -> None:
    g = tf.Graph()
    with g.as_default():
        def body(v):
            with tf.variable_scope("layer"):
                k = tf.get_variable("k", [], initializer=tf.constant_initializer(2.0))
            plain = tf.Variable(1.0)
            return v * k + plain

        tf.while_loop(lambda v: v < 5.0, body, [tf.constant(1.0)])
        names = sorted(v.name for v in tf.global_variables())
        assert names == ["layer/k:0", "while/Variable:0"]
        assert all(v.graph is g for v in tf.global_variables())
        assert g.get_operation_by_name("layer/k").graph is g


def test_tensors_of_an_unrelated_graph_are_still_refused() -> None:
    other = tf.Graph()
    with other.as_default():
        foreign = tf.constant(1.0)
    g = tf.Graph()
    with g.as_default():
        with pytest.raises(ValueError, match="must be from the same graph"):
            tf.while_loop(lambda v: v < 5.0, lambda v: v + foreign, [tf.constant(1.0)])


def test_a_meta_graph_with_control_flow_rebuilds_the_function_graphs() -> None:
    g = tf.Graph()
    with g.as_default():
        tf.cond(tf.constant(True), lambda: tf.constant(1.0), lambda: tf.constant(2.0))
        meta = tf.train.export_meta_graph(graph=g)
    with tf.Graph().as_default() as fresh:
        tf.train.import_meta_graph(meta)
        branch = fresh.get_operation_by_name("cond/If").get_attr("then_branch")
        assert isinstance(branch.graph, FuncGraph) and branch.graph.outer_graph is fresh
        with tf.Session() as sess:
            assert sess.run("cond/Merge:0") == 1.0


def test_control_dependencies_on_outer_values_inside_a_body() -> None:
    g = tf.Graph()
    with g.as_default():
        x = tf.constant(1.0)
        w = tf.Variable(2.0)

        def body(v):
            with tf.control_dependencies([x, w, tf.no_op()]):
                return v * w

        out = tf.while_loop(lambda v: v < 5.0, body, [x])
        with tf.Session(graph=g) as sess:
            sess.run(tf.global_variables_initializer())
            assert sess.run(out) == 8.0
