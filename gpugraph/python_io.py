"""tf.python_io: TFRecord files (TFRecordWriter, tf_record_iterator, TFRecordOptions).

A record is framed as TF frames it: uint64 length, masked CRC32C of the length, the data, masked
CRC32C of the data (little-endian). The checksum comes from google-crc32c; GZIP and ZLIB files are
the whole framed stream compressed with zlib's defaults, as TF's ZlibOutputBuffer writes them.
"""

from __future__ import annotations

import struct
import zlib
from typing import Any, BinaryIO, Iterator

import google_crc32c

from gpugraph import errors
from gpugraph._gfile_file import as_local

__all__ = ["TFRecordWriter", "TFRecordOptions", "TFRecordCompressionType", "tf_record_iterator"]

_MASK_DELTA = 0xA282EAD8
_LENGTH = struct.Struct("<Q")
_CRC = struct.Struct("<I")


def masked_crc32c(data: bytes) -> int:
    """TF's masked CRC32C: rotated right by 15 bits plus a constant, so CRCs of CRCs stay strong."""
    crc = google_crc32c.value(data)
    return ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + _MASK_DELTA) & 0xFFFFFFFF


def frame_record(data: bytes) -> bytes:
    header = _LENGTH.pack(len(data))
    return header + _CRC.pack(masked_crc32c(header)) + data + _CRC.pack(masked_crc32c(data))


class TFRecordCompressionType:
    NONE = 0
    ZLIB = 1
    GZIP = 2


_TYPE_STRINGS = {TFRecordCompressionType.NONE: "", TFRecordCompressionType.ZLIB: "ZLIB",
                 TFRecordCompressionType.GZIP: "GZIP", None: "", "": "", "ZLIB": "ZLIB", "GZIP": "GZIP"}
_WINDOW_BITS = {"ZLIB": 15, "GZIP": 31}


class TFRecordOptions:
    """How a TFRecord file is compressed: ``compression_type`` is "", "ZLIB", "GZIP" or a TFRecordCompressionType."""

    compression_type_map = {TFRecordCompressionType.ZLIB: "ZLIB", TFRecordCompressionType.GZIP: "GZIP",
                            TFRecordCompressionType.NONE: ""}

    def __init__(self, compression_type: Any = None, flush_mode: int | None = None,
                 input_buffer_size: int | None = None, output_buffer_size: int | None = None,
                 window_bits: int | None = None, compression_level: int | None = None,
                 compression_method: int | None = None, mem_level: int | None = None,
                 compression_strategy: int | None = None):
        if compression_type not in _TYPE_STRINGS:
            raise ValueError(f"Unsupported compression type: {compression_type!r}")
        self.compression_type = compression_type
        self.flush_mode = flush_mode
        self.input_buffer_size = input_buffer_size
        self.output_buffer_size = output_buffer_size
        self.window_bits = window_bits
        self.compression_level = compression_level
        self.compression_method = compression_method
        self.mem_level = mem_level
        self.compression_strategy = compression_strategy

    @classmethod
    def get_compression_type_string(cls, options: Any) -> str:
        """"", "ZLIB" or "GZIP" for options given as TFRecordOptions, a type, a string or None."""
        if isinstance(options, TFRecordOptions):
            options = options.compression_type
        if options not in _TYPE_STRINGS:
            raise ValueError(f"Unsupported compression type: {options!r}")
        return _TYPE_STRINGS[options]

    def _compressor(self, kind: str) -> Any:
        level = -1 if self.compression_level is None else self.compression_level
        bits = self.window_bits if self.window_bits is not None else _WINDOW_BITS[kind]
        if kind == "GZIP" and bits < 16:
            bits += 16
        return zlib.compressobj(level, zlib.DEFLATED, bits, 9 if self.mem_level is None else self.mem_level,
                                zlib.Z_DEFAULT_STRATEGY if self.compression_strategy is None
                                else self.compression_strategy)


def _options(options: Any) -> TFRecordOptions:
    return options if isinstance(options, TFRecordOptions) else TFRecordOptions(options)


def _open(path: Any, mode: str) -> BinaryIO:
    local = as_local(path)
    try:
        return open(local, mode)  # noqa: SIM115 - the caller closes it
    except FileNotFoundError:
        raise errors.NotFoundError(None, None, f"{local}; No such file or directory") from None
    except IsADirectoryError:
        raise errors.FailedPreconditionError(None, None, f"{local}; Is a directory") from None
    except PermissionError:
        raise errors.PermissionDeniedError(None, None, f"{local}; Permission denied") from None


class TFRecordWriter:
    """Writes records to a TFRecord file; a context manager that closes the file."""

    def __init__(self, path: Any, options: Any = None):
        self._path = as_local(path)
        self._kind = TFRecordOptions.get_compression_type_string(options)
        self._compressor = _options(options)._compressor(self._kind) if self._kind else None
        self._file: BinaryIO | None = _open(path, "wb")

    def __enter__(self) -> TFRecordWriter:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def write(self, record: bytes | str) -> None:
        if self._file is None:
            raise errors.FailedPreconditionError(None, None, f"{self._path}: the TFRecordWriter is closed.")
        data = frame_record(record.encode("utf-8") if isinstance(record, str) else bytes(record))
        self._file.write(self._compressor.compress(data) if self._compressor else data)

    def flush(self) -> None:
        if self._file is None:
            raise errors.FailedPreconditionError(None, None, f"{self._path}: the TFRecordWriter is closed.")
        if self._compressor is not None:
            self._file.write(self._compressor.flush(zlib.Z_SYNC_FLUSH))
        self._file.flush()

    def close(self) -> None:
        if self._file is None:
            return
        if self._compressor is not None:
            self._file.write(self._compressor.flush())
        self._file.close()
        self._file = None


class RecordStream:
    """Reads the records of one TFRecord file in order; ``offset`` is where the next record starts
    (in the uncompressed stream), as TFRecordReader's keys give it."""

    def __init__(self, path: Any, options: Any = None):
        self.path = as_local(path)
        kind = TFRecordOptions.get_compression_type_string(options)
        with _open(path, "rb") as f:
            raw = f.read()
        if kind:
            try:
                raw = zlib.decompressobj(_WINDOW_BITS[kind]).decompress(raw)
            except zlib.error as e:
                raise errors.DataLossError(None, None, f"{self.path}: {e}") from None
        self._data = memoryview(raw)
        self.offset = 0

    def next_record(self) -> bytes | None:
        """The next record, or None at the end (a record cut short at the end of the file ends it, as in TF)."""
        start, data = self.offset, self._data
        if start + 12 > len(data):
            return None
        header = bytes(data[start:start + 8])
        if _CRC.unpack_from(data, start + 8)[0] != masked_crc32c(header):
            hint = " (Is this even a TFRecord file?)" if start == 0 else ""
            raise errors.DataLossError(None, None, f"corrupted record at {start}{hint} in {self.path}")
        length = _LENGTH.unpack(header)[0]
        end = start + 12 + length
        if end + 4 > len(data):
            return None
        record = bytes(data[start + 12:end])
        if _CRC.unpack_from(data, end)[0] != masked_crc32c(record):
            raise errors.DataLossError(None, None, f"corrupted record at {start} in {self.path}")
        self.offset = end + 4
        return record


def tf_record_iterator(path: Any, options: Any = None) -> Iterator[bytes]:
    """The records of a TFRecord file; DataLossError (naming the file) on a bad checksum."""
    stream = RecordStream(path, options)
    while True:
        record = stream.next_record()
        if record is None:
            return
        yield record
