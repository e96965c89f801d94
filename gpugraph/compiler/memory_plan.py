"""The memory pass: when each value can go, which values outlive a run, and what the plan keeps.

A slot is dropped right after its last reader, so its buffer returns to the allocator (NumPy's, or
the device pool) while the run goes on and the next op of that size reuses it. Values that outlive a
run (feeds, constants, variable storage and what aliases it) are handed to a fetch as copies.

A fused elementwise step may write an output over an input it reads last (``Step.donate``): no new
buffer, so a smaller peak (bench/in_place.py; it saves no measurable time on the CPU). The plan picks
the pairs that may be safe by what it knows (the slot dies there, is neither fetched nor kept, has the
output's dtype and a shape that may be the same, and the region reads it element by element, not
through a view); the runner gives the buffer only where nothing else holds the array when the step
starts (gpugraph.compiler.codegen), and the step writes into it only where its shape, dtype and layout
are the output's (gpugraph.compiler.fused_step).
"""

from __future__ import annotations

import os
from dataclasses import replace
from typing import Any, Mapping, Sequence

import numpy as np

from gpugraph.compiler.fused_step import LARGE_ELEMENTS, FusedRegion
from gpugraph.compiler.ir import Plan, Step

ENV_IN_PLACE = "GPUGRAPH_IN_PLACE"


def plan_memory(plan: Plan, ctx: Any = None) -> Plan:
    persistent = set(range(len(plan.feeds))) | set(plan.template)
    for step in plan.steps:
        if step.kind != "op" or step.fusion is not None:
            continue
        opdef = step.op._opdef
        if (opdef.stateful and not opdef.fresh_outputs) or opdef.ref_input or (
                opdef.aliases and step.inputs and step.inputs[0] in persistent):
            persistent.update(step.outputs)
    read = {s for step in plan.steps for s in step.inputs} | {s for s in plan.fetch_slots if s is not None}
    # a folded value only copied to a device, or only read while folding, is not kept
    template = {slot: value for slot, value in plan.template.items() if slot in read}
    releases = tuple(releases_after(plan.steps, plan.fetch_slots))
    steps = plan.steps
    if in_place_enabled():
        kept = persistent | {s for s in plan.fetch_slots if s is not None}
        steps = tuple(step.but(donate=pairs) if step.fusion is not None and dying
                      and (pairs := donations(step, dying, kept, plan.slot_tensor)) else step
                      for step, dying in zip(steps, releases))
    return replace(plan, steps=steps, template=template, persistent=frozenset(persistent), releases=releases,
                   copy_on_fetch=_copy_on_fetch(plan.fetch_slots, persistent))


def in_place_enabled() -> bool:
    """Whether fused steps may write over their dying inputs ($GPUGRAPH_IN_PLACE=0: never, to compare)."""
    return os.environ.get(ENV_IN_PLACE, "1").strip() not in ("0", "false")


def donations(step: Step, dying: Sequence[int], kept: set[int] | frozenset[int],
              slot_tensor: Mapping[int, Any]) -> tuple[tuple[int, int], ...]:
    """(output, input) positions of a fused elementwise step whose output may be written over the input:
    the input's slot dies at this step, is not ``kept`` (outliving the run, or fetched), is read once
    by the step and straight by its region (not through a view), and its dtype and static shape do not
    rule out the output's. Each input gives its buffer to one output at most."""
    group = step.fusion
    if group is None or not dying:
        return ()
    layout = group.region
    if not isinstance(layout, FusedRegion):
        layout = FusedRegion(layout, 0, tuple(range(group.n_inputs)))
    if layout.reduction is not None:
        return ()
    read_whole = set(layout.region_inputs) - {k for operands in group.operands[:layout.n_views] for k in operands}
    free = [k for k, slot in enumerate(step.inputs)
            if k in read_whole and slot in dying and slot not in kept and step.inputs.count(slot) == 1]
    pairs = []
    for j, out_slot in enumerate(step.outputs):
        out = slot_tensor.get(out_slot)
        for k in free:
            if out is not None and _may_share(slot_tensor.get(step.inputs[k]), out):
                pairs.append((j, k))
                free.remove(k)
                break
    return tuple(pairs)


def _may_share(src: Any, dst: Any) -> bool:
    """Whether a buffer holding tensor ``src`` may hold tensor ``dst`` and is worth giving: one dtype,
    shapes that may agree, of a known rank (not a scalar) and not known to be small."""
    if src is None or src.dtype.base_dtype != dst.dtype.base_dtype or not src.shape.ndims or not dst.shape.ndims:
        return False
    a, b = src.shape.as_list(), dst.shape.as_list()
    if None not in a and int(np.prod(a, dtype=np.int64)) < LARGE_ELEMENTS:
        return False
    return len(a) == len(b) and all(x is None or y is None or x == y for x, y in zip(a, b))


def releases_after(steps: Sequence[Step], fetch_slots: Sequence[int | None]) -> list[tuple[int, ...]]:
    """For each step, the slots nothing reads after it: dropped there so their memory comes back."""
    keep = {s for s in fetch_slots if s is not None}
    last: dict[int, int] = {}
    for i, step in enumerate(steps):
        for slot in step.outputs:
            last.setdefault(slot, i)
        for slot in step.inputs:
            last[slot] = i
    out: list[list[int]] = [[] for _ in steps]
    for slot, i in last.items():
        if slot not in keep:
            out[i].append(slot)
    return [tuple(r) if len(r) < 2 else tuple(sorted(r)) for r in out]


def _copy_on_fetch(fetch_slots: Sequence[int | None], persistent: set[int]) -> tuple[bool, ...]:
    """Fetches handed over as copies: values that outlive the run, and a slot fetched a second time
    (two fetches computing the same value must not be one array)."""
    seen: set[int] = set()
    out = []
    for slot in fetch_slots:
        out.append(slot is not None and (slot in persistent or slot in seen))
        if slot is not None:
            seen.add(slot)
    return tuple(out)
