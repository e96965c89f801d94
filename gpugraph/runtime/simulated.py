"""A GPU stand-in made of NumPy arrays: its own device name, memory pool and budget, and counted transfers.

Tests drive the GPU code path with it on machines without a GPU: the plan moves arrays with
``to_device``/``to_host`` exactly as it would for CuPy, and kernels run with NumPy as ``xp``. Arrays on
the device are ``SimulatedGpuArray``s, and NumPy makes what it computes from them one too, so the device
sees the arrays its kernels make, as CuPy's memory pool does: each buffer takes a pool block when it is
made and gives it back to the pool's cache when it is collected (gpugraph.runtime.simulated_memory).
The budget bounds the blocks the pool holds plus explicit reservations (``allocate``/``release``, e.g.
another process's memory); going over it raises ``SimulatedOutOfMemory`` from the call that allocates,
as CuPy raises OutOfMemoryError. With NumPy itself as ``xp`` (see ``device_xp``), an array a kernel
makes from host data alone (``xp.zeros``) or copies with ``xp.array`` stays a plain ndarray: only
``account`` counts it.
"""

from __future__ import annotations

import collections
import gc
import threading
import weakref
from typing import Any, Iterable

import numpy as np

from gpugraph.ops import xp_compat
from gpugraph.runtime.backend import Backend, check_device_dtype
from gpugraph.runtime.simulated_memory import (
    CachingPool,
    Chunk,
    DeviceNumpy,
    SimulatedGpuArray,
    SimulatedOutOfMemory,
    buffer_owner,
)

__all__ = ["SimulatedGpuBackend", "SimulatedGpuArray", "SimulatedOutOfMemory", "working_set_bytes"]


def working_set_bytes(arrays: Iterable[Any]) -> int:
    """Bytes held by ``arrays``, each buffer once; non-arrays (Python scalars, None) hold nothing."""
    seen: dict[int, int] = {}
    for a in arrays:
        if isinstance(a, np.ndarray):
            owner = buffer_owner(a)
            seen[id(owner)] = owner.nbytes
    return sum(seen.values())


def device_xp(namespace: DeviceNumpy) -> Any:
    """The device's ``xp``: ``namespace`` (NumPy making device arrays, so that ``xp.zeros`` and copies
    such as ``xp.array(x)`` are on the device, as CuPy's are) where op lowerings take it for NumPy
    (``xp_compat.on_host``: the simulated device keeps NumPy's semantics), else NumPy itself, whose
    results over device arrays are still device arrays."""
    return namespace if xp_compat.on_host(namespace) else np


class SimulatedGpuBackend(Backend):
    """Backend interface over NumPy arrays, posing as ``/device:GPU:<index>`` with ``memory_budget`` bytes."""

    def __init__(self, index: int = 0, memory_budget: int = 1 << 30):
        if memory_budget <= 0:
            raise ValueError(f"memory_budget must be positive, got {memory_budget}")
        self.index = index
        self.array_type: type[SimulatedGpuArray] = type(
            f"SimulatedGpu{index}Array", (SimulatedGpuArray,), {"_device": self, "__module__": __name__})
        super().__init__("simulated", device_xp(DeviceNumpy(self.array_type)), f"/device:GPU:{index}")
        self.memory_budget = int(memory_budget)
        self.transfers_to_device = 0
        self.transfers_to_host = 0
        self.bytes_to_device = 0
        self.bytes_to_host = 0
        self.synchronizations = 0
        self.peak_bytes = 0
        self._lock = threading.RLock()
        self._pool = CachingPool(self._pool_room)
        self._reserved = 0  # allocate() minus release()
        self._working = 0  # last account(): buffers on the device that were not made through it
        self._live: dict[int, tuple[weakref.ref, Chunk]] = {}  # id(buffer owner) -> (its ref, its block)
        # blocks of collected buffers: a collection may happen anywhere (even inside the pool's own
        # bookkeeping), so the callback only queues the block and the pool takes it back at its next use
        self._collected: collections.deque[tuple[int, weakref.ref]] = collections.deque()

    # --- Backend interface ---
    def to_device(self, host_array: Any) -> SimulatedGpuArray:
        src = np.asarray(host_array)
        check_device_dtype(src.dtype, self.device)
        copy = np.array(src, copy=True)
        self.adopt(copy, "host-to-device copy")
        out = copy.view(self.array_type)
        self.transfers_to_device += 1
        self.bytes_to_device += src.nbytes
        return out

    def to_host(self, array: Any) -> np.ndarray:
        out = np.array(array, copy=True)  # a plain ndarray: subclasses do not survive np.array
        self.transfers_to_host += 1
        self.bytes_to_host += out.nbytes
        return out

    def synchronize(self) -> None:
        self.synchronizations += 1

    def memory_stats(self) -> dict[str, int | None]:
        """As the CuPy backend's, plus the peak: ``used`` counts blocks in use, ``reserved`` adds the cache."""
        with self._lock:
            self._take_back_collected()
            held = self._pool.total + self._reserved + self._working
            return {"used": self.used_bytes, "limit": self.memory_budget, "total": self.memory_budget,
                    "reserved": held, "peak": self.peak_bytes}

    def is_out_of_memory(self, exc: BaseException) -> bool:
        return isinstance(exc, SimulatedOutOfMemory)

    def release_memory(self) -> None:
        """Session.close: reservations end and the pool gives its cached blocks back."""
        with self._lock:
            self._reserved = 0
            self._working = 0
            self.free_all_blocks()

    # --- the pool ---
    @property
    def used_bytes(self) -> int:
        """Bytes in use: pool blocks of live buffers (rounded as CuPy rounds) and reservations."""
        with self._lock:
            self._take_back_collected()
            return self._pool.used + self._reserved + self._working

    @property
    def cached_bytes(self) -> int:
        with self._lock:
            self._take_back_collected()
            return self._pool.cached

    @property
    def allocations(self) -> int:
        """Every buffer made on the device (CuPy's pool ``malloc`` calls)."""
        return self._pool.allocations

    @property
    def driver_allocations(self) -> int:
        """Buffers that needed a new block from the driver: the pool's cache had none that fit."""
        return self._pool.driver_allocations

    def free_all_blocks(self) -> None:
        """Give the cached blocks back to the driver (CuPy's ``MemoryPool.free_all_blocks``)."""
        with self._lock:
            self._take_back_collected()
            self._pool.free_all_blocks()

    def holds(self, array: np.ndarray) -> bool:
        """Whether the buffer behind ``array`` is on this device."""
        with self._lock:
            self._take_back_collected()
            return id(buffer_owner(array)) in self._live

    def adopt(self, array: np.ndarray, what: str = "") -> None:
        """Count the buffer behind ``array`` on this device from now until it is collected (once).

        Raises SimulatedOutOfMemory, before counting anything, when the pool cannot hold it."""
        owner = buffer_owner(array)
        if owner.nbytes == 0:
            return  # CuPy takes no block for an empty array
        if isinstance(owner, SimulatedGpuArray) and owner._device is not self:
            return  # another device's buffer
        key = id(owner)
        with self._lock:
            self._take_back_collected()
            if key in self._live:
                return
            chunk = self._pool.malloc(owner.nbytes, what, collect=self._collect_garbage)
            collected = self._collected
            ref = weakref.ref(owner, lambda r, key=key: collected.append((key, r)))
            self._live[key] = (ref, chunk)
            self._note_peak()

    # --- reservations outside the pool ---
    def allocate(self, nbytes: int, what: str = "") -> None:
        """Reserve ``nbytes`` (e.g. another process's memory); SimulatedOutOfMemory when over budget."""
        if nbytes < 0:
            raise ValueError(f"cannot allocate {nbytes} bytes")
        with self._lock:
            self._take_back_collected()
            self._make_room(nbytes, what)
            self._reserved += nbytes
            self._note_peak()

    def release(self, nbytes: int) -> None:
        with self._lock:
            if nbytes < 0 or nbytes > self._reserved:
                raise ValueError(f"cannot release {nbytes} bytes: {self._reserved} reserved")
            self._reserved -= nbytes

    def account(self, arrays: Iterable[Any], what: str = "") -> int:
        """Set the working set of buffers on this device that it did not see being made (``arrays``
        minus the device's own, which count already). Returns the bytes so counted; raises
        SimulatedOutOfMemory, naming ``what``, when they do not fit."""
        seen: dict[int, int] = {}
        with self._lock:
            self._take_back_collected()
            for a in arrays:
                if isinstance(a, np.ndarray):
                    owner = buffer_owner(a)
                    seen[id(owner)] = 0 if id(owner) in self._live else owner.nbytes
            working = sum(seen.values())
            grow = working - self._working
            if grow > 0:
                self._make_room(grow, what)
            self._working = working
            self._note_peak()
        return working

    # --- internals ---
    def _pool_room(self) -> int:
        return self.memory_budget - self._reserved - self._working

    def _make_room(self, nbytes: int, what: str) -> None:
        held = self._pool.total + self._reserved + self._working
        if held + nbytes > self.memory_budget:
            self._pool.free_all_blocks()  # the cache goes first
            held = self._pool.total + self._reserved + self._working
        if held + nbytes > self.memory_budget:
            raise SimulatedOutOfMemory(nbytes, held, self.memory_budget, what)

    def _collect_garbage(self) -> None:
        gc.collect()
        self._take_back_collected()

    def _take_back_collected(self) -> None:
        collected = self._collected
        while collected:
            key, ref = collected.popleft()
            entry = self._live.get(key)
            if entry is not None and entry[0] is ref:
                del self._live[key]
                self._pool.free(entry[1])

    def _note_peak(self) -> None:
        used = self._pool.used + self._reserved + self._working
        if used > self.peak_bytes:
            self.peak_bytes = used

    def __repr__(self) -> str:
        return f"<SimulatedGpuBackend on {self.device}: {self.used_bytes} of {self.memory_budget} bytes>"
