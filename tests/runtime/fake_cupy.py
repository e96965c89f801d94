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
- Stream capture and CUDA graphs (fake_cuda_graph.py): ``Stream.begin_capture``/``end_capture``/``is_capturing``,
  ``cupy.cuda.Graph.launch``. Captured work is recorded, not run; host synchronisation during a capture fails
  and invalidates it. ``FakeCuda.kernel_launches`` counts kernels run outside captures, ``graph_launches``
  graph launches. Every pool block has an address (``MemoryPointer.ptr``), reused when the pool reuses it.
- ``ElementwiseKernel`` and ``ReductionKernel`` (fake_cuda_kernels.py) run the kernel's CUDA text, built by the
  host C++ compiler; each launch is one kernel.
Not modelled: per-stream free lists, arrays of one device used on another, a graph launched into a capturing
stream.
"""

from __future__ import annotations

import contextlib
import operator
import threading
import types
import weakref
from typing import Any, NamedTuple

import numpy as np
from fake_cuda_graph import (CAPTURE_IMPLICIT, CAPTURE_UNSUPPORTED, ERROR_NAMES, ILLEGAL_STATE, MODE_GLOBAL,
                             MODE_RELAXED, MODE_THREAD_LOCAL, Capture, Graph, device_arrays, new_outputs,
                             record_kernel)
from fake_cuda_kernels import ElementwiseKernel, ReductionKernel
from fake_cuda_pool import ALIGNMENT, MemoryPointer, OutOfMemoryError, Pool

__all__ = ["ALIGNMENT", "CUDARuntimeError", "FakeCuda", "MemoryPointer", "OutOfMemoryError", "Pool", "make_fake_cupy"]


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
        self.captures: list[Capture] = []  # capture sequences in progress, on any stream
        self.kernel_launches = 0  # kernels run outside a capture (a graph's replay is not counted here)
        self.graph_launches = 0
        self.next_address: dict[int, int] = {}  # device -> address of its next new block (all pools)
        self.pools: list = []  # every MemoryPool made (the default one first)
        self.allocator = threading.local()  # cupy.cuda.using_allocator's per-thread allocator


class CUDARuntimeError(RuntimeError):
    """As cupy_backends.cuda.api.runtime.CUDARuntimeError: ``status`` is the cudaError_t code."""

    _NAMES = {1: ("cudaErrorInvalidValue", "invalid argument"),
              2: ("cudaErrorMemoryAllocation", "out of memory"),
              35: ("cudaErrorInsufficientDriver", "CUDA driver version is insufficient for CUDA runtime version"),
              100: ("cudaErrorNoDevice", "no CUDA-capable device is detected"),
              101: ("cudaErrorInvalidDevice", "invalid device ordinal"),
              700: ("cudaErrorIllegalAddress", "an illegal memory access was encountered"),
              **ERROR_NAMES}

    def __init__(self, status: int):
        self.status = status
        name, text = self._NAMES.get(status, (f"cudaError{status}", "unknown error"))
        super().__init__(f"{name}: {text}")


class FakePinned(bytearray):
    """Pinned host memory: a buffer (rounded up, as CuPy's pinned pool does)."""


def _unwrap(value: Any) -> Any:
    if isinstance(value, FakeArray):
        return value._data
    if isinstance(value, (list, tuple)):
        return type(value)(_unwrap(v) for v in value)
    return value


def _method(name: str) -> Any:
    def call(data: np.ndarray, *args: Any, **kwargs: Any) -> Any:
        return getattr(data, name)(*args, **kwargs)
    return call


class _Flags(NamedTuple):
    """cupy.ndarray.flags (CuPy's has only these three; no ``writeable``)."""

    c_contiguous: bool
    f_contiguous: bool
    owndata: bool


class FakeArray:
    """cupy.ndarray over a NumPy array and the pool block holding it."""

    _module: Any = None  # set per fake module

    def __init__(self, data: np.ndarray, ptr: MemoryPointer, base: FakeArray | None = None):
        self._data = data
        self.data = ptr
        self.base = base  # a view's: the array owning the block (CuPy's views hold it, as NumPy's do)
        self.device = self._module.cuda.Device(ptr.device_id)

    @property
    def flags(self) -> _Flags:
        """CuPy's flags: contiguity and ownership (an array owns its block unless it is a view)."""
        return _Flags(self._data.flags.c_contiguous, self._data.flags.f_contiguous, self.base is None)

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
        return lambda *a, **k: self._module._kernel(_method(name), (self,) + a, k)

    def __getitem__(self, key: Any) -> Any:
        return self._module._kernel(operator.getitem, (self, key))

    def __setitem__(self, key: Any, value: Any) -> None:
        self._module._kernel(operator.setitem, (self, key, value), in_place=True)

    def __len__(self) -> int:
        return len(self._data)

    # CuPy reads a device scalar with get(): a host synchronisation
    def __bool__(self) -> bool:
        return bool(self.get())

    def __float__(self) -> float:
        return float(self.get())

    def __int__(self) -> int:
        return int(self.get())

    def __index__(self) -> int:
        return operator.index(self.get())

    def item(self, *args: Any) -> Any:
        return self.get().item(*args)

    def tolist(self) -> Any:
        return self.get().tolist()

    def __iter__(self) -> Any:
        return (self[i] for i in range(len(self)))

    def __repr__(self) -> str:
        return f"array({self.get()!r}, device={self.data.device_id})"

    def set(self, arr: np.ndarray, stream: Any = None) -> None:
        assert isinstance(arr, np.ndarray) and arr.shape == self.shape and arr.dtype == self.dtype
        assert stream is not None, "the backend copies on its own stream"
        self._module._upload(self, arr, stream)

    def get(self, stream: Any = None) -> np.ndarray:
        stream = stream or self._module._state.stream_stack[-1]
        if stream is None:  # the legacy default stream, which this fake never queues on
            self._module._legacy_stream_work()
        else:
            stream.synchronize()
        return self._data.copy()


def _binary(name: str) -> Any:
    def method(self: FakeArray, other: Any) -> Any:
        return self._module._kernel(_method(name), (self, other), in_place=name.startswith("__i"))
    return method


for _op in ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "and", "or", "xor",
            "lshift", "rshift"):
    for _name in (f"__{_op}__", f"__r{_op}__", f"__i{_op}__"):
        setattr(FakeArray, _name, _binary(_name))
for _name in ("__lt__", "__le__", "__eq__", "__ne__", "__gt__", "__ge__"):
    setattr(FakeArray, _name, _binary(_name))
for _name in ("__neg__", "__pos__", "__abs__", "__invert__"):
    setattr(FakeArray, _name, lambda self, _n=_name: self._module._kernel(_method(_n), (self,)))
FakeArray.__hash__ = None  # type: ignore[assignment]


class _Namespace(types.ModuleType):
    """``cupy`` and its array submodules: NumPy's functions over fake arrays."""

    def __init__(self, name: str, source: Any, kernel: Any):
        super().__init__(name)
        self._source = source
        self._run_kernel = kernel

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        attr = getattr(self._source, name)  # AttributeError when NumPy lacks it too
        if isinstance(attr, types.ModuleType):
            return _Namespace(f"{self.__name__}.{name}", attr, self._run_kernel)
        if isinstance(attr, type) or not callable(attr):
            return attr
        return _Function(attr, self._run_kernel)


class _Function:
    def __init__(self, fn: Any, kernel: Any):
        self._fn = fn
        self._kernel = kernel

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        out = kwargs.get("out")
        result = self._kernel(self._fn, args, kwargs)
        return out if isinstance(out, FakeArray) else result

    def __getattr__(self, name: str) -> Any:  # ufunc methods: reduce, outer, at...
        return _Function(getattr(self._fn, name), self._kernel)


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
                return array_class(result, source.data, source if source.base is None else source.base)
        malloc = getattr(state.allocator, "malloc", None)  # cupy.cuda.using_allocator's, in this thread
        return array_class(result, malloc(result.nbytes) if malloc is not None else pool._alloc(result.nbytes))

    def flush() -> None:
        stream = state.stream_stack[-1]
        while stream is not None and stream.queue:
            stream.queue.pop(0)()

    def is_legacy(stream: Any) -> bool:
        return stream is None or stream.ptr == 0

    def legacy_stream_work() -> None:
        """Legacy-stream work waits for the device's blocking streams: CUDA refuses it while one captures."""
        device = state.device_stack[-1]
        for capture in list(state.captures):
            if not capture.stream.non_blocking and capture.stream.device_id == device:
                capture.fail(CAPTURE_IMPLICIT)

    def kernel(fn: Any, args: tuple, kwargs: dict | None = None, in_place: bool = False) -> Any:
        """Run (or, on a capturing stream, record) one kernel on the current stream."""
        kwargs = kwargs or {}
        in_place = in_place or kwargs.get("out") is not None
        stream = state.stream_stack[-1]
        if is_legacy(stream):
            legacy_stream_work()
        if getattr(stream, "capture", None) is not None:
            return record_kernel(stream.capture, fn, args, kwargs, in_place, wrap, array_class)
        flush()
        sources = tuple(device_arrays((args, kwargs), FakeArray))
        result = fn(*_unwrap(args), **{n: _unwrap(v) for n, v in kwargs.items()})
        wrapped = wrap(result, sources)
        if result is not NotImplemented and (in_place or result is None or new_outputs(wrapped, sources, FakeArray)):
            state.kernel_launches += 1
        return wrapped

    def upload(dst: FakeArray, arr: np.ndarray, stream: Any) -> None:
        """Host-to-device copy queued on ``stream``: it reads the host buffer when it runs."""
        if is_legacy(stream):
            legacy_stream_work()
        src, target = weakref.ref(arr), dst._data

        def copy() -> None:
            buf = src()
            if buf is None:
                raise AssertionError("host buffer freed before the asynchronous copy ran")
            np.copyto(target, buf)
        capture = stream.capture
        if capture is None:
            stream.queue.append(copy)
            return
        capture.check()
        capture.touch(dst)
        copy()  # now, for the rest of the capture; end_capture undoes it
        capture.nodes.append(copy)

    def launch_graph(replay: Any, stream: Any) -> None:
        stream = stream if stream is not None else state.stream_stack[-1]
        if is_legacy(stream):
            legacy_stream_work()
        if getattr(stream, "capture", None) is not None:
            raise NotImplementedError("the fake CuPy does not model a graph launched into a capturing stream")
        state.graph_launches += 1
        if is_legacy(stream):
            replay()
        else:
            stream.queue.append(replay)

    wrap.flush = flush
    cupy = _Namespace("cupy", np, kernel)
    cupy.__version__ = "14.2.0"
    array_class = type("ndarray", (FakeArray,), {"_module": cupy})
    cupy._wrap = wrap
    cupy._kernel = kernel
    cupy._upload = upload
    cupy._launch_graph = launch_graph
    cupy._legacy_stream_work = legacy_stream_work
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
        _next_ptr = 0x10000

        def __init__(self, null: bool = False, non_blocking: bool = False, ptds: bool = False,
                     priority: int | None = None):
            self.device_id = -1 if null else state.device_stack[-1]
            self.non_blocking = non_blocking
            self.ptr = 0 if null else Stream._next_ptr
            Stream._next_ptr += 0 if null else 0x100
            self.queue: list = []
            self.syncs = 0
            self.capture: Capture | None = None

        def __enter__(self) -> Stream:
            state.stream_stack.append(self)
            return self

        def __exit__(self, *exc: Any) -> None:
            state.stream_stack.pop()

        def synchronize(self) -> None:
            if self.ptr == 0:
                legacy_stream_work()
            if self.capture is not None:
                self.capture.fail(CAPTURE_UNSUPPORTED)
            for job in self.queue:
                job()
            self.queue.clear()
            self.syncs += 1

        def begin_capture(self, mode: int | None = None) -> None:
            if self.ptr == 0:
                raise RuntimeError("cannot capture on the default (legacy) stream")
            mode = MODE_RELAXED if mode is None else mode  # CuPy's default: the pool may need to grow
            if mode not in (MODE_GLOBAL, MODE_THREAD_LOCAL, MODE_RELAXED):
                raise CUDARuntimeError(1)
            if self.capture is not None:
                raise CUDARuntimeError(ILLEGAL_STATE)
            while self.queue:  # work queued before the capture is not part of it
                self.queue.pop(0)()
            self.capture = Capture(self, mode, CUDARuntimeError)
            state.captures.append(self.capture)

        def end_capture(self) -> Graph:
            capture = self.capture
            if capture is None:
                raise CUDARuntimeError(ILLEGAL_STATE)
            self.capture = None
            state.captures.remove(capture)
            capture.finish()
            capture.check()
            return Graph._from_capture(capture, cupy)

        def is_capturing(self) -> bool:
            if self.ptr == 0:
                legacy_stream_work()
                return False
            if self.capture is not None and self.capture.invalidated:
                raise RuntimeError("the stream was capturing, but an error has invalidated the capture sequence")
            return self.capture is not None

    Stream.null = Stream(null=True)

    def empty(shape: Any, dtype: Any = float) -> FakeArray:
        dt = np.dtype(dtype)  # uninitialised memory: filled with junk, never zeros
        data = np.full(shape, 0x7F, np.uint8).view(dt) if dt.itemsize == 1 else \
            np.full(shape, np.nan if dt.kind == "f" else 7, dtype=dt)
        return wrap(data)

    def free_memory() -> int:
        """What cudaMemGetInfo reports free on the current device: not held by any pool or process."""
        device = state.device_stack[-1]
        return state.total_memory - sum(p.total_bytes() for p in state.pools) - state.held_elsewhere.get(device, 0)

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
        streamCaptureModeGlobal=MODE_GLOBAL, streamCaptureModeThreadLocal=MODE_THREAD_LOCAL,
        streamCaptureModeRelaxed=MODE_RELAXED,
    )
    @contextlib.contextmanager
    def using_allocator(allocator: Any = None) -> Any:
        """Allocations of this thread go to ``allocator`` (a ``malloc(nbytes) -> MemoryPointer``) inside."""
        previous = getattr(state.allocator, "malloc", None)
        state.allocator.malloc = allocator
        try:
            yield
        finally:
            state.allocator.malloc = previous

    cupy.cuda = types.SimpleNamespace(
        Device=Device, Stream=Stream, runtime=runtime, alloc_pinned_memory=alloc_pinned_memory,
        MemoryPool=lambda allocator=None: Pool(state), using_allocator=using_allocator,
        memory=types.SimpleNamespace(OutOfMemoryError=OutOfMemoryError, MemoryPointer=MemoryPointer),
        Graph=Graph, graph=types.SimpleNamespace(Graph=Graph),
        get_current_stream=lambda device_id=-1: state.stream_stack[-1] or Stream.null,
    )
    cupy.asnumpy = lambda a, stream=None: a.get(stream=stream) if isinstance(a, FakeArray) else np.asarray(a)
    cupy.ndarray = array_class
    cupy.empty = empty
    cupy.ElementwiseKernel, cupy.ReductionKernel = ElementwiseKernel, ReductionKernel
    cupy.get_default_memory_pool = lambda: pool
    cupy.get_default_pinned_memory_pool = lambda: types.SimpleNamespace(free_all_blocks=lambda: None)
    cupy._pool = pool
    return cupy
