"""The group-updates pass: a step's optimizer updates of one kind become one step, one kernel on a GPU.

1. Consecutive ``Apply*`` steps (same op type, device, dtype, scalar input slots and attributes, each on
   its own variables) become one step. On CuPy it launches one multi-tensor kernel
   (gpugraph.kernels.multi_tensor) built from the op's .cu body; elsewhere (the host, the simulated GPU)
   it runs each update's own function in a row. Steps between two updates may stay between only if they
   neither read nor write the updates' variables (the group then runs after them).
2. ``Assign(v, Mul(read(v), c))`` whose product only the Assign reads (an optimizer's beta powers)
   becomes one step multiplying the variable in place: the same product, and Assign's result, the
   updated variable; consecutive ones become one step (gpugraph.compiler.grouped_scales).

Steps keep their ops (``step.ops``): tracing names them, and a failure names the member op that
failed, as a fused step's does. ``GPUGRAPH_GROUP_UPDATES=0`` (or ``GPUGRAPH_FUSION=0``) turns the pass off.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, replace
from typing import Any, Callable, Sequence

import numpy as np

from gpugraph.compiler.fuse import fusion_enabled
from gpugraph.compiler.grouped_scales import group_scales
from gpugraph.compiler.ir import Plan, RunContext, Step
from gpugraph.compiler.lower import FIRST_GPU, DeviceContext, guarded_lower
from gpugraph.framework.tensor import Operation, Tensor
from gpugraph.kernels import host_loops
from gpugraph.kernels.host_multi import HostMultiUpdate
from gpugraph.kernels.multi_tensor import MAX_TENSORS, MultiTensorUpdate
from gpugraph.ops.training_ops import APPLY_OPS

ENV_GROUP = "GPUGRAPH_GROUP_UPDATES"  # 0: every update its own step (to compare, or to debug)
_GRADIENT_NAMES = ("grad", "delta")
_APPLY = frozenset(APPLY_OPS)


def grouping_enabled() -> bool:
    return fusion_enabled() and os.environ.get(ENV_GROUP, "1").strip() not in ("0", "false")


def group_updates(plan: Plan, ctx: RunContext) -> Plan:
    if not grouping_enabled() or not any(_is_update(s) or _is_assign(s) for s in plan.steps):
        return plan
    lowering = _Lowering(plan, ctx)
    steps = _group_applies(plan.steps, lowering)
    steps = _scale_in_place(steps, plan, lowering)
    if len(steps) == len(plan.steps):
        return plan
    return replace(plan, steps=tuple(steps))


# --- which steps ---

def _plain(step: Step) -> bool:
    return step.kind == "op" and not step.ops and step.fusion is None and step.fn is None


def _is_update(step: Step) -> bool:
    return _plain(step) and step.op._opdef in _APPLY


def _is_assign(step: Step) -> bool:
    return _plain(step) and step.op.type == "Assign"


def grad_position(op: Operation) -> int:
    """Where an update's gradient is among its step's inputs (the op's inputs after its refs)."""
    opdef = op._opdef
    names = opdef.input_names[opdef.ref_input:]
    return next(i for i, n in enumerate(names) if n in _GRADIENT_NAMES)


def _variables(op: Operation) -> tuple[Operation, ...]:
    return tuple(t.op for t in op.inputs[:int(op._opdef.ref_input)])


def _group_key(step: Step) -> tuple[Any, ...]:
    """Updates with equal keys can run as one: one rule, device, dtype, scalar inputs and attributes."""
    op = step.op
    g = grad_position(op)
    shared = tuple(s for k, s in enumerate(step.inputs) if k != g)
    attrs = tuple(sorted((k, repr(v)) for k, v in op._attrs.items()))
    return op.type, step.device, op.inputs[0].dtype.base_dtype, shared, attrs


class _Aliases:
    """Which variables each slot may hold (a variable's buffer, a view of it, an update's result)."""

    def __init__(self, steps: Sequence[Step]):
        self.of: dict[int, frozenset[Operation]] = {}
        for step in steps:
            held: set[Operation] = set()
            if step.ops or step.fusion is not None:  # a fused step may return a view of any input
                for slot in step.inputs:
                    held |= self.of.get(slot, frozenset())
            else:
                opdef = step.op._opdef
                if opdef.role == "variable":
                    held.add(step.op)
                elif opdef.ref_input:
                    held.update(_variables(step.op))
                elif opdef.aliases and step.inputs:
                    held |= self.of.get(step.inputs[0], frozenset())
            if held:
                for slot in step.outputs:
                    self.of[slot] = frozenset(held)

    def reads(self, step: Step) -> set[Operation]:
        """The variables ``step`` may read: through its inputs, as the variable itself, or as a ref."""
        out: set[Operation] = set()
        for slot in step.inputs:
            out |= self.of.get(slot, frozenset())
        for op in step.ops or (step.op,):
            if op._opdef.role == "variable":
                out.add(op)
            out.update(_variables(op))
        return out

    def can_pass(self, moved: Sequence[Step], step: Step) -> bool:
        """Whether ``moved`` (steps before ``step``) may run after it instead: it neither reads what they
        write nor writes what they read or write, and reads none of their results."""
        written = {v for s in moved for op in (s.ops or (s.op,)) for v in _variables(op)}
        read = set().union(*(self.reads(s) for s in moved))
        made = {slot for s in moved for slot in s.outputs}
        its_writes = {v for op in (step.ops or (step.op,)) for v in _variables(op)}
        return not (made & set(step.inputs) or its_writes & (read | written) or self.reads(step) & written)


class _Lowering:
    """Lowers member ops as the lower pass would, with the context of their device."""

    def __init__(self, plan: Plan, ctx: RunContext):
        self.plan, self.ctx = plan, ctx
        self.contexts: dict[str, Any] = {plan.host: ctx}

    def context(self, device: str) -> Any:
        if device not in self.contexts:
            self.contexts[device] = DeviceContext(self.ctx, self.ctx.backend_of(device))
        return self.contexts[device]

    def member(self, step: Step) -> Member:
        return Member(step.op, guarded_lower(step.op, self.context(step.device)))

    def placed(self, fn: Callable[..., Any], device: str) -> Callable[..., Any]:
        """``fn`` run with its device current, where the run does not make it so (as the lower pass does)."""
        if device in (self.plan.host, FIRST_GPU):
            return fn
        backend = self.ctx.backend_of(device)

        def step(*args: Any) -> Any:
            with backend.activate():
                return fn(*args)
        return step


# --- 1. grouped updates ---

def _group_applies(steps: Sequence[Step], lowering: _Lowering) -> list[Step]:
    out: list[Step] = []
    group: list[Step] = []
    between: list[Step] = []  # steps after the group's first update, run before the grouped step
    variables: set[Operation] = set()
    outputs: set[int] = set()
    key: tuple[Any, ...] | None = None
    aliases: _Aliases | None = None

    def close() -> None:
        nonlocal key
        if len(group) > 1:
            out.extend(between)
            out.append(_grouped_step(group, lowering))
        elif group:
            out.append(group[0])
            out.extend(between)
        group.clear()
        between.clear()
        variables.clear()
        outputs.clear()
        key = None

    for step in steps:
        if _is_update(step):
            k = _group_key(step)
            mine = set(_variables(step.op))
            if (group and (k != key or mine & variables or outputs & set(step.inputs) or len(group) >= MAX_TENSORS)):
                close()
            if not group:
                key = k
            group.append(step)
            variables.update(mine)
            outputs.update(step.outputs)
            continue
        if group:
            if aliases is None:
                aliases = _Aliases(steps)
            if aliases.can_pass(group, step):
                between.append(step)
                continue
            close()
        out.append(step)
    close()
    return out


def _grouped_step(group: Sequence[Step], lowering: _Lowering) -> Step:
    first = group[0]
    g = grad_position(first.op)
    members = [lowering.member(s) for s in group]
    inputs = first.inputs + tuple(s.inputs[g] for s in group[1:])
    ctx = lowering.context(first.device)
    backend = ctx.backend
    on_gpu = first.device != lowering.plan.host and getattr(backend.xp, "RawKernel", None) is not None
    cells = [[ctx.cell(v) for v in _variables(s.op)] for s in group]
    launch: Any = None
    opdef = first.op._opdef
    dtype = first.op.inputs[0].dtype.base_dtype.np_dtype
    if on_gpu:
        launch = MultiTensorUpdate(opdef.extra["kernel"], len(first.inputs), g, dtype, len(group), backend.xp)
    elif backend.xp is np and host_loops.enabled():  # NumPy itself: one compiled call for the group
        launch = HostMultiUpdate(opdef.extra["kernel"], len(first.inputs), g, dtype)
    fn = GroupedUpdate(members, len(first.inputs), g, cells, launch)
    return Step(group[-1].op, lowering.placed(fn, first.device), inputs,
                tuple(slot for s in group for slot in s.outputs), ops=tuple(s.op for s in group),
                device=first.device)


# --- 2. a variable scaled in place ---

def _scale_in_place(steps: list[Step], plan: Plan, lowering: _Lowering) -> list[Step]:
    readers: dict[int, int] = {}
    for step in steps:
        for slot in step.inputs:
            readers[slot] = readers.get(slot, 0) + 1
    fetched = {s for s in plan.fetch_slots if s is not None}
    producer = {slot: i for i, step in enumerate(steps) for slot in step.outputs}
    merged: dict[int, Step] = {}  # the Assign's index -> the merged step
    scalers: dict[int, ScaleInPlace] = {}  # id(merged step) -> its function
    dropped: set[int] = set()  # the Muls merged
    aliases: _Aliases | None = None
    for j, assign in enumerate(steps):
        if not _is_assign(assign) or len(assign.inputs) != 1:
            continue
        slot = assign.inputs[0]
        i = producer.get(slot)
        if i is None or i in dropped or readers.get(slot) != 1 or slot in fetched:
            continue
        mul = steps[i]
        variable = assign.op.inputs[0].op
        if not (_plain(mul) and mul.op.type == "Mul" and mul.device == assign.device and mul.outputs == (slot,)):
            continue
        side = next((k for k, t in enumerate(mul.op.inputs) if _reads(t, variable)), None)
        if side is None or mul.op.outputs[0].dtype.base_dtype != variable.outputs[0].dtype.base_dtype:
            continue
        if j > i + 1:
            aliases = aliases or _Aliases(steps)
            if not all(aliases.can_pass([mul], s) for s in steps[i + 1:j]):
                continue
        ctx = lowering.context(assign.device)
        fn = ScaleInPlace(lowering.member(mul), lowering.member(assign), ctx.cell(variable), side,
                          ctx.backend.xp, bool(assign.op._attrs.get("use_locking")))
        merged[j] = Step(assign.op, lowering.placed(fn, assign.device), mul.inputs, assign.outputs,
                         ops=(mul.op, assign.op), device=assign.device)
        if assign.device in (plan.host, FIRST_GPU):  # run without switching devices: may join a group
            scalers[id(merged[j])] = fn
        dropped.add(i)
    if not merged:
        return steps
    out = [merged.get(k, step) for k, step in enumerate(steps) if k not in dropped]
    return group_scales(out, scalers, lambda device: lowering.context(device).backend.xp)


def _reads(t: Tensor, variable: Operation, depth: int = 8) -> bool:
    """Whether ``t`` is ``variable``'s value: the variable itself, or a view of it (its read)."""
    while depth:
        op = t.op
        if op is variable:
            return True
        if not op._opdef.aliases or not op.inputs:
            return False
        t, depth = op.inputs[0], depth - 1
    return False


# --- the steps' functions ---

@dataclass(frozen=True)
class Member:
    op: Operation
    fn: Callable[..., Any]


def _failed(e: BaseException, member: Member, args: Sequence[Any]) -> None:
    """Name the member op that failed, and its inputs (gpugraph.runtime.run_errors reads it)."""
    if getattr(e, "gpugraph_step", None) is None:
        e.gpugraph_step = (member.op, list(args))  # type: ignore[attr-defined]


class GroupedUpdate:
    """``grouped(*inputs)`` -> each update's variable. The inputs are the first update's, then each
    other update's gradient. With ``launch`` one multi-tensor kernel (CuPy) or one compiled call (NumPy)
    updates them all; else, or where that does not take the arguments, each update's own function runs in
    turn."""

    def __init__(self, members: Sequence[Member], n_inputs: int, grad: int, cells: Sequence[Sequence[Any]],
                 launch: MultiTensorUpdate | HostMultiUpdate | None):
        self.members = tuple(members)
        self.ops = tuple(m.op for m in members)
        self.n_inputs, self.grad = n_inputs, grad
        self.cells = [list(c) for c in cells]
        self.launch = launch
        first = members[0].op
        self.attrs = tuple(first.get_attr(a) for a in first._opdef.extra.get("kernel_attrs", ()))
        self.locks = sorted({id(c.lock): c.lock for cs in cells for c in cs}.items()) \
            if first._attrs.get("use_locking") else []

    def __call__(self, *xs: Any) -> Any:
        if self.launch is not None:
            refs = [[c.value for c in cells] for cells in self.cells]
            if all(v is not None for values in refs for v in values):
                g, n = self.grad, self.n_inputs
                shared = [x for k, x in enumerate(xs[:n]) if k != g]
                grads = [xs[g], *xs[n:]]
                if not self.locks:
                    if self.launch(shared, grads, refs, self.attrs):
                        return tuple(values[0] for values in refs)
                    return self.one_by_one(xs)
                with contextlib.ExitStack() as held:
                    for _, lock in self.locks:
                        held.enter_context(lock)
                    if self.launch(shared, grads, refs, self.attrs):
                        return tuple(values[0] for values in refs)
        return self.one_by_one(xs)

    def one_by_one(self, xs: Sequence[Any]) -> tuple[Any, ...]:
        first = list(xs[:self.n_inputs])
        outs = []
        for k, member in enumerate(self.members):
            args = first if k == 0 else first[:self.grad] + [xs[self.n_inputs + k - 1]] + first[self.grad + 1:]
            try:
                outs.append(member.fn(*args))
            except Exception as e:
                _failed(e, member, args)
                raise
        return tuple(outs)


class ScaleInPlace:
    """``Assign(v, Mul(read(v), c))`` as one multiply into the variable's buffer; other shapes or dtypes
    (a broadcast that grows the variable, a mixed-type product) run the Mul and the Assign."""

    def __init__(self, mul: Member, assign: Member, cell: Any, side: int, xp: Any, locked: bool):
        self.mul, self.assign, self.cell, self.side = mul, assign, cell, side
        self.ops = (mul.op, assign.op)
        self.multiply = xp.multiply
        self.locked = locked

    def __call__(self, a: Any, b: Any) -> Any:
        current = self.cell.value
        x, c = (a, b) if self.side == 0 else (b, a)
        if (current is not None and getattr(x, "shape", None) == current.shape
                and getattr(c, "shape", None) in ((), current.shape)
                and getattr(x, "dtype", None) == current.dtype and getattr(c, "dtype", None) == current.dtype):
            with self.cell.lock if self.locked else contextlib.nullcontext():
                self.multiply(a, b, out=current)  # the operands in the Mul's order: the same rounding
            return current
        try:
            product = self.mul.fn(a, b)
        except Exception as e:
            _failed(e, self.mul, (a, b))
            raise
        try:
            return self.assign.fn(product)
        except Exception as e:
            _failed(e, self.assign, (product,))
            raise
