"""Graph -> GraphDef for TensorBoard: names, types, inputs, control inputs, devices, attrs, shapes."""

from __future__ import annotations

import numpy as np
import pytest

import gpugraph as tf
from gpugraph.summary.graph_def import dtype_enum, graph_to_graph_def


def _nodes(graph: tf.Graph) -> dict:
    return {n.name: n for n in graph_to_graph_def(graph).node}


def test_nodes_follow_the_operations() -> None:
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [None, 3], name="X")
        c = tf.constant(np.arange(6, dtype=np.float32).reshape(3, 2), name="c")
        with tf.device("/cpu:0"):
            y = tf.matmul(x, c, name="y")
        with tf.control_dependencies([y.op]):
            z = tf.identity(x, name="z")
        parts = tf.split(x, 3, axis=1, name="parts")
        tf.add(parts[1], parts[2], name="sum12")
    nodes = _nodes(g)
    assert list(nodes) == [op.name for op in g.get_operations()]
    assert nodes["y"].op == "MatMul" and list(nodes["y"].input) == ["X", "c"]
    assert nodes["y"].device == "/device:CPU:0" and nodes["X"].device == ""
    assert list(nodes["z"].input) == ["X", "^y"]
    assert list(nodes["sum12"].input) == ["parts:1", "parts:2"]
    assert z.op.type == nodes["z"].op


def test_attrs_types_shapes_and_constant_values() -> None:
    g = tf.Graph()
    with g.as_default():
        tf.placeholder(tf.float64, [None, 3], name="X")
        tf.placeholder(tf.int32, None, name="any")
        values = np.array([[1.5, 2.0], [3.0, -4.0]], np.float32)
        c = tf.constant(values, name="c")
        tf.square(c, name="sq")
        tf.summary.scalar("loss", tf.reduce_sum(c))
    nodes = _nodes(g)
    x = nodes["X"]
    assert x.attr["dtype"].type == 2  # DT_DOUBLE
    assert [d.size for d in x.attr["shape"].shape.dim] == [-1, 3]
    assert nodes["any"].attr["shape"].shape.unknown_rank
    assert nodes["any"].attr["_output_shapes"].list.shape[0].unknown_rank
    tensor = nodes["c"].attr["value"].tensor
    assert tensor.dtype == 1 and [d.size for d in tensor.tensor_shape.dim] == [2, 2]
    np.testing.assert_array_equal(np.frombuffer(tensor.tensor_content, "<f4").reshape(2, 2), values)
    assert nodes["sq"].attr["T"].type == 1  # added: the op's input type
    assert [d.size for d in nodes["sq"].attr["_output_shapes"].list.shape[0].dim] == [2, 2]
    assert nodes["loss"].attr["tag"].s == b"loss"


def test_variables_and_their_ref_inputs() -> None:
    g = tf.Graph()
    with g.as_default():
        w = tf.Variable(tf.zeros([2]), name="w")
        tf.assign(w, [1.0, 2.0], name="set_w")
    nodes = _nodes(g)
    assert nodes["set_w"].input[0] == "w"
    assert any(n.op == "VariableV2" for n in nodes.values())
    assert graph_to_graph_def(g, add_shapes=False).node[0].attr.get("_output_shapes") is None


@pytest.mark.parametrize("dtype, enum", [(tf.float32, "DT_FLOAT"), (tf.int64, "DT_INT64"),
                                         (tf.float32_ref, "DT_FLOAT_REF"), (tf.string, "DT_STRING"),
                                         (tf.bool, "DT_BOOL"), (tf.uint8, "DT_UINT8")])
def test_dtype_enums(dtype: tf.DType, enum: str) -> None:
    assert dtype_enum(dtype) == enum


def test_graph_def_round_trips_through_serialization() -> None:
    from tensorboardX.proto import graph_pb2

    g = tf.Graph()
    with g.as_default():
        tf.reduce_mean(tf.square(tf.placeholder(tf.float32, [4]) - 1.0), name="mse")
    proto = graph_to_graph_def(g)
    assert graph_pb2.GraphDef.FromString(proto.SerializeToString()) == proto
