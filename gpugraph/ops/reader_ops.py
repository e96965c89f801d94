"""TF1 readers: TextLineReader, FixedLengthRecordReader, WholeFileReader, TFRecordReader (ReaderBase).

A reader op names a reader; its state (current file, position, counters) lives per session in the
cell of that op. ``read(queue)`` takes the next filename from ``queue`` when the current file is done:
from the session's HostQueue of a TF1 queue (``tf.FIFOQueue``, ``string_input_producer``), or through the
one method of FilenameQueue for any other source of names; keys are TF1's: "file:line" (1-based, header lines counted),
"file:index" for fixed-length records, "file:offset" for TFRecords, the file name for whole files.
The reader handle is a string scalar (TF1's is a resource).
"""

from __future__ import annotations

import threading
from typing import Any, Callable, Iterator, Protocol

import numpy as np

from gpugraph import errors
from gpugraph.framework import dtypes
from gpugraph.framework.graph import get_default_graph
from gpugraph.framework.tensor import Operation, Tensor
from gpugraph.framework.tensor_shape import TensorShape
from gpugraph.ops.constant_ops import convert_to_tensor
from gpugraph.ops.registry import NO_GRADIENT, REGISTRY, OpDef, register_op
from gpugraph.python_io import RecordStream, TFRecordOptions, _open
from gpugraph.queues.host import QUEUE_OP_TYPES, dequeue_one

__all__ = ["ReaderBase", "TextLineReader", "FixedLengthRecordReader", "WholeFileReader", "TFRecordReader",
           "FilenameQueue"]

Records = Iterator[tuple[bytes, bytes]]


class FilenameQueue(Protocol):
    """What a reader needs of a queue of filenames."""

    def dequeue_filename(self, ctx: Any, op: Operation) -> bytes:
        """The next filename in the session of ``ctx``; blocks until there is one, raises OutOfRangeError
        (naming ``op``) when the queue is closed and empty."""


class _HostFilenameQueue:
    """A TF1 queue of strings seen as a FilenameQueue: one element's first component per file."""

    def __init__(self, queue_op: Operation):
        self.queue_op = queue_op

    def dequeue_filename(self, ctx: Any, op: Operation) -> bytes:
        name = np.asarray(dequeue_one(ctx, self.queue_op, op=op)[0]).item()
        return name.encode("utf-8") if isinstance(name, str) else bytes(name)


def _filename_queue(queue: Any) -> Any:
    """What a read op keeps as its ``queue`` attribute: ``queue`` itself when it is a FilenameQueue, else the
    op of the TF1 queue (object, queue_ref or op) it names (an op, so the graph can be saved)."""
    if hasattr(queue, "dequeue_filename"):
        return queue
    ref = getattr(queue, "queue_ref", queue)
    op = ref.op if isinstance(ref, Tensor) else ref
    if not isinstance(op, Operation) or op.type not in QUEUE_OP_TYPES:
        raise TypeError(f"A reader reads the file names of a queue (tf.FIFOQueue, string_input_producer's), "
                        f"got {queue!r}")
    return op


def _source(queue: Any) -> FilenameQueue:
    return _HostFilenameQueue(queue) if isinstance(queue, Operation) else queue


def _queue_inputs(queue: Any) -> list[Tensor]:
    """The queue's handle tensor, when it has one, so the queue's op runs before the read."""
    if isinstance(queue, Operation):
        return [queue.outputs[0]]
    ref = getattr(queue, "queue_ref", None)
    return [ref] if isinstance(ref, Tensor) else []


def _scalar(value: bytes) -> np.ndarray:
    return np.array(value, dtype=object)


def _path(filename: bytes) -> str:
    return filename.decode("utf-8")


def _text_lines(op: Operation) -> Callable[[bytes], Records]:
    skip = op.get_attr("skip_header_lines")

    def records(filename: bytes) -> Records:
        with _open(_path(filename), "rb") as f:
            lines = f.read().split(b"\n")
        if lines and lines[-1] == b"":
            lines.pop()  # a final newline ends the last line; it does not start another
        for number, line in enumerate(lines[skip:], skip + 1):
            yield b"%s:%d" % (filename, number), line[:-1] if line.endswith(b"\r") else line
    return records


def _fixed_length(op: Operation) -> Callable[[bytes], Records]:
    header, size, footer, hop = (op.get_attr(a) for a in ("header_bytes", "record_bytes", "footer_bytes",
                                                          "hop_bytes"))

    def records(filename: bytes) -> Records:
        with _open(_path(filename), "rb") as f:
            data = f.read()
        body = data[header:max(header, len(data) - footer)]
        step = hop or size
        for index, start in enumerate(range(0, len(body) - size + 1, step)):
            yield b"%s:%d" % (filename, index), body[start:start + size]
    return records


def _whole_file(op: Operation) -> Callable[[bytes], Records]:
    def records(filename: bytes) -> Records:
        with _open(_path(filename), "rb") as f:
            yield filename, f.read()
    return records


def _tf_records(op: Operation) -> Callable[[bytes], Records]:
    compression = op.get_attr("compression_type")

    def records(filename: bytes) -> Records:
        stream = RecordStream(_path(filename), compression)
        while True:
            offset = stream.offset
            record = stream.next_record()
            if record is None:
                return
            yield b"%s:%d" % (filename, offset), record
    return records


class _ReaderState:
    """One reader in one session: the records of the current file and the counters."""

    def __init__(self, open_file: Callable[[bytes], Records]):
        self.open_file = open_file
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        self.current: Records | None = None
        self.records_produced = 0
        self.work_units_completed = 0

    def read(self, queue: FilenameQueue, ctx: Any, op: Operation, limit: int) -> list[tuple[bytes, bytes]]:
        """Up to ``limit`` records; fewer only when the queue runs out after at least one."""
        out: list[tuple[bytes, bytes]] = []
        with self.lock:
            while len(out) < limit:
                if self.current is None:
                    try:
                        filename = queue.dequeue_filename(ctx, op)
                    except errors.OutOfRangeError:
                        if out:
                            break
                        raise
                    self.current = self.open_file(filename)
                record = next(self.current, None)
                if record is None:
                    self.current = None
                    self.work_units_completed += 1
                    continue
                out.append(record)
                self.records_produced += 1
        return out


_FORMATS: dict[str, Callable[[Operation], Callable[[bytes], Records]]] = {
    "TextLineReaderV2": _text_lines, "FixedLengthRecordReaderV2": _fixed_length,
    "WholeFileReaderV2": _whole_file, "TFRecordReaderV2": _tf_records,
}


def _state(ctx: Any, reader_op: Operation) -> _ReaderState:
    cell = ctx.cell(reader_op)
    with cell.lock:
        if cell.value is None:
            cell.value = _ReaderState(_FORMATS[reader_op.type](reader_op))
        return cell.value


def _bind_reader(op: Operation, ctx: Any) -> Any:
    handle = _scalar(op.name.encode("utf-8"))
    return lambda: handle


def _reader_infer(**attrs: Any) -> Any:
    return TensorShape([]), dtypes.string


for _name in _FORMATS:
    register_op(OpDef(_name, infer=_reader_infer, bind=_bind_reader, stateful=True, gpu=False, grad=NO_GRADIENT,
                      input_names=()))


def _bind_read(op: Operation, ctx: Any) -> Any:
    reader, queue = op.get_attr("reader"), _source(op.get_attr("queue"))

    def read(handle: Any, *queue_ref: Any) -> Any:
        (key, value), = _state(ctx, reader).read(queue, ctx, op, 1)
        return _scalar(key), _scalar(value)
    return read


def _bind_read_up_to(op: Operation, ctx: Any) -> Any:
    reader, queue = op.get_attr("reader"), _source(op.get_attr("queue"))

    def read_up_to(handle: Any, num_records: Any, *queue_ref: Any) -> Any:
        records = _state(ctx, reader).read(queue, ctx, op, int(num_records))
        keys, values = np.empty(len(records), dtype=object), np.empty(len(records), dtype=object)
        keys[:], values[:] = [k for k, _ in records], [v for _, v in records]
        return keys, values
    return read_up_to


def _bind_counter(op: Operation, ctx: Any) -> Any:
    field = "records_produced" if op.type == "ReaderNumRecordsProducedV2" else "work_units_completed"
    return lambda handle: np.asarray(getattr(_state(ctx, op.get_attr("reader")), field), np.int64)


def _bind_reset(op: Operation, ctx: Any) -> Any:
    def reset(handle: Any) -> None:
        state = _state(ctx, op.get_attr("reader"))
        with state.lock:
            state.reset()
    return reset


_STRING_PAIR = [(TensorShape([]), dtypes.string)] * 2
READ = register_op(OpDef("ReaderReadV2", infer=lambda *a, **k: _STRING_PAIR, bind=_bind_read, stateful=True,
                         gpu=False, grad=NO_GRADIENT, same_dtype=False, input_names=("reader_handle", "queue_handle")))
READ_UP_TO = register_op(OpDef(
    "ReaderReadUpToV2", infer=lambda *a, **k: [(TensorShape([None]), dtypes.string)] * 2, bind=_bind_read_up_to,
    stateful=True, gpu=False, grad=NO_GRADIENT, same_dtype=False,
    input_names=("reader_handle", "num_records", "queue_handle")))
NUM_RECORDS = register_op(OpDef(
    "ReaderNumRecordsProducedV2", infer=lambda *a, **k: (TensorShape([]), dtypes.int64), bind=_bind_counter,
    stateful=True, gpu=False, grad=NO_GRADIENT, input_names=("reader_handle",)))
NUM_WORK_UNITS = register_op(OpDef(
    "ReaderNumWorkUnitsCompletedV2", infer=lambda *a, **k: (TensorShape([]), dtypes.int64), bind=_bind_counter,
    stateful=True, gpu=False, grad=NO_GRADIENT, input_names=("reader_handle",)))
RESET = register_op(OpDef("ReaderResetV2", infer=lambda *a, **k: None, bind=_bind_reset, stateful=True, gpu=False,
                          grad=NO_GRADIENT, input_names=("reader_handle",)))


class ReaderBase:
    """A reader of records from the files a queue names; subclasses pick the file format."""

    _op_type = ""

    def __init__(self, name: str | None = None, **attrs: Any):
        self._reader_ref = REGISTRY[self._op_type](name=name, **attrs)

    @property
    def reader_ref(self) -> Tensor:
        return self._reader_ref

    @property
    def supports_serialize(self) -> bool:
        return False

    def read(self, queue: Any, name: str | None = None) -> tuple[Tensor, Tensor]:
        """(key, value): the next record, from the next file of ``queue`` when the current one is done."""
        queue = _filename_queue(queue)
        return READ(self._reader_ref, *_queue_inputs(queue), reader=self._reader_ref.op, queue=queue,
                    name=name or "ReaderReadV2")

    def read_up_to(self, queue: Any, num_records: Any, name: str | None = None) -> tuple[Tensor, Tensor]:
        """(keys, values): up to ``num_records`` records (fewer at the end of the queue)."""
        queue = _filename_queue(queue)
        with get_default_graph().as_default():
            count = convert_to_tensor(num_records, dtype=dtypes.int64, name="num_records")
        return READ_UP_TO(self._reader_ref, count, *_queue_inputs(queue), reader=self._reader_ref.op, queue=queue,
                          name=name or "ReaderReadUpToV2")

    def num_records_produced(self, name: str | None = None) -> Tensor:
        return NUM_RECORDS(self._reader_ref, reader=self._reader_ref.op, name=name or "ReaderNumRecordsProducedV2")

    def num_work_units_completed(self, name: str | None = None) -> Tensor:
        return NUM_WORK_UNITS(self._reader_ref, reader=self._reader_ref.op,
                              name=name or "ReaderNumWorkUnitsCompletedV2")

    def reset(self, name: str | None = None) -> Operation:
        return RESET(self._reader_ref, reader=self._reader_ref.op, name=name or "ReaderResetV2")


class TextLineReader(ReaderBase):
    """Records are the lines of each file (without the newline); keys are "file:line"."""

    _op_type = "TextLineReaderV2"

    def __init__(self, skip_header_lines: int | None = None, name: str | None = None):
        super().__init__(name, skip_header_lines=int(skip_header_lines or 0))


class FixedLengthRecordReader(ReaderBase):
    """Records of ``record_bytes`` bytes between a header and a footer, ``hop_bytes`` apart (0: back to back)."""

    _op_type = "FixedLengthRecordReaderV2"

    def __init__(self, record_bytes: int, header_bytes: int | None = None, footer_bytes: int | None = None,
                 hop_bytes: int | None = None, name: str | None = None, encoding: str | None = None):
        if encoding:
            raise ValueError(f"FixedLengthRecordReader: encoding {encoding!r} is not supported (only uncompressed)")
        super().__init__(name, record_bytes=int(record_bytes), header_bytes=int(header_bytes or 0),
                         footer_bytes=int(footer_bytes or 0), hop_bytes=int(hop_bytes or 0))


class WholeFileReader(ReaderBase):
    """One record per file: key is the filename, value its contents."""

    _op_type = "WholeFileReaderV2"

    def __init__(self, name: str | None = None):
        super().__init__(name)


class TFRecordReader(ReaderBase):
    """The records of TFRecord files; keys are "file:offset"."""

    _op_type = "TFRecordReaderV2"

    def __init__(self, name: str | None = None, options: Any = None):
        super().__init__(name, compression_type=TFRecordOptions.get_compression_type_string(options))
