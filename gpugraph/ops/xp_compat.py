"""The few places where an op lowering must tell NumPy from CuPy, in one file.

Lowerings take ``xp`` (numpy or cupy) and use only ``xp``; where the two libraries differ in a way
that matters to an op, the op calls a helper here instead of branching on its own.
"""

from __future__ import annotations

import contextlib
from typing import Any, ContextManager, Sequence

import numpy

# Dtypes CuPy's scatter_add takes when indices are arrays (CUDA atomicAdd has no 8/16-bit or int64 form).
_ATOMIC_ADD_DTYPES = frozenset(["int32", "uint32", "uint64", "float16", "float32", "float64"])


def on_host(xp: Any) -> bool:
    """True for NumPy: value checks that would stall a GPU stream (a device-to-host read) run here only."""
    return xp is numpy


def flip(x: Any, axes: Sequence[int]) -> Any:
    """``x`` reversed along ``axes`` (a view), as ``numpy.flip``; ``cupy.flip`` refuses a 0-d array."""
    index = [slice(None)] * x.ndim
    for a in axes:
        index[a % x.ndim] = slice(None, None, -1)
    return x[tuple(index)]


def linalg_errors(xp: Any) -> ContextManager[Any]:
    """Context in which a singular matrix raises ``numpy.linalg.LinAlgError``.

    NumPy always raises; CuPy ignores cuSOLVER's status unless ``cupyx.errstate(linalg="raise")``
    asks it to read the status back (a device synchronization), and then raises NumPy's class.
    """
    if on_host(xp):
        return contextlib.nullcontext()
    import cupyx  # only reached with CuPy as xp

    return cupyx.errstate(linalg="raise")


def scatter_add(xp: Any, target: Any, indices: Any, values: Any) -> None:
    """``target[indices] += values`` in place, accumulating repeated indices (``numpy.add.at``).

    On CuPy this is ``cupyx.scatter_add`` (atomic adds). Dtypes it lacks accumulate in one it has:
    int64 in uint64 (two's complement sums are the same bits), 8/16-bit ints and bool in int32,
    wrapped back on the cast as NumPy's own sums wrap.
    """
    if on_host(xp):
        xp.add.at(target, indices, values)
        return
    import cupyx  # only reached with CuPy as xp

    dtype = target.dtype
    if dtype.name in _ATOMIC_ADD_DTYPES:
        cupyx.scatter_add(target, indices, values)
    elif dtype.name == "int64":
        cupyx.scatter_add(target.view(xp.uint64), indices, values.astype(xp.uint64))
    else:
        acc = xp.zeros(target.shape, dtype=xp.int32)
        cupyx.scatter_add(acc, indices, values.astype(xp.int32))
        target += acc.astype(dtype)
