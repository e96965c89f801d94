"""tf.python_io TFRecord files against files TensorFlow wrote (tests/io/data)."""

from __future__ import annotations

import pytest
from io_reference import DATA, REFERENCE

import gpugraph as tf

RECORDS = [bytes.fromhex(h) for h in REFERENCE["records_hex"]]
FILES = {None: "tf_records.tfrecord", "GZIP": "tf_records_gzip.tfrecord", "ZLIB": "tf_records_zlib.tfrecord"}


@pytest.mark.parametrize("kind", list(FILES))
def test_reads_tensorflows_files(kind) -> None:
    options = tf.python_io.TFRecordOptions(kind) if kind else None
    assert list(tf.python_io.tf_record_iterator(str(DATA / FILES[kind]), options=options)) == RECORDS


@pytest.mark.parametrize("kind", list(FILES))
def test_written_file_is_byte_identical_to_tensorflows(tmp_path, kind) -> None:
    path = tmp_path / "out.tfrecord"
    options = tf.python_io.TFRecordOptions(kind) if kind else None
    with tf.python_io.TFRecordWriter(str(path), options=options) as writer:
        for r in RECORDS:
            writer.write(r)
    assert path.read_bytes() == (DATA / FILES[kind]).read_bytes()


def test_io_aliases_and_compression_type_names() -> None:
    assert tf.io.TFRecordWriter is tf.python_io.TFRecordWriter
    assert tf.io.tf_record_iterator is tf.python_io.tf_record_iterator
    assert tf.compat.v1.python_io.TFRecordOptions is tf.python_io.TFRecordOptions
    get = tf.python_io.TFRecordOptions.get_compression_type_string
    assert (get(tf.python_io.TFRecordCompressionType.GZIP), get("ZLIB"), get(None)) == ("GZIP", "ZLIB", "")


def test_corrupt_records_raise_data_loss_naming_the_file(tmp_path) -> None:
    data = bytearray((DATA / FILES[None]).read_bytes())
    first = r"corrupted record at 0 \(Is this even a TFRecord file\?\)"
    for position, message in ((20, "corrupted record at 16"), (5, first)):
        bad = bytearray(data)
        bad[position] ^= 1
        path = tmp_path / f"bad{position}.tfrecord"
        path.write_bytes(bytes(bad))
        with pytest.raises(tf.errors.DataLossError, match=message) as info:
            list(tf.python_io.tf_record_iterator(str(path)))
        assert str(path) in str(info.value)


def test_cut_short_file_ends_the_records_and_missing_file_is_not_found(tmp_path) -> None:
    path = tmp_path / "short.tfrecord"
    path.write_bytes((DATA / FILES[None]).read_bytes()[:40])
    assert list(tf.python_io.tf_record_iterator(str(path))) == RECORDS[:2]
    with pytest.raises(tf.errors.NotFoundError, match="No such file or directory"):
        list(tf.python_io.tf_record_iterator(str(tmp_path / "none.tfrecord")))
