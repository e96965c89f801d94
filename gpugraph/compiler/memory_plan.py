"""The memory pass: when each value can go, which values outlive a run, and what the plan keeps.

A slot is dropped right after its last reader, so its buffer returns to the allocator (NumPy's, or
the device pool) while the run goes on and the next op of that size reuses it. Values that outlive a
run (feeds, constants, variable storage and what aliases it) are handed to a fetch as copies.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Sequence

from gpugraph.compiler.ir import Plan, Step


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
    return replace(plan, template=template, persistent=frozenset(persistent),
                   releases=tuple(releases_after(plan.steps, plan.fetch_slots)),
                   copy_on_fetch=_copy_on_fetch(plan.fetch_slots, persistent))


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
