"""tf.train.write_graph (text and binary GraphDef files) and tf.train.summary_iterator (event files)."""

from __future__ import annotations

from pathlib import Path

import pytest
from google.protobuf import text_format
from tensorboardX.proto.graph_pb2 import GraphDef

import gpugraph as tf


@pytest.fixture(autouse=True)
def _fresh_graph():
    tf.reset_default_graph()
    yield


def _graph() -> tf.Graph:
    a = tf.constant(1.0, name="a")
    x = tf.placeholder(tf.float32, [2], name="x")
    tf.multiply(a, x, name="y")
    return tf.get_default_graph()


@pytest.mark.parametrize("as_text", [True, False])
def test_write_graph_text_and_binary(tmp_path: Path, as_text: bool) -> None:
    graph = _graph()
    logdir = tmp_path / "new" / "dir"
    path = tf.train.write_graph(graph, str(logdir), "graph.pb", as_text=as_text)
    assert path == str(logdir / "graph.pb")
    parsed = GraphDef()
    if as_text:
        text_format.Parse(Path(path).read_text(), parsed)
    else:
        parsed.ParseFromString(Path(path).read_bytes())
    assert [(n.name, n.op) for n in parsed.node] == [("a", "Const"), ("x", "Placeholder"), ("y", "Mul")]
    assert list(parsed.node[2].input) == ["a", "x"]
    assert parsed == graph.as_graph_def()


def test_write_graph_takes_a_graph_def(tmp_path: Path) -> None:
    graph_def = _graph().as_graph_def()
    path = tf.train.write_graph(graph_def, str(tmp_path), "g.pbtxt")
    assert text_format.Parse(Path(path).read_text(), GraphDef()) == graph_def


def test_summary_iterator_reads_what_file_writer_wrote(tmp_path: Path) -> None:
    value = tf.placeholder(tf.float32, [])
    summary = tf.summary.scalar("loss", value)
    writer = tf.summary.FileWriter(str(tmp_path))
    with tf.Session() as sess:
        for step in range(3):
            writer.add_summary(sess.run(summary, {value: 0.5 * step}), step)
    writer.close()
    (path,) = tmp_path.glob("events.out.tfevents.*")
    events = list(tf.train.summary_iterator(str(path)))
    assert events[0].HasField("file_version") and events[0].file_version.startswith("brain.Event:")
    scalars = [(e.step, v.tag, v.simple_value) for e in events if e.HasField("summary") for v in e.summary.value]
    assert scalars == [(0, "loss", 0.0), (1, "loss", 0.5), (2, "loss", 1.0)]


def test_summary_iterator_of_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(tf.errors.NotFoundError):
        list(tf.train.summary_iterator(str(tmp_path / "nope")))
