"""The CuPy backend: one CUDA device, its own stream, pinned-memory transfers, a configured memory pool.

CuPy is imported when a backend is built, never at module import, so this module loads without it.
"""

from __future__ import annotations

import contextlib
from typing import Any, Iterator

import numpy as np

from gpugraph.runtime.backend import Backend, check_device_dtype
from gpugraph.runtime.memory import MemoryConfig, apply_to_pool, release

# Pinned staging buffers held for copies in flight; past this many bytes, wait for them before staging more.
MAX_PENDING_BYTES = 256 << 20

# cudaError_t cudaErrorMemoryAllocation; CuPy 14 keeps its own alias Cython-only, not on cupy.cuda.runtime.
CUDA_ERROR_MEMORY_ALLOCATION = 2


class CupyBackend(Backend):
    """Arrays are ``cupy.ndarray`` on CUDA device ``index``; kernels and copies run on ``self.stream``.

    Host-to-device copies go through a pinned host buffer and are asynchronous on the backend's stream:
    the buffer is kept until ``synchronize`` (the copy may still be reading it). Device-to-host copies
    wait for the stream, so what ``to_host`` returns is complete.
    """

    def __init__(self, index: int, memory: MemoryConfig | None = None):
        import cupy

        count = int(cupy.cuda.runtime.getDeviceCount())
        if not 0 <= index < count:
            raise ValueError(f"no GPU {index}: CUDA sees {count} device(s)")
        super().__init__("cupy", cupy, f"/device:GPU:{index}")
        self.index = index
        self.memory = memory if memory is not None else MemoryConfig()
        self._cupy = cupy
        self._cuda_device = cupy.cuda.Device(index)
        self._pool = cupy.get_default_memory_pool()
        self._pending: list[np.ndarray] = []  # pinned staging arrays of copies that may be in flight
        self._pending_bytes = 0
        with self._cuda_device:
            self.stream = cupy.cuda.Stream()
            self.total_memory = int(cupy.cuda.runtime.memGetInfo()[1])
            # the pool keeps free blocks per stream: reserve on the stream that will allocate
            with self.stream:
                apply_to_pool(self._pool, self.memory, self.total_memory)

    @contextlib.contextmanager
    def activate(self) -> Iterator[CupyBackend]:
        """Make this backend's device and stream current: kernels launched inside run on them."""
        with self._cuda_device, self.stream:
            yield self

    def to_device(self, host_array: Any) -> Any:
        cupy = self._cupy
        if isinstance(host_array, cupy.ndarray):
            if host_array.device.id == self.index:
                return host_array
            with self._cuda_device, self.stream:
                return cupy.array(host_array, copy=True)  # peer copy from another GPU
        src = np.asarray(host_array)
        check_device_dtype(src.dtype, self.device)
        if not src.dtype.isnative:
            src = src.astype(src.dtype.newbyteorder("="))
        nbytes = src.nbytes
        if nbytes and self._pending_bytes + nbytes > MAX_PENDING_BYTES and self._pending:
            self.synchronize()
        with self._cuda_device, self.stream:
            out = cupy.empty(src.shape, dtype=src.dtype)
            if nbytes:
                mem = cupy.cuda.alloc_pinned_memory(nbytes)
                staging = np.frombuffer(mem, src.dtype, src.size).reshape(src.shape)
                staging[...] = src  # the caller may change src as soon as we return
                out.set(staging, stream=self.stream)
                self._pending.append(staging)  # references mem: the async copy reads it
                self._pending_bytes += nbytes
        return out

    def to_host(self, array: Any) -> np.ndarray:
        if not isinstance(array, self._cupy.ndarray):
            return np.asarray(array)
        if array.device.id != self.index:  # another GPU's array: its own current stream orders the copy
            return array.get()
        with self._cuda_device:
            out = array.get(stream=self.stream)
        self.synchronize()
        return out

    def synchronize(self) -> None:
        self.stream.synchronize()
        self._pending.clear()
        self._pending_bytes = 0

    def memory_stats(self) -> dict[str, int | None]:
        with self._cuda_device:
            used = int(self._pool.used_bytes())
            limit = int(self._pool.get_limit())
            reserved = int(self._pool.total_bytes())
        return {"used": used, "limit": limit or None, "total": self.total_memory, "reserved": reserved}

    def is_out_of_memory(self, exc: BaseException) -> bool:
        cuda = self._cupy.cuda
        if isinstance(exc, cuda.memory.OutOfMemoryError):
            return True
        runtime_error = getattr(cuda.runtime, "CUDARuntimeError", None)
        # cudaMalloc outside the pool (cuBLAS workspaces, cuFFT plans) fails with cudaErrorMemoryAllocation
        return (runtime_error is not None and isinstance(exc, runtime_error)
                and getattr(exc, "status", None) == CUDA_ERROR_MEMORY_ALLOCATION)

    def release_memory(self) -> None:
        self.synchronize()
        with self._cuda_device:
            release(self._pool)
        self._cupy.get_default_pinned_memory_pool().free_all_blocks()
