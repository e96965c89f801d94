"""Host ops that parse strings: tf.decode_raw (DecodeRaw) and tf.decode_csv (DecodeCSV).

Strings are object arrays of bytes, which only the host holds: these ops never run on a GPU, and
their lowerings loop over records in Python, as TF1's CPU kernels loop over them in C++.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from gpugraph import errors
from gpugraph.framework import dtypes
from gpugraph.framework.tensor import Tensor
from gpugraph.framework.tensor_shape import TensorShape
from gpugraph.ops.constant_ops import convert_to_tensor
from gpugraph.ops.registry import NO_GRADIENT, OpDef, register_op

__all__ = ["decode_raw", "decode_csv"]

# TF1's list, less the dtypes gpugraph lacks (uint16, complex64, complex128, bfloat16).
_RAW_TYPES = (dtypes.float16, dtypes.float32, dtypes.float64, dtypes.int32, dtypes.uint8, dtypes.int16, dtypes.int8,
              dtypes.int64, dtypes.bool_)
_RAW_TYPE_LIST = "float16, float32, float64, int32, uint16, uint8, int16, int8, int64, complex64, complex128, bool"


def _bytes_array(values: list[bytes], shape: tuple[int, ...]) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out.reshape(shape)


def _decode_raw_infer(data: Tensor, *, out_type: dtypes.DType, little_endian: bool) -> Any:
    if data.dtype.base_dtype != dtypes.string:
        raise TypeError(f"DecodeRaw needs a string input, got {data.dtype.base_dtype.name}")
    dims = data.shape.as_tuple()
    return TensorShape(None if dims is None else [*dims, None]), out_type


def _decode_raw_impl(xp: Any, data: Any, *, out_type: dtypes.DType, little_endian: bool) -> Any:
    dtype = np.dtype(out_type.np_dtype).newbyteorder("<" if little_endian else ">")
    flat = [bytes(b) for b in np.asarray(data, dtype=object).reshape(-1)]
    if not flat:
        return np.zeros((*np.shape(data), 0), dtype=out_type.np_dtype)
    size = len(flat[0])
    if size % dtype.itemsize:
        raise errors.InvalidArgumentError(
            None, None, f"Input to DecodeRaw has length {size} that is not a multiple of {dtype.itemsize}, "
            f"the size of {out_type.name}")
    for i, b in enumerate(flat):
        if len(b) != size:
            raise errors.InvalidArgumentError(
                None, None, f"DecodeRaw requires input strings to all be the same size, but element {i} has "
                f"size {size} != {len(b)}")
    values = np.frombuffer(b"".join(flat), dtype=dtype).astype(out_type.np_dtype)
    return values.reshape((*np.shape(data), size // dtype.itemsize))


def _decode_raw_sample(rng: np.random.Generator) -> list[Any]:
    words = rng.integers(-1000, 1000, size=(2, 3)).astype("<i4")
    return [([_bytes_array([row.tobytes() for row in words], (2,))], {"out_type": dtypes.int32,
                                                                       "little_endian": True}),
            ([_bytes_array([words.astype(">f8").tobytes()], ())], {"out_type": dtypes.float64,
                                                                   "little_endian": False})]


DECODE_RAW = register_op(OpDef("DecodeRaw", infer=_decode_raw_infer, impl=_decode_raw_impl, grad=NO_GRADIENT,
                               gpu=False, input_names=("bytes",), sample=_decode_raw_sample))


def decode_raw(input_bytes: Any = None, out_type: Any = None, little_endian: bool = True, name: str | None = None,
               bytes: Any = None) -> Tensor:  # noqa: A002 - TF1's keyword
    """Reinterpret each string's bytes as a vector of ``out_type``: shape input.shape + [len / itemsize]."""
    data = bytes if input_bytes is None else input_bytes
    out = dtypes.as_dtype(out_type).base_dtype
    if out not in _RAW_TYPES:
        raise TypeError(f"Value passed to parameter 'out_type' has DataType {out.name} not in list of allowed "
                        f"values: {_RAW_TYPE_LIST}")
    return DECODE_RAW(data, out_type=out, little_endian=bool(little_endian), name=name)


# --- DecodeCSV ---
_CSV_TYPES = (dtypes.float32, dtypes.float64, dtypes.int32, dtypes.int64, dtypes.string)
_INT = re.compile(rb"\s*[+-]?\d+\s*\Z")
_INT_RANGE = {dtypes.int32: (-2**31, 2**31 - 1), dtypes.int64: (-2**63, 2**63 - 1)}
_FLOAT = re.compile(rb"\s*[+-]?(\d+\.?\d*([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?|inf|infinity|nan)\s*\Z", re.I)
_TYPE_WORDS = {dtypes.float32: "float", dtypes.float64: "double", dtypes.int32: "int32", dtypes.int64: "int64"}


def _split_record(record: bytes, delim: int, quotes: bool, select: list[int] | None) -> list[bytes]:
    """The fields of one record, by TF's rules: quoted fields may hold the delimiter and "" for a quote."""
    fields: list[bytes] = []
    n, i, parsed = len(record), 0, 0
    if n == 0:
        return fields
    while i < n:
        if record[i] in b"\r\n":
            i += 1
            continue
        quoted = quotes and record[i] == 0x22
        i += quoted
        field = bytearray()
        if not quoted:
            while i < n and record[i] != delim:
                if (quotes and record[i] == 0x22) or record[i] in b"\r\n":
                    raise errors.InvalidArgumentError(None, None, "Unquoted fields cannot have quotes/CRLFs inside")
                field.append(record[i])
                i += 1
            i += 1
        else:
            while i < n - 1 and (record[i] != 0x22 or record[i + 1] != delim):
                if record[i] != 0x22:
                    field.append(record[i])
                    i += 1
                    continue
                if record[i + 1] != 0x22:
                    raise errors.InvalidArgumentError(None, None,
                                                      "Quote inside a string has to be escaped by another quote")
                field.append(0x22)
                i += 2
            if not (i < n and record[i] == 0x22 and (i == n - 1 or record[i + 1] == delim)):
                raise errors.InvalidArgumentError(None, None,
                                                  "Quoted field has to end with quote followed by delim or end")
            i += 2
        parsed += 1
        if select is None or select[len(fields)] == parsed - 1:
            fields.append(bytes(field))
            if select is not None and len(fields) == len(select):
                return fields
    if record[-1] == delim and (select is None or select[len(fields)] == parsed):
        fields.append(b"")  # the delimiter ends the record: one more, empty field
    return fields


def _convert(text: bytes, dtype: dtypes.DType, f: int, i: int) -> Any:
    if dtype == dtypes.string:
        return text
    pattern = _FLOAT if dtype.is_floating else _INT
    ok = pattern.match(text) is not None
    if ok and dtype.is_integer:
        lo, hi = _INT_RANGE[dtype]
        value: Any = int(text)
        ok = lo <= value <= hi
    if not ok:
        raise errors.InvalidArgumentError(
            None, None, f"Field {f} in record {i} is not a valid {_TYPE_WORDS[dtype]}: {text.decode('latin-1')}")
    return value if dtype.is_integer else float(text)


def _decode_csv_infer(records: Tensor, *defaults: Tensor, field_delim: str, use_quote_delim: bool, na_value: str,
                      select_cols: list[int] | None) -> Any:
    if records.dtype.base_dtype != dtypes.string:
        raise TypeError(f"DecodeCSV needs string records, got {records.dtype.base_dtype.name}")
    for k, d in enumerate(defaults):
        if d.dtype.base_dtype not in _CSV_TYPES:
            raise TypeError(f"record_defaults[{k}] has DataType {d.dtype.base_dtype.name} not in list of allowed "
                            "values: float32, float64, int32, int64, string")
        dims = d.shape.as_tuple()
        if dims is not None and (len(dims) > 1 or (dims and dims[0] is not None and dims[0] > 1)):
            raise ValueError(f"Shape of a default must be a length-0 or length-1 vector, or a scalar, got {d.shape}")
    return [(records.shape, d.dtype.base_dtype) for d in defaults]


def _decode_csv_impl(xp: Any, records: Any, *defaults: Any, field_delim: str, use_quote_delim: bool,
                     na_value: str, select_cols: list[int] | None) -> Any:
    delim = field_delim.encode("utf-8")
    if len(delim) != 1:
        raise errors.InvalidArgumentError(None, None, "field_delim should be only 1 char")
    na = na_value.encode("utf-8")
    dtypes_out = [dtypes.string if np.asarray(d).dtype == object else dtypes.as_dtype(np.asarray(d).dtype)
                  for d in defaults]
    flat = np.asarray(records, dtype=object).reshape(-1)
    columns: list[list[Any]] = [[] for _ in defaults]
    for i, record in enumerate(flat):
        fields = _split_record(bytes(record), delim[0], use_quote_delim, select_cols)
        if len(fields) != len(defaults):
            raise errors.InvalidArgumentError(
                None, None, f"Expect {len(defaults)} fields but have {len(fields)} in record {i}")
        for f, (text, default) in enumerate(zip(fields, defaults)):
            if text == b"" or text == na:
                if np.size(default) != 1:
                    raise errors.InvalidArgumentError(None, None, f"Field {f} is required but missing in record {i}!")
                columns[f].append(np.asarray(default).reshape(-1)[0])
            else:
                columns[f].append(_convert(text, dtypes_out[f], f, i))
    shape = np.shape(records)
    outs = tuple(_bytes_array(col, shape) if dt == dtypes.string else np.array(col, dtype=dt.np_dtype).reshape(shape)
                 for col, dt in zip(columns, dtypes_out))
    return outs[0] if len(outs) == 1 else outs


def _decode_csv_sample(rng: np.random.Generator) -> list[Any]:
    rows = rng.integers(-50, 50, size=(3, 2))
    records = _bytes_array([f'{a},"{b}",{a / 4}'.encode() if k != 1 else f"{a},,".encode()
                            for k, (a, b) in enumerate(rows)], (3,))
    defaults = [np.array([0], np.int32), np.array([7], np.int64), np.array([1.5], np.float64)]
    attrs = {"field_delim": ",", "use_quote_delim": True, "na_value": "", "select_cols": None}
    return [([records, *defaults], attrs)]


DECODE_CSV = register_op(OpDef("DecodeCSV", infer=_decode_csv_infer, impl=_decode_csv_impl, grad=NO_GRADIENT,
                               gpu=False, same_dtype=False, input_names=("records", "record_defaults"),
                               sample=_decode_csv_sample))


def decode_csv(records: Any, record_defaults: Any, field_delim: str = ",", use_quote_delim: bool = True,
               name: str | None = None, na_value: str = "", select_cols: Any = None) -> list[Tensor]:
    """One tensor per column of the CSV ``records``; an empty (or ``na_value``) field takes its default."""
    if select_cols is not None:
        select_cols = [int(c) for c in select_cols]
        if any(b <= a for a, b in zip(select_cols, select_cols[1:])):
            raise ValueError("select_cols is not strictly increasing.")
        if select_cols and select_cols[0] < 0:
            raise ValueError("select_cols contains negative values.")
        if len(select_cols) != len(record_defaults):
            raise ValueError("Length of select_cols and record_defaults do not match.")
    defaults = [convert_to_tensor(d, name="record_defaults") for d in record_defaults]
    out = DECODE_CSV(records, *defaults, field_delim=field_delim, use_quote_delim=bool(use_quote_delim),
                     na_value=na_value, select_cols=select_cols, name=name)
    return [out] if isinstance(out, Tensor) else list(out)
