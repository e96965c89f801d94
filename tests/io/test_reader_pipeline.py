"""A TF1 input pipeline end to end: string_input_producer(num_epochs=1) -> TextLineReader -> decode_csv ->
tf.train.batch under a Coordinator and start_queue_runners, against the batches TensorFlow read
(data/reader_pipeline_reference.json, made by data/make_reader_pipeline_reference.py)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from reader_pipeline_cases import CASES, FILES, read_batches, write_files

import gpugraph as tf

REFERENCE = json.loads((Path(__file__).resolve().parent / "data" / "reader_pipeline_reference.json").read_text())


def _file_rows() -> list[list[str]]:
    """The data rows of the files, by the csv module: what the pipeline must deliver, in file order."""
    return [row for text in FILES.values() for row in list(csv.reader(io.StringIO(text)))[1:]]


@pytest.mark.parametrize("case", sorted(CASES))
def test_queue_pipeline_reads_the_rows_tensorflow_reads(tmp_path: Path, case: str) -> None:
    batches = read_batches(tf, write_files(str(tmp_path)), **CASES[case])
    got = [[[k.replace(str(tmp_path), "{dir}") for k in keys], *rest] for keys, *rest in batches]
    assert got == REFERENCE["cases"][case]


def test_rows_read_are_the_file_rows_with_csv_defaults(tmp_path: Path) -> None:
    batches = read_batches(tf, write_files(str(tmp_path)), batch_size=3, allow_smaller_final_batch=True)
    assert [len(b[1]) for b in batches] == [3, 3, 3]
    read = [row for _, ids, xs, names in batches for row in zip(ids, xs, names)]
    expected = [(int(i), float(x) if x else -9.0, n if n else "none") for i, x, n in _file_rows()]
    assert read == expected
    keys = [k.rsplit("/", 1)[1] for b in batches for k in b[0]]
    assert keys == [f"a.csv:{n}" for n in range(2, 6)] + [f"b.csv:{n}" for n in range(2, 7)]


def test_reader_takes_a_queue_object_its_queue_ref_or_its_op() -> None:
    queue = tf.FIFOQueue(4, tf.string)
    reader = tf.TextLineReader()
    for source in (queue, queue.queue_ref, queue.queue_ref.op):
        key, _ = reader.read(source)
        assert queue.queue_ref in key.op.inputs
    with pytest.raises(TypeError, match="reads the file names of a queue"):
        reader.read(tf.constant(["a.csv"]))
