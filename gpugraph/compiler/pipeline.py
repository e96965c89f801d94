"""The plan compiler: (fetches, feeds) -> an ExecutionPlan, as a composition of passes.

    prune -> place -> build -> fold -> CSE -> merge slice gradients -> fuse -> group updates
          -> insert copies -> shape stand-ins -> memory plan (in place where safe) -> lower
          -> capture segments (GPU runs replayed as CUDA graphs) -> runner

Each pass is a function from plan to plan (gpugraph.compiler.ir.Plan) in its own module, tested on
its own. Running the result is one generated Python function calling each step's function in order
(gpugraph.compiler.codegen): no graph code on the hot path.
"""

from __future__ import annotations

import contextlib
import contextvars
import gc
import threading
from typing import Any, Callable, Iterator, Mapping, Sequence

import numpy as np

from gpugraph.compiler.build import build
from gpugraph.compiler.copies import insert_copies
from gpugraph.compiler.cse import cse
from gpugraph.compiler.fold import fold
from gpugraph.compiler.fuse import fuse
from gpugraph.compiler.group_updates import group_updates
from gpugraph.compiler.ir import ExecutionPlan, Plan, RunContext
from gpugraph.compiler.lower import lower_steps
from gpugraph.compiler.memory_plan import plan_memory
from gpugraph.compiler.schedule import prune
from gpugraph.compiler.segments import capture_segments
from gpugraph.compiler.shape_reads import stand_in_shapes
from gpugraph.compiler.slice_grads import merge_slice_grads
from gpugraph.framework.tensor import Operation, Tensor
from gpugraph.runtime.host_memory import keep_freed_host_memory
from gpugraph.compiler.codegen import generate_runner

Pass = Callable[[Plan, RunContext], Plan]
PASSES: tuple[Pass, ...] = (fold, cse, merge_slice_grads, fuse, group_updates, insert_copies, stand_in_shapes,
                            plan_memory, lower_steps, capture_segments)


def compile_plan(fetches: Sequence[Tensor | Operation], feeds: Sequence[Tensor], ctx: RunContext,
                 placements: Mapping[Operation, Any] | None = None,
                 order: Sequence[Operation] | None = None,
                 place: Callable[[list[Operation]], Mapping[Operation, Any] | None] | None = None) -> ExecutionPlan:
    """The plan for ``fetches`` given ``feeds``. ``order``: the pruned, ordered ops if known already;
    ``place`` (the session's placer) or ``placements`` put ops on devices (None: all on the host)."""
    keep_freed_host_memory()  # once per process: each step's host buffers reuse the last step's pages
    with without_cyclic_gc():
        if order is None:
            order = prune(fetches, set(feeds))
        if place is not None:
            placements = place(list(order))
        token = _plan_ops.set(frozenset(order))
        try:
            plan = build(fetches, feeds, order, ctx, placements)
            for run_pass in PASSES:
                plan = run_pass(plan, ctx)
            return generate(plan, ctx)
        finally:
            _plan_ops.reset(token)


@contextlib.contextmanager
def without_cyclic_gc() -> Iterator[None]:
    """Inside, Python's cyclic garbage collector does not run (as it was, after). Compiling allocates
    a few small objects per op and makes no cycles worth collecting, yet each 700 allocations start a
    collection that walks the young objects: a 100k-node plan's compile ran 929 of them, 0.42 of its
    1.6 s. Reference counting still frees everything that is not in a cycle. Compiles in several
    threads (a queue runner's, the caller's) share one pause: the last one out resumes the collector,
    if the first one in paused it."""
    global _compiling, _paused
    with _gc_lock:
        if _compiling == 0:
            _paused = gc.isenabled()  # disabled already (by the user): left so
            if _paused:
                gc.disable()
        _compiling += 1
    try:
        yield
    finally:
        with _gc_lock:
            _compiling -= 1
            if _compiling == 0 and _paused:
                gc.enable()


_gc_lock = threading.Lock()
_compiling = 0  # compiles in progress, in every thread
_paused = False  # whether the first of them paused the collector


def generate(plan: Plan, ctx: RunContext) -> ExecutionPlan:
    """The runnable plan: a slot list template and the generated runner."""
    return ExecutionPlan(
        template=host_scalars(plan),
        steps=plan.steps,
        feeds=plan.feeds,
        fetch_slots=plan.fetch_slots,
        copy_on_fetch=plan.copy_on_fetch,
        precheck=plan.precheck,
        runner=generate_runner(plan.steps, plan.releases),
        placements=plan.placements,
        releases=plan.releases,
        replay_runner=None if plan.replay_steps is None else generate_runner(plan.replay_steps, plan.replay_releases),
        replay_steps=plan.replay_steps,
    )


def host_scalars(plan: Plan) -> list[Any]:
    """The template, with a rank-0 float host constant as a NumPy scalar where every step reading it reads
    only values that may be rank 0 too: arithmetic between NumPy scalars costs a fifth of a ufunc call
    on 0-d arrays (a per-sample loop is made of it), but a scalar beside an array costs more than a
    0-d array does, so a constant read with a known array stays an array."""
    template = [plan.template.get(i) for i in range(plan.n_slots)]
    candidates = {slot for slot, value in plan.template.items()
                  if type(value) is np.ndarray and value.ndim == 0 and value.dtype.kind == "f"
                  and plan.slot_device.get(slot, plan.host) == plan.host}
    if not candidates:
        return template
    for step in plan.steps:
        if candidates.isdisjoint(step.inputs):
            continue
        if any(_known_array(plan, slot) for slot in step.inputs):
            candidates.difference_update(step.inputs)
    for slot in candidates:
        template[slot] = template[slot][()]
    return template


def _known_array(plan: Plan, slot: int) -> bool:
    tensor = plan.slot_tensor.get(slot)
    return tensor is not None and bool(tensor.shape.ndims)


# The ops of the plan being compiled: a lowering may ask whether an output of its op is read in it
# (a loop keeps its per-iteration values only when a gradient in the same plan reads them).
_plan_ops: contextvars.ContextVar[frozenset[Operation]] = contextvars.ContextVar("plan_ops", default=frozenset())


def ops_in_plan() -> frozenset[Operation]:
    return _plan_ops.get()
