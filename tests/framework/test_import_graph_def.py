"""tf.import_graph_def: TensorFlow-written GraphDefs run with TF's values; prefixes, input_map,
return_elements and errors as TF1 gives them."""

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

from graph_def_cases import FEED, FETCHES  # noqa: E402

REFERENCE = json.loads((DATA / "graph_def_reference.json").read_text(encoding="utf-8"))


def _tf_graph_def(key: str = "graph_def"):
    return tf.GraphDef.FromString(base64.b64decode(REFERENCE[key]))


def test_tensorflow_graph_def_runs_with_tensorflow_values() -> None:
    with tf.Graph().as_default():
        tf.import_graph_def(_tf_graph_def(), name="tfg")
        with tf.Session() as sess:
            sess.run("tfg/init")
            sess.run("tfg/double_w")
            got = sess.run([f"tfg/{name}" for name in FETCHES], {"tfg/x:0": FEED})
    for name, value in zip(FETCHES, got):
        np.testing.assert_allclose(value, REFERENCE["values"][name], rtol=1e-6, err_msg=name)


def test_tensorflow_frozen_graph_runs_without_variables() -> None:
    with tf.Graph().as_default() as g:
        probs, total = tf.import_graph_def(_tf_graph_def("frozen_graph_def"), return_elements=["probs:0", "total:0"])
        assert [op.type for op in g.get_operations()] == \
            [{"AddV2": "Add"}.get(t, t) for _, t in REFERENCE["frozen_nodes"]]
        with tf.Session() as sess:
            got = sess.run([probs, total], {"import/x:0": FEED})
    np.testing.assert_allclose(got[0], REFERENCE["frozen_values"]["probs:0"], rtol=1e-6)
    np.testing.assert_allclose(got[1], REFERENCE["frozen_values"]["total:0"], rtol=1e-6)


def _small_graph_def():
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [2], name="x")
        tf.identity(x * 2.0, name="y")
    return g.as_graph_def()


def test_prefixes_and_return_elements() -> None:
    gd = _small_graph_def()
    with tf.Graph().as_default() as g:
        assert tf.import_graph_def(gd) is None
        y_op, y, x_op = tf.import_graph_def(gd, return_elements=["y", "y:0", "x"])
        tf.import_graph_def(gd, name="a/b")
        assert isinstance(y_op, tf.Operation) and isinstance(y, tf.Tensor)
        assert (y_op.name, y.name, x_op.name) == ("import_1/y", "import_1/y:0", "import_1/x")
        names = [op.name for op in g.get_operations()]
        assert names[:4] == ["import/x", "import/mul/y", "import/mul", "import/y"]
        assert "a/b/y" in names
        assert [op.name for op in tf.import_graph_def(gd, return_elements="y")] == ["import_2/y"]
    with tf.Graph().as_default() as g:
        tf.import_graph_def(gd, name="")
        assert [op.name for op in g.get_operations()] == ["x", "mul/y", "mul", "y"]


def test_input_map_replaces_tensors() -> None:
    gd = _small_graph_def()
    with tf.Graph().as_default():
        c = tf.constant([1.0, 5.0])
        (y,) = tf.import_graph_def(gd, input_map={"x": c}, return_elements=["y:0"])
        with tf.Session() as sess:
            np.testing.assert_array_equal(sess.run(y), [2.0, 10.0])  # no feed needed: x is replaced
        (y3,) = tf.import_graph_def(gd, input_map={"x:0": tf.constant([1.0, 2.0, 3.0])}, return_elements=["y:0"])
        assert y3.shape.as_list() == [3]  # as in TF, the mapped tensor's shape flows on


def test_errors_name_the_missing_element() -> None:
    gd = _small_graph_def()
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match="Requested return node 'nope' not found in graph def"):
            tf.import_graph_def(gd, return_elements=["nope"])
        with pytest.raises(ValueError, match="Requested return tensor 'nope:0' not found in graph def"):
            tf.import_graph_def(gd, return_elements=["nope:0"])
        with pytest.raises(ValueError, match=r"Attempted to map inputs that were not found in graph_def: \[q:0\]"):
            tf.import_graph_def(gd, input_map={"q:0": tf.constant([1.0, 2.0])})
        with pytest.raises(ValueError, match="Input 0 of node import.*/mul was passed int32 from Const.*:0 "
                                             "incompatible with expected float32"):
            tf.import_graph_def(gd, input_map={"x": tf.constant([1, 2])})
        with pytest.raises(TypeError, match="Argument `graph_def` must be a GraphDef proto."):
            tf.import_graph_def(3)
    other = tf.Graph()
    with other.as_default():
        foreign = tf.constant([1.0, 2.0])
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match="in input_map does not exist in graph"):
            tf.import_graph_def(gd, input_map={"x": foreign})


def test_unknown_op_and_run_time_axes_are_refused() -> None:
    gd = tf.GraphDef()
    gd.node.add(name="q", op="NoSuchOp")
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match="Node 'q': Op type not registered 'NoSuchOp'"):
            tf.import_graph_def(gd)
    gd = tf.GraphDef()
    x = gd.node.add(name="x", op="Placeholder")
    x.attr["dtype"].type = 1
    axis = gd.node.add(name="axis", op="Placeholder")
    axis.attr["dtype"].type = 3
    s = gd.node.add(name="s", op="Sum", input=["x", "axis"])
    s.attr["T"].type = 1
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match="Node 's': its reduction_indices .* must be a constant"):
            tf.import_graph_def(gd)


def test_dynamic_reshape_and_fill_import_as_run_time_ops() -> None:
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [None], name="x")
        n = tf.shape(x, name="n")
        tf.reshape(x, tf.concat([n // 2, [2]], axis=0), name="r")
        tf.fill(n, 3.0, name="f")
    data = g.as_graph_def().SerializeToString()
    nodes = {node.name: node for node in g.as_graph_def().node}
    assert (nodes["r"].op, nodes["f"].op) == ("Reshape", "Fill")
    with tf.Graph().as_default():
        r, f = tf.import_graph_def(tf.GraphDef.FromString(data), return_elements=["r:0", "f:0"])
        with tf.Session() as sess:
            rv, fv = sess.run([r, f], {"import/x:0": np.arange(4, dtype=np.float32)})
    np.testing.assert_array_equal(rv, [[0, 1], [2, 3]])
    np.testing.assert_array_equal(fv, [3, 3, 3, 3])
