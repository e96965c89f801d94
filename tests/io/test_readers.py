"""Readers against TensorFlow's keys and values, with a filename queue double (a list behind the one-method
interface readers use)."""

from __future__ import annotations

import threading

import pytest
from io_reference import DATA, REFERENCE
from op_testing import run

import gpugraph as tf


class ListQueue:
    """A closed queue holding ``names``: each session dequeues them in order, then OutOfRangeError."""

    def __init__(self, names: list[str]):
        self.names, self.taken, self.lock = [n.encode() for n in names], {}, threading.Lock()

    def dequeue_filename(self, ctx, op) -> bytes:
        with self.lock:
            i = self.taken.get(id(ctx), 0)
            if i >= len(self.names):
                raise tf.errors.OutOfRangeError(None, op, "FIFOQueue '_0_fifo_queue' is closed and has insufficient "
                                                "elements (requested 1, current size 0)")
            self.taken[id(ctx)] = i + 1
            return self.names[i]


READERS = {
    "text": lambda: tf.TextLineReader(skip_header_lines=1),
    "fixed": lambda: tf.FixedLengthRecordReader(4, header_bytes=2, footer_bytes=1, hop_bytes=3),
    "fixed_plain": lambda: tf.FixedLengthRecordReader(6, header_bytes=1),
    "whole": lambda: tf.WholeFileReader(),
    "tfrecord": lambda: tf.TFRecordReader(),
}


@pytest.mark.parametrize("name", sorted(READERS))
def test_reader_keys_and_values_match_tensorflow(tmp_path, name) -> None:
    case = REFERENCE["readers"][name]
    path = tmp_path / "f"
    if "file_hex" in case:
        path.write_bytes(bytes.fromhex(case["file_hex"]))
    else:
        path = DATA / "tf_records.tfrecord"
    key, value = READERS[name]().read(ListQueue([str(path), str(path)]))
    assert key.op.type == "ReaderReadV2" and key.shape.as_list() == []
    got = []
    with tf.Session() as sess:
        while True:
            try:
                k, v = sess.run([key, value])
            except tf.errors.OutOfRangeError:
                break
            got.append([k.decode().replace(str(path), "{file}"), v.hex()])
    assert got == case["records"]


def test_read_up_to_counters_reset_and_state_per_session(tmp_path) -> None:
    path = tmp_path / "a.txt"
    path.write_bytes(b"h1\nl1\nl2\nl3")
    reader = tf.TextLineReader(skip_header_lines=1)
    assert reader.reader_ref.op.type == "TextLineReaderV2"
    keys, values = reader.read_up_to(ListQueue([str(path), str(path)]), 4)
    produced, done = reader.num_records_produced(), reader.num_work_units_completed()
    with tf.Session() as sess:
        k, v = sess.run([keys, values])
        assert [x.decode().split(":")[-1] for x in k] == ["2", "3", "4", "2"] and v.tolist()[-1] == b"l1"
        assert sess.run([produced, done]) == [4, 1]
        assert sess.run(values).tolist() == [b"l2", b"l3"]  # the queue ran out: what is left
        with pytest.raises(tf.errors.OutOfRangeError, match="is closed and has insufficient elements"):
            sess.run(values)
        sess.run(reader.reset())
        assert sess.run(produced) == 0
    with tf.Session() as other:  # a new session starts from the first file
        assert other.run(keys).size == 4


def test_missing_file_is_not_found(tmp_path) -> None:
    _, value = tf.WholeFileReader().read(ListQueue([str(tmp_path / "none")]))
    with pytest.raises(tf.errors.NotFoundError, match="No such file or directory"):
        run(value)
