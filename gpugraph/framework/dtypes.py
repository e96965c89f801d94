"""TF1 dtypes: a thin, hashable record around a NumPy dtype, plus ref dtypes."""

from __future__ import annotations

from typing import Any

import numpy as np


class DType:
    """A graph element type (``tf.float32``); ``float32_ref`` marks a variable's ref output."""

    __slots__ = ("name", "np_dtype", "is_ref", "_base")

    def __init__(self, name: str, np_dtype: Any, is_ref: bool = False, base: DType | None = None):
        self.name = name
        self.np_dtype = np.dtype(np_dtype)
        self.is_ref = is_ref
        self._base = base

    @property
    def base_dtype(self) -> DType:
        return self._base if self._base is not None else self

    @property
    def _as_ref(self) -> DType:
        return _REF_TYPES[self.base_dtype.name]

    @property
    def as_numpy_dtype(self) -> type:
        return self.np_dtype.type

    @property
    def is_floating(self) -> bool:
        return self.np_dtype.kind == "f"

    @property
    def is_integer(self) -> bool:
        return self.np_dtype.kind in "iu"

    @property
    def is_bool(self) -> bool:
        return self.np_dtype.kind == "b"

    @property
    def is_unsigned(self) -> bool:
        return self.np_dtype.kind == "u"

    @property
    def is_complex(self) -> bool:
        return self.np_dtype.kind == "c"

    def is_compatible_with(self, other: Any) -> bool:
        """TF1: the same type, or this type is the base of ``other`` (float32 fits float32_ref)."""
        other = as_dtype(other)
        return self.name in (other.name, other.base_dtype.name)

    @property
    def is_numeric(self) -> bool:
        return self.np_dtype.kind in "fiu"

    @property
    def size(self) -> int:
        return self.np_dtype.itemsize

    @property
    def min(self) -> Any:
        return np.finfo(self.np_dtype).min if self.is_floating else np.iinfo(self.np_dtype).min

    @property
    def max(self) -> Any:
        return np.finfo(self.np_dtype).max if self.is_floating else np.iinfo(self.np_dtype).max

    def __eq__(self, other: object) -> bool:
        if isinstance(other, DType):
            return self.name == other.name
        try:
            return self.name == as_dtype(other).name  # type: ignore[arg-type]
        except TypeError:
            return False

    def __ne__(self, other: object) -> bool:
        return not self == other

    def __hash__(self) -> int:
        return hash(self.name)

    def __repr__(self) -> str:
        return f"tf.{self.name}"

    def __str__(self) -> str:
        return f"<dtype: '{self.name}'>"

    def __reduce__(self) -> tuple:
        return as_dtype, (self.name,)


_BASE_SPECS = {
    "float16": np.float16,
    "float32": np.float32,
    "float64": np.float64,
    "int8": np.int8,
    "int16": np.int16,
    "int32": np.int32,
    "int64": np.int64,
    "uint8": np.uint8,
    "bool": np.bool_,
}
_TYPES: dict[str, DType] = {n: DType(n, t) for n, t in _BASE_SPECS.items()}
_REF_TYPES: dict[str, DType] = {
    n: DType(n + "_ref", t, is_ref=True, base=_TYPES[n]) for n, t in _BASE_SPECS.items()
}

float16 = half = _TYPES["float16"]
float32 = _TYPES["float32"]
float64 = double = _TYPES["float64"]
int8 = _TYPES["int8"]
int16 = _TYPES["int16"]
int32 = _TYPES["int32"]
int64 = _TYPES["int64"]
uint8 = _TYPES["uint8"]
bool_ = _TYPES["bool"]

float16_ref = _REF_TYPES["float16"]
float32_ref = _REF_TYPES["float32"]
float64_ref = _REF_TYPES["float64"]
int8_ref = _REF_TYPES["int8"]
int16_ref = _REF_TYPES["int16"]
int32_ref = _REF_TYPES["int32"]
int64_ref = _REF_TYPES["int64"]
uint8_ref = _REF_TYPES["uint8"]
bool_ref = _REF_TYPES["bool"]

# Strings appear only as outputs of a few ops (names of uninitialized variables).
string = DType("string", object)
_TYPES["string"] = string
_ALIASES = {"float": float32, "double": float64, "half": float16}
_TYPE_STRINGS = {"float32": "float", "float64": "double", "float16": "half"}


def type_string(dtype: DType) -> str:
    """The name TF's C++ runtime gives ``dtype`` in its messages (DataTypeString): float, double, int32..."""
    name = dtype.base_dtype.name
    return _TYPE_STRINGS.get(name, name)


def as_dtype(value: Any) -> DType:
    """Convert a DType, NumPy dtype, Python type or name to a DType; ``TypeError`` otherwise."""
    if isinstance(value, DType):
        return value
    if isinstance(value, str):
        if value in _TYPES:
            return _TYPES[value]
        if value.endswith("_ref") and value[:-4] in _REF_TYPES:
            return _REF_TYPES[value[:-4]]
        if value in _ALIASES:
            return _ALIASES[value]
    if value is float:
        return float32
    if value is int:
        return int32
    if value is bool:
        return bool_
    try:
        np_dtype = np.dtype(value)
    except TypeError:
        np_dtype = None
    if np_dtype is not None and np_dtype.name in _TYPES:
        return _TYPES[np_dtype.name]
    raise TypeError(f"Cannot convert {value!r} to a gpugraph dtype")
