"""CUDA-graph replay of a plan's GPU segments: capture once, then one launch per run.

A segment is a run of consecutive plan steps on the first GPU that need no host synchronisation and
keep no host state (gpugraph.compiler.segments picks them). Its first call runs the steps as usual,
which compiles their kernels and creates library handles. The second call captures them on the
backend's stream (``stream.begin_capture()`` ... ``end_capture()``) and launches the graph; later calls
only launch it. A graph reads and writes the very buffers it was captured with, so:

- everything allocated while capturing comes from a pool of the segment's own (``using_allocator``),
  kept for the graph's life: no other array can be given a block the graph writes;
- the segment's inputs are held, and a later run's input that is another array is copied into the
  held one first (feeds upload into persistent buffers, so theirs are the same array every run);
- the variables it reads or updates in place must still be the arrays captured; if one was replaced
  (restored, re-initialised with a new shape), the run goes op by op and the next call captures again.

A segment whose capture fails (an op that synchronises with the host after all) runs op by op for good.
Results equal eager execution bit for bit: the same kernels on the same inputs, in the same order.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Sequence

from gpugraph.framework.tensor import Operation

ENV_CUDA_GRAPHS = "GPUGRAPH_CUDA_GRAPHS"  # 0: never capture (to compare, or to debug)
MAX_CAPTURES = 4  # a segment whose inputs keep changing identity captures no more than this: then op by op


def cuda_graphs_enabled(config: Any = None) -> bool:
    """Whether sessions capture: ``GPUOptions.cuda_graphs`` in the session's config, and the environment."""
    if os.environ.get(ENV_CUDA_GRAPHS, "1").strip() in ("0", "false"):
        return False
    gpu_options = getattr(config, "gpu_options", None)
    return bool(getattr(gpu_options, "cuda_graphs", True))


@dataclass(frozen=True)
class Member:
    """One step of a segment, over the segment's locals (its inputs first, then each step's outputs)."""

    op: Operation
    fn: Callable[..., Any]
    operands: tuple[int, ...]
    results: tuple[int, ...]


class GraphSegment:
    """The function of a segment step: ``segment(*inputs)`` -> its outputs (one value, or a tuple)."""

    def __init__(self, backend: Any, members: Sequence[Member], n_locals: int, outputs: tuple[int, ...],
                 cells: Sequence[Any], copied: frozenset[int] = frozenset()):
        self.backend = backend
        self.copied = copied  # outputs a later step may keep: handed out as copies of the graph's buffers
        self.members = tuple(members)
        self.ops = tuple(m.op for m in members)
        self.n_locals = n_locals
        self.outputs = outputs  # local indices of the step's outputs
        self.cells = tuple(cells)  # variables the steps read or update in place
        self.calls = 0
        self.captures = 0
        self.broken = False  # capture failed: op by op from now on
        self.launches = 0
        self._graph: Any = None
        self._pool: Any = None
        self._held: list[Any] = []  # every local of the captured run: the graph's buffers
        self._inputs: tuple[Any, ...] = ()
        self._cell_values: tuple[Any, ...] = ()
        self._lock = threading.Lock()

    def __call__(self, *xs: Any) -> Any:
        if self.broken or not self._lock.acquire(blocking=False):
            return self._result(self._eager(xs))  # a concurrent run of the same plan: its own buffers
        try:
            self.calls += 1
            if self._graph is not None:
                if self._replayable(xs):
                    return self._replay(xs)
                self._drop()  # a variable was replaced: capture again on the next call
                return self._result(self._eager(xs))
            if self.calls == 1:
                return self._result(self._eager(xs))  # warm-up: kernels compile, handles get made
            return self._capture(xs)
        finally:
            self._lock.release()

    # --- eager ---
    def _eager(self, xs: Sequence[Any]) -> list[Any]:
        env: list[Any] = list(xs) + [None] * (self.n_locals - len(xs))
        for member in self.members:
            args = [env[i] for i in member.operands]
            try:
                out = member.fn(*args)
            except Exception as e:  # run errors name the op and its inputs, not the segment
                if getattr(e, "gpugraph_step", None) is None:
                    e.gpugraph_step = (member.op, args)  # type: ignore[attr-defined]
                raise
            if len(member.results) == 1:
                env[member.results[0]] = out
            elif member.results:
                for i, value in zip(member.results, out):
                    env[i] = value
        return env

    def _result(self, env: Sequence[Any], held: bool = False) -> Any:
        """The outputs from ``env``; ``held``: env is the graph's buffers, so what may be kept is copied."""
        if held and self.copied:
            with self.backend.activate():
                env = [x.copy() if i in self.copied else x for i, x in enumerate(env)]
        if len(self.outputs) == 1:
            return env[self.outputs[0]]
        return tuple(env[i] for i in self.outputs)

    # --- capture and replay ---
    def _capture(self, xs: Sequence[Any]) -> Any:
        cupy = self.backend.xp
        stream = self.backend.stream
        self.captures += 1
        if self.captures > MAX_CAPTURES:  # capturing costs more than it saves here
            self.broken = True
            return self._result(self._eager(xs))
        pool = cupy.cuda.MemoryPool()
        try:
            with self.backend.activate(), cupy.cuda.using_allocator(pool.malloc):
                stream.begin_capture()
                try:
                    env = self._eager(xs)
                finally:
                    graph = _end_capture(stream)
        except Exception:  # an op that synchronises with the host, or a library that cannot be captured
            self.broken = True
            pool.free_all_blocks()
            return self._result(self._eager(xs))
        if graph is None:
            self.broken = True
            return self._result(self._eager(xs))
        self._graph, self._pool, self._held = graph, pool, env
        self._inputs = tuple(xs)
        self._cell_values = tuple(c.value for c in self.cells)
        self._launch()
        return self._result(env, held=True)

    def _replayable(self, xs: Sequence[Any]) -> bool:
        """The captured variables are still the arrays the graph uses, and each input is the held one or a
        device array that can be copied into it (a host value was baked into the graph: it must be the same)."""
        if any(c.value is not v for c, v in zip(self.cells, self._cell_values)):
            return False
        device_array = self.backend.xp.ndarray
        for held, x in zip(self._inputs, xs):
            if held is not x and not (isinstance(x, device_array) and isinstance(held, device_array)
                                      and x.shape == held.shape and x.dtype == held.dtype):
                return False
        return True

    def _replay(self, xs: Sequence[Any]) -> Any:
        with self.backend.activate():
            for held, x in zip(self._inputs, xs):
                if held is not x:  # another array this run: into the buffer the graph reads
                    held[...] = x
        self._launch()
        return self._result(self._held, held=True)

    def _launch(self) -> None:
        with self.backend.activate():
            self._graph.launch(stream=self.backend.stream)
        self.launches += 1

    def release(self) -> None:
        """Give back the graph and every buffer it holds (the session is closing)."""
        with self._lock:
            self._drop()
        self._inputs = ()

    def _drop(self) -> None:
        self._graph, self._held, self._inputs, self._cell_values = None, [], (), ()
        if self._pool is not None:
            self.backend.synchronize()  # the last launch may still write the pool's blocks
            self._pool.free_all_blocks()
            self._pool = None
        self.calls = 1  # the next call captures again


def _end_capture(stream: Any) -> Any:
    """The captured graph; None where the capture was invalidated (the error says so again at launch)."""
    try:
        return stream.end_capture()
    except Exception:
        return None


class PersistentUpload:
    """A feed's host-to-device copy into one device buffer kept from run to run (a new buffer only when
    the feed's shape or dtype changes): a captured graph reads the feed where it was captured, and a
    step allocates nothing on the device for its feeds."""

    def __init__(self, backend: Any):
        self.backend = backend
        self.buffer: Any = None

    def release(self) -> None:
        self.buffer = None

    def __call__(self, host_value: Any) -> Any:
        buffer = self.buffer
        if buffer is not None and self.backend.upload_into(buffer, host_value):
            return buffer
        self.buffer = self.backend.to_device(host_value)
        return self.buffer


def release_replay(plans_steps: Iterable[Sequence[Any] | None]) -> None:
    """Drop the device buffers that the replay steps of plans hold (graphs, their pools, feed buffers)."""
    for steps in plans_steps:
        for step in steps or ():
            release = getattr(step.fn, "release", None)
            if release is not None:
                release()
