"""The few places where an op lowering must tell NumPy from CuPy, in one file.

Lowerings take ``xp`` (numpy or cupy) and use only ``xp``; where the two libraries differ in a way
that matters to an op, the op calls a helper here instead of branching on its own.
"""

from __future__ import annotations

import contextlib
from typing import Any, ContextManager, Sequence

import numpy

# NumPy's float scalar types: a value of one of these is host data (CuPy's 0-d results stay arrays), and
# arithmetic between two of one type costs a fifth of a ufunc call on 0-d arrays (per-sample loops).
FLOAT_SCALARS = frozenset({numpy.float16, numpy.float32, numpy.float64})

# Dtypes CuPy's scatter_add takes when indices are arrays (CUDA atomicAdd has no 8/16-bit or int64 form).
_ATOMIC_ADD_DTYPES = frozenset(["int32", "uint32", "uint64", "float16", "float32", "float64"])


def on_host(xp: Any) -> bool:
    """True for NumPy (and NumPy posing as a device, the simulated GPU's): value checks that would stall a
    GPU stream (a device-to-host read) run here only."""
    return xp is numpy or getattr(xp, "numpy_semantics", False)


def is_numpy(xp: Any) -> bool:
    """True for NumPy itself (not the simulated GPU's NumPy): where a host-only kernel may take the arrays."""
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


def overflow_to_inf(xp: Any) -> ContextManager[Any]:
    """Context in which a float overflow quietly gives inf: NumPy warns on it, CuPy never does."""
    return numpy.errstate(over="ignore") if on_host(xp) else contextlib.nullcontext()


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


def scatter_rows(xp: Any, kind: str, target: Any, rows: Any, updates: Any) -> None:
    """``target[rows] <kind>= updates`` in place, one update after another for repeated rows, as TF's
    Scatter* kernels do. ``rows`` is 1-D; ``updates`` has shape ``rows.shape + target.shape[1:]``.

    ``kind`` is "update", "add", "sub", "mul", "div", "max" or "min". NumPy applies ``ufunc.at``;
    CuPy has atomic scatters for add, max and min (``cupyx``), and a segmented product for mul/div.
    """
    if kind == "update":
        target[rows] = updates
        return
    if on_host(xp):
        ufunc = _HOST_UFUNCS[kind]
        if kind == "div" and target.dtype.kind in "iu":
            ufunc = "floor_divide"  # TF divides integers exactly as C++ does; floor equals it for positives
        getattr(xp, ufunc).at(target, rows, updates)
        return
    import cupyx  # only reached with CuPy as xp

    if kind == "add":
        scatter_add(xp, target, rows, updates)
    elif kind == "sub":
        scatter_add(xp, target, rows, xp.negative(updates))
    elif kind == "max":
        cupyx.scatter_max(target, rows, updates)
    elif kind == "min":
        cupyx.scatter_min(target, rows, updates)
    else:
        scatter_product_rows(xp, target, rows, updates, divide=kind == "div")


_HOST_UFUNCS = {"add": "add", "sub": "subtract", "mul": "multiply", "div": "divide", "max": "maximum",
                "min": "minimum"}


def scatter_product_rows(xp: Any, target: Any, rows: Any, updates: Any, divide: bool = False) -> None:
    """``target[r] *= prod(updates[rows == r])`` (or ``/=``) without atomics: sort the rows, take the
    product of each run of equal rows by a log-step scan, spread it over the run, then write each
    row once with the same value from every duplicate (so the write order does not matter)."""
    n = rows.shape[0]
    if n == 0:
        return
    order = xp.argsort(rows, kind="stable")
    sorted_rows = rows[order]
    values = updates[order]
    expand = (slice(None),) + (None,) * (values.ndim - 1)
    step = 1
    while step < n:  # inclusive product scan within runs: ceil(log2 n) rounds
        same = (sorted_rows[step:] == sorted_rows[:-step])[expand]
        scanned = values.copy()
        scanned[step:] = xp.where(same, values[step:] * values[:-step], values[step:])
        values = scanned
        step *= 2
    step = 1
    while step < n:  # each element takes its run's last value (the run's product)
        same = (sorted_rows[:-step] == sorted_rows[step:])[expand]
        spread = values.copy()
        spread[:-step] = xp.where(same, values[step:], values[:-step])
        values = spread
        step *= 2
    current = target[sorted_rows]
    target[sorted_rows] = current / values if divide else current * values
