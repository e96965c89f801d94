"""Compile (fetches, feeds) into a flat ExecutionPlan: prune, order, fold constants, lower.

A plan is a list of steps over numbered value slots. Running it is one generated Python
function that calls each step's lowered function in order: no graph code on the hot path.
"""

from __future__ import annotations

import functools
import heapq
from dataclasses import dataclass
from typing import Any, Callable, Protocol, Sequence

import numpy as np

from gpugraph import errors
from gpugraph.framework.tensor import Operation, Tensor
from gpugraph.runtime.backend import Backend


class RunContext(Protocol):
    """Session state a plan binds to: variable cells and random streams."""

    backend: Backend

    def cell(self, var_op: Operation) -> Any: ...

    def rng(self, op: Operation) -> np.random.Generator: ...


@dataclass(frozen=True)
class Step:
    op: Operation
    fn: Callable[..., Any]
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]


@dataclass(frozen=True)
class FeedSpec:
    slot: int
    tensor: Tensor
    np_dtype: np.dtype
    dims: tuple[int | None, ...] | None


@dataclass(frozen=True)
class ExecutionPlan:
    template: list[Any]  # slot values known before running: folded constants
    steps: tuple[Step, ...]
    feeds: tuple[FeedSpec, ...]
    fetch_slots: tuple[int | None, ...]  # None: an Operation fetch
    copy_on_fetch: tuple[bool, ...]  # the value may alias session or plan storage
    precheck: tuple[tuple[Operation, Any], ...]  # variables read, and not assigned, by this plan
    runner: Callable[[list[Any]], None]


def needed_ops(fetches: Sequence[Tensor | Operation], fed: set[Tensor]) -> list[Operation]:
    """Ops the fetches depend on (data and control), stopping at fed tensors."""
    seen: set[Operation] = set()
    stack: list[Operation] = []
    for f in fetches:
        if isinstance(f, Tensor):
            if f in fed:
                continue
            f = f.op
        if f not in seen:
            seen.add(f)
            stack.append(f)
    while stack:
        op = stack.pop()
        deps: list[Operation] = list(op.control_inputs)
        for i, t in enumerate(op.inputs):
            if i < op.opdef.ref_input or t in fed:
                continue
            deps.append(t.op)
        for d in deps:
            if d not in seen:
                seen.add(d)
                stack.append(d)
    return list(seen)


def schedule(ops: list[Operation], fed: set[Tensor]) -> list[Operation]:
    """Topological order; among ready ops, reads go before in-place writes (then creation order)."""
    members = set(ops)
    pending: dict[Operation, int] = {}
    users: dict[Operation, list[Operation]] = {op: [] for op in ops}
    for op in ops:
        deps = {c for c in op.control_inputs if c in members}
        for i, t in enumerate(op.inputs):
            if i >= op.opdef.ref_input and t not in fed and t.op in members:
                deps.add(t.op)
        pending[op] = len(deps)
        for d in deps:
            users[d].append(op)
    ready = [(bool(op.opdef.ref_input), op._id, op) for op in ops if pending[op] == 0]
    heapq.heapify(ready)
    order: list[Operation] = []
    while ready:
        _, _, op = heapq.heappop(ready)
        order.append(op)
        for u in users[op]:
            pending[u] -= 1
            if pending[u] == 0:
                heapq.heappush(ready, (bool(u.opdef.ref_input), u._id, u))
    if len(order) != len(ops):
        raise errors.InvalidArgumentError(None, None, "Graph has a cycle among the fetched ops.")
    return order


def lower(op: Operation, ctx: RunContext) -> Callable[..., Any]:
    opdef = op.opdef
    if opdef.bind is not None:
        return opdef.bind(op, ctx)
    if opdef.impl is None:
        raise errors.UnimplementedError(None, op, f"Op '{op.name}' (type {op.type}) has no lowering.")
    attrs = op._attrs
    return functools.partial(opdef.impl, ctx.backend.xp, **attrs) if attrs else \
        functools.partial(opdef.impl, ctx.backend.xp)


def _foldable(op: Operation, slots: dict[Tensor, int], folded: set[int]) -> bool:
    return (not op.opdef.stateful and op.opdef.bind is None and op.opdef.impl is not None
            and not op.control_inputs and all(slots[t] in folded for t in op.inputs))


def compile_plan(fetches: Sequence[Tensor | Operation], feeds: Sequence[Tensor],
                 ctx: RunContext) -> ExecutionPlan:
    fed = set(feeds)
    order = schedule(needed_ops(fetches, fed), fed)
    slots: dict[Tensor, int] = {}
    for t in feeds:
        slots[t] = len(slots)
    n_slots = len(slots)
    outputs: dict[Operation, tuple[int, ...]] = {}
    for op in order:
        # a fed output of a multi-output op gets a scratch slot: the step must not overwrite the feed
        outs = []
        for t in op.outputs:
            if t not in fed:
                slots[t] = n_slots
            outs.append(n_slots)
            n_slots += 1
        outputs[op] = tuple(outs)
    template: list[Any] = [None] * n_slots
    folded: set[int] = set()
    persistent: set[int] = {slots[t] for t in feeds}
    steps: list[Step] = []
    assigned: set[Operation] = set()
    read_vars: dict[Operation, Any] = {}
    for op in order:
        if op.opdef.role == "feed" and any(t not in fed for t in op.outputs):
            _missing_feed(op)
        if op.opdef.role == "initializer":
            assigned.add(op.inputs[0].op)  # may initialize the variable in this very run
        if op.opdef.role == "variable":
            read_vars[op] = ctx.cell(op)
        if not op.outputs and op.opdef.bind is None and op.opdef.impl is None:
            continue  # NoOp: only orders the ops it depends on
        outs = outputs[op]
        ins = tuple(slots[t] for t in op.inputs[op.opdef.ref_input:])
        fn = _guarded_lower(op, ctx)
        if _foldable(op, slots, folded):
            values = _fold(op, fn, [template[i] for i in ins])
            for slot, value in zip(outs, values):
                if isinstance(value, np.ndarray):
                    value.setflags(write=False)  # shared by every run: an in-place kernel must fail loudly
                template[slot] = value
                folded.add(slot)
                persistent.add(slot)
            continue
        if op.opdef.stateful or op.opdef.ref_input or (
                op.opdef.aliases and op.inputs and slots.get(op.inputs[0]) in persistent):
            persistent.update(outs)
        steps.append(Step(op, fn, ins, outs))
    fetch_slots = tuple(slots[f] if isinstance(f, Tensor) else None for f in fetches)
    return ExecutionPlan(
        template=template,
        steps=tuple(steps),
        feeds=tuple(FeedSpec(slots[t], t, t.dtype.base_dtype.np_dtype, t.shape.as_tuple()) for t in feeds),
        fetch_slots=fetch_slots,
        copy_on_fetch=tuple(s is not None and s in persistent for s in fetch_slots),
        precheck=tuple((op, cell) for op, cell in read_vars.items() if op not in assigned),
        runner=generate_runner(steps),
    )


def _guarded_lower(op: Operation, ctx: RunContext) -> Callable[..., Any]:
    try:
        return lower(op, ctx)
    except errors.OpError:
        raise
    except Exception as e:  # a bad attr surfaces here, at plan time
        raise errors.InvalidArgumentError(None, op, f"{op.name} ({op.type}): {e}") from e


def _fold(op: Operation, fn: Callable[..., Any], args: list[Any]) -> tuple[Any, ...]:
    try:
        with np.errstate(all="ignore"):
            out = fn(*args)
    except Exception as e:
        raise errors.InvalidArgumentError(None, op, f"{op.name} ({op.type}): {e}") from e
    return tuple(out) if len(op.outputs) > 1 else (out,)


def _missing_feed(op: Operation) -> None:
    t = op.outputs[0]
    dims = t.shape.as_tuple()
    shape = "<unknown>" if dims is None else "[" + ",".join("?" if d is None else str(d) for d in dims) + "]"
    raise errors.InvalidArgumentError(
        None, op,
        f"You must feed a value for placeholder tensor '{op.name}' with dtype {t.dtype.name} "
        f"and shape {shape}")


def generate_runner(steps: Sequence[Step]) -> Callable[[list[Any]], None]:
    """One straight-line function over the slot list: the cheapest loop Python can run."""
    env: dict[str, Any] = {}
    lines = ["def run(s):"]
    for i, step in enumerate(steps):
        env[f"f{i}"] = step.fn
        call = f"f{i}(" + ", ".join(f"s[{j}]" for j in step.inputs) + ")"
        if not step.outputs:
            lines.append(f"    {call}")
        elif len(step.outputs) == 1:
            lines.append(f"    s[{step.outputs[0]}] = {call}")
        else:
            targets = ", ".join(f"s[{j}]" for j in step.outputs)
            lines.append(f"    {targets}, = {call}")
    if not steps:
        lines.append("    pass")
    code = compile("\n".join(lines), "<gpugraph plan>", "exec")
    exec(code, env)  # generated from slot numbers only; no user strings reach the source
    return env["run"]


def failing_step(plan: ExecutionPlan, exc: BaseException) -> Step | None:
    """The step whose call raised ``exc``, from the generated function's line number."""
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<gpugraph plan>":
            index = tb.tb_lineno - 2
            return plan.steps[index] if 0 <= index < len(plan.steps) else None
        tb = tb.tb_next
    return None
