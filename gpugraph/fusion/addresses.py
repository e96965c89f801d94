"""Where a NumPy array's data is, for compiled loops called through ctypes, at the cost of one pointer read.

``array.ctypes.data`` builds a ctypes helper object on every call (about 1.5 us); a fused step hands
its loop three or four addresses, and a grouped optimizer update a dozen. NumPy's array object keeps the
data pointer right after the object header (``PyArrayObject_fields.data``, first field of NumPy's public
C struct), so ``data_address`` reads it there (about 0.2 us). The field's offset is found once, at import,
by looking for known arrays' addresses among the header sizes CPython may use; where it is not found (an
interpreter whose objects are laid out otherwise), ``data_address`` is ``array.ctypes.data``.
"""

from __future__ import annotations

import ctypes
import sys
from typing import Callable

import numpy as np

__all__ = ["data_address", "pointer_array"]

_from_address = ctypes.c_void_p.from_address


def _data_field_offset() -> int | None:
    """The offset of an array object's data pointer from the object's address, or None."""
    if sys.implementation.name != "cpython":  # id() is an address in CPython only
        return None
    probes = [np.empty(3, np.float32), np.empty((2, 5), np.float64)[1:], np.arange(4)[::2]]
    for offset in range(8, 72, 8):  # within the array object: the header, then the fields
        if all(_from_address(id(p) + offset).value == p.ctypes.data for p in probes):
            return offset
    return None


_OFFSET = _data_field_offset()


def _by_field(array: np.ndarray) -> int:
    return _from_address(id(array) + _OFFSET).value or 0  # type: ignore[operator]


def _by_ctypes(array: np.ndarray) -> int:
    return array.ctypes.data


# ``data_address(array)``: the address of ``array``'s first element (a NumPy array, subclasses included)
data_address: Callable[[np.ndarray], int] = _by_ctypes if _OFFSET is None else _by_field

_ARRAY_TYPES = [ctypes.c_void_p * n for n in range(17)]  # made once: ``c_void_p * n`` costs a lookup a call


def pointer_array(arrays: list[np.ndarray] | tuple[np.ndarray, ...]) -> ctypes.Array:
    """A C array of the arrays' data addresses (``void* const*`` for a loop's parameters)."""
    n = len(arrays)
    kind = _ARRAY_TYPES[n] if n < len(_ARRAY_TYPES) else ctypes.c_void_p * n
    return kind(*[data_address(a) for a in arrays])
