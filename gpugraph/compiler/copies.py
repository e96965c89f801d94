"""The copy pass: a value read on another device than the one holding it is copied there once.

A constant's copy is made now and kept in the template; any other value gets a copy step right before
its first reader on that device. Fetched values come back to the host.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Callable

from gpugraph.compiler.ir import Plan, RunContext, Step
from gpugraph.framework.tensor import Operation
from gpugraph.runtime.backend import Backend


def insert_copies(plan: Plan, ctx: RunContext) -> Plan:
    template = dict(plan.template)
    slot_device = dict(plan.slot_device)
    slot_tensor = dict(plan.slot_tensor)
    copies: dict[tuple[int, str], int] = {}
    steps: list[Step] = []
    n_slots = plan.n_slots

    def on_device(slot: int, device: str, reader: Operation) -> int:
        nonlocal n_slots
        src = slot_device[slot]
        if src == device:
            return slot
        key = (slot, device)
        if key not in copies:
            copy = copies[key] = n_slots
            n_slots += 1
            slot_device[copy] = device
            if slot in slot_tensor:
                slot_tensor[copy] = slot_tensor[slot]
            fn = transfer(ctx.backend_of(src), ctx.backend_of(device))
            if slot in template:
                template[copy] = fn(template[slot])
            else:
                steps.append(Step(reader, fn, (slot,), (copy,), kind="copy", device=device))
        return copies[key]

    for step in plan.steps:
        ins = tuple(on_device(slot, step.device, step.op) for slot in step.inputs)
        steps.append(step if ins == step.inputs else step.but(inputs=ins))
    fetch_slots = tuple(None if s is None else on_device(s, plan.host, slot_tensor[s].op) for s in plan.fetch_slots)
    return replace(plan, steps=tuple(steps), template=template, slot_device=slot_device, slot_tensor=slot_tensor,
                   n_slots=n_slots, fetch_slots=fetch_slots)


def transfer(src: Backend, dst: Backend) -> Callable[[Any], Any]:
    if src.is_host:
        return dst.to_device
    if dst.is_host:
        return src.to_host
    return lambda array: dst.to_device(src.to_host(array))
