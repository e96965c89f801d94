"""The shape-reads pass: an input read only for its shape and dtype is read from a stand-in.

A gradient keeps the forward value it is broadcast against (``SumToShape(grad, like)``) only to learn its
shape: read in place, that value would live through the whole backward pass. Right after the step
making it, a "shape" step makes a stand-in of the same shape and dtype that holds one shared zero
element (every stride 0, read-only), and the shape-only readers take the stand-in; the value itself goes
after its last real reader, and a fused step may write over it there (gpugraph.compiler.memory_plan).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from gpugraph.compiler.ir import Plan, RunContext, Step

_ZERO = bytes(16)  # one element of any numeric dtype, never written (a bytes buffer is read-only)
_SMALL_BYTES = 4096  # a value this small costs less kept than a stand-in costs to make


def stand_in_shapes(plan: Plan, ctx: RunContext | None = None) -> Plan:
    """``plan`` with values read only for their shape read from stand-ins, where that shortens the life
    of the value (its real reads end before its shape-only ones)."""
    shape_reads: dict[int, list[tuple[int, int]]] = {}  # slot -> (step, input position) reading its shape
    for i, step in enumerate(plan.steps):
        if step.fusion is None and not step.op._opdef.shape_only:
            continue  # most steps: one look (a 100k-step plan passes here in a few milliseconds)
        for k in shape_only_positions(step):
            shape_reads.setdefault(step.inputs[k], []).append((i, k))
    if not shape_reads:
        return plan
    last_full_read: dict[int, int] = {}
    for i, step in enumerate(plan.steps):
        only = shape_only_positions(step)
        for k, slot in enumerate(step.inputs):
            if slot in shape_reads and k not in only:
                last_full_read[slot] = i
    made = {slot for step in plan.steps for slot in step.outputs}
    kept = set(plan.template) | {spec.slot for spec in plan.feeds} | {s for s in plan.fetch_slots if s is not None}
    worth = {slot: reads for slot, reads in shape_reads.items()
             if slot in made and slot not in kept and not _known_small(plan.slot_tensor.get(slot))
             and last_full_read.get(slot, -1) < max(i for i, _ in reads) - 1}  # the next step: nothing to gain
    if not worth:
        return plan
    n_slots = plan.n_slots
    slot_device, slot_tensor = dict(plan.slot_device), dict(plan.slot_tensor)
    stand_in_of: dict[int, int] = {}
    for slot in worth:
        stand_in_of[slot] = n_slots
        slot_device[n_slots] = plan.slot_device.get(slot, plan.host)
        if slot in slot_tensor:
            slot_tensor[n_slots] = slot_tensor[slot]
        n_slots += 1
    replaced = {read: stand_in_of[slot] for slot, reads in worth.items() for read in reads}
    steps: list[Step] = []
    for i, step in enumerate(plan.steps):
        if any((i, k) in replaced for k in range(len(step.inputs))):
            step = step.but(inputs=tuple(replaced.get((i, k), slot) for k, slot in enumerate(step.inputs)))
        steps.append(step)
        for slot in step.outputs:
            if slot in stand_in_of:
                steps.append(Step(step.op, shape_stand_in, (slot,), (stand_in_of[slot],), kind="shape",
                                  device=slot_device[slot]))
    return replace(plan, steps=tuple(steps), n_slots=n_slots, slot_device=slot_device, slot_tensor=slot_tensor)


def shape_only_positions(step: Step) -> frozenset[int] | tuple[int, ...]:
    """Positions of the step's inputs it reads only for their shape and dtype: an op's ``shape_only``; in a
    fused step, the operands of its ending reduction (SumToShape's ``like``) that the region does not read."""
    if step.kind != "op":
        return ()
    group = step.fusion
    if group is None:
        return () if step.ops else step.op.opdef.shape_only
    layout = group.region
    extras = getattr(layout, "extras", ())
    if not extras:
        return ()
    read = set(layout.region_inputs) | {k for operands in group.operands[:layout.n_views] for k in operands}
    return frozenset(k for k in extras if k not in read and k < group.n_inputs)


def _known_small(tensor: Any) -> bool:
    """Small for sure, or maybe a scalar (of unknown rank: a per-sample loop's values)."""
    if tensor is None or not tensor.shape.ndims:
        return True
    if not tensor.shape.is_fully_defined():
        return False
    return int(np.prod(tensor.shape.as_list(), dtype=np.int64)) * tensor.dtype.base_dtype.size <= _SMALL_BYTES


_made: dict[tuple[Any, Any], np.ndarray] = {}  # (shape, dtype) -> its stand-in: the same every step
_MADE_KEPT = 256


def shape_stand_in(value: Any) -> Any:
    """A host array of ``value``'s shape and dtype holding no memory of its own (the value may be on a
    device: its readers here read only the shape); ``value`` itself where it is not a numeric array, or is
    small. Stand-ins are read-only and hold nothing, so one is made per shape and dtype and shared."""
    dtype, shape = getattr(value, "dtype", None), getattr(value, "shape", None)
    try:
        return _made[(shape, dtype)]
    except (KeyError, TypeError):  # TypeError: an unhashable shape or dtype (not an array's)
        pass
    if (not isinstance(dtype, np.dtype) or shape is None or dtype.kind not in "biufc"
            or getattr(value, "nbytes", 0) <= _SMALL_BYTES):
        return value
    shape = tuple(shape)
    stand_in = np.ndarray(shape, dtype, buffer=_ZERO, strides=(0,) * len(shape))
    if len(_made) >= _MADE_KEPT:
        _made.clear()
    _made[(shape, dtype)] = stand_in
    return stand_in
