"""An array's data address as compiled loops get it: what NumPy's own ``ctypes.data`` says, for every
kind of array a step hands a loop."""

from __future__ import annotations

import ctypes

import numpy as np
import pytest

from gpugraph.fusion import addresses


class _Sub(np.ndarray):
    pass


def _arrays() -> list[np.ndarray]:
    base = np.arange(60, dtype=np.float32).reshape(6, 10)
    return [base, base[2:], base[:, 3:], base.T, base[::2, ::3], base.reshape(-1)[7:], np.full((), 2.5),
            np.empty((0, 3)), np.zeros(5, np.int64).view(_Sub), np.asfortranarray(base), base[3, 4:5]]


@pytest.mark.parametrize("k", range(len(_arrays())))
def test_data_address_is_numpys(k: int) -> None:
    array = _arrays()[k]
    assert addresses.data_address(array) == array.ctypes.data


def test_field_offset_is_found_on_this_interpreter() -> None:
    assert addresses._OFFSET is not None and addresses.data_address is addresses._by_field


def test_pointer_array_holds_each_address_in_order() -> None:
    arrays = _arrays()[:4]
    pointers = addresses.pointer_array(arrays)
    assert [ctypes.c_void_p.from_buffer(pointers, 8 * k).value for k in range(4)] == [a.ctypes.data for a in arrays]
    many = [np.zeros(2) for _ in range(20)]  # more than the kept array types
    assert list(addresses.pointer_array(many)) == [a.ctypes.data for a in many]
