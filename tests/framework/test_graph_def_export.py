"""Graph.as_graph_def: TF's node layout (checked against the GraphDef TensorFlow writes for the same program),
versions, from_version, and round trips through bytes and import_graph_def."""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path

import numpy as np
import pytest

import gpugraph as tf

DATA = Path(__file__).resolve().parent / "data"
sys.path.insert(0, str(DATA))

from graph_def_cases import FEED, FETCHES, build  # noqa: E402

REFERENCE = json.loads((DATA / "graph_def_reference.json").read_text(encoding="utf-8"))
# Attrs TF 2.x added to MatMul after TF1 (defaults false): not written by gpugraph.
NEWER_TF_ATTRS = {"grad_a", "grad_b"}


def _layout(node) -> tuple:
    keys = sorted(k for k in node.attr if not k.startswith("_"))
    types = {k: node.attr[k].type for k in keys if node.attr[k].WhichOneof("value") == "type"}
    return list(node.input), keys, types


def test_node_layout_matches_tensorflow() -> None:
    g = tf.Graph()
    with g.as_default():
        build(tf)
    nodes = {n.name: n for n in g.as_graph_def().node}
    for name, expected in REFERENCE["layout"].items():
        assert name in nodes, name
        node = nodes[name]
        assert {"AddV2": "Add"}.get(expected["op"], expected["op"]) == node.op, name
        keys = [k for k in expected["attr_keys"] if k not in NEWER_TF_ATTRS]
        types = {k: v for k, v in expected["types"].items() if k not in NEWER_TF_ATTRS}
        inputs = expected["input"]
        if name == "w/Assign":  # the initial value's Const is named differently; the ref input is the same
            inputs = ["w", node.input[1]]
        if name == "mean":  # the unnamed inner softmax's name is not compared
            inputs = [node.input[0], "mean/reduction_indices"]
        if name == "double_w":
            inputs = ["w", node.input[1]]
        assert _layout(node) == (inputs, keys, types), name


def test_constant_inputs_hold_the_attr_values() -> None:
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [2, 3], name="x")
        tf.reduce_max(x, axis=[0, 1], name="m")
        tf.transpose(x, [1, 0], name="t")
    nodes = {n.name: n for n in g.as_graph_def().node}
    from gpugraph.framework.graph_def import ndarray_of

    np.testing.assert_array_equal(ndarray_of(nodes["m/reduction_indices"].attr["value"].tensor), [0, 1])
    np.testing.assert_array_equal(ndarray_of(nodes["t/perm"].attr["value"].tensor), [1, 0])
    assert nodes["m"].attr["keep_dims"].b is False
    assert list(nodes["m"].input) == ["x", "m/reduction_indices"]


def test_versions_from_version_and_shapes() -> None:
    g = tf.Graph()
    with g.as_default():
        a = tf.constant(1.0, name="a")
        version = g.version
        tf.add(a, 2.0, name="b")
    full = g.as_graph_def()
    assert full.versions.producer > 0
    assert [n.name for n in full.node] == ["a", "b/y", "b"]
    assert [n.name for n in g.as_graph_def(from_version=version).node] == ["b/y", "b"]
    shaped = g.as_graph_def(add_shapes=True)
    assert len(shaped.node[2].attr["_output_shapes"].list.shape) == 1
    assert isinstance(full, tf.GraphDef) and tf.compat.v1.GraphDef is tf.GraphDef


def test_attrs_without_tf_form_survive_the_round_trip() -> None:
    # gpugraph-only attrs (None, Python floats, slices) go into '_gpugraph_attrs' and come back exactly
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [None, 4], name="x")
        y = tf.nn.leaky_relu(x, alpha=0.1, name="leaky")
        z = tf.reduce_sum(y, name="all")  # axes=None: written as TF's reduction_indices [0, 1]
        s = tf.nn.softmax(tf.reshape(y, [-1, 2, 2]), axis=1, name="soft1")  # TF's Softmax has no axis
    data = g.as_graph_def().SerializeToString()
    xv = np.array([[1.0, -2.0, 3.0, -4.0]], np.float32)
    with tf.Session(graph=g) as sess:
        want = sess.run([y, z, s], {x: xv})
    h = tf.Graph()
    with h.as_default():
        outs = tf.import_graph_def(tf.GraphDef.FromString(data), return_elements=["leaky:0", "all:0", "soft1:0"])
        assert outs[0].op.get_attr("alpha") == 0.1
        with tf.Session() as sess:
            got = sess.run(outs, {"import/x:0": xv})
    expected_leaky = np.where(xv > 0, xv, 0.1 * xv)
    np.testing.assert_allclose(got[0], expected_leaky, rtol=1e-6)
    soft = np.exp(expected_leaky.reshape(-1, 2, 2))
    np.testing.assert_allclose(got[2], soft / soft.sum(axis=1, keepdims=True), rtol=1e-6)
    for a, b in zip(got, want):
        np.testing.assert_array_equal(a, b)


def test_full_round_trip_runs_the_same() -> None:
    g = tf.Graph()
    with g.as_default():
        build(tf)
    data = g.as_graph_def().SerializeToString()
    h = tf.Graph()
    with h.as_default():
        tf.import_graph_def(tf.GraphDef.FromString(data), name="")
        with tf.Session() as sess:
            sess.run("init")
            sess.run("double_w")
            got = sess.run(FETCHES, {"x:0": FEED})
    for name, value in zip(FETCHES, got):
        np.testing.assert_allclose(value, REFERENCE["values"][name], rtol=1e-6, err_msg=name)
    # folded Consts (axes, shapes) are made only where a tensor needs them
    assert "flat/shape" not in [op.name for op in h.get_operations()]


def test_session_graph_def_and_tf_reads_our_bytes() -> None:
    g = tf.Graph()
    with g.as_default():
        tf.placeholder(tf.float32, [2], name="x")
    with tf.Session(graph=g) as sess:
        assert isinstance(sess.graph_def, tf.GraphDef)
        assert [n.name for n in sess.graph_def.node] == ["x"]
    parsed = tf.GraphDef()
    parsed.ParseFromString(base64.b64decode(base64.b64encode(g.as_graph_def().SerializeToString())))
    assert parsed == g.as_graph_def()


@pytest.mark.parametrize("as_text", [True, False])
def test_write_graph_writes_the_graph_def(tmp_path: Path, as_text: bool) -> None:
    from google.protobuf import text_format

    g = tf.Graph()
    with g.as_default():
        tf.reduce_sum(tf.placeholder(tf.float32, [2, 2], name="x"), axis=0, name="s")
    path = tf.train.write_graph(g, str(tmp_path), "g.pbtxt" if as_text else "g.pb", as_text=as_text)
    raw = Path(path).read_bytes()
    parsed = text_format.Parse(raw.decode(), tf.GraphDef()) if as_text else tf.GraphDef.FromString(raw)
    assert parsed == g.as_graph_def()
    assert [n.op for n in parsed.node] == ["Placeholder", "Const", "Sum"]
