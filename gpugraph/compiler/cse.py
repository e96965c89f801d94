"""Common subexpression elimination: an op computing what an earlier op of the plan computes is not run
again; its outputs are the earlier op's.

Two ops are the same computation when they have the same type, the same attributes, the same inputs
(after earlier merges) and run on the same device. Never merged: stateful ops (random draws, reads of
session state, collectives), ops that write variables, and ops with control inputs (those must run
after something the other one need not wait for).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Hashable

import numpy as np

from gpugraph.compiler.ir import Plan
from gpugraph.framework.dtypes import DType
from gpugraph.framework.tensor import Operation
from gpugraph.framework.tensor_shape import TensorShape

_SMALL_ARRAY_BYTES = 256  # attribute arrays up to this size take part in the key by value


class _Unhashable(Exception):
    pass


def _freeze(value: Any) -> Hashable:
    if value is None or isinstance(value, (bool, int, float, str, bytes, DType)):
        return (type(value).__name__, value)
    if isinstance(value, TensorShape):
        return ("shape", value.as_tuple())
    if isinstance(value, (tuple, list)):
        return (type(value).__name__, tuple(_freeze(v) for v in value))
    if isinstance(value, np.generic):
        return ("np", value.dtype.str, value.tobytes())
    if isinstance(value, np.ndarray) and value.dtype != object and value.nbytes <= _SMALL_ARRAY_BYTES:
        return ("array", value.dtype.str, value.shape, value.tobytes())
    raise _Unhashable


def cse_key(op: Operation, input_slots: tuple[int, ...], device: str) -> Hashable | None:
    """The key under which ``op`` (reading ``input_slots``) equals an earlier op; None: never merged."""
    opdef = op._opdef
    if opdef.stateful or opdef.ref_input or opdef.bind is not None or op._control_inputs or not op._outputs:
        return None
    try:
        attrs = tuple(sorted((k, _freeze(v)) for k, v in op._attrs.items()))
    except _Unhashable:
        return None
    return opdef.name, input_slots, attrs, device


def const_key(value: np.ndarray) -> Hashable | None:
    """The key of a small constant's value (dtype, shape and bytes); None for large or object arrays."""
    if value.dtype == object or value.nbytes > _SMALL_ARRAY_BYTES:
        return None
    return "Const", value.dtype.str, value.shape, value.tobytes()


def cse(plan: Plan, ctx: Any = None) -> Plan:
    """``plan`` with each repeated computation run once: a later step computing what an earlier one does
    is dropped, and its readers read the earlier result (equal constants share a slot from the build)."""
    rename: dict[int, int] = {}
    computed: dict[Hashable, tuple[int, ...]] = {}
    steps = []
    for step in plan.steps:
        ins = step.inputs
        if rename:
            ins = tuple(rename.get(s, s) for s in ins)
        key = cse_key(step.op, ins, step.device)
        if key is not None:
            earlier = computed.get(key)
            if earlier is not None:  # the same computation ran already: reuse its outputs
                rename.update(zip(step.outputs, earlier))
                continue
            computed[key] = step.outputs
        steps.append(step if ins == step.inputs else step.but(inputs=ins))
    if not rename:
        return plan
    fetch_slots = tuple(None if s is None else rename.get(s, s) for s in plan.fetch_slots)
    return replace(plan, steps=tuple(steps), fetch_slots=fetch_slots)
