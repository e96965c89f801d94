"""Sums over an array's leading axes on the host, as one compiled loop: a bias's gradient, the batch's rows
of the incoming gradient added up (``SumToShape`` after ``x + b``, ``BiasAddGrad``).

NumPy reduces the leading axes of a C-contiguous array row by row, a call of its inner loop per row (11 us
for 256 rows of 256 floats); the loop here adds the rows in the same order to zeros (NumPy's start: add's
identity), vectorised along the row (4 us, 8 with the call), so the sums are NumPy's to the bit. That
order is NumPy's when a row has at least two elements: a row of one makes the reduced axis the contiguous
one, which NumPy sums pairwise, so such arrays (and strided ones, other dtypes, small ones) are left to
NumPy. The loop is compiled by the fused regions' compiler after ``COMPILE_AFTER`` large sums, so a plan
run once never waits for it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gpugraph.fusion.addresses import data_address
from gpugraph.kernels.built_later import POINTER, SIZE, BuiltLater

__all__ = ["LARGE_ELEMENTS", "leading_sum"]

LARGE_ELEMENTS = 1024  # below, NumPy's reduction costs about what the call to the loop does

_C_TYPES = {"float32": "float", "float64": "double"}


def _source() -> str:
    parts = []
    for dtype, ctype in _C_TYPES.items():
        parts.append(f"""
GPUGRAPH_REGION_CLONES static void _rows_{dtype}(const {ctype}* __restrict__ x, {ctype}* __restrict__ out,
                                             long long rows, long long cols) {{
  for (long long j = 0; j < cols; ++j) out[j] = 0;  // NumPy starts from add's identity: -0.0 rows sum to 0.0
  for (long long i = 0; i < rows; ++i) {{
    const {ctype}* __restrict__ row = x + i * cols;
    for (long long j = 0; j < cols; ++j) out[j] += row[j];
  }}
}}
extern "C" void gpugraph_leading_sum_{dtype}(const void* x, void* out, long long rows, long long cols) {{
  _rows_{dtype}((const {ctype}*)x, ({ctype}*)out, rows, cols);
}}""")
    return "\n".join(parts) + "\n"


_LOOPS = BuiltLater(_source, [f"gpugraph_leading_sum_{d}" for d in _C_TYPES], [[POINTER, POINTER, SIZE, SIZE]] * 2)
_BY_DTYPE = [np.dtype(d) for d in _C_TYPES]


def leading_sum(x: Any, lead: int) -> np.ndarray | None:
    """``x.sum(axis=tuple(range(lead)))`` bit for bit, by the compiled loop; None where the loop does not
    take ``x`` (the caller sums with NumPy)."""
    if type(x) is not np.ndarray or x.size < LARGE_ELEMENTS or not 0 < lead < x.ndim or not x.flags.c_contiguous:
        return None
    shape = x.shape[lead:]
    cols = 1
    for d in shape:
        cols *= d
    if cols < 2:
        return None
    loops = _LOOPS.functions()
    if loops is None:
        return None
    dtype = x.dtype  # compared as objects: ``dtype.name`` costs 2.7 us
    function = loops[0] if dtype == _BY_DTYPE[0] else loops[1] if dtype == _BY_DTYPE[1] else None
    if function is None:
        return None
    out = np.empty(shape, x.dtype)
    function(data_address(x), data_address(out), x.size // cols, cols)
    return out
