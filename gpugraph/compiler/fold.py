"""The fold pass: steps whose inputs are all known before the run are computed now, into the template.

A folded value lives in the cached plan for the session's life, so past ``FOLD_LIMIT_BYTES`` an op
computes at run time instead (a 256 MiB ``tf.zeros`` filling a variable once is not worth keeping
beside the variable). Shape, Size and Rank of an input whose shape the graph fixes fold whatever the
input's value.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Sequence

import numpy as np

from gpugraph import errors
from gpugraph.compiler.ir import Plan, RunContext, Step
from gpugraph.compiler.lower import guarded_lower
from gpugraph.framework.tensor import Operation
from gpugraph.ops import shape_fns

FOLD_LIMIT_BYTES = 1 << 20


def fold(plan: Plan, ctx: RunContext) -> Plan:
    template = dict(plan.template)
    slot_device = dict(plan.slot_device)
    steps = []
    for step in plan.steps:
        values = _static_shape_fact(step.op)
        if values is None and _foldable(step, template):
            values = _evaluate(step.op, guarded_lower(step.op, ctx), [template[i] for i in step.inputs])
            if _value_bytes(values) > FOLD_LIMIT_BYTES:
                values = None  # a shape only the value told: computed at run time, like the others
        if values is None:
            steps.append(step)
            continue
        for slot, value in zip(step.outputs, values):
            if isinstance(value, np.ndarray):
                value.setflags(write=False)  # shared by every run: an in-place kernel must fail loudly
            template[slot] = value
            slot_device[slot] = plan.host
    return replace(plan, steps=tuple(steps), template=template, slot_device=slot_device)


def _foldable(step: Step, template: dict[int, Any]) -> bool:
    op = step.op
    opdef = op._opdef
    return (not opdef.stateful and opdef.bind is None and opdef.impl is not None and not opdef.ref_input
            and not op._control_inputs and all(slot in template for slot in step.inputs)
            and _static_bytes(op) <= FOLD_LIMIT_BYTES)


def _static_bytes(op: Operation) -> int:
    """Bytes of ``op``'s outputs as the graph knows their shapes (0 for unknown shapes: checked after)."""
    total = 0
    for t in op.outputs:
        dims = t.shape.as_tuple()
        if dims is None or any(d is None for d in dims):
            continue
        total += int(np.prod(dims, dtype=np.int64)) * (t.dtype.base_dtype.np_dtype.itemsize or 8)
    return total


def _value_bytes(values: Sequence[Any]) -> int:
    return sum(int(getattr(v, "nbytes", 0)) for v in values)


def _static_shape_fact(op: Operation) -> tuple[Any] | None:
    """Shape, Size or Rank of an input whose shape the graph fixes: a constant, whatever the input's value."""
    if op.type not in ("Shape", "Size", "Rank") or op.control_inputs:
        return None
    value = shape_fns.constant_value(op.outputs[0])
    return None if value is None else (np.asarray(value),)


def _evaluate(op: Operation, fn: Any, args: list[Any]) -> tuple[Any, ...]:
    try:
        with np.errstate(all="ignore"):
            out = fn(*args)
    except Exception as e:
        raise errors.InvalidArgumentError(None, op, f"{op.name} ({op.type}): {e}") from e
    return tuple(out) if len(op.outputs) > 1 else (out,)
