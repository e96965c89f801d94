"""A GPU stand-in made of NumPy arrays: its own device name, memory budget, and counted transfers.

Tests drive the GPU code path with it on machines without a GPU: the plan moves arrays with
``to_device``/``to_host`` exactly as it would for CuPy, and the backend counts every copy and raises
its own out-of-memory error when the arrays on it outgrow the budget.

Bytes on the device are the sum of three parts:
- arrays made by ``to_device``: counted while the array is alive (a weakref finalizer gives them back,
  like CuPy's pool does when an array is collected);
- explicit reservations: ``allocate(nbytes, what)`` / ``release(nbytes)``;
- the working set last reported with ``account(arrays, what)``: the plan passes the arrays it holds on
  this device after a step (results of kernels, which the backend does not see being made).
"""

from __future__ import annotations

import threading
import weakref
from typing import Any, Iterable

import numpy as np

from gpugraph.runtime.backend import Backend, check_device_dtype


class SimulatedOutOfMemory(MemoryError):
    """The simulated device's allocator ran out of budget (the stand-in for CuPy's OutOfMemoryError)."""

    def __init__(self, requested: int, used: int, limit: int, what: str = ""):
        self.requested = requested
        self.used = used
        self.limit = limit
        self.what = what
        where = f" for {what}" if what else ""
        super().__init__(f"Out of memory allocating {requested} bytes{where} "
                         f"(allocated so far: {used} bytes, limit set to: {limit} bytes)")

    def __reduce__(self) -> tuple:
        return type(self), (self.requested, self.used, self.limit, self.what)


def _owner(array: np.ndarray) -> np.ndarray:
    """The array that owns the memory behind ``array`` (views count once, at their base's size)."""
    while isinstance(array.base, np.ndarray):
        array = array.base
    return array


def working_set_bytes(arrays: Iterable[Any]) -> int:
    """Bytes held by ``arrays``, each buffer once; non-arrays (Python scalars, None) hold nothing."""
    seen: dict[int, int] = {}
    for a in arrays:
        if isinstance(a, np.ndarray):
            owner = _owner(a)
            seen[id(owner)] = owner.nbytes
    return sum(seen.values())


class SimulatedGpuBackend(Backend):
    """Backend interface over NumPy arrays, posing as ``/device:GPU:<index>`` with ``memory_budget`` bytes."""

    def __init__(self, index: int = 0, memory_budget: int = 1 << 30):
        if memory_budget <= 0:
            raise ValueError(f"memory_budget must be positive, got {memory_budget}")
        super().__init__("simulated", np, f"/device:GPU:{index}")
        self.index = index
        self.memory_budget = int(memory_budget)
        self.transfers_to_device = 0
        self.transfers_to_host = 0
        self.bytes_to_device = 0
        self.bytes_to_host = 0
        self.synchronizations = 0
        self._lock = threading.RLock()  # re-entrant: a weakref callback may run inside a locked section
        self._transferred = 0  # bytes of live arrays made by to_device
        self._reserved = 0  # allocate() minus release()
        self._working = 0  # last account()
        self._live: dict[int, weakref.ref] = {}  # id -> arrays made by to_device, still alive
        self.peak_bytes = 0

    # --- Backend interface ---
    def to_device(self, host_array: Any) -> np.ndarray:
        src = np.asarray(host_array)
        check_device_dtype(src.dtype, self.device)
        nbytes = src.nbytes
        with self._lock:
            self._check(nbytes, "host-to-device copy")
            self._transferred += nbytes
            self._note_peak()
        out = np.array(src, copy=True)
        key = id(out)
        # the bytes come back when the array is collected, as CuPy's pool gets a block back
        self._live[key] = weakref.ref(out, lambda _ref, key=key, n=nbytes: self._forget(key, n))
        self.transfers_to_device += 1
        self.bytes_to_device += nbytes
        return out

    def to_host(self, array: Any) -> np.ndarray:
        out = np.array(array, copy=True)
        self.transfers_to_host += 1
        self.bytes_to_host += out.nbytes
        return out

    def synchronize(self) -> None:
        self.synchronizations += 1

    def memory_stats(self) -> dict[str, int | None]:
        return {"used": self.used_bytes, "limit": self.memory_budget, "total": self.memory_budget,
                "peak": self.peak_bytes}

    def is_out_of_memory(self, exc: BaseException) -> bool:
        return isinstance(exc, SimulatedOutOfMemory)

    def release_memory(self) -> None:
        """Session.close: nothing stays reserved on the device."""
        with self._lock:
            self._reserved = 0
            self._working = 0

    # --- memory accounting ---
    @property
    def used_bytes(self) -> int:
        return self._transferred + self._reserved + self._working

    def allocate(self, nbytes: int, what: str = "") -> None:
        """Reserve ``nbytes`` (e.g. a variable's storage); SimulatedOutOfMemory when over budget."""
        if nbytes < 0:
            raise ValueError(f"cannot allocate {nbytes} bytes")
        with self._lock:
            self._check(nbytes, what)
            self._reserved += nbytes
            self._note_peak()

    def release(self, nbytes: int) -> None:
        with self._lock:
            if nbytes < 0 or nbytes > self._reserved:
                raise ValueError(f"cannot release {nbytes} bytes: {self._reserved} reserved")
            self._reserved -= nbytes

    def account(self, arrays: Iterable[Any], what: str = "") -> int:
        """Set the working set to ``arrays`` (the arrays the plan holds on this device now).

        Arrays made by ``to_device`` are already counted; the rest are kernel results. Raises
        SimulatedOutOfMemory, naming ``what``, when the total is over budget. Returns the bytes counted.
        """
        seen: dict[int, int] = {}
        for a in arrays:
            if isinstance(a, np.ndarray):
                owner = _owner(a)
                seen[id(owner)] = 0 if self._made_here(owner) else owner.nbytes
        working = sum(seen.values())
        with self._lock:
            grow = working - self._working
            if grow > 0:
                self._check(grow, what)
            self._working = working
            self._note_peak()
        return working

    # --- internals ---
    def _made_here(self, array: np.ndarray) -> bool:
        ref = self._live.get(id(array))
        return ref is not None and ref() is array

    def _forget(self, key: int, nbytes: int) -> None:
        with self._lock:
            self._live.pop(key, None)
            self._transferred -= nbytes

    def _check(self, nbytes: int, what: str) -> None:
        used = self._transferred + self._reserved + self._working
        if used + nbytes > self.memory_budget:
            raise SimulatedOutOfMemory(nbytes, used, self.memory_budget, what)

    def _note_peak(self) -> None:
        used = self._transferred + self._reserved + self._working
        if used > self.peak_bytes:
            self.peak_bytes = used

    def __repr__(self) -> str:
        return f"<SimulatedGpuBackend on {self.device}: {self.used_bytes} of {self.memory_budget} bytes>"
