"""tf.summary.text from string tensors: bytes as TensorFlow serializes them, written and read back by TensorBoard."""

from __future__ import annotations

import numpy as np
from event_reading import accumulate

import gpugraph as tf

# sess.run(tf.summary.merge_all()) after tf.summary.text("txt", tf.constant("Hello, TensorFlow!")) in TensorFlow
TF_TEXT_SUMMARY = b"\n)\n\x03txtB\x18\x08\x07\x12\x00B\x12Hello, TensorFlow!J\x08\n\x06\n\x04text"


def test_merged_text_summary_is_tensorflows_bytes() -> None:
    with tf.Graph().as_default():
        tf.summary.text("txt", tf.constant("Hello, TensorFlow!"))
        merged = tf.summary.merge_all()
        with tf.Session() as sess:
            value = sess.run(merged)
    assert type(value) is bytes and value == TF_TEXT_SUMMARY


def test_fed_string_tensor_summary_written_and_read_by_tensorboard(tmp_path) -> None:
    with tf.Graph().as_default():
        notes = tf.placeholder(tf.string, [None])
        summary = tf.summary.text("notes", notes)
        with tf.Session() as sess:
            fetched = sess.run(summary, {notes: ["first **bold**", b"second"]})
        writer = tf.summary.FileWriter(str(tmp_path))
        writer.add_summary(fetched, global_step=3)
        writer.close()
    acc = accumulate(tmp_path)
    (event,) = acc.Tensors("notes")
    assert event.step == 3
    values = event.tensor_proto.string_val
    assert list(values) == [b"first **bold**", b"second"]
    assert acc.SummaryMetadata("notes").plugin_data.plugin_name == "text"
    assert np.asarray(event.tensor_proto.tensor_shape.dim[0].size) == 2
