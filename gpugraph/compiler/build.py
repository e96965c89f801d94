"""The first plan: one step per scheduled op, a slot per output, constants in the template (equal
small constants in one slot, so that CSE sees the steps reading them as equal).

Nothing is folded, merged or copied yet: each step reads the slots its op's inputs were given, on
whatever device made them, and runs where the placer put its op.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from gpugraph import errors
from gpugraph.compiler.cse import const_key
from gpugraph.compiler.ir import FeedSpec, Plan, RunContext, Step
from gpugraph.framework.dtypes import type_string
from gpugraph.framework.tensor import Operation, Tensor


def build(fetches: Sequence[Tensor | Operation], feeds: Sequence[Tensor], order: Sequence[Operation],
          ctx: RunContext, placements: Mapping[Operation, Any] | None) -> Plan:
    host = ctx.backend.device
    fed = set(feeds)
    slots: dict[Tensor, int] = {t: i for i, t in enumerate(feeds)}
    slot_tensor: dict[int, Tensor] = {i: t for i, t in enumerate(feeds)}
    slot_device: dict[int, str] = {i: host for i in range(len(feeds))}
    template: dict[int, Any] = {}
    steps: list[Step] = []
    assigned: set[Operation] = set()
    read_vars: dict[Operation, Any] = {}
    constants: dict[Any, int] = {}  # const_key -> the slot holding that value
    n_slots = len(feeds)
    for op in order:
        role = op._opdef.role
        if role == "feed":
            if any(t not in fed for t in op.outputs):
                _missing_feed(op)
            continue  # its values are the feeds' slots; a control dependency on it is met by the feed
        if role == "initializer":
            assigned.add(op.inputs[0].op)  # may initialize the variable in this very run
        elif role == "variable":
            read_vars[op] = ctx.cell(op)
        device = placements[op].device.name if placements else host
        outs = []
        for t in op._outputs:
            # a fed output of a multi-output op gets a scratch slot: the step must not overwrite the feed
            slot = n_slots
            n_slots += 1
            slot_tensor[slot] = t
            slot_device[slot] = device
            if t not in fed:
                slots[t] = slot
            outs.append(slot)
        opdef = op._opdef
        if not op._outputs and opdef.bind is None and opdef.impl is None:
            continue  # NoOp: only orders the ops it depends on
        if opdef.name == "Const" and not op._control_inputs:  # its value is the graph's own array
            value = np.asarray(op._attrs["value"])  # no copy: the attr is an array already
            value.setflags(write=False)
            key = const_key(value)
            if key is not None:  # equal small constants share one slot, so CSE sees equal inputs
                earlier = constants.setdefault(key, outs[0])
                if earlier != outs[0]:
                    slots[op._outputs[0]] = earlier
                    continue
            template[outs[0]] = value
            slot_device[outs[0]] = host
            continue
        ins = tuple(slots[t] for t in op._inputs[opdef.ref_input:])
        steps.append(Step(op, None, ins, tuple(outs), device=device))
    fetch_slots = tuple(slots[f] if isinstance(f, Tensor) else None for f in fetches)
    return Plan(
        steps=tuple(steps), template=template, slot_device=slot_device, n_slots=n_slots, host=host,
        feeds=tuple(FeedSpec(slots[t], t, t.dtype.base_dtype.np_dtype, t.shape.as_tuple()) for t in feeds),
        fetch_slots=fetch_slots, slot_tensor=slot_tensor,
        precheck=tuple((op, cell) for op, cell in read_vars.items() if op not in assigned),
        placements=placements)


def _missing_feed(op: Operation) -> None:
    t = op.outputs[0]
    dims = t.shape.as_tuple()
    # TF names the shape only where it has a rank above 0
    shape = "" if not dims else " and shape [" + ",".join("?" if d is None else str(d) for d in dims) + "]"
    raise errors.InvalidArgumentError(
        None, op, f"You must feed a value for placeholder tensor '{op.name}' with dtype {type_string(t.dtype)}{shape}")
