"""The fake CuPy's memory pool (fake_cupy.py): CuPy's MemoryPool over a byte count per device.

Blocks are rounded up to 512 bytes and have an address (``MemoryPointer.ptr``); a freed block goes to the
device's cache and is cut again, at the same address, for a later allocation that fits.
"""

from __future__ import annotations

import weakref
from typing import Any

from fake_cuda_graph import CAPTURE_UNSUPPORTED, MODE_RELAXED

ALIGNMENT = 512


class OutOfMemoryError(MemoryError):
    """As cupy.cuda.memory.OutOfMemoryError (CuPy 14)."""

    def __init__(self, size: int, total: int, limit: int = 0):
        if limit == 0:
            msg = f"Out of memory allocating {size:,} bytes (allocated so far: {total:,} bytes)."
        else:
            msg = (f"Out of memory allocating {size:,} bytes (allocated so far: {total:,} bytes, "
                   f"limit set to: {limit:,} bytes).")
        super().__init__(msg)



class MemoryPointer:
    """A block taken from the pool at address ``ptr``; returned to the pool's cache when collected."""

    def __init__(self, pool: Pool, device: int, size: int, address: int):
        self.device_id = device
        self.size = size
        self.ptr = address
        weakref.finalize(self, pool._give_back, device, size, address)


class Pool:
    """CuPy's MemoryPool: one sub-pool per device, every method on the current device."""

    def __init__(self, state: Any):  # fake_cupy.FakeCuda
        self._state = state
        self._used: dict[int, int] = {}
        self._cached: dict[int, list[tuple[int, int]]] = {}  # device -> free blocks (size, address)
        self._limit: dict[int, int] = {}
        self._live: weakref.WeakSet = weakref.WeakSet()
        state.pools.append(self)  # memGetInfo counts every pool's blocks

    def _dev(self) -> int:
        return self._state.device_stack[-1]

    def _note(self, *call: Any) -> None:
        self._state.pool_calls.append((call[0], self._dev(), self._state.stream_stack[-1]) + call[1:])

    def _give_back(self, device: int, size: int, address: int) -> None:
        self._used[device] -= size
        self._cached.setdefault(device, []).append((size, address))

    def _live_blocks(self) -> list[MemoryPointer]:
        return list(self._live)

    def used_bytes(self) -> int:
        return self._used.get(self._dev(), 0)

    def free_bytes(self) -> int:
        return sum(size for size, _ in self._cached.get(self._dev(), []))

    def total_bytes(self) -> int:
        return self.used_bytes() + self.free_bytes()

    def set_limit(self, size: int | None = None, fraction: float | None = None) -> None:
        self._note("set_limit", size, fraction)
        if size is not None and fraction is not None:
            raise ValueError("size and fraction cannot be specified at one time")
        if fraction is not None:
            if not 0 <= fraction <= 1:
                raise ValueError(f"memory limit fraction out of range: {fraction}")
            size = int(self._state.total_memory * fraction)
        self._limit[self._dev()] = int(size or 0)

    def get_limit(self) -> int:
        return self._limit.get(self._dev(), 0)

    def free_all_blocks(self, stream: Any = None) -> None:
        self._note("free_all_blocks")
        self._cached[self._dev()] = []

    def malloc(self, nbytes: int) -> MemoryPointer:
        self._note("malloc", nbytes)
        return self._alloc(nbytes)

    def _alloc(self, nbytes: int) -> MemoryPointer:
        dev = self._dev()
        size = -(-int(nbytes) // ALIGNMENT) * ALIGNMENT
        cached = sorted(self._cached.setdefault(dev, []))
        fit = next((b for b in cached if b[0] >= size), None)
        if fit is not None:  # cut from a cached block; the rest stays cached
            cached.remove(fit)
            fit_size, address = fit
            if fit_size > size:
                cached.append((fit_size - size, address + size))
            self._cached[dev] = cached
        else:
            for capture in self._state.captures:  # cudaMalloc is "unsafe" during a capture not in relaxed mode
                if capture.mode != MODE_RELAXED:
                    capture.fail(CAPTURE_UNSUPPORTED)
            if not self._fits(size):
                self._cached[dev] = []  # CuPy frees the cached blocks and tries again
                if not self._fits(size):
                    raise OutOfMemoryError(size, self.total_bytes(), self.get_limit())
            address = self._state.next_address.get(dev, (dev + 1) << 40)  # pools never share an address
            self._state.next_address[dev] = address + size
        self._used[dev] = self._used.get(dev, 0) + size
        block = MemoryPointer(self, dev, size, address)
        self._live.add(block)
        return block

    def _fits(self, size: int) -> bool:
        total, limit = self.total_bytes(), self.get_limit()
        device_free = self._state.total_memory - total - self._state.held_elsewhere.get(self._dev(), 0)
        return size <= device_free and (limit == 0 or total + size <= limit)
