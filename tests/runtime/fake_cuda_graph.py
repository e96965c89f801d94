"""Stream capture and CUDA graphs for the fake CuPy (fake_cupy.py), with CUDA's rules.

While a stream captures, a kernel queued on it is recorded, not run. The fake still evaluates it on the
spot (later kernels of the capture need its shapes, and index arrays their values), then, at
``end_capture``, puts every array the capture wrote back as CUDA would leave it: arrays that existed
before the capture keep their old contents, arrays allocated during it hold junk (NaN, or inverted bits).
A graph replays its kernels on the very buffers they used at capture (the addresses are baked in):
inputs are read as they are at launch, host values passed as arguments are the ones seen at capture.

Status codes (cudaError_t): 401 cudaErrorIllegalState (capture begun twice, ended when not capturing),
900 cudaErrorStreamCaptureUnsupported (a host synchronisation on the capturing stream), 901
cudaErrorStreamCaptureInvalidated (work on, or end of, a capture an error has invalidated), 906
cudaErrorStreamCaptureImplicit (legacy-stream work while a blocking stream of the device captures).
Every failing call invalidates the capture, as in CUDA.
"""

from __future__ import annotations

import weakref
from typing import Any, Callable

import numpy as np

ILLEGAL_STATE = 401
CAPTURE_UNSUPPORTED = 900
CAPTURE_INVALIDATED = 901
CAPTURE_IMPLICIT = 906
# cudaStreamCaptureMode
MODE_GLOBAL, MODE_THREAD_LOCAL, MODE_RELAXED = 0, 1, 2

ERROR_NAMES = {
    ILLEGAL_STATE: ("cudaErrorIllegalState", "the operation cannot be performed in the present state"),
    CAPTURE_UNSUPPORTED: ("cudaErrorStreamCaptureUnsupported", "operation not permitted when stream is capturing"),
    CAPTURE_INVALIDATED: ("cudaErrorStreamCaptureInvalidated",
                          "operation failed due to a previous error during capture"),
    CAPTURE_IMPLICIT: ("cudaErrorStreamCaptureImplicit",
                       "operation would make the legacy stream depend on a capturing blocking stream"),
}


def root_buffer(buf: np.ndarray) -> np.ndarray:
    """The array owning ``buf``'s memory (a view's base chain ends at it)."""
    while isinstance(buf.base, np.ndarray):
        buf = buf.base
    return buf


def fill_junk(buf: np.ndarray) -> None:
    """What uninitialised (or not yet written) device memory holds: never the value that was there."""
    if not buf.flags.writeable or buf.size == 0:
        return
    if buf.dtype.kind in "fc":
        buf[...] = np.nan
    elif buf.dtype.kind == "b":
        np.logical_not(buf, out=buf)
    elif buf.dtype.kind in "iu":
        np.invert(buf, out=buf)
    else:
        buf.view(np.uint8)[...] = 0x7F


def bake(value: Any, fake_array: type) -> Any:
    """Kernel arguments as a graph keeps them: device arrays by buffer, host arrays copied now."""
    if isinstance(value, fake_array):
        return value._data
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, (list, tuple)):
        return type(value)(bake(v, fake_array) for v in value)
    if isinstance(value, dict):
        return {k: bake(v, fake_array) for k, v in value.items()}
    return value


def device_arrays(value: Any, fake_array: type) -> list:
    """Every fake array inside a kernel's arguments."""
    if isinstance(value, fake_array):
        return [value]
    if isinstance(value, (list, tuple)):
        return [a for v in value for a in device_arrays(v, fake_array)]
    if isinstance(value, dict):
        return [a for v in value.values() for a in device_arrays(v, fake_array)]
    return []


class Capture:
    """One capture sequence on one stream: the recorded nodes and the memory they touch."""

    def __init__(self, stream: Any, mode: int, error: type):
        self.stream = stream
        self.mode = mode
        self.error = error  # CUDARuntimeError
        self.invalidated = False
        self.nodes: list[Callable[[], None]] = []
        self._before: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # root id -> (root, contents at first use)
        self._fresh: dict[int, np.ndarray] = {}  # roots a captured kernel created
        self.blocks: list[tuple[int, int, weakref.ref]] = []  # (address, size, pool block) of each block used
        self._seen: weakref.WeakSet = weakref.WeakSet()

    def check(self) -> None:
        if self.invalidated:
            raise self.error(CAPTURE_INVALIDATED)

    def fail(self, status: int) -> None:
        """A call CUDA refuses during this capture: it invalidates the capture."""
        self.invalidated = True
        raise self.error(status)

    def touch(self, array: Any) -> None:
        """Remember the contents of ``array``'s memory before this capture first uses it."""
        root = root_buffer(array._data)
        if id(root) not in self._before and id(root) not in self._fresh:
            self._before[id(root)] = (root, root.copy())
        self._note_block(array.data)

    def created(self, array: Any) -> None:
        root = root_buffer(array._data)
        self._fresh[id(root)] = root
        self._note_block(array.data)

    def _note_block(self, ptr: Any) -> None:
        if ptr not in self._seen:
            self._seen.add(ptr)
            self.blocks.append((ptr.ptr, ptr.size, weakref.ref(ptr)))

    def finish(self) -> None:
        """Leave device memory as the unexecuted capture would have."""
        for root, contents in self._before.values():
            if root.flags.writeable:
                np.copyto(root, contents)
        for root in self._fresh.values():
            fill_junk(root)
        self._before.clear()
        self._fresh.clear()


class Graph:
    """As cupy.cuda.Graph: made by ``Stream.end_capture()``, replayed by ``launch``."""

    def __init__(self, *args: Any, **kwargs: Any):
        raise NotImplementedError("currently this class cannot be initiated by the user and must be created via "
                                  "stream capture")

    @classmethod
    def _from_capture(cls, capture: Capture, module: Any) -> Graph:
        graph = cls.__new__(cls)
        graph._nodes = list(capture.nodes)
        graph._blocks = list(capture.blocks)
        graph._module = module
        return graph

    def launch(self, stream: Any = None) -> None:
        """Queue the whole graph on ``stream`` (the current stream by default) as one launch."""
        self._module._launch_graph(self._replay, stream)

    def upload(self, stream: Any = None) -> None:
        """Nothing to upload on the fake device."""

    def _replay(self) -> None:
        self._check_memory()
        for node in self._nodes:
            node()

    def _check_memory(self) -> None:
        # A graph writes to baked addresses: once a block it uses goes back to the pool, another array may
        # be given that memory, and on a GPU the replay would silently overwrite it.
        live = self._module._pool._live_blocks()
        graph_blocks = {id(ref()) for _, _, ref in self._blocks if ref() is not None}
        for address, size, ref in self._blocks:
            if ref() is not None:
                continue
            for ptr in live:
                if id(ptr) not in graph_blocks and ptr.ptr < address + size and address < ptr.ptr + ptr.size:
                    raise AssertionError(
                        f"graph replay writes to freed device memory [{address:#x}, {address + size:#x}) that the "
                        f"pool has given to another array ({ptr.size} bytes at {ptr.ptr:#x}): keep every array a "
                        f"captured kernel used alive as long as the graph")


def flat_arrays(value: Any, kind: type | tuple) -> list:
    """The arrays of a kernel's result, in order (tuples and lists flattened)."""
    if isinstance(value, (tuple, list)):
        return [a for v in value for a in flat_arrays(v, kind)]
    return [value] if isinstance(value, kind) else []


def new_outputs(wrapped: Any, sources: Any, fake_array: type) -> list[tuple[int, Any]]:
    """(position, array) of each result a kernel wrote into new memory (a view of an input is not one)."""
    known = {id(a.data) for a in sources}
    return [(i, a) for i, a in enumerate(flat_arrays(wrapped, fake_array)) if id(a.data) not in known]


def record_kernel(capture: Capture, fn: Callable, args: tuple, kwargs: dict, in_place: bool, wrap: Callable,
                  fake_array: type) -> Any:
    """Record one kernel into ``capture``; returns its (provisional) result, as the kernel call would."""
    capture.check()
    sources = device_arrays((args, kwargs), fake_array)
    for array in sources:
        capture.touch(array)
    args, kwargs = bake(args, fake_array), bake(kwargs, fake_array)
    result = fn(*args, **kwargs)
    if result is NotImplemented:
        return result
    wrapped = wrap(result, tuple(sources))
    outputs = new_outputs(wrapped, sources, fake_array)
    for _, array in outputs:
        capture.created(array)
    if in_place or result is None or outputs:
        capture.nodes.append(_node(fn, args, kwargs, [(i, array._data) for i, array in outputs]))
    return wrapped


def _node(fn: Callable, args: tuple, kwargs: dict, outputs: list[tuple[int, np.ndarray]]) -> Callable[[], None]:
    def replay() -> None:
        result = fn(*args, **kwargs)  # in-place writes land in the captured buffers themselves
        if outputs:
            produced = flat_arrays(result, (np.ndarray, np.generic))
            for position, buf in outputs:
                np.copyto(buf, produced[position])
    return replay
