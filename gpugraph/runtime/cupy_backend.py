"""The CuPy backend: one CUDA device, its own stream, pinned-memory transfers, CuPy's pool for the device.

One backend per GPU serves every session of the process (``gpu_manager``), which also sets the pool's
limit. CuPy is imported when a backend is built, never at module import, so this module loads without it.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any, Iterator

import numpy as np

from gpugraph.runtime.backend import Backend, check_device_dtype
from gpugraph.runtime.memory import release

# Pinned staging buffers held for copies in flight; past this many bytes, wait for them before staging more.
MAX_PENDING_BYTES = 256 << 20

# cudaError_t cudaErrorMemoryAllocation; CuPy 14 keeps its own alias Cython-only, not on cupy.cuda.runtime.
CUDA_ERROR_MEMORY_ALLOCATION = 2
# CUBLAS_STATUS_ALLOC_FAILED and CUSOLVER_STATUS_ALLOC_FAILED: a library's workspace could not be allocated.
LIBRARY_ALLOC_FAILED = {"CUBLASError": 3, "CUSOLVERError": 3}


class CupyBackend(Backend):
    """Arrays are ``cupy.ndarray`` on CUDA device ``index``; kernels and copies run on ``self.stream``.

    Host-to-device copies go through a pinned host buffer and are asynchronous on the backend's stream:
    the buffer is kept until ``synchronize`` (the copy may still be reading it). Device-to-host copies
    wait for the stream, so what ``to_host`` returns is complete. Several threads may run sessions on
    one backend: the list of buffers in flight is guarded by a lock.
    """

    def __init__(self, index: int):
        import cupy

        count = int(cupy.cuda.runtime.getDeviceCount())
        if not 0 <= index < count:
            raise ValueError(f"no GPU {index}: CUDA sees {count} device(s)")
        super().__init__("cupy", cupy, f"/device:GPU:{index}")
        self.index = index
        self._cupy = cupy
        self._cuda_device = cupy.cuda.Device(index)
        self.pool = cupy.get_default_memory_pool()  # CuPy's pool: its methods act on the current device
        self._pending: list[np.ndarray] = []  # pinned staging arrays of copies that may be in flight
        self._pending_bytes = 0
        self._pending_lock = threading.Lock()
        with self._cuda_device:
            self.stream = cupy.cuda.Stream()
            self.total_memory = int(cupy.cuda.runtime.memGetInfo()[1])

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
        self._bound_pending(src.nbytes)
        with self._cuda_device, self.stream:
            out = cupy.empty(src.shape, dtype=src.dtype)
            self._copy_in(out, src)
        return out

    def _bound_pending(self, nbytes: int) -> None:
        """Wait for the copies in flight before staging more than MAX_PENDING_BYTES of pinned memory."""
        with self._pending_lock:
            wait = bool(nbytes and self._pending_bytes + nbytes > MAX_PENDING_BYTES and self._pending)
        if wait:
            self.synchronize()

    def upload_into(self, buffer: Any, host_array: Any) -> bool:
        """Copy ``host_array`` into the device array ``buffer`` (asynchronously, on the backend's stream);
        False, copying nothing, where its shape or dtype differ from the buffer's."""
        src = np.asarray(host_array)
        if src.shape != buffer.shape or src.dtype != buffer.dtype:
            return False
        self._bound_pending(src.nbytes)
        with self._cuda_device, self.stream:
            self._copy_in(buffer, src)
        return True

    def _copy_in(self, out: Any, src: np.ndarray) -> None:
        """Stage ``src`` in pinned memory and queue its copy into ``out`` on the stream."""
        nbytes = src.nbytes
        if not nbytes:
            return
        mem = self._cupy.cuda.alloc_pinned_memory(nbytes)
        staging = np.frombuffer(mem, src.dtype, src.size).reshape(src.shape)
        staging[...] = src  # the caller may change src as soon as we return
        out.set(staging, stream=self.stream)
        with self._pending_lock:
            self._pending.append(staging)  # references mem: the async copy reads it
            self._pending_bytes += nbytes

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
        # take the buffers first: copies queued before this point are done once the stream is; a copy
        # another thread queues meanwhile keeps its buffer in the new list until a later synchronize
        with self._pending_lock:
            done, self._pending, self._pending_bytes = self._pending, [], 0
        self.stream.synchronize()
        del done

    def free_memory(self) -> int:
        """Bytes CUDA reports free on the device now (outside every process's pools)."""
        with self._cuda_device:
            return int(self._cupy.cuda.runtime.memGetInfo()[0])

    def memory_stats(self) -> dict[str, int | None]:
        with self._cuda_device:
            used = int(self.pool.used_bytes())
            limit = int(self.pool.get_limit())
            reserved = int(self.pool.total_bytes())
        return {"used": used, "limit": limit or None, "total": self.total_memory, "reserved": reserved}

    def is_out_of_memory(self, exc: BaseException) -> bool:
        cuda = self._cupy.cuda
        if isinstance(exc, cuda.memory.OutOfMemoryError):
            return True
        runtime_error = getattr(cuda.runtime, "CUDARuntimeError", None)
        status = getattr(exc, "status", None)
        # cudaMalloc outside the pool (cuBLAS workspaces, cuFFT plans) fails with cudaErrorMemoryAllocation
        if runtime_error is not None and isinstance(exc, runtime_error) and status == CUDA_ERROR_MEMORY_ALLOCATION:
            return True
        # cupy_backends.cuda.libs.cublas.CUBLASError / cusolver.CUSOLVERError, matched by name: importing
        # those modules would load the libraries
        return any(cls.__name__ in LIBRARY_ALLOC_FAILED and status == LIBRARY_ALLOC_FAILED[cls.__name__]
                   for cls in type(exc).__mro__)

    def release_memory(self) -> None:
        self.synchronize()
        with self._cuda_device:
            release(self.pool)
        self._cupy.get_default_pinned_memory_pool().free_all_blocks()
