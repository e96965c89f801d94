"""tf.graph_util: freezing a trained graph (convert_variables_to_constants), extract_sub_graph,
remove_training_nodes and must_run_on_cpu."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import gpugraph as tf

X = np.array([[1.0, 2.0], [-1.0, 0.5], [0.0, 3.0]], np.float32)
Y = np.array([[1.0], [0.0], [2.0]], np.float32)


def _train():
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [None, 2], name="x")
        y = tf.placeholder(tf.float32, [None, 1], name="y")
        w = tf.get_variable("w", [2, 1], initializer=tf.constant_initializer([[0.3], [-0.2]]))
        b = tf.get_variable("b", [1], initializer=tf.zeros_initializer())
        pred = tf.nn.relu(tf.matmul(x, w) + b, name="pred")
        loss = tf.reduce_mean(tf.square(pred - y), name="loss")
        train = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
        sess = tf.Session(graph=g)
        sess.run(tf.global_variables_initializer())
        for _ in range(3):
            sess.run(train, {x: X, y: Y})
    return g, sess


def test_frozen_graph_written_imported_and_run_gives_the_trained_values(tmp_path: Path) -> None:
    g, sess = _train()
    with sess:
        w, b = sess.run(["w:0", "b:0"])
        want = sess.run("pred:0", {"x:0": X})
        frozen = tf.graph_util.convert_variables_to_constants(sess, g.as_graph_def(), ["pred"])
    ops = {n.name: n.op for n in frozen.node}
    assert ops["w"] == "Const" and ops["b"] == "Const" and ops["w/read"] == "Identity"
    assert not {"VariableV2", "Assign", "ApplyGradientDescent"} & set(ops.values())
    assert "loss" not in ops  # pruned to the output
    path = tf.train.write_graph(frozen, str(tmp_path), "frozen.pb", as_text=False)
    loaded = tf.GraphDef.FromString(Path(path).read_bytes())
    with tf.Graph().as_default():
        (pred,) = tf.import_graph_def(loaded, return_elements=["pred:0"], name="")
        with tf.Session() as s:
            got = s.run(pred, {"x:0": X})
    np.testing.assert_allclose(got, np.maximum(X @ w + b, 0.0), rtol=1e-6)  # NumPy on the trained values
    np.testing.assert_array_equal(got, want)


def test_whitelist_and_blacklist() -> None:
    g, sess = _train()
    with sess:
        only_w = tf.graph_util.convert_variables_to_constants(sess, g.as_graph_def(), ["pred"],
                                                              variable_names_whitelist=["w"])
        not_w = tf.graph_util.convert_variables_to_constants(sess, g.as_graph_def(), ["pred"],
                                                             variable_names_blacklist=["w"])
    assert {n.name: n.op for n in only_w.node}["b"] == "VariableV2"
    assert {n.name: n.op for n in not_w.node}["w"] == "VariableV2"
    assert {n.name: n.op for n in not_w.node}["b"] == "Const"


def _chain():
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [2], name="x")
        a = tf.identity(x, name="a")
        tf.check_numerics(a, "bad", name="check")
        d = tf.identity(a * 2.0, name="d")
        with tf.control_dependencies([d]):
            tf.identity(x, name="e")
        tf.constant(1.0, name="unused")
    return g.as_graph_def()


def test_extract_sub_graph_keeps_what_the_outputs_need_in_order() -> None:
    sub = tf.graph_util.extract_sub_graph(_chain(), ["d"])
    assert [n.name for n in sub.node] == ["x", "a", "mul/y", "mul", "d"]
    assert sub.versions == _chain().versions
    with pytest.raises(TypeError, match="dest_nodes must be an iterable of strings"):
        tf.graph_util.extract_sub_graph(_chain(), "d")
    with pytest.raises(TypeError, match="graph_def must be a graph_pb2.GraphDef proto"):
        tf.graph_util.extract_sub_graph("not a graph", ["d"])
    with pytest.raises(AssertionError, match="nope is not in graph"):
        tf.graph_util.extract_sub_graph(_chain(), ["nope"])


def test_remove_training_nodes_splices_identities_and_check_numerics() -> None:
    out = tf.graph_util.remove_training_nodes(_chain())
    nodes = {n.name: list(n.input) for n in out.node}
    assert "check" not in nodes and "a" not in nodes
    assert nodes["mul"] == ["x", "mul/y"]
    assert nodes["e"] == ["x", "^d"]
    assert "d" in nodes and "e" in nodes  # d is a control input; e has one
    kept = tf.graph_util.remove_training_nodes(_chain(), protected_nodes=["a"])
    assert {n.name: list(n.input) for n in kept.node}["mul"] == ["a", "mul/y"]


def test_must_run_on_cpu() -> None:
    g = tf.Graph()
    with g.as_default():
        i = tf.constant(1, name="i")
        tf.constant(1.0, name="f")
        c = tf.cast(i, tf.float32, name="c")
        v = tf.Variable(1.0, name="v")
    nodes = {n.name: n for n in g.as_graph_def().node}
    assert tf.graph_util.must_run_on_cpu(nodes["i"]) and not tf.graph_util.must_run_on_cpu(nodes["f"])
    assert tf.graph_util.must_run_on_cpu(c.op)
    assert not tf.graph_util.must_run_on_cpu(nodes["v"])
    assert tf.graph_util.must_run_on_cpu(v.op, pin_variables_on_cpu=True)
