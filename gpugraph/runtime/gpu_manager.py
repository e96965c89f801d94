"""One backend per physical GPU for the whole process, shared by its sessions, as TF1 shares its devices.

A session takes a ``GpuLease`` on each GPU it uses and gives it back when it closes. The backend (CuPy's
memory pool for that device, one stream, the library handles) lives while any lease on it does.

Memory, per GPU: a session with ``per_process_gpu_memory_fraction`` f may hold f x total bytes. The pool's
limit is the sum of the active leases' shares (no limit while one lease has none), never above the limit
the pool had before the first lease, which comes back when the last lease goes. With ``allow_growth``
False a lease reserves its share up front, min(f x total, free memory), so that other processes cannot
take it; a share that cannot be had raises ``ResourceExhaustedError`` naming the device and the bytes.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Any, Callable

from gpugraph import errors
from gpugraph.runtime.memory import POOL_ALIGNMENT, MemoryConfig

logger = logging.getLogger("gpugraph")

# Reserving takes blocks until the pool has grown by the share; each block is at most this big, so that
# cached blocks of other sessions are used up first rather than counted twice.
_RESERVE_BLOCK = 1 << 30


@dataclass(eq=False)
class GpuLease:
    """One session's hold on one GPU: the shared backend and the bytes this session may use."""

    physical_index: int
    device_name: str
    backend: Any
    limit: int | None  # bytes this session may hold on the GPU; None: no cap
    reserved: int = 0  # bytes reserved for it at creation (allow_growth False)


@dataclass(eq=False)
class _SharedGpu:
    backend: Any
    limit_before: int  # the pool's limit when the first lease came (0: none), restored after the last
    leases: list[GpuLease] = field(default_factory=list)


class GpuManager:
    """The process's GPUs: backends are made by ``make_backend(physical_index)`` on first use."""

    def __init__(self, make_backend: Callable[[int], Any] | None = None):
        self._make_backend = make_backend or _cupy_backend
        self._gpus: dict[int, _SharedGpu] = {}
        self._lock = threading.Lock()

    def lease(self, physical_index: int, device_name: str, memory: MemoryConfig) -> GpuLease:
        """A session's lease on GPU ``physical_index`` (its ``device_name`` in that session)."""
        with self._lock:
            shared = self._gpus.get(physical_index)
            if shared is None:
                backend = self._make_backend(physical_index)
                with backend.activate():
                    limit_before = int(backend.pool.get_limit())
                shared = self._gpus[physical_index] = _SharedGpu(backend, limit_before)
            backend = shared.backend
            share = int(memory.fraction * backend.total_memory) if memory.fraction > 0 else None
            lease = GpuLease(physical_index, device_name, backend, share)
            shared.leases.append(lease)
            try:
                with backend.activate():
                    self._apply_limit(shared)
                    if share is not None and not memory.allow_growth:
                        lease.reserved = self._reserve(shared, lease, memory.fraction)
            except BaseException:
                self._drop(shared, lease)
                raise
            return lease

    def give_back(self, lease: GpuLease) -> None:
        """End ``lease``: the pool's limit shrinks to the remaining leases' shares; the last lease frees
        the pool's cached blocks and restores its first limit. Arrays other sessions hold are never freed."""
        with self._lock:
            shared = self._gpus.get(lease.physical_index)
            if shared is None or lease not in shared.leases:
                return
            self._drop(shared, lease)

    def sessions_on(self, physical_index: int) -> int:
        with self._lock:
            shared = self._gpus.get(physical_index)
            return len(shared.leases) if shared is not None else 0

    def backend(self, physical_index: int) -> Any | None:
        """The shared backend of a GPU while some session uses it."""
        with self._lock:
            shared = self._gpus.get(physical_index)
            return shared.backend if shared is not None else None

    def _drop(self, shared: _SharedGpu, lease: GpuLease) -> None:
        shared.leases.remove(lease)
        backend = shared.backend
        if shared.leases:
            with backend.activate():
                self._apply_limit(shared)
            return
        del self._gpus[lease.physical_index]
        try:
            backend.release_memory()
            with backend.activate():
                backend.pool.set_limit(size=shared.limit_before)
        except Exception as e:  # a device in a failed state: closing goes on, as TF1's does
            logger.warning("gpugraph: could not free %s's memory on close: %s", lease.device_name, e)

    @staticmethod
    def _apply_limit(shared: _SharedGpu) -> None:
        shares = [lease.limit for lease in shared.leases]
        limit = 0 if any(s is None for s in shares) else sum(s for s in shares if s is not None)
        if shared.limit_before:
            limit = min(limit, shared.limit_before) if limit else shared.limit_before
        shared.backend.pool.set_limit(size=min(limit, shared.backend.total_memory))

    @staticmethod
    def _reserve(shared: _SharedGpu, lease: GpuLease, fraction: float) -> int:
        """Grow the pool by min(share, free memory) and keep it as cached blocks: TF1's up-front allocation."""
        backend, pool = shared.backend, shared.backend.pool
        free = backend.free_memory()
        want = lease.limit or 0
        share = min(want, free) // POOL_ALIGNMENT * POOL_ALIGNMENT
        if share < want:
            logger.warning("gpugraph: %s has %d bytes free, less than the %d bytes (%.3g of %d) asked for; "
                           "reserving %d", lease.device_name, free, want, fraction, backend.total_memory, share)
        if share <= 0:
            raise _cannot_reserve(lease, want, free, backend.total_memory, fraction, None)
        target = int(pool.total_bytes()) + share
        held = []
        try:
            while int(pool.total_bytes()) < target:
                held.append(pool.malloc(min(_RESERVE_BLOCK, target - int(pool.total_bytes()))))
        except Exception as e:
            if not backend.is_out_of_memory(e):
                raise
            del held
            raise _cannot_reserve(lease, want, free, backend.total_memory, fraction, e) from None
        del held  # back into the pool as cached blocks: later arrays of any session are cut from them
        return share


def _cannot_reserve(lease: GpuLease, want: int, free: int, total: int, fraction: float,
                    cause: BaseException | None) -> errors.ResourceExhaustedError:
    why = f": {cause}" if cause is not None else ""
    return errors.ResourceExhaustedError(
        None, None,
        f"Could not reserve GPU memory for a new session on {lease.device_name} (GPU {lease.physical_index}): "
        f"per_process_gpu_memory_fraction={fraction:g} asks for {want} of {total} bytes, {free} bytes are "
        f"free{why}")


def _cupy_backend(physical_index: int) -> Any:
    from gpugraph.runtime.cupy_backend import CupyBackend

    return CupyBackend(physical_index)


_manager: list[GpuManager] = [GpuManager()]


def gpu_manager() -> GpuManager:
    """The process-wide manager."""
    return _manager[0]


def set_gpu_manager(manager: GpuManager) -> GpuManager:
    """Replace the process-wide manager (tests); returns the previous one."""
    previous, _manager[0] = _manager[0], manager
    return previous
