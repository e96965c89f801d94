"""Operation.node_def, tf.NodeDef and Graph.as_graph_def, against TF 2.21's text protos for the same graph."""

from __future__ import annotations

import pytest

import gpugraph as tf


@pytest.fixture()
def graph():
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [2, 4], name="x")
        a, b = tf.split(x, 2, axis=1, name="sp")
        c = tf.constant(1.0, name="c")
        with tf.control_dependencies([c]):
            tf.identity(b, name="y")
        with tf.device("/cpu:0"):
            tf.identity(a, name="z")
    return g


# str(op.node_def) in TF 2.21 (tf.compat.v1, graph mode) for the same program
TF_Y = ('name: "y"\nop: "Identity"\ninput: "sp:1"\ninput: "^c"\nattr {\n  key: "T"\n  value {\n'
        '    type: DT_FLOAT\n  }\n}\n')
TF_Z = ('name: "z"\nop: "Identity"\ninput: "sp"\ndevice: "/device:CPU:0"\nattr {\n  key: "T"\n  value {\n'
        '    type: DT_FLOAT\n  }\n}\n')


def test_node_def_text_matches_tf(graph) -> None:
    y, z = graph.get_operation_by_name("y"), graph.get_operation_by_name("z")
    assert str(y.node_def) == TF_Y
    assert str(z.node_def) == TF_Z
    assert str(y) == TF_Y  # TF: str(op) is its NodeDef's text


def test_node_def_fields(graph) -> None:
    nd = graph.get_operation_by_name("y").node_def
    assert isinstance(nd, tf.NodeDef)
    assert (nd.name, nd.op, nd.device, list(nd.input)) == ("y", "Identity", "", ["sp:1", "^c"])
    x = graph.get_operation_by_name("x").node_def
    assert sorted(x.attr.keys()) == ["dtype", "shape"]  # TF also adds its own _has_manual_control_dependencies
    assert x.attr["dtype"].type == 1  # DT_FLOAT
    assert [d.size for d in x.attr["shape"].shape.dim] == [2, 4]


def test_nodedef_constructible() -> None:
    # TF: str(tf.NodeDef(name="n", op="NoOp", input=["a", "^b"]))
    n = tf.NodeDef(name="n", op="NoOp", input=["a", "^b"])
    assert str(n) == 'name: "n"\nop: "NoOp"\ninput: "a"\ninput: "^b"\n'
    assert tf.NodeDef.FromString(n.SerializeToString()) == n
    assert tf.compat.v1.NodeDef is tf.NodeDef


def test_graph_def_nodes_equal_node_defs(graph) -> None:
    gd = graph.as_graph_def()
    ops = {op.name: op for op in graph.get_operations()}
    assert [n.name for n in gd.node if n.name in ops] == list(ops)
    assert [n.name for n in gd.node if n.name not in ops] == ["sp/split_dim"]  # TF's Split takes its axis as input
    for node in gd.node:
        if node.name in ops and node.op != "Split":
            assert node == ops[node.name].node_def
    shaped = graph.as_graph_def(add_shapes=True)
    y = [n for n in shaped.node if n.name == "y"][0]
    assert [d.size for d in y.attr["_output_shapes"].list.shape[0].dim] == [2, 2]
