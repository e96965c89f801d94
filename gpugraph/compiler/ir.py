"""The plan the compiler's passes rewrite: steps over numbered value slots.

A slot holds one value during a run. A step calls one function on its input slots and writes its
output slots; before lowering, ``fn`` is None and the step says only which op(s) it runs and on which
device. Each pass takes a ``Plan`` and returns a new one (``dataclasses.replace``).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Mapping, Protocol

import numpy as np

from gpugraph.framework.tensor import Operation, Tensor

if TYPE_CHECKING:
    from gpugraph.ops.philox import PhiloxState
    from gpugraph.runtime.backend import Backend
    from gpugraph.compiler.place import Placement


class RunContext(Protocol):
    """Session state a plan binds to: backends, variable cells and random streams."""

    backend: Backend

    def backend_of(self, device: str) -> Backend: ...

    def cell(self, var_op: Operation) -> Any: ...

    def rng(self, op: Operation) -> np.random.Generator: ...

    def philox(self, op: Operation) -> PhiloxState: ...


@dataclass(frozen=True)
class Step:
    op: Operation  # the op it runs (a fused step: the last of its ops; a copy: the op that needs the copy)
    fn: Callable[..., Any] | None  # None until the lower pass
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    ops: tuple[Operation, ...] = ()  # a fused step's ops, in order; () for a step of one op
    kind: str = "op"  # "op", or "copy" for a transfer between devices
    device: str = ""  # where it runs (a copy: its destination)
    fusion: Any = None  # a fused step's region and members (gpugraph.compiler.fuse.FusionGroup)
    # (output, input) positions: the output may be written over that input's buffer (memory plan)
    donate: tuple[tuple[int, int], ...] = ()

    def but(self, **changes: Any) -> Step:
        """This step with ``changes``: ``dataclasses.replace`` without its per-call field checks (passes
        rewrite every step of a 100k-step plan)."""
        new = object.__new__(Step)
        new.__dict__.update(self.__dict__)
        new.__dict__.update(changes)
        return new


@dataclass(frozen=True)
class FeedSpec:
    slot: int
    tensor: Tensor
    np_dtype: np.dtype
    dims: tuple[int | None, ...] | None


@dataclass(frozen=True)
class Plan:
    """A plan between passes."""

    steps: tuple[Step, ...]
    template: Mapping[int, Any]  # slot -> value known before running (constants, folded values)
    slot_device: Mapping[int, str]  # slot -> the device its value lives on
    n_slots: int
    host: str  # the host device's name
    feeds: tuple[FeedSpec, ...]
    fetch_slots: tuple[int | None, ...]  # None: an Operation fetch
    slot_tensor: Mapping[int, Tensor]  # a tensor each slot holds (its dtype and static shape)
    precheck: tuple[tuple[Operation, Any], ...]  # variables read, and not assigned, by this plan
    placements: Mapping[Operation, Placement] | None = None  # None: every op on the host
    releases: tuple[tuple[int, ...], ...] = ()  # per step: slots nothing reads after it (memory plan)
    persistent: frozenset[int] = frozenset()  # slots whose values outlive a run (memory plan)
    copy_on_fetch: tuple[bool, ...] = ()  # per fetch: hand over a copy (memory plan)
    replay_steps: tuple[Step, ...] | None = None  # the steps with GPU segments replayed as CUDA graphs
    replay_releases: tuple[tuple[int, ...], ...] = ()


@dataclass(frozen=True)
class ExecutionPlan:
    """A compiled plan: what a session runs."""

    template: list[Any]  # slot values known before running: folded constants
    steps: tuple[Step, ...]
    feeds: tuple[FeedSpec, ...]
    fetch_slots: tuple[int | None, ...]  # None: an Operation fetch
    copy_on_fetch: tuple[bool, ...]  # the value may alias session or plan storage
    precheck: tuple[tuple[Operation, Any], ...]  # variables read, and not assigned, by this plan
    runner: Callable[[list[Any]], None]
    placements: Mapping[Operation, Placement] | None = None  # None: every op on the host
    releases: tuple[tuple[int, ...], ...] = ()
    # a run holding ``exclusive`` may use the runner that replays CUDA graphs and keeps feed buffers
    replay_runner: Callable[[list[Any]], None] | None = None
    replay_steps: tuple[Step, ...] | None = None
    exclusive: threading.Lock = field(default_factory=threading.Lock, compare=False)
