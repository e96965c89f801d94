"""The capture pass: runs of GPU steps that a CUDA graph can replay, and persistent buffers for feeds.

It makes a second list of steps beside the plan's own (``replay_steps``), used by a run that has the
plan to itself: each run of at least ``MIN_SEGMENT_STEPS`` capturable steps becomes one step whose
function is a GraphSegment (gpugraph.runtime.graph_replay), and each feed's upload writes into one
device buffer kept from run to run, so the graph reads the feed where it was captured. Where nothing
is captured (graphs turned off), the replay steps are the plan's own with only the feeds' persistent
uploads.

A step is capturable when it runs on the first GPU, on CuPy, and keeps no host state: pure ops and
fused regions, reads of variables, and updates of variables in place. Random draws (their counters
advance on the host), queues, readers, summaries, control flow and copies between devices end a
segment; an op that still synchronises with the host makes its segment fail to capture, and that
segment then runs op by op.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Sequence

from gpugraph.compiler.ir import Plan, RunContext, Step
from gpugraph.compiler.lower import FIRST_GPU
from gpugraph.compiler.memory_plan import releases_after
from gpugraph.framework.tensor import Operation
from gpugraph.runtime.graph_replay import GraphSegment, Member, PersistentUpload, cuda_graphs_enabled

MIN_SEGMENT_KERNELS = 2  # one kernel gains nothing from a graph


def capture_segments(plan: Plan, ctx: RunContext) -> Plan:
    if FIRST_GPU not in set(plan.slot_device.values()):
        return plan
    backend = ctx.backend_of(FIRST_GPU)
    feed_slots = {spec.slot for spec in plan.feeds}
    if not cuda_graphs_enabled(getattr(ctx, "config", None)) or not can_capture(backend):
        return persistent_feeds(plan, backend, feed_slots)
    steps: list[Step] = []
    run: list[Step] = []
    keep = {s for s in plan.fetch_slots if s is not None}

    def flush(end: int) -> None:
        if sum(map(_launches_kernels, run)) >= MIN_SEGMENT_KERNELS:
            steps.append(_segment_step(run, backend, ctx, keep, last_read, end, retained))
        else:
            steps.extend(run)
        run.clear()

    # the feeds' uploads first, into buffers kept from run to run: they read nothing a step makes, and
    # where they stood they would cut the GPU work in segments
    uploads = [replace(step, fn=PersistentUpload(backend)) for step in plan.steps if _uploads_feed(step, feed_slots)]
    rest = [step for step in plan.steps if not _uploads_feed(step, feed_slots)]
    last_read = _last_reads(uploads + rest)
    retained = _retained(rest)
    for i, step in enumerate(rest):
        if capturable(step):
            run.append(step)
            continue
        flush(len(uploads) + i - 1)
        steps.append(step)
    flush(len(uploads) + len(rest) - 1)
    if not any(step.kind == "graph" for step in steps):
        return plan  # nothing to capture
    steps = uploads + steps
    return replace(plan, replay_steps=tuple(steps),
                   replay_releases=tuple(releases_after(steps, plan.fetch_slots)))


def persistent_feeds(plan: Plan, backend: Any, feed_slots: set[int]) -> Plan:
    """Without capture: replay steps that differ from the plan's only in that each feed uploads into one
    device buffer kept from run to run (a run with the plan to itself uses them), so an eager step
    allocates nothing on the device for its feeds either. Unchanged where the backend cannot copy into
    a buffer it has (only CuPy's can) or nothing is uploaded."""
    if not hasattr(backend, "upload_into") or not any(_uploads_feed(step, feed_slots) for step in plan.steps):
        return plan
    steps = tuple(replace(step, fn=PersistentUpload(backend)) if _uploads_feed(step, feed_slots) else step
                  for step in plan.steps)
    return replace(plan, replay_steps=steps, replay_releases=plan.releases)


def can_capture(backend: Any) -> bool:
    """A CuPy backend whose CuPy has stream capture and graphs."""
    cuda = getattr(backend.xp, "cuda", None)
    return backend.name == "cupy" and hasattr(cuda, "Graph") and hasattr(getattr(backend, "stream", None),
                                                                         "begin_capture")


def capturable(step: Step) -> bool:
    if step.kind == "shape":  # a host stand-in for a value's shape: no device work, made once at capture
        return step.device == FIRST_GPU
    if step.kind != "op" or step.device != FIRST_GPU:
        return False
    for op in step.ops or (step.op,):
        opdef = op._opdef
        if opdef.role == "variable" or opdef.ref_input:
            continue  # a read of a variable's buffer, or an update in place
        if opdef.bind is not None or opdef.stateful:
            return False
    return True


def _uploads_feed(step: Step, feed_slots: set[int]) -> bool:
    return step.kind == "copy" and step.device == FIRST_GPU and step.inputs[0] in feed_slots


def _launches_kernels(step: Step) -> bool:
    """Whether a step runs a kernel: not only reads of variables and views (Identity, Reshape)."""
    if step.kind == "shape":
        return False
    return any(op._opdef.role != "variable" and not op._opdef.aliases for op in step.ops or (step.op,))


def _last_reads(steps: Sequence[Step]) -> dict[int, int]:
    last: dict[int, int] = {}
    for i, step in enumerate(steps):
        for slot in step.inputs:
            last[slot] = i
    return last


def _retained(steps: Sequence[Step]) -> set[int]:
    """Slots read by steps that may keep the value past the run (a queue's enqueue, a Python function):
    a segment hands those out as copies, since its buffers are written again by the next replay."""
    kept: set[int] = set()
    for step in steps:
        opdef = step.op._opdef
        if step.kind == "op" and not step.ops and opdef.stateful and not opdef.ref_input and opdef.role != "variable":
            kept.update(step.inputs)
    return kept


def _segment_step(run: Sequence[Step], backend: Any, ctx: RunContext, keep: set[int], last_read: dict[int, int],
                  end: int, retained: set[int]) -> Step:
    local: dict[int, int] = {}
    inputs: list[int] = []
    for step in run:
        for slot in step.inputs:
            if slot not in local:
                local[slot] = len(inputs)
                inputs.append(slot)
        for slot in step.outputs:
            local.setdefault(slot, -1)  # numbered below, after every input
    n = len(inputs)
    members = []
    produced: list[int] = []
    for step in run:
        for slot in step.outputs:
            local[slot] = n + len(produced)
            produced.append(slot)
        members.append(Member(step.op, step.fn, tuple(local[s] for s in step.inputs),
                              tuple(local[s] for s in step.outputs)))
    outputs = tuple(s for s in produced if s in keep or last_read.get(s, -1) > end)
    cells = _cells(run, ctx)
    fn = GraphSegment(backend, members, n + len(produced), tuple(local[s] for s in outputs), cells,
                      copied=frozenset(local[s] for s in outputs if s in retained))
    ops = tuple(op for step in run if step.kind != "shape" for op in (step.ops or (step.op,)))
    return Step(run[-1].op, fn, tuple(inputs), outputs, ops=ops, kind="graph", device=FIRST_GPU)


def _cells(run: Sequence[Step], ctx: RunContext) -> list[Any]:
    variables: dict[Operation, None] = {}
    for step in run:
        for op in step.ops or (step.op,):
            if op._opdef.role == "variable":
                variables[op] = None
            for t in op.inputs[:op._opdef.ref_input]:
                variables[t.op] = None
    return [ctx.cell(v) for v in variables]
