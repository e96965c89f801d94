"""The simulated GPU's memory: a caching pool modelled on CuPy's, and the arrays that live in it.

``CachingPool`` follows CuPy's ``SingleDeviceMemoryPool``: requests are rounded up to 512 bytes; a freed
block stays cached and a later request takes the smallest cached chunk that fits (splitting off the
rest); freed neighbours merge back; ``free_all_blocks`` gives whole cached blocks back to the "driver".
A request the cache cannot serve takes a new block from the driver when the pool's limit allows, else
the cache is freed (and the garbage collector run) before the request fails.

``SimulatedGpuArray`` is the device's ndarray: every buffer behind one is a pool block, taken when the
buffer is made and given back when it is collected. NumPy carries the subclass to what is computed from
device arrays (ufuncs, methods, views: ``__array_wrap__``/``__array_finalize__``; other functions through
``__array_function__``), so kernels' results are device arrays, as CuPy's are.
"""

from __future__ import annotations

import bisect
import types
from typing import Any, Callable

import numpy as np

ALIGNMENT = 512  # CuPy rounds every allocation up to this


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


def rounded(nbytes: int) -> int:
    return -(-int(nbytes) // ALIGNMENT) * ALIGNMENT


class Chunk:
    """A piece of one driver block: ``size`` bytes at ``offset``, linked to its neighbours in the block."""

    __slots__ = ("offset", "size", "free", "prev", "next")

    def __init__(self, offset: int, size: int):
        self.offset, self.size, self.free = offset, size, False
        self.prev: Chunk | None = None
        self.next: Chunk | None = None


class CachingPool:
    """CuPy's caching allocator, counting bytes only. ``room()`` is how many bytes the pool may hold."""

    def __init__(self, room: Callable[[], int]):
        self._room = room
        self._free: dict[int, list[Chunk]] = {}  # size -> cached chunks of that size
        self._sizes: list[int] = []  # sorted keys of _free
        self.used = 0  # bytes of chunks in use
        self.total = 0  # bytes of blocks taken from the driver (in use + cached)
        self.allocations = 0  # every request
        self.driver_allocations = 0  # requests that took a new block from the driver

    @property
    def cached(self) -> int:
        return self.total - self.used

    def malloc(self, nbytes: int, what: str = "", collect: Callable[[], None] | None = None) -> Chunk:
        size = rounded(nbytes)
        self.allocations += 1
        chunk = self._take_cached(size)
        if chunk is None:
            if self.total + size > self._room():
                self.free_all_blocks()
            if self.total + size > self._room() and collect is not None:
                collect()  # as CuPy: gc.collect() may free arrays held only by cycles
                self.free_all_blocks()
            if self.total + size > self._room():
                raise SimulatedOutOfMemory(size, self.total, self._room(), what)
            chunk = Chunk(0, size)
            self.total += size
            self.driver_allocations += 1
        chunk.free = False
        self.used += chunk.size
        return chunk

    def free(self, chunk: Chunk) -> None:
        self.used -= chunk.size
        for neighbour in (chunk.next, chunk.prev):  # merge with free neighbours, as CuPy does
            if neighbour is not None and neighbour.free:
                self._unlist(neighbour)
                first, second = (chunk, neighbour) if neighbour is chunk.next else (neighbour, chunk)
                first.size += second.size
                first.next = second.next
                if second.next is not None:
                    second.next.prev = first
                chunk = first
        chunk.free = True
        self._list(chunk)

    def free_all_blocks(self) -> None:
        """Give back every cached chunk that is a whole block (split blocks stay, as in CuPy)."""
        for size in list(self._sizes):
            keep = [c for c in self._free[size] if c.prev is not None or c.next is not None]
            self.total -= size * (len(self._free[size]) - len(keep))
            if keep:
                self._free[size] = keep
            else:
                del self._free[size]
                self._sizes.remove(size)

    def _take_cached(self, size: int) -> Chunk | None:
        at = bisect.bisect_left(self._sizes, size)
        if at == len(self._sizes):
            return None
        chunk = self._free[self._sizes[at]][-1]
        self._unlist(chunk)
        if chunk.size > size:  # split: the rest stays cached
            rest = Chunk(chunk.offset + size, chunk.size - size)
            rest.prev, rest.next = chunk, chunk.next
            if chunk.next is not None:
                chunk.next.prev = rest
            chunk.next, chunk.size = rest, size
            rest.free = True
            self._list(rest)
        return chunk

    def _list(self, chunk: Chunk) -> None:
        same = self._free.get(chunk.size)
        if same is None:
            self._free[chunk.size] = [chunk]
            bisect.insort(self._sizes, chunk.size)
        else:
            same.append(chunk)

    def _unlist(self, chunk: Chunk) -> None:
        same = self._free[chunk.size]
        same.remove(chunk)
        if not same:
            del self._free[chunk.size]
            self._sizes.remove(chunk.size)


def buffer_owner(array: np.ndarray) -> np.ndarray:
    """The array owning the memory behind ``array`` (views count once, at their owner's size)."""
    while True:
        base = array.base
        if isinstance(base, np.ndarray):
            array = base
        elif isinstance(getattr(base, "base", None), np.ndarray):  # as_strided's interface holder
            array = base.base
        else:
            return array


class SimulatedGpuArray(np.ndarray):
    """An ndarray living on a simulated GPU: each buffer behind one is a block of its device's pool."""

    _device: Any = None  # the backend, set on each device's own subclass

    def __array_finalize__(self, obj: Any) -> None:
        base = self.base
        if base is not None and type(base) is type(self):
            return  # a view of a device array: its buffer is counted already
        self._device.adopt(self)

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        # NumPy functions that build a plain ndarray from device arrays (concatenate, stack, pad, ...)
        return on_device(super().__array_function__(func, types, args, kwargs), type(self))

    def __reduce_ex__(self, protocol: Any) -> Any:
        return np.asarray(self).__reduce_ex__(protocol)  # pickles as host data


def on_device(result: Any, array_type: type[SimulatedGpuArray]) -> Any:
    """``result`` with every plain ndarray in it (also in tuples and lists) made a device array."""
    if isinstance(result, np.ndarray):
        return result if isinstance(result, SimulatedGpuArray) else result.view(array_type)
    if isinstance(result, (tuple, list)) and any(isinstance(r, np.ndarray) for r in result):
        items = [on_device(r, array_type) for r in result]
        return type(result)(*items) if hasattr(result, "_fields") else type(result)(items)
    return result


class DeviceUfunc:
    """A NumPy ufunc whose results (and reduce/accumulate/outer results) are device arrays."""

    __slots__ = ("ufunc", "_array_type")

    def __init__(self, ufunc: np.ufunc, array_type: type[SimulatedGpuArray]):
        self.ufunc, self._array_type = ufunc, array_type

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return on_device(self.ufunc(*args, **kwargs), self._array_type)

    def reduce(self, *args: Any, **kwargs: Any) -> Any:
        return on_device(self.ufunc.reduce(*args, **kwargs), self._array_type)

    def accumulate(self, *args: Any, **kwargs: Any) -> Any:
        return on_device(self.ufunc.accumulate(*args, **kwargs), self._array_type)

    def reduceat(self, *args: Any, **kwargs: Any) -> Any:
        return on_device(self.ufunc.reduceat(*args, **kwargs), self._array_type)

    def outer(self, *args: Any, **kwargs: Any) -> Any:
        return on_device(self.ufunc.outer(*args, **kwargs), self._array_type)

    def at(self, *args: Any, **kwargs: Any) -> None:
        self.ufunc.at(*args, **kwargs)  # in place: makes nothing

    def __getattr__(self, name: str) -> Any:
        return getattr(self.ufunc, name)


_CONVERTERS = ("asarray", "asanyarray", "ascontiguousarray", "asfortranarray")


class DeviceNumpy:
    """NumPy's names with every array they make placed on one simulated device, as CuPy's are.

    Types (dtypes, ``ndarray``) and constants pass through; functions and ufuncs return device arrays
    (``xp.zeros``, ``xp.array`` of a device array); ``asarray`` of host data copies it to the device, as
    ``cupy.asarray`` does.
    """

    numpy_semantics = True  # NumPy underneath: host reads cost nothing (gpugraph.ops.xp_compat.on_host)

    def __init__(self, array_type: type[SimulatedGpuArray], module: types.ModuleType = np):
        self._array_type = array_type
        self._module = module
        self.__name__ = module.__name__

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._module, name)
        if isinstance(value, types.ModuleType):
            wrapped = DeviceNumpy(self._array_type, value) if value.__name__.startswith("numpy") else value
        elif isinstance(value, type) or not callable(value):
            wrapped = value  # dtypes, ndarray, errstate, constants
        elif isinstance(value, np.ufunc):
            wrapped = DeviceUfunc(value, self._array_type)
        elif name in _CONVERTERS and self._module is np:
            wrapped = self._converter(value)
        else:
            wrapped = self._function(value)
        setattr(self, name, wrapped)  # looked up once
        return wrapped

    def _function(self, function: Callable[..., Any]) -> Callable[..., Any]:
        array_type = self._array_type

        def made_on_device(*args: Any, **kwargs: Any) -> Any:
            return on_device(function(*args, **kwargs), array_type)
        made_on_device.__name__ = getattr(function, "__name__", "function")
        made_on_device.__doc__ = getattr(function, "__doc__", None)
        return made_on_device

    def _converter(self, function: Callable[..., Any]) -> Callable[..., Any]:
        array_type = self._array_type

        def to_device(a: Any, *args: Any, **kwargs: Any) -> Any:
            out = function(a, *args, **kwargs)
            if isinstance(a, array_type) and _same_view(out, a):
                return a  # a device array already: itself, as in CuPy
            fresh = out is not a and out.base is None  # made by the call: no host buffer to copy
            if not fresh and not array_type._device.holds(out):
                out = np.array(out, copy=True)  # host memory: the device gets its own copy
            return on_device(out, array_type)
        to_device.__name__ = function.__name__
        return to_device


def _same_view(a: np.ndarray, b: np.ndarray) -> bool:
    return (a.shape == b.shape and a.dtype == b.dtype and a.strides == b.strides
            and a.__array_interface__["data"] == b.__array_interface__["data"])
