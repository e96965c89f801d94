"""A CPU stand-in for CuPy 14 that keeps the contracts gpugraph relies on.

- Arrays wrap NumPy arrays and never convert implicitly (``np.asarray(a)`` raises TypeError, as in CuPy);
  ``cupy.<function>`` runs NumPy's function on the wrapped data and wraps what it returns.
- Every new array takes a block from the device's memory pool (sizes rounded up to 512 bytes); the block
  goes back to the pool's cache when the array is collected. ``used_bytes()`` counts blocks in use,
  ``total_bytes()`` adds the cached free blocks, ``free_all_blocks()`` drops the cache. An allocation that
  would pass the limit (or the device's memory) first frees the cache, then raises
  ``cupy.cuda.memory.OutOfMemoryError`` with CuPy's message.
- The pool, devices and streams act on the current device / stream; ``ndarray.set(a, stream=s)`` only
  queues the copy on ``s`` (it reads the host buffer when ``s`` runs); ``get(stream=s)`` runs ``s`` first.
  A kernel (any array function or operator) runs after the work queued on the current stream, as CUDA
  orders one stream; work queued on another stream is not waited for (its results may be missing).
- ``cupy.cuda.runtime.memGetInfo()`` reports the device's memory less what the pool holds and what other
  processes hold (``FakeCuda.held_elsewhere``); an allocation past that fails as one past the limit does.
- ``cupy.cuda.runtime`` has ``CUDARuntimeError`` (``status``; message "cudaErrorName: text") and, as in
  CuPy 14, no ``errorMemoryAllocation`` (a Cython-only constant there). ``FakeCuda.runtime_error`` makes
  every runtime call fail with that status, as a missing or too old driver (35) or no GPU at all (100) does.
- ``Device(i).compute_capability`` is CuPy's digit string ("90", "100"); a bad index raises
  cudaErrorInvalidDevice, on entering the device or asking its properties.
Not modelled: per-stream free lists, arrays of one device used on another, ElementwiseKernel.
"""

from __future__ import annotations

import operator
import types
import weakref
from typing import Any

import numpy as np

ALIGNMENT = 512


class FakeCuda:
    """State behind one fake cupy module."""

    def __init__(self, n_devices: int = 2, total_memory: int = 1 << 20):
        self.n_devices = n_devices
        self.total_memory = total_memory
        self.device_stack = [0]
        self.stream_stack: list = [None]
        self.pinned: list[weakref.ref] = []
        self.pool_calls: list[tuple] = []
        self.held_elsewhere: dict[int, int] = {}  # device -> bytes other processes hold (memGetInfo's free)
        self.capability = (9, 0)  # every device's (major, minor)
        self.runtime_error: int | None = None  # a cudaError_t status every runtime call raises


class OutOfMemoryError(MemoryError):
    """As cupy.cuda.memory.OutOfMemoryError (CuPy 14)."""

    def __init__(self, size: int, total: int, limit: int = 0):
        if limit == 0:
            msg = f"Out of memory allocating {size:,} bytes (allocated so far: {total:,} bytes)."
        else:
            msg = (f"Out of memory allocating {size:,} bytes (allocated so far: {total:,} bytes, "
                   f"limit set to: {limit:,} bytes).")
        super().__init__(msg)


class CUDARuntimeError(RuntimeError):
    """As cupy_backends.cuda.api.runtime.CUDARuntimeError: ``status`` is the cudaError_t code."""

    _NAMES = {2: ("cudaErrorMemoryAllocation", "out of memory"),
              35: ("cudaErrorInsufficientDriver", "CUDA driver version is insufficient for CUDA runtime version"),
              100: ("cudaErrorNoDevice", "no CUDA-capable device is detected"),
              101: ("cudaErrorInvalidDevice", "invalid device ordinal"),
              700: ("cudaErrorIllegalAddress", "an illegal memory access was encountered")}

    def __init__(self, status: int):
        self.status = status
        name, text = self._NAMES.get(status, (f"cudaError{status}", "unknown error"))
        super().__init__(f"{name}: {text}")


class FakePinned(bytearray):
    """Pinned host memory: a buffer (rounded up, as CuPy's pinned pool does)."""


class MemoryPointer:
    """A block taken from the pool; returned to the pool's cache when collected."""

    def __init__(self, pool: Pool, device: int, size: int):
        self.device_id = device
        self.size = size
        weakref.finalize(self, pool._give_back, device, size)


class Pool:
    """CuPy's MemoryPool: one sub-pool per device, every method on the current device."""

    def __init__(self, state: FakeCuda):
        self._state = state
        self._used: dict[int, int] = {}
        self._cached: dict[int, list[int]] = {}
        self._limit: dict[int, int] = {}

    def _dev(self) -> int:
        return self._state.device_stack[-1]

    def _note(self, *call: Any) -> None:
        self._state.pool_calls.append((call[0], self._dev(), self._state.stream_stack[-1]) + call[1:])

    def _give_back(self, device: int, size: int) -> None:
        self._used[device] -= size
        self._cached.setdefault(device, []).append(size)

    def used_bytes(self) -> int:
        return self._used.get(self._dev(), 0)

    def free_bytes(self) -> int:
        return sum(self._cached.get(self._dev(), []))

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
        fit = next((b for b in cached if b >= size), None)
        if fit is not None:  # cut from a cached block; the rest stays cached
            cached.remove(fit)
            if fit > size:
                cached.append(fit - size)
            self._cached[dev] = cached
        else:
            if not self._fits(size):
                self._cached[dev] = []  # CuPy frees the cached blocks and tries again
                if not self._fits(size):
                    raise OutOfMemoryError(size, self.total_bytes(), self.get_limit())
        self._used[dev] = self._used.get(dev, 0) + size
        return MemoryPointer(self, dev, size)

    def _fits(self, size: int) -> bool:
        total, limit = self.total_bytes(), self.get_limit()
        device_free = self._state.total_memory - total - self._state.held_elsewhere.get(self._dev(), 0)
        return size <= device_free and (limit == 0 or total + size <= limit)


def _unwrap(value: Any) -> Any:
    if isinstance(value, FakeArray):
        return value._data
    if isinstance(value, (list, tuple)):
        return type(value)(_unwrap(v) for v in value)
    return value


class FakeArray:
    """cupy.ndarray over a NumPy array and the pool block holding it."""

    _module: Any = None  # set per fake module

    def __init__(self, data: np.ndarray, ptr: MemoryPointer):
        self._data = data
        self.data = ptr
        self.device = self._module.cuda.Device(ptr.device_id)

    shape = property(lambda self: self._data.shape)
    dtype = property(lambda self: self._data.dtype)
    nbytes = property(lambda self: self._data.nbytes)
    ndim = property(lambda self: self._data.ndim)
    size = property(lambda self: self._data.size)
    T = property(lambda self: self._module._wrap(self._data.T, (self,)))

    def __array__(self, *args: Any, **kwargs: Any) -> np.ndarray:
        raise TypeError("Implicit conversion to a NumPy array is not allowed. Please use `.get()` to construct "
                        "a NumPy array explicitly.")

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._data, name)
        if not callable(attr):
            return attr
        self._module._wrap.flush()
        return lambda *a, **k: self._module._wrap(attr(*_unwrap(a), **{n: _unwrap(v) for n, v in k.items()}),
                                                  (self,) + tuple(v for v in a if isinstance(v, FakeArray)))

    def __getitem__(self, key: Any) -> Any:
        self._module._wrap.flush()
        return self._module._wrap(self._data[_unwrap(key)], (self,))

    def __setitem__(self, key: Any, value: Any) -> None:
        self._module._wrap.flush()
        self._data[_unwrap(key)] = _unwrap(value)

    def __len__(self) -> int:
        return len(self._data)

    def __bool__(self) -> bool:
        return bool(self._data)

    def __float__(self) -> float:
        return float(self._data)

    def __int__(self) -> int:
        return int(self._data)

    def __index__(self) -> int:
        return operator.index(self._data)

    def __iter__(self) -> Any:
        return (self[i] for i in range(len(self)))

    def __repr__(self) -> str:
        return f"array({self._data!r}, device={self.data.device_id})"

    def set(self, arr: np.ndarray, stream: Any = None) -> None:
        assert isinstance(arr, np.ndarray) and arr.shape == self.shape and arr.dtype == self.dtype
        assert stream is not None, "the backend copies on its own stream"
        src = weakref.ref(arr)

        def copy() -> None:
            buf = src()
            if buf is None:
                raise AssertionError("host buffer freed before the asynchronous copy ran")
            np.copyto(self._data, buf)
        stream.queue.append(copy)

    def get(self, stream: Any = None) -> np.ndarray:
        stream = stream or self._module._state.stream_stack[-1]
        if stream is not None:  # None: the legacy default stream, which this fake never queues on
            stream.synchronize()
        return self._data.copy()


def _binary(name: str) -> Any:
    def method(self: FakeArray, other: Any) -> Any:
        self._module._wrap.flush()
        result = getattr(self._data, name)(_unwrap(other))
        if result is NotImplemented:
            return result
        return self._module._wrap(result, (self,))
    return method


for _op in ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "and", "or", "xor",
            "lshift", "rshift"):
    for _name in (f"__{_op}__", f"__r{_op}__", f"__i{_op}__"):
        setattr(FakeArray, _name, _binary(_name))
for _name in ("__lt__", "__le__", "__eq__", "__ne__", "__gt__", "__ge__"):
    setattr(FakeArray, _name, _binary(_name))
for _name in ("__neg__", "__pos__", "__abs__", "__invert__"):
    setattr(FakeArray, _name, lambda self, _n=_name: (self._module._wrap.flush(),
                                                       self._module._wrap(getattr(self._data, _n)(), (self,)))[1])
FakeArray.__hash__ = None  # type: ignore[assignment]


class _Namespace(types.ModuleType):
    """``cupy`` and its array submodules: NumPy's functions over fake arrays."""

    def __init__(self, name: str, source: Any, wrap: Any):
        super().__init__(name)
        self._source = source
        self._wrap_result = wrap

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        attr = getattr(self._source, name)  # AttributeError when NumPy lacks it too
        if isinstance(attr, types.ModuleType):
            return _Namespace(f"{self.__name__}.{name}", attr, self._wrap_result)
        if isinstance(attr, type) or not callable(attr):
            return attr
        return _Function(attr, self._wrap_result)


class _Function:
    def __init__(self, fn: Any, wrap: Any):
        self._fn = fn
        self._wrap = wrap

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        out = kwargs.get("out")
        inputs = tuple(a for a in args if isinstance(a, FakeArray))
        self._wrap.flush()
        result = self._fn(*_unwrap(args), **{n: _unwrap(v) for n, v in kwargs.items()})
        return out if isinstance(out, FakeArray) else self._wrap(result, inputs)

    def __getattr__(self, name: str) -> Any:  # ufunc methods: reduce, outer, at...
        return _Function(getattr(self._fn, name), self._wrap)


def make_fake_cupy(state: FakeCuda) -> types.ModuleType:
    pool = Pool(state)

    def wrap(result: Any, inputs: tuple = ()) -> Any:
        if isinstance(result, tuple):
            return tuple(wrap(r, inputs) for r in result)
        if isinstance(result, list):
            return [wrap(r, inputs) for r in result]
        if isinstance(result, np.generic):  # CuPy returns 0-d arrays where NumPy returns scalars
            result = np.asarray(result)
        if not isinstance(result, np.ndarray):
            return result
        for source in inputs:  # a view shares its base's block
            if np.may_share_memory(result, source._data):
                return array_class(result, source.data)
        return array_class(result, pool._alloc(result.nbytes))

    def flush() -> None:
        stream = state.stream_stack[-1]
        while stream is not None and stream.queue:
            stream.queue.pop(0)()

    wrap.flush = flush
    cupy = _Namespace("cupy", np, wrap)
    cupy.__version__ = "14.2.0"
    array_class = type("ndarray", (FakeArray,), {"_module": cupy})
    cupy._wrap = wrap
    cupy._state = state

    def runtime_call(device: int | None = None) -> None:
        if state.runtime_error is not None:
            raise CUDARuntimeError(state.runtime_error)
        if device is not None and not 0 <= device < state.n_devices:
            raise CUDARuntimeError(101)

    def device_count() -> int:
        runtime_call()
        if state.n_devices == 0:  # CUDA has no "zero devices" answer: cudaGetDeviceCount fails
            raise CUDARuntimeError(100)
        return state.n_devices

    class Device:
        def __init__(self, id: int = 0):
            self.id = id

        @property
        def compute_capability(self) -> str:
            runtime_call(self.id)
            return "{}{}".format(*state.capability)  # CuPy: "%d%d" % (major, minor)

        def __enter__(self) -> Device:
            runtime_call(self.id)
            state.device_stack.append(self.id)
            return self

        def __exit__(self, *exc: Any) -> None:
            state.device_stack.pop()

    class Stream:
        def __init__(self, non_blocking: bool = False):
            self.device_id = state.device_stack[-1]
            self.queue: list = []
            self.syncs = 0

        def __enter__(self) -> Stream:
            state.stream_stack.append(self)
            return self

        def __exit__(self, *exc: Any) -> None:
            state.stream_stack.pop()

        def synchronize(self) -> None:
            for job in self.queue:
                job()
            self.queue.clear()
            self.syncs += 1

    def empty(shape: Any, dtype: Any = float) -> FakeArray:
        dt = np.dtype(dtype)  # uninitialised memory: filled with junk, never zeros
        data = np.full(shape, 0x7F, np.uint8).view(dt) if dt.itemsize == 1 else \
            np.full(shape, np.nan if dt.kind == "f" else 7, dtype=dt)
        return wrap(data)

    def free_memory() -> int:
        """What cudaMemGetInfo reports free on the current device: not held by any pool or process."""
        device = state.device_stack[-1]
        return state.total_memory - pool.total_bytes() - state.held_elsewhere.get(device, 0)

    def alloc_pinned_memory(nbytes: int) -> FakePinned:
        buf = FakePinned(-(-nbytes // 1024) * 1024)
        state.pinned.append(weakref.ref(buf))
        return buf

    def device_properties(i: int) -> dict:
        runtime_call(i)
        major, minor = state.capability
        return {"name": f"Fake GPU {i}".encode(), "major": major, "minor": minor}

    runtime = types.SimpleNamespace(
        getDeviceCount=device_count,
        memGetInfo=lambda: (runtime_call(), (free_memory(), state.total_memory))[1],
        getDeviceProperties=device_properties,
        CUDARuntimeError=CUDARuntimeError,
    )
    cupy.cuda = types.SimpleNamespace(
        Device=Device, Stream=Stream, runtime=runtime, alloc_pinned_memory=alloc_pinned_memory,
        memory=types.SimpleNamespace(OutOfMemoryError=OutOfMemoryError, MemoryPointer=MemoryPointer),
    )
    cupy.ndarray = array_class
    cupy.empty = empty
    cupy.get_default_memory_pool = lambda: pool
    cupy.get_default_pinned_memory_pool = lambda: types.SimpleNamespace(free_all_blocks=lambda: None)
    cupy._pool = pool
    return cupy
