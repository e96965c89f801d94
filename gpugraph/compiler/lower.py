"""The lower pass: each step gets the function that runs it on its device's backend.

An op lowers through its OpDef: ``bind(op, ctx)`` where it needs session state (variables, random
streams), else ``impl`` with the backend's array module and the op's attributes. A fused step lowers
its member ops and runs them as one region (gpugraph.compiler.fused_step).
"""

from __future__ import annotations

import contextlib
import functools
from dataclasses import replace
from typing import Any, Callable, Sequence

import numpy as np

from gpugraph import errors
from gpugraph.compiler.fused_step import FusedStep, Member
from gpugraph.compiler.ir import Plan, RunContext
from gpugraph.framework.tensor import Operation
from gpugraph.runtime.backend import Backend

FIRST_GPU = "/device:GPU:0"  # the device a run activates; steps on other GPUs switch to theirs


def lower(op: Operation, ctx: RunContext) -> Callable[..., Any]:
    opdef = op.opdef
    if opdef.bind is not None:
        if opdef.ref_input and op._attrs.get("use_locking"):
            return _locked(opdef.bind(op, ctx), [ctx.cell(t.op) for t in op.inputs[:opdef.ref_input]])
        return opdef.bind(op, ctx)
    if opdef.impl is None:
        raise errors.UnimplementedError(None, op, f"Op '{op.name}' (type {op.type}) has no lowering.")
    if opdef.lowering is not None:
        fn = opdef.lowering(op, ctx.backend.xp)
        if fn is not None:
            return fn
    attrs = op._attrs
    return _with_attrs(opdef.impl, ctx.backend.xp, attrs) if attrs else functools.partial(opdef.impl, ctx.backend.xp)


def _with_attrs(impl: Callable[..., Any], xp: Any, attrs: dict[str, Any]) -> Callable[..., Any]:
    """``impl`` with its module and attributes bound: a closure, which calls with keywords in less than
    half the time a ``functools.partial`` holding them does (every step of a small plan pays it)."""
    attrs = dict(attrs)

    def step(*arrays: Any) -> Any:
        return impl(xp, *arrays, **attrs)
    return step


def guarded_lower(op: Operation, ctx: RunContext) -> Callable[..., Any]:
    """``lower``, with a bad attribute reported at plan time as the op's InvalidArgumentError."""
    try:
        return lower(op, ctx)
    except errors.OpError:
        raise
    except Exception as e:
        raise errors.InvalidArgumentError(None, op, f"{op.name} ({op.type}): {e}") from e


class DeviceContext:
    """What an op's lowering sees: the backend of its device, and the session's cells and streams."""

    __slots__ = ("backend", "_session")

    def __init__(self, session: RunContext, backend: Backend):
        self.backend = backend
        self._session = session

    def cell(self, var_op: Operation) -> Any:
        return self._session.cell(var_op)

    def backend_of(self, device: str) -> Backend:
        return self._session.backend_of(device)

    def rng(self, op: Operation) -> np.random.Generator:
        return self._session.rng(op)

    def philox(self, op: Operation) -> Any:
        return self._session.philox(op)


def lower_steps(plan: Plan, ctx: RunContext) -> Plan:
    """``plan`` with a function for every step (copies got theirs when they were inserted)."""
    contexts: dict[str, Any] = {plan.host: ctx}

    def lowered(op: Operation, device: str) -> Callable[..., Any]:
        if device not in contexts:
            contexts[device] = DeviceContext(ctx, ctx.backend_of(device))
        fn = guarded_lower(op, contexts[device])
        if device not in (plan.host, FIRST_GPU):
            fn = _on(ctx.backend_of(device), fn)
        return fn

    steps = []
    for step in plan.steps:
        if step.fn is None:
            group = step.fusion
            if group is None:
                fn = lowered(step.op, step.device)
            else:
                members = [Member(op, lowered(op, step.device), operands)
                           for op, operands in zip(group.ops, group.operands)]
                fn = FusedStep(members, group.n_inputs, group.outputs, group.region, group.on_gpu)
                if step.device != plan.host and not group.on_gpu:  # a NumPy device (the simulated GPU):
                    fn = _adopted(fn, ctx.backend_of(step.device).xp.asarray)  # its arrays, counted there
            step = step.but(fn=fn)
        steps.append(step)
    return replace(plan, steps=tuple(steps))


def _locked(fn: Callable[..., Any], cells: Sequence[Any]) -> Callable[..., Any]:
    """``fn`` run holding the locks of the variables it updates in place (taken in one global order,
    so two steps locking the same variables cannot deadlock)."""
    locks = sorted({id(c.lock): c.lock for c in cells}.items())
    if len(locks) == 1:
        lock = locks[0][1]

        def step(*args: Any) -> Any:
            with lock:
                return fn(*args)
        return step

    def step_all(*args: Any) -> Any:
        with contextlib.ExitStack() as held:
            for _, lock in locks:
                held.enter_context(lock)
            return fn(*args)
    return step_all


class _adopted:
    """A fused step with its results handed to ``adopt`` (a device's ``asarray``: the device's own arrays)."""

    __slots__ = ("fn", "adopt")

    def __init__(self, fn: FusedStep, adopt: Callable[[Any], Any]):
        self.fn = fn
        self.adopt = adopt

    def __call__(self, *args: Any) -> Any:
        return self._adopt(self.fn(*args))

    def donating(self, given: tuple[Any, ...], *args: Any) -> Any:
        return self._adopt(self.fn.donating(given, *args))

    @property
    def small(self) -> bool:
        return self.fn.small

    def _adopt(self, out: Any) -> Any:
        adopt = self.adopt
        return tuple(adopt(o) for o in out) if isinstance(out, tuple) else adopt(out)


def _on(backend: Backend, fn: Callable[..., Any]) -> Callable[..., Any]:
    def step(*args: Any) -> Any:
        with backend.activate():
            return fn(*args)
    return step
