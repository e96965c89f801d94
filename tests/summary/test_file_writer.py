"""FileWriter: what TensorBoard reads back from the event files it writes."""

from __future__ import annotations

import numpy as np
import pytest

import gpugraph as tf

try:
    from . import event_reading as reading
except ImportError:  # tests/summary is not a package: pytest put it on sys.path
    import event_reading as reading


@pytest.fixture(autouse=True)
def fresh_graph():
    tf.reset_default_graph()
    yield
    tf.reset_default_graph()


def _summaries():
    x = tf.placeholder(tf.float32, [None], name="x")
    with tf.name_scope("loss"):
        mse = tf.reduce_mean(tf.square(x), name="mse")
    scalar = tf.summary.scalar("MSE", mse)
    hist = tf.summary.histogram("values", x)
    image = tf.summary.image("picture", tf.reshape(x, [1, 2, 2, 1]), max_outputs=1)
    text = tf.summary.text("note", "step notes")
    return x, mse, scalar, hist, image, text


def test_scalars_histograms_images_text_and_graph_read_back(tmp_path) -> None:
    x, mse, scalar, hist, image, text = _summaries()
    merged = tf.summary.merge_all()
    feeds = [np.array(v, np.float32) for v in ([1, 2, 3, 4], [0.5, 0.25, 1, 0], [3, 1, 4, 1])]
    expected = {}
    with tf.Session() as sess, tf.summary.FileWriter(str(tmp_path), sess.graph) as writer:
        for step, value in zip((0, 5, 10), feeds):
            summary_str, loss = sess.run([merged, mse], {x: value})
            writer.add_summary(summary_str, step)
            expected[step] = loss
    acc = reading.accumulate(tmp_path)
    tags = acc.Tags()
    assert tags["scalars"] == ["MSE"] and tags["histograms"] == ["values"]
    assert tags["images"] == ["picture/image"] and tags["tensors"] == ["note"] and tags["graph"]
    scalars = acc.Scalars("MSE")
    assert [e.step for e in scalars] == [0, 5, 10]
    assert [e.value for e in scalars] == [pytest.approx(float(expected[s])) for s in (0, 5, 10)]
    histos = acc.Histograms("values")
    assert [h.step for h in histos] == [0, 5, 10]
    assert [h.histogram_value.num for h in histos] == [4, 4, 4]
    assert histos[1].histogram_value.max == 1.0 and histos[2].histogram_value.min == 1.0
    images = acc.Images("picture/image")
    assert [(i.step, i.width, i.height) for i in images] == [(0, 2, 2), (5, 2, 2), (10, 2, 2)]
    notes = acc.Tensors("note")
    assert [list(n.tensor_proto.string_val) for n in notes] == [[b"step notes"]] * 3
    names = {node.name: node for node in acc.Graph().node}
    assert {"x", "loss/mse", "MSE", "values", "picture", "note", "Merge/MergeSummary"} <= set(names)
    assert names["loss/mse"].op == "Mean" and names["MSE"].op == "ScalarSummary"
    assert list(names["MSE"].input) == ["loss/mse"]


def test_flush_makes_events_visible_before_close(tmp_path) -> None:
    writer = tf.summary.FileWriter(str(tmp_path), max_queue=1000, flush_secs=3600)
    s = tf.summary.scalar("v", tf.placeholder_with_default(3.0, []))
    with tf.Session() as sess:
        for step in range(25):
            writer.add_summary(sess.run(s), global_step=step)
    writer.flush()
    assert [e.step for e in reading.accumulate(tmp_path).Scalars("v")] == list(range(25))
    writer.close()


def test_add_summary_accepts_a_summary_message_and_no_step(tmp_path) -> None:
    summary = tf.summary.Summary(value=[tf.summary.Summary.Value(tag="loss", simple_value=0.5)])
    with tf.summary.FileWriter(tmp_path) as writer:
        writer.add_summary(summary)
        writer.add_summary(summary.SerializeToString(), 7)
        assert writer.get_logdir() == str(tmp_path)
    assert [(e.step, e.value) for e in reading.accumulate(tmp_path).Scalars("loss")] == [(0, 0.5), (7, 0.5)]
    with tf.summary.FileWriter(tmp_path / "other") as writer, pytest.raises(TypeError, match="serialized Summary"):
        writer.add_summary(0.5)


def test_plugin_metadata_is_written_with_a_tags_first_value_only(tmp_path) -> None:
    text = tf.summary.text("log", "hello")
    with tf.Session() as sess, tf.summary.FileWriter(tmp_path) as writer:
        summary = sess.run(text)
        writer.add_summary(summary, 1)
        message = tf.summary.Summary.FromString(summary)
        writer.add_summary(message, 2)
        assert message.value[0].HasField("metadata")  # the caller's message is left as it was
        path = writer.event_file
    written = [e.summary.value[0] for e in reading.events(path) if e.HasField("summary")]
    assert [v.HasField("metadata") for v in written] == [True, False]
    assert written[0].metadata.plugin_data.plugin_name == "text"


def test_graph_given_to_the_constructor_or_add_graph(tmp_path) -> None:
    x = tf.placeholder(tf.float32, [None, 3], name="X")
    w = tf.Variable(tf.zeros([3, 1]), name="w")
    tf.matmul(x, w, name="predictions")
    tf.summary.FileWriter(tmp_path / "ctor", tf.get_default_graph()).close()
    with tf.summary.FileWriter(tmp_path / "add") as writer:
        writer.add_graph(tf.get_default_graph(), global_step=3)
    for sub in ("ctor", "add"):
        names = [n.name for n in reading.accumulate(tmp_path / sub).Graph().node]
        assert names == [op.name for op in tf.get_default_graph().get_operations()]
    from gpugraph.summary.graph_def import graph_to_graph_def

    with tf.summary.FileWriter(tmp_path / "proto", graph_def=graph_to_graph_def(tf.get_default_graph())):
        pass
    assert "predictions" in [n.name for n in reading.accumulate(tmp_path / "proto").Graph().node]
    with tf.summary.FileWriter(tmp_path / "bad") as writer:
        with pytest.raises(TypeError, match="instance of `Graph`"):
            writer.add_graph("not a graph")
        with pytest.raises(ValueError, match="not both"):
            writer.add_graph(tf.get_default_graph(), graph_def=graph_to_graph_def(tf.get_default_graph()))


def test_closed_writer_warns_and_reopen_starts_a_new_file(tmp_path) -> None:
    summary = tf.summary.Summary(value=[tf.summary.Summary.Value(tag="a", simple_value=1.0)])
    writer = tf.summary.FileWriter(tmp_path, filename_suffix=".run")
    writer.add_summary(summary, 1)
    writer.close()
    writer.close()  # twice is fine
    with pytest.warns(UserWarning, match="closed FileWriter"):
        writer.add_summary(summary, 2)
    writer.flush()  # a no-op once closed
    writer.reopen()
    writer.add_summary(summary, 3)
    writer.close()
    files = reading.event_files(tmp_path)
    assert len(files) == 2 and all(f.name.startswith("events.out.tfevents.") for f in files)
    assert all(f.name.endswith(".run") for f in files)
    assert sorted(e.step for e in reading.accumulate(tmp_path).Scalars("a")) == [1, 3]


def test_writers_opened_together_keep_separate_files(tmp_path) -> None:
    summary = tf.summary.Summary(value=[tf.summary.Summary.Value(tag="a", simple_value=1.0)])
    writers = [tf.summary.FileWriter(tmp_path) for _ in range(3)]
    for step, writer in enumerate(writers):
        writer.add_summary(summary, step)
        writer.close()
    assert len(reading.event_files(tmp_path)) == 3
    assert sorted(e.step for e in reading.accumulate(tmp_path).Scalars("a")) == [0, 1, 2]


def test_small_queue_and_session_log_and_raw_events(tmp_path) -> None:
    writer = tf.summary.FileWriter(tmp_path, max_queue=1, flush_secs=0.01)
    writer.add_session_log(tf.summary.SessionLog(status=tf.summary.SessionLog.START), 0)
    for step in range(50):
        writer.add_summary(tf.summary.Summary(value=[tf.summary.Summary.Value(tag="q", simple_value=step)]), step)
    event = tf.summary.Event(step=99, wall_time=123.0)
    event.summary.value.add(tag="raw", simple_value=2.0)
    writer.add_event(event)
    with pytest.raises(TypeError, match="Event protobuf"):
        writer.add_event(b"bytes")
    writer.close()
    written = reading.events(writer.event_file)
    assert written[0].file_version == "brain.Event:2"
    assert written[1].session_log.status == tf.summary.SessionLog.START
    assert [e.step for e in written[2:52]] == list(range(50))
    assert (written[-1].step, written[-1].wall_time) == (99, 123.0)


def test_file_writer_cache_shares_one_writer_per_directory(tmp_path) -> None:
    first = tf.summary.FileWriterCache.get(tmp_path)
    assert tf.summary.FileWriterCache.get(str(tmp_path)) is first
    tf.summary.FileWriterCache.clear()
    assert tf.summary.FileWriterCache.get(tmp_path) is not first
    tf.summary.FileWriterCache.clear()


def test_a_log_directory_that_cannot_be_made_is_a_clear_error(tmp_path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(tf.errors.OpError, match="FileWriter cannot create the log directory"):
        tf.summary.FileWriter(str(blocker / "logs"))
